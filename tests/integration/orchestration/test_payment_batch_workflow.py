"""PaymentBatchWorkflow against the real Temporal server, PostgreSQL and inference app: one
row per event with its outcome and the batch's workflow id, a batch started again, an
overlapping batch, and a conflicting event failing in its own PaymentEventWorkflow."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import count_rows, fetch_row
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts import PaymentEvent
from contracts.workflows import (
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    STATUS_QUERY,
    batch_key,
    workflow_id,
)
from orchestration.models import PaymentBatchResult, PaymentBatchStatus
from tests.builders import make_failed_event, make_payment_event

pytestmark = pytest.mark.timeout(120)


def batch_id(events: list[PaymentEvent]) -> str:
    return workflow_id(PAYMENT_BATCH, batch_key(e.event_id for e in events))


async def start_batch(client, task_queue, events: list[PaymentEvent]):
    """Start the batch the way the starter does: signal-with-start by type name, a completed
    batch id refused (ALLOW_DUPLICATE_FAILED_ONLY), a running one signalled."""
    return await client.start_workflow(
        PAYMENT_BATCH.workflow, events, id=batch_id(events), task_queue=task_queue,
        result_type=PaymentBatchResult, start_signal=PAYMENT_BATCH.signal,
        start_signal_args=[events],
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)


async def run_batch(client, task_queue, events: list[PaymentEvent]) -> PaymentBatchResult:
    return await (await start_batch(client, task_queue, events)).result()


def mixed_events(unique: str, count: int = 20) -> list[PaymentEvent]:
    """Successes with and without a customer, failures, refunds and broken rules."""
    t0 = make_payment_event().provider_created_at
    makers = [
        lambda i: make_payment_event(customer_id=f"cus_{unique}_{i % 3}"),
        lambda i: make_failed_event(customer_id=f"cus_{unique}_{i % 3}"),
        lambda i: make_payment_event(),
        lambda i: make_failed_event(),
        lambda i: make_payment_event(event_type="refund.created", status="refunded"),
        lambda i: make_payment_event(amount_cents=0, customer_id=f"cus_{unique}_x"),
    ]
    # Earlier than processed_at, one minute apart (later would break timestamp.order).
    return [replace(makers[i % len(makers)](i), provider_created_at=t0 - timedelta(minutes=i))
            for i in range(count)]


async def test_a_mixed_batch_writes_one_row_per_event_naming_the_batch(
        temporal_client, start_worker, pg, unique):
    queue = await start_worker()
    events = mixed_events(unique)

    result = await run_batch(temporal_client, queue, events)

    assert result.outcomes == {"inserted": len(events)} and result.deliveries == 1
    assert [r.event_id for r in result.events] == [e.event_id for e in events]
    for event, outcome in zip(events, result.events, strict=True):
        assert await count_rows(pg, event.event_id) == 1
        row = await fetch_row(pg, event.event_id)
        assert row["workflow_id"] == batch_id(events)
        assert row["validation_status"] == outcome.validation_status
        assert row["enrichment_missing"] == outcome.enrichment_missing
        if event.amount_cents == 0:
            assert outcome.validation_status == "invalid"
            assert all(v.startswith("skipped:") for v in outcome.enrichment_missing.values())
            assert row["fraud_score"] is None
        else:
            assert outcome.enrichment_missing == {}
            assert (row["fraud_score"] is not None) == (event.event_type == "payment.succeeded")
            assert (row["retry_action"] is not None) == (event.event_type == "payment.failed")
            assert (row["churn_score"] is not None) == (event.customer_id is not None)
    handle = temporal_client.get_workflow_handle(batch_id(events))
    status = await handle.query(STATUS_QUERY, result_type=PaymentBatchStatus)
    assert (status.stage, status.events, status.outcomes) == (
        "completed", len(events), {"inserted": len(events)})
    # One workflow for the whole batch: started, signalled, one task, five markers, done
    # (11); a slow box may heartbeat the task once (3 more).
    assert len((await handle.fetch_history()).events) <= 14


async def test_a_batch_again_is_already_done_and_an_overlapping_batch_finds_duplicates(
        temporal_client, start_worker, pg, unique):
    queue = await start_worker()
    events = mixed_events(unique, 6)
    first = await run_batch(temporal_client, queue, events)
    assert first.outcomes == {"inserted": 6}
    stored = {e.event_id: await fetch_row(pg, e.event_id) for e in events}

    # The starter redelivers the same batch after it completed: the id refuses a new run.
    with pytest.raises(WorkflowAlreadyStartedError):
        await start_batch(temporal_client, queue, events)

    # Another batch holding three of the same events (re-normalized later) and two new ones.
    again = [replace(e, processed_at=e.processed_at + timedelta(minutes=5)) for e in events[:3]]
    fresh = [make_payment_event(), make_failed_event()]
    second = await run_batch(temporal_client, queue, again + fresh)
    assert [r.outcome for r in second.events] == ["duplicate"] * 3 + ["inserted"] * 2
    for event in events:
        assert await count_rows(pg, event.event_id) == 1
        assert await fetch_row(pg, event.event_id) == stored[event.event_id]  # first writer's
    for event in fresh:
        assert (await fetch_row(pg, event.event_id))["workflow_id"] == batch_id(again + fresh)


async def test_a_conflicting_event_fails_in_its_own_workflow_and_the_rest_are_inserted(
        temporal_client, start_worker, pg):
    queue = await start_worker()
    original = make_payment_event()
    await run_batch(temporal_client, queue, [original])
    stored = await fetch_row(pg, original.event_id)
    conflicting = replace(original, amount_cents=9_999)
    others = [make_payment_event(), make_failed_event()]
    batch = [others[0], conflicting, others[1]]

    result = await run_batch(temporal_client, queue, batch)

    assert result.outcomes == {"failed": 1, "inserted": 2}
    handed = result.events[1]
    assert handed.outcome == "failed" and "EventConflict" in handed.detail
    assert handed.child_workflow_id == workflow_id(PAYMENT_EVENT, original.event_id)
    child = await temporal_client.get_workflow_handle(handed.child_workflow_id).describe()
    assert child.status == WorkflowExecutionStatus.FAILED  # what `review failed` lists
    assert await fetch_row(pg, original.event_id) == stored
    for event in others:
        assert await count_rows(pg, event.event_id) == 1
        assert (await fetch_row(pg, event.event_id))["workflow_id"] == batch_id(batch)


async def test_the_per_event_mode_names_its_own_workflow(temporal_client, start_worker, pg):
    queue = await start_worker()
    event = make_payment_event()
    handle = await temporal_client.start_workflow(
        PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
        task_queue=queue, start_signal=PAYMENT_EVENT.signal, start_signal_args=[event])
    await handle.result()
    row = await fetch_row(pg, event.event_id)
    assert row["workflow_id"] == workflow_id(PAYMENT_EVENT, event.event_id)
