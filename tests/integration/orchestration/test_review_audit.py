"""Review decisions are bound and attributable (issue 15, item 5), on the real stack.

A real DLQReviewWorkflow on the real Temporal server, an in-process worker, the shared
PostgreSQL and the review CLI as a subprocess: an approval whose corrected event does not
keep the dead letter's event id is refused (by the workflow's update validator, and by the
CLI before it sends); an approval from the CLI writes one dlq_review_audit row naming the
OS account, whatever $USER says; a retried decision or a retried write adds no second row.
"""

from __future__ import annotations

import asyncio
import json
import typing
from datetime import UTC, datetime
from urllib.parse import urlsplit

import asyncpg
import pytest
from conftest import OS_USER, count_rows, review_cli, start_review
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from contracts.workflows import (
    REVIEW_DECISION_UPDATE,
    STATUS_QUERY,
    ReviewDecision,
    corrected_event_sha256,
)
from orchestration.activities import QuarantineActivities
from orchestration.metrics import Metrics
from orchestration.models import DLQReviewStatus, ReviewAudit, ReviewOutcome
from orchestration.review_rules import decision_update_id
from tests.builders import event_json, make_bound_letter

pytestmark = pytest.mark.timeout(150)


def decide(handle, decision: ReviewDecision, update_id: str | None = None):
    return handle.execute_update(REVIEW_DECISION_UPDATE, decision, id=update_id,
                                 result_type=DLQReviewStatus)


async def test_an_approval_with_another_event_id_is_refused_by_the_workflow_and_the_cli(
        temporal_client, start_worker, store, pg, role_dsn, temporal_target, tmp_path):
    queue = await start_worker()
    letter, corrected = make_bound_letter()
    _, other = make_bound_letter()
    handle = await start_review(temporal_client, queue, letter)

    # Any Temporal client: the workflow's validator refuses, and says why.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, ReviewDecision("approve", "mallory", "configured", "looks fine",
                                            event_json(other)))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "ReviewRefused"
    assert f"is not the dead letter's {letter.event_id!r}" in cause.message
    # The CLI refuses it before sending anything.
    wrong = tmp_path / "other.json"
    wrong.write_text(json.dumps(event_json(other)))
    cli = await asyncio.to_thread(review_cli, role_dsn("reviewer"), temporal_target, "approve",
                                  letter.event_id, "--reason", "looks fine",
                                  "--corrected-event-file", str(wrong))
    assert cli.returncode == 1 and "an approval must keep it" in cli.stderr

    status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
    assert (status.review_status, status.decision) == ("pending", None)
    assert await store.list_review_audit(letter.event_id) == []
    assert await count_rows(pg, other.event_id) == 0
    # The review still takes a bound decision afterwards.
    await decide(handle, ReviewDecision("approve", "ana", "configured", "amount fixed",
                                        event_json(corrected)))
    assert (await handle.result()).redriven_event_id == letter.event_id


