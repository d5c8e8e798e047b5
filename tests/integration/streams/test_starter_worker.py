"""A real starter worker against the real Temporal server: one workflow per event, always."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker as TemporalWorker

from contracts.dead_letters import DeadLetter, ValidationIssue
from contracts.events import PaymentEvent
from contracts.workflows import DLQ_REVIEW, PAYMENT_EVENT, workflow_id
from streams.codecs import build_dead_letter, encode_dead_letter, encode_event
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(240)


# Stand-ins registered under the contract's type names, on purpose: this test is about the
# starter (one workflow per event, signals on redelivery), so the workflows only count what
# they receive. The real workflows are tested in tests/integration/orchestration/ and
# end to end in tests/e2e/; with them here, a failure of persistence would read as the
# starter's.
@workflow.defn(name=PAYMENT_EVENT.workflow)
class StubPaymentEventWorkflow:
    def __init__(self) -> None:
        self.received = 0

    @workflow.run
    async def run(self, event: PaymentEvent) -> str:
        """Complete once the start signal is in."""
        await workflow.wait_condition(lambda: self.received >= 1)
        return event.event_id

    @workflow.signal(name=PAYMENT_EVENT.signal)
    def event_received(self, event: PaymentEvent) -> None:
        self.received += 1


# The stub's own way to end a review; the real workflow takes a decision as an update.
FINISH_SIGNAL = "finish"


@workflow.defn(name=DLQ_REVIEW.workflow)
class StubDLQReviewWorkflow:
    def __init__(self) -> None:
        self.received = 0
        self.decided = False

    @workflow.run
    async def run(self, letter: DeadLetter) -> str:
        """Stay open until a review decision, counting dead-letter signals."""
        await workflow.wait_condition(lambda: self.decided)
        return letter.event_id

    @workflow.signal(name=DLQ_REVIEW.signal)
    def dead_letter_received(self, letter: DeadLetter) -> None:
        self.received += 1

    @workflow.signal(name=FINISH_SIGNAL)
    def finish(self, decision: dict) -> None:
        self.decided = True

    @workflow.query(name="received")
    def received_count(self) -> int:
        return self.received


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def payment(unique: str, i: int) -> PaymentEvent:
    return make_payment_event(provider_event_id=f"evt_{unique}_{i}", amount_cents=100 + i,
                              metadata={"i": str(i)})


def letter(unique: str, i: int) -> DeadLetter:
    return build_dead_letter(b"\xffpoison", [ValidationIssue("payload.not_json", "bad")],
                             topic=f"raw.{unique}", partition=0, offset=i, failed_at=NOW)


async def produce_outputs(producer, topics, unique: str, copies: int = 2):
    payments = [payment(unique, i) for i in range(8)]
    letters = [letter(unique, i) for i in range(3)]
    for _ in range(copies):  # each message delivered twice, as after a producer retry
        for p in payments:
            await producer.send_and_wait(topics.normalized, encode_event(p),
                                         key=p.event_id.encode())
        for dl in letters:
            await producer.send_and_wait(topics.dlq, encode_dead_letter(dl),
                                         key=dl.event_id.encode())
    await producer.send_and_wait(topics.normalized, b"not an event", key=b"garbage")
    return payments, letters


async def wait_for(predicate, within: float = 120, what: str = "condition"):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def status_of(client, wf_id: str):
    try:
        return (await client.get_workflow_handle(wf_id).describe()).status
    except Exception:  # noqa: BLE001 - not there yet
        return None


async def count_workflows(client, task_queue: str) -> int:
    return len([w async for w in client.list_workflows(f'TaskQueue = "{task_queue}"')])


@pytest.fixture
async def task_queue(temporal_client, unique):
    name = f"test-starter-{unique}"
    async with TemporalWorker(temporal_client, task_queue=name,
                              workflows=[StubPaymentEventWorkflow, StubDLQReviewWorkflow],
                              workflow_runner=UnsandboxedWorkflowRunner()):
        yield name


async def test_one_workflow_per_event_even_with_redeliveries(
        pipeline_topics, start_worker, producer, temporal_client, task_queue, unique):
    payments, letters = await produce_outputs(producer, pipeline_topics, unique)
    env = {"STREAMS_TEMPORAL_TASK_QUEUE": task_queue}
    first = await start_worker("streams.starter", f"test-starter-{unique}", env)

    payment_ids = [workflow_id(PAYMENT_EVENT, p.event_id) for p in payments]
    review_ids = [workflow_id(DLQ_REVIEW, dl.event_id) for dl in letters]
    garbage_id = workflow_id(DLQ_REVIEW, f"dlq:{pipeline_topics.normalized}:")

    want = ([WorkflowExecutionStatus.COMPLETED] * len(payments)
            + [WorkflowExecutionStatus.RUNNING] * len(letters))

    async def all_there():
        return [await status_of(temporal_client, i) for i in payment_ids + review_ids] == want

    await wait_for(all_there, what="payments completed and reviews open")

    expected = len(payments) + len(letters) + 1  # + the undecodable message, sent to review
    processed = 2 * (len(payments) + len(letters)) + 1

    async def all_processed():
        c = await first.counters()
        return sum(a.get("processed", 0) for a in c.values()) == processed and c

    counters = await wait_for(all_processed, what="all messages processed")
    assert sum(a.get("started", 0) for a in counters.values()) == expected
    assert counters["normalized"].get("started") == len(payments) + 1  # + the garbage one
    # The redelivered copy of a running review was attached to it, not started again.
    for wf_id in review_ids:
        received = await temporal_client.get_workflow_handle(wf_id).query("received")
        assert received == 2
    count = await wait_for(lambda: _count_at_least(temporal_client, task_queue, expected),
                           what="visibility")
    assert count == expected
    ids = [w.id async for w in temporal_client.list_workflows(f'TaskQueue = "{task_queue}"')]
    assert any(i.startswith(garbage_id) for i in ids)

    # A whole new consumer group replays everything: completed ones are "already done",
    # running ones get the signal; still exactly one workflow per event.
    replay = await start_worker("streams.starter", f"test-starter-replay-{unique}", env)

    async def replay_done():
        c = await replay.counters()
        return sum(a.get("processed", 0) for a in c.values()) == processed and c

    counters = await wait_for(replay_done, what="replay processed")
    assert counters["normalized"].get("already_done") == 2 * len(payments)
    assert sum(a.get("started", 0) for a in counters.values()) == 0
    assert await count_workflows(temporal_client, task_queue) == expected
    for wf_id in review_ids:
        await temporal_client.get_workflow_handle(wf_id).signal(FINISH_SIGNAL, {})


async def _count_at_least(client, task_queue: str, n: int):
    count = await count_workflows(client, task_queue)
    return count if count >= n else None


async def test_temporal_unavailable_delays_but_loses_nothing(
        pipeline_topics, start_worker, producer, temporal_client, task_queue, unique):
    payments, letters = await produce_outputs(producer, pipeline_topics, unique, copies=1)
    app_id = f"test-starter-down-{unique}"
    # Nothing listens on this port: every signal-with-start fails and is retried.
    down = await start_worker("streams.starter", app_id, {
        "STREAMS_TEMPORAL_TASK_QUEUE": task_queue,
        "STREAMS_TEMPORAL_TARGET": "127.0.0.1:1", "STREAMS_STARTER_RETRY_MAX_SECONDS": "1",
    }, ready_path="/health")
    assert (await down.get("/ready")).status_code == 503

    async def retrying():
        c = await down.counters()
        return all(c.get(a, {}).get("retried", 0) >= 2 for a in ("normalized", "dead_letter"))

    await wait_for(retrying, what="retries against the dead target")
    down.stop()

    # Same consumer group, real Temporal: every event still gets its workflow.
    up = await start_worker("streams.starter", app_id,
                            {"STREAMS_TEMPORAL_TASK_QUEUE": task_queue})
    expected = len(payments) + len(letters) + 1

    async def all_started():
        c = await up.counters()
        return sum(a.get("started", 0) for a in c.values()) >= expected and c

    counters = await wait_for(all_started, what="all started after recovery")
    assert sum(a.get("started", 0) for a in counters.values()) == expected
    for dl in letters:
        await temporal_client.get_workflow_handle(workflow_id(DLQ_REVIEW, dl.event_id)).signal(
            FINISH_SIGNAL, {})
