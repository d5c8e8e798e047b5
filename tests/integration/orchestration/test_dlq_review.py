"""DLQReviewWorkflow end to end: quarantine, then approve (re-drive), reject or expire."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import asdict

import pytest
from conftest import PYTHON, REPO_ROOT, count_rows
from temporalio.worker import Worker

from contracts.workflows import DLQ_REVIEW, REVIEW_DECISION_SIGNAL, STATUS_QUERY, workflow_id
from orchestration.activities import PaymentActivities, QuarantineActivities
from orchestration.metrics import Metrics
from orchestration.models import DLQReviewResult, DLQReviewStatus, ReviewDecision
from orchestration.store import PaymentStore
from orchestration.workflows import DLQReviewWorkflow, PaymentEventWorkflow
from tests.builders import make_dead_letter, make_payment_event

pytestmark = pytest.mark.timeout(90)


async def start_review(client, task_queue, letter):
    """Start the review the way the Faust starter does: signal-with-start."""
    handle = await client.start_workflow(
        DLQ_REVIEW.workflow, letter, id=workflow_id(DLQ_REVIEW, letter.event_id),
        task_queue=task_queue, result_type=DLQReviewResult, start_signal=DLQ_REVIEW.signal,
        start_signal_args=[letter],
    )
    for _ in range(100):
        status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
        if status.review_status == "pending":
            return handle
        await asyncio.sleep(0.1)
    raise TimeoutError("quarantine row never written")


def review_cli(reviewer_dsn, temporal_target, *args) -> subprocess.CompletedProcess:
    """The CLI as a reviewer runs it: signed in as the reviewer role (payments_reviewer)."""
    env = {"ORCHESTRATOR_REVIEW_POSTGRES_DSN": reviewer_dsn,
           "ORCHESTRATOR_TEMPORAL_TARGET": temporal_target, "PATH": "/usr/bin:/bin"}
    return subprocess.run([PYTHON, "-m", "orchestration.review", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=30)


def as_json(event) -> dict:
    data = asdict(event)
    for key in ("provider_created_at", "processed_at"):
        data[key] = data[key].isoformat()
    return data


async def test_approve_from_the_cli_redrives_the_corrected_event(
        temporal_client, start_worker, store, pg, role_dsn, temporal_target, tmp_path):
    reviewer = role_dsn("reviewer")
    queue = await start_worker()
    letter = make_dead_letter()
    handle = await start_review(temporal_client, queue, letter)
    listed = await asyncio.to_thread(review_cli, reviewer, temporal_target,
                                     "list", "--status", "pending", "--limit", "100000")
    assert letter.event_id in listed.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(as_json(make_payment_event(amount_cents=10**9))))
    refused = await asyncio.to_thread(review_cli, reviewer, temporal_target, "approve",
                                      letter.event_id, "--reviewer", "ana",
                                      "--corrected-event-file", str(bad))
    assert refused.returncode == 1 and "refused by payment_events" in refused.stderr
    corrected = make_payment_event()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(as_json(corrected)))

    approved = await asyncio.to_thread(review_cli, reviewer, temporal_target, "approve",
                                       letter.event_id, "--reviewer", "ana",
                                       "--corrected-event-file", str(good))

    assert approved.returncode == 0, approved.stderr
    result = await handle.result()
    assert (result.review_status, result.redriven_event_id) == ("approved", corrected.event_id)
    assert await count_rows(pg, corrected.event_id) == 1
    row = await store.get_quarantine(letter.event_id)
    assert (row["review_status"], row["reviewer"]) == ("approved", "ana")
    assert row["corrected_event"]["event_id"] == corrected.event_id
    assert row["original_payload"] == letter.payload and row["error_codes"] == letter.error_codes


async def test_reject_closes_the_quarantined_event(temporal_client, start_worker, store):
    queue = await start_worker()
    letter = make_dead_letter()
    handle = await start_review(temporal_client, queue, letter)
    # An approval without a usable event is reported, and the review keeps waiting.
    await handle.signal(REVIEW_DECISION_SIGNAL, ReviewDecision("approve", "bo", None))
    for _ in range(50):
        status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
        if status.last_error:
            break
        await asyncio.sleep(0.1)
    assert status.review_status == "pending" and "corrected_event" in status.last_error

    await handle.signal(REVIEW_DECISION_SIGNAL, ReviewDecision("reject", "bo", None, "test data"))

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