async def test_an_approval_from_the_cli_writes_one_audit_row_naming_the_os_account(
        temporal_client, start_worker, store, role_dsn, temporal_target, tmp_path):
    queue = await start_worker()
    letter, corrected = make_bound_letter()
    handle = await start_review(temporal_client, queue, letter)
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(event_json(corrected)))
    args = ("approve", letter.event_id, "--reason", "amount re-read from the dashboard",
            "--corrected-event-file", str(fixed))
    # $USER and $LOGNAME are the caller's to set; they do not make the caller someone else.
    spoofed = {"USER": "mallory", "LOGNAME": "mallory"}

    approved = await asyncio.to_thread(review_cli, role_dsn("reviewer"), temporal_target, *args,
                                       **spoofed)

    assert approved.returncode == 0, approved.stderr
    assert f"accepted for {letter.event_id} by {OS_USER} (os_user)" in approved.stdout
    result = await handle.result()
    assert result.review_status == "approved"
    [audit] = await store.list_review_audit(letter.event_id)
    digest = corrected_event_sha256(event_json(corrected))
    sent = ReviewDecision("approve", OS_USER, "os_user", "amount re-read from the dashboard",
                          event_json(corrected))
    assert {k: audit[k] for k in ("workflow_id", "run_id", "update_id", "event_id", "decision",
                                  "reviewer", "identity_source", "reason",
                                  "corrected_event_sha256")} == {
        "workflow_id": handle.id, "run_id": handle.result_run_id,
        "update_id": decision_update_id(sent), "event_id": letter.event_id,
        "decision": "approve", "reviewer": OS_USER, "identity_source": "os_user",
        "reason": "amount re-read from the dashboard", "corrected_event_sha256": digest}
    assert audit["decided_at"] <= audit["recorded_at"]
    # Only the digest: no value of the corrected event is in the row.
    payload_values = {v for v in event_json(corrected).values() if isinstance(v, str)}
    assert not payload_values & {v for k, v in audit.items()
                                 if isinstance(v, str) and k not in ("event_id", "workflow_id")}
    row = await store.get_quarantine(letter.event_id)
    assert (row["review_status"], row["reviewer"]) == ("approved", OS_USER)
    # The Temporal history names the caller too: the update's request carries the identity.
    identities = [e.workflow_execution_update_accepted_event_attributes.accepted_request
                  .meta.identity async for e in handle.fetch_history_events()
                  if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
    assert len(identities) == 1 and f"reviewer={OS_USER} (os_user)" in identities[0]

    again = await asyncio.to_thread(review_cli, role_dsn("reviewer"), temporal_target, *args)

    assert again.returncode == 1 and "already approved" in again.stderr
    assert len(await store.list_review_audit(letter.event_id)) == 1


async def test_a_configured_identity_is_recorded_as_configured(
        temporal_client, start_worker, store, role_dsn, temporal_target):
    queue = await start_worker()
    letter, _ = make_bound_letter()
    handle = await start_review(temporal_client, queue, letter)

    rejected = await asyncio.to_thread(
        review_cli, role_dsn("reviewer"), temporal_target, "reject", letter.event_id, "--reason",
        "test data from a sandbox account", ORCHESTRATOR_REVIEWER_IDENTITY="triage-bot")

    assert rejected.returncode == 0, rejected.stderr
    assert (await handle.result()).review_status == "rejected"
    [audit] = await store.list_review_audit(letter.event_id)
    assert (audit["decision"], audit["reviewer"], audit["identity_source"],
            audit["corrected_event_sha256"]) == ("reject", "triage-bot", "configured", None)


async def test_a_retried_decision_and_a_retried_write_leave_one_audit_row(
        temporal_client, start_worker, make_proxy, role_dsn, store, pg):
    worker_dsn = role_dsn("worker")
    target = urlsplit(worker_dsn)
    proxy = await make_proxy(target.hostname, target.port)
    dsn = worker_dsn.replace(f":{target.port}/", f":{proxy.port}/")
    queue = await start_worker(POSTGRES_DSN=dsn, POSTGRES_POOL_MIN=1,
                               PERSIST_ROUND_PAUSE_SECONDS=1)
    letter, _ = make_bound_letter()
    handle = await start_review(temporal_client, queue, letter)
    proxy.cut()  # record_review now fails and is retried
    attempts = proxy.attempts
    first = ReviewDecision("reject", "ana", "configured", "duplicate of another event")

    taken = await decide(handle, first, "decision-1")

    assert (taken.decision, taken.reviewer) == ("reject", "ana")
    await asyncio.wait_for(proxy.wait_attempts(attempts + 2), 30)
    # The same update again (a reviewer's retry) is the same update: the same answer.
    assert (await decide(handle, first, "decision-1")).decision == "reject"
    # Another decision is refused: a review takes one.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, ReviewDecision("reject", "bo", "configured", "second opinion"),
                     "decision-2")
    assert "already decided: reject by ana" in str(refused.value.cause)
    assert await store.list_review_audit(letter.event_id) == []
    proxy.restore()

    assert (await handle.result()).review_status == "rejected"
    [audit] = await store.list_review_audit(letter.event_id)
    assert (audit["update_id"], audit["reviewer"], audit["reason"]) == (
        "decision-1", "ana", "duplicate of another event")

    # A write retried after it committed (its answer lost) finds its own row.
    outcome = ReviewOutcome(letter.event_id, "rejected", "ana", "duplicate of another event",
                            audit=ReviewAudit(**{k: audit[k] for k in ReviewAudit.__annotations__}))
    activities = QuarantineActivities(store, Metrics(), review_timeout_seconds=60)
    await ActivityEnvironment().run(activities.record_review, outcome)
    assert len(await store.list_review_audit(letter.event_id)) == 1
    # A different decision under the run's key is a bug: refused, never retried or merged.
    outcome.audit.reason = "something else"
    with pytest.raises(ApplicationError) as conflict:
        await ActivityEnvironment().run(activities.record_review, outcome)
    assert conflict.value.type == "AuditConflict" and conflict.value.non_retryable
    assert [a["reason"] for a in await store.list_review_audit(letter.event_id)] == [
        "duplicate of another event"]


async def test_the_audit_is_append_only(pg, unique):
    row = ("dlq-review:test", f"run-{unique}", None, f"test:{unique}", "expire", None, None,
           "no review decision within 1 s", None, datetime.now(UTC))
    async with pg.acquire() as conn:
        await conn.execute(
            "INSERT INTO dlq_review_audit (workflow_id, run_id, update_id, event_id, decision, "
            "reviewer, identity_source, reason, corrected_event_sha256, decided_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", *row)
        for statement in ("UPDATE dlq_review_audit SET reason = 'x' WHERE run_id = $1",
                          "DELETE FROM dlq_review_audit WHERE run_id = $1"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement, f"run-{unique}")


async def test_the_audit_tables_columns_are_review_audits_fields_and_types(pg):
    rows = await pg.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'dlq_review_audit' ORDER BY ordinal_position")
    stored = {r["column_name"]: (r["data_type"], r["is_nullable"] == "YES") for r in rows}
    expected = {"id": ("bigint", False), "recorded_at": ("timestamp with time zone", False)}
    for name, hint in typing.get_type_hints(ReviewAudit).items():
        nullable = type(None) in typing.get_args(hint)
        base = next(a for a in typing.get_args(hint) or (hint,) if a is not type(None))
        expected[name] = ({str: "text", datetime: "timestamp with time zone"}[base], nullable)
    assert stored == expected
