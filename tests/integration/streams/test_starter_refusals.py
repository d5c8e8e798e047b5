"""A real starter worker when Temporal refuses a start for good: dead-letter or park, move on.

The payment here has an event id longer than Temporal's workflow id limit, so its start is
refused with INVALID_ARGUMENT: it must become a dead letter on the DLQ (stage "start"),
and that dead letter's review start, refused the same way, must be parked (ERROR log and
counter) rather than retried forever; the event behind it on the same partition goes on.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker import Worker as TemporalWorker

from contracts.dead_letters import DeadLetter, source_event_id
from contracts.events import PaymentEvent
from contracts.workflows import DLQ_REVIEW, PAYMENT_EVENT, workflow_id
from streams.codecs import decode_dead_letter, encode_event
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(240)


@workflow.defn(name=PAYMENT_EVENT.workflow)
class CompletingPaymentWorkflow:
    @workflow.run
    async def run(self, event: PaymentEvent) -> str:
        return event.event_id

    @workflow.signal(name=PAYMENT_EVENT.signal)
    def event_received(self, event: PaymentEvent) -> None:
        pass


@workflow.defn(name=DLQ_REVIEW.workflow)
class WaitingReviewWorkflow:
    @workflow.run
    async def run(self, letter: DeadLetter) -> str:
        await workflow.wait_condition(lambda: False)
        return letter.event_id

    @workflow.signal(name=DLQ_REVIEW.signal)
    def dead_letter_received(self, letter: DeadLetter) -> None:
        pass


def payment(provider_event_id: str) -> PaymentEvent:
    return make_payment_event(provider_event_id=provider_event_id)


async def wait_for(predicate, within: float = 120, what: str = "condition"):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await predicate()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_refused_start_is_dead_lettered_under_its_coordinates_and_reviewed(
        pipeline_topics, start_worker, producer, temporal_client, read_all, wait_committed,
        unique):
    queue = f"test-starter-refused-{unique}"
    refused = payment(f"evt_{unique}_" + "x" * 1100)  # over Temporal's 1,000-character id limit
    after = payment(f"evt_{unique}_after")
    for event in (refused, after):  # one partition: the second waits behind the first
        await producer.send_and_wait(pipeline_topics.normalized, encode_event(event),
                                     key=event.event_id.encode(), partition=0)
    app_id = f"test-starter-refused-{unique}"
    async with TemporalWorker(temporal_client, task_queue=queue,
                              workflows=[CompletingPaymentWorkflow, WaitingReviewWorkflow],
                              workflow_runner=UnsandboxedWorkflowRunner()):
        worker = await start_worker("streams.starter", app_id,
                                    {"STREAMS_TEMPORAL_TASK_QUEUE": queue})

        async def settled():
            c = await worker.counters()
            return (c.get("normalized", {}).get("processed") == 2
                    and c.get("dead_letter", {}).get("processed") == 1 and c)

        counters = await wait_for(settled, what="both events and the dead letter handled")
        handle = temporal_client.get_workflow_handle(workflow_id(PAYMENT_EVENT, after.event_id))
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    assert counters["normalized"] == {"processed": 2, "dead_lettered": 1, "started": 1}
    # The refused id is too long for a key or a workflow id, so the dead letter is filed
    # under its coordinates (provider_event_id.too_long) and its review starts: nothing is
    # parked. Parking a refused review is covered in tests/unit/streams/test_starter_*.py.
    assert counters["dead_letter"] == {"processed": 1, "started": 1}
    [(key, value)] = await read_all(pipeline_topics.dlq, expect=1)
    letter = decode_dead_letter(value)
    assert key.decode() == letter.event_id == source_event_id(pipeline_topics.normalized, 0, 0)
    assert letter.stage == "start"
    assert letter.error_codes == ["provider_event_id.too_long", "start.invalid_argument"]
    assert "INVALID_ARGUMENT" in letter.errors[1].message
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        pipeline_topics.normalized, 0, 0)
    await wait_committed(app_id, [pipeline_topics.normalized, pipeline_topics.dlq])
