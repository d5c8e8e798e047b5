"""A real starter worker in the batched mode (STREAMS_STARTER_BATCH_SIZE=10) against the real
Kafka and Temporal: every payment reaches exactly one PaymentBatchWorkflow, offsets are
committed to the end, and a batch delivered again reaches the same workflow."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker as TemporalWorker

from contracts.events import PaymentEvent
from contracts.workflows import (
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    batch_key,
    workflow_id,
)
from streams.batches import Decoded, batch_start
from streams.codecs import encode_event
from streams.workflow_starts import WorkflowStarter
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(240)

EVENTS = 25
BATCH_SIZE = 10


# A stand-in registered under the contract's type name, on purpose: this test is about the
# starter (which events share a batch, and its id), so the workflow only reports what it
# received. The real PaymentBatchWorkflow is tested in tests/integration/orchestration/.
@workflow.defn(name=PAYMENT_BATCH.workflow)
class RecordingPaymentBatchWorkflow:
    def __init__(self) -> None:
        self.received = 0

    @workflow.run
    async def run(self, events: list[PaymentEvent]) -> list[str]:
        """Complete once the start signal is in, with the event ids the batch carried."""
        await workflow.wait_condition(lambda: self.received >= 1)
        return [event.event_id for event in events]

    @workflow.signal(name=PAYMENT_BATCH.signal)
    def batch_received(self, events: list[PaymentEvent]) -> None:
        self.received += 1


def payment(unique: str, i: int) -> PaymentEvent:
    return make_payment_event(provider_event_id=f"evt_{unique}_b{i}", amount_cents=100 + i)


async def wait_for(predicate, within: float = 120, what: str = "condition"):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def batches_on(client, task_queue: str) -> dict[str, list[str]]:
    """Every workflow on the queue (as visibility lists it): its id -> the event ids it got."""
    found = {}
    async for listed in client.list_workflows(f'TaskQueue = "{task_queue}"'):
        found[listed.id] = await client.get_workflow_handle(listed.id).result()
    return found


def metric(text: str, name: str, labels: dict[str, str] | None = None) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v
                                           for k, v in (labels or {}).items()):
                return sample.value
    return 0.0


@pytest.fixture
async def task_queue(temporal_client, unique):
    name = f"test-starter-batches-{unique}"
    async with TemporalWorker(temporal_client, task_queue=name,
                              workflows=[RecordingPaymentBatchWorkflow],
                              workflow_runner=UnsandboxedWorkflowRunner()):
        yield name


async def test_every_payment_reaches_one_batch_and_a_redelivered_batch_the_same_workflow(
        pipeline_topics, start_worker, producer, temporal_client, temporal_target, task_queue,
        wait_committed, unique):
    payments = [payment(unique, i) for i in range(EVENTS)]
    by_id = {p.event_id: p for p in payments}
    for p in payments:  # keyed as the normalizer writes them: spread over the 3 partitions
        await producer.send_and_wait(pipeline_topics.normalized, encode_event(p),
                                     key=p.event_id.encode())
    env = {"STREAMS_TEMPORAL_TASK_QUEUE": task_queue, "STREAMS_STARTER_BATCH_SIZE": str(BATCH_SIZE),
           # One gathering actor (the batched mode's default), and a window long enough for
           # the events already in the topic, so that batches hold several payments.
           "STREAMS_STARTER_BATCH_WINDOW_SECONDS": "2"}
    app_id = f"test-starter-batches-{unique}"
    worker = await start_worker("streams.starter", app_id, env)

    # Acked, hence committed, only once Temporal accepted each event's batch.
    await wait_committed(app_id, [pipeline_topics.normalized])
    # Counted per event as in the per-event mode: each event's outcome is its batch's.
    assert await worker.counters() == {"normalized": {"processed": EVENTS, "started": EVENTS}}

    async def all_visible():
        found = await batches_on(temporal_client, task_queue)
        return sum(map(len, found.values())) >= EVENTS and found

    first = await wait_for(all_visible, what="every batch workflow visible")
    received = [event_id for ids in first.values() for event_id in ids]
    assert sorted(received) == sorted(by_id)  # every event, exactly once
    for wf_id, ids in first.items():
        assert wf_id == workflow_id(PAYMENT_BATCH, batch_key(ids))
        assert 1 <= len(ids) <= BATCH_SIZE
    assert len(first) < EVENTS, "no two payments shared a workflow"
    metrics = (await worker.get("/metrics")).text
    assert metric(metrics, "streams_starter_batches_total", {"outcome": "started"}) == len(first)
    assert metric(metrics, "streams_starter_batch_events_sum") == EVENTS

    # The same events delivered again as the same batch (in any order): the same workflow,
    # already done, and no new one.
    starter = WorkflowStarter(temporal_target, "default", task_queue, retry_cap_seconds=1,
                              data_converter=temporal_client.data_converter)
    for wf_id, ids in first.items():
        key, arg = batch_start([Decoded(None, PAYMENT_EVENT, i, by_id[i]) for i in reversed(ids)])
        assert workflow_id(PAYMENT_BATCH, key) == wf_id
        assert await starter.signal_with_start(PAYMENT_BATCH, key, arg) == "already_done"

    # A whole new consumer group reads every event again. Whatever batches it gathers, one
    # with the same events as before reaches that workflow ("already_done"); another is a
    # new workflow of its own. The worker writes each event's row by event id, either way.
    replay = await start_worker("streams.starter", f"test-starter-batches-replay-{unique}", env)

    async def replayed():
        c = (await replay.counters()).get("normalized", {})
        return c.get("started", 0) + c.get("already_done", 0) == EVENTS and c

    again = await wait_for(replayed, what="replay processed")
    assert again["processed"] == EVENTS
    fresh_events = again.get("started", 0)

    async def new_ones_visible():
        found = await batches_on(temporal_client, task_queue)
        new = {k: v for k, v in found.items() if k not in first}
        return sum(map(len, new.values())) >= fresh_events and (new,)  # truthy even if empty

    [new] = await wait_for(new_ones_visible, what="the replay's new batches visible")
    assert sum(map(len, new.values())) == fresh_events
    assert not {tuple(sorted(ids)) for ids in new.values()} & {
        tuple(sorted(ids)) for ids in first.values()}
    for wf_id, ids in new.items():
        assert wf_id == workflow_id(PAYMENT_BATCH, batch_key(ids))
