"""DLQReviewWorkflow end to end: quarantine, then approve (re-drive), reject or expire."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import OS_USER, count_rows, review_cli, start_review
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from contracts.workflows import (
    DLQ_REVIEW,
    REVIEW_DECISION_UPDATE,
    STATUS_QUERY,
    ReviewDecision,
    workflow_id,
)
from orchestration.activities import PaymentActivities, QuarantineActivities
from orchestration.metrics import Metrics
from orchestration.models import DLQReviewResult, DLQReviewStatus
from orchestration.store import PaymentStore
from orchestration.workflows import DLQReviewWorkflow, PaymentEventWorkflow
from tests.builders import event_json, make_bound_letter, make_dead_letter

pytestmark = pytest.mark.timeout(90)


async def test_approve_from_the_cli_redrives_the_corrected_event(
        temporal_client, start_worker, store, pg, role_dsn, temporal_target, tmp_path):
    reviewer = role_dsn("reviewer")
    queue = await start_worker()
    letter, corrected = make_bound_letter()
    handle = await start_review(temporal_client, queue, letter)
    listed = await asyncio.to_thread(review_cli, reviewer, temporal_target,
                                     "list", "--status", "pending", "--limit", "100000")
    assert letter.event_id in listed.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(event_json(corrected) | {"amount_cents": 10**9}))
    refused = await asyncio.to_thread(review_cli, reviewer, temporal_target, "approve",
                                      letter.event_id, "--reason", "amount fixed",
                                      "--corrected-event-file", str(bad))
    assert refused.returncode == 1 and "refused by payment_events" in refused.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(event_json(corrected)))

    approved = await asyncio.to_thread(review_cli, reviewer, temporal_target, "approve",
                                       letter.event_id, "--reason", "amount fixed",
                                       "--corrected-event-file", str(good))

    assert approved.returncode == 0, approved.stderr
    result = await handle.result()
    assert (result.review_status, result.redriven_event_id) == ("approved", corrected.event_id)
    assert await count_rows(pg, corrected.event_id) == 1
    row = await store.get_quarantine(letter.event_id)
    assert (row["review_status"], row["reviewer"]) == ("approved", OS_USER)
    assert row["corrected_event"]["event_id"] == corrected.event_id == letter.event_id
    assert row["original_payload"] == letter.payload and row["error_codes"] == letter.error_codes


async def test_reject_closes_the_quarantined_event(temporal_client, start_worker, store):
    queue = await start_worker()
    letter = make_dead_letter()
    handle = await start_review(temporal_client, queue, letter)
    # An approval without a usable event is refused to the caller; the review keeps waiting.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(REVIEW_DECISION_UPDATE,
                                    ReviewDecision("approve", "bo", "configured", "looks fine"),
                                    result_type=DLQReviewStatus)
    assert "named no event id" in str(refused.value.cause)
    status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
    assert (status.review_status, status.decision) == ("pending", None)

    await handle.execute_update(REVIEW_DECISION_UPDATE,
                                ReviewDecision("reject", "bo", "configured", "test data"),
                                result_type=DLQReviewStatus)

    assert (await handle.result()).review_status == "rejected"
    row = await store.get_quarantine(letter.event_id)
    assert (row["review_status"], row["reviewer"], row["decision_reason"]) == (
        "rejected", "bo", "test data")
    # A redelivered dead letter starts a new run, which sees the closed row and stops.
    again = await temporal_client.start_workflow(
        DLQ_REVIEW.workflow, letter, id=workflow_id(DLQ_REVIEW, letter.event_id), task_queue=queue,
        result_type=DLQReviewResult, start_signal=DLQ_REVIEW.signal,
        start_signal_args=[letter])
    assert (await again.result()).review_status == "rejected"


async def test_an_unreviewed_event_expires(time_skipping_env, pg, unique):
    store = PaymentStore(pg)
    quarantine = QuarantineActivities(store, Metrics(), review_timeout_seconds=7 * 24 * 3600)
    payments = PaymentActivities(store, None, Metrics())  # never called on this path
    letter = make_dead_letter()
    async with Worker(time_skipping_env.client, task_queue=f"test-orch-ts-{unique}",
                      workflows=[DLQReviewWorkflow, PaymentEventWorkflow],
                      activities=[quarantine.persist_quarantine, quarantine.record_review,
                                  payments.validate_business_rules]):
        result = await time_skipping_env.client.execute_workflow(
            DLQ_REVIEW.workflow, letter, id=workflow_id(DLQ_REVIEW, letter.event_id),
            task_queue=f"test-orch-ts-{unique}", result_type=DLQReviewResult)
    assert result.review_status == "expired"
    assert (await store.get_quarantine(letter.event_id))["review_status"] == "expired"
    [audit] = await store.list_review_audit(letter.event_id)
    assert (audit["decision"], audit["reviewer"], audit["identity_source"]) == (
        "expire", None, None)
    assert audit["reason"].startswith("no review decision within 604800 s")
