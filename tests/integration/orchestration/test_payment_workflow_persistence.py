"""PaymentEventWorkflow against the real Temporal server, PostgreSQL and inference app."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import count_rows, fetch_row
from temporalio.client import WorkflowFailureError

from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration.models import PaymentEventResult
from tests.builders import make_failed_event, make_payment_event

pytestmark = pytest.mark.timeout(90)


async def run_event(client, task_queue, event, *, signal: bool = True) -> PaymentEventResult:
    """Start the workflow the way the Faust starter does: signal-with-start by type name."""
    handle = await client.start_workflow(
        PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
        task_queue=task_queue, result_type=PaymentEventResult,
        start_signal=PAYMENT_EVENT.signal if signal else None,
        start_signal_args=[event] if signal else [],
    )
    return await handle.result()


async def test_a_successful_payment_is_scored_and_persisted_once(
        temporal_client, start_worker, pg, unique):
    queue = await start_worker()
    customer = f"cus_{unique}"
    # Two earlier payments of this customer, persisted by the workflow itself.
    await run_event(temporal_client, queue, make_failed_event(
        customer_id=customer, provider_created_at=make_payment_event().provider_created_at
        - timedelta(days=10)))
    await run_event(temporal_client, queue, make_payment_event(
        customer_id=customer, amount_cents=1_000,
        provider_created_at=make_payment_event().provider_created_at - timedelta(days=3)))
    event = make_payment_event(customer_id=customer)

    result = await run_event(temporal_client, queue, event)

    assert result.outcome == "inserted" and result.validation_status == "valid"
    assert result.deliveries == 1 and result.enrichment_missing == {}
    row = await fetch_row(pg, event.event_id)
    assert row["amount_cents"] == 4_200 and row["metadata"] == {"order_id": "o-1"}
    assert 0 <= row["fraud_score"] <= 1 and row["fraud_model_version"]
    assert 0 <= row["churn_score"] <= 1 and row["churn_risk_level"]
    assert row["retry_action"] is None and row["enrichment_missing"] == {}


async def test_a_failed_payment_gets_retry_advice(temporal_client, start_worker, pg):
    queue = await start_worker()
    event = make_failed_event()
    result = await run_event(temporal_client, queue, event)
    row = await fetch_row(pg, event.event_id)
    assert result.retry_action == row["retry_action"] is not None
    assert row["retry_model_version"] and row["fraud_score"] is None
    assert row["churn_score"] is None  # no customer, so no churn question asked


async def test_a_broken_business_rule_is_recorded_not_dropped(temporal_client, start_worker, pg):
    queue = await start_worker()
    event = make_failed_event(failure_code=None, customer_id="cus_x")
    result = await run_event(temporal_client, queue, event)
    row = await fetch_row(pg, event.event_id)
    assert result.validation_status == row["validation_status"] == "invalid"
    assert [e["code"] for e in row["validation_errors"]] == ["failure_code.missing"]
    assert set(row["enrichment_missing"]) == {"retry", "churn"}
    assert row["retry_action"] is None


async def test_the_same_event_twice_leaves_one_unchanged_row(temporal_client, start_worker, pg):
    queue = await start_worker()
    event = make_payment_event()
    first = await run_event(temporal_client, queue, event)
    stored = await fetch_row(pg, event.event_id)
    # A redelivery after the first run closed starts a second run under the same id.
    second = await run_event(temporal_client, queue, replace(
        event, processed_at=event.processed_at + timedelta(minutes=1)))
    assert (first.outcome, second.outcome) == ("inserted", "duplicate")
    assert await count_rows(pg, event.event_id) == 1
    assert await fetch_row(pg, event.event_id) == stored


async def test_a_different_event_under_a_stored_id_fails_loudly(temporal_client, start_worker, pg):
    queue = await start_worker()
    event = make_payment_event()
    await run_event(temporal_client, queue, event)
    stored = await fetch_row(pg, event.event_id)
    with pytest.raises(WorkflowFailureError) as failure:
        await run_event(temporal_client, queue, replace(event, amount_cents=9_999))
    assert "amount_cents" in str(failure.value.cause)
    assert await fetch_row(pg, event.event_id) == stored


async def test_a_payment_costs_about_ten_history_events(temporal_client, start_worker):
    queue = await start_worker()
    event = make_payment_event(customer_id="cus_history")
    await run_event(temporal_client, queue, event)
    history = await temporal_client.get_workflow_handle(
        workflow_id(PAYMENT_EVENT, event.event_id)).fetch_history()
    assert len(history.events) <= 11


async def test_customer_history_counts_real_rows(temporal_client, start_worker, store, unique):
    queue = await start_worker()
    customer = f"cus_{unique}"
    t0 = make_payment_event().provider_created_at
    for days, maker, amount in [(20, make_payment_event, 500), (15, make_payment_event, 700),
                                (9, make_failed_event, 300), (5, make_failed_event, 300)]:
        await run_event(temporal_client, queue,
                        maker(customer_id=customer, amount_cents=amount,
                              provider_created_at=t0 - timedelta(days=days)))
    history = await store.load_customer_history(make_payment_event(customer_id=customer))
    assert (history.successful_payments, history.failed_payments) == (2, 2)
    assert history.consecutive_failures == 2
    assert history.total_amount_cents == 1_200
    assert history.last_success_at == t0 - timedelta(days=15)
