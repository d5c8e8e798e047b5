"""Review decisions are bound to their dead letter and leave an audit row: pure, no servers.

These are the checks the DLQ review workflow's update validator runs (and the CLI runs
first); tests/integration/orchestration/test_review_audit.py runs them in a real workflow.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from temporalio.converter import DataConverter

from contracts.workflows import (
    REVIEW_REASON_MAX_CHARS,
    ReviewDecision,
    corrected_event_sha256,
)
from infra.migrate import load_migrations
from orchestration.models import ReviewAudit, ReviewOutcome
from orchestration.review_rules import (
    DecisionRefusedError,
    audit_decision,
    audit_expiry,
    check_decision,
    check_reason,
    check_reviewer,
    decision_update_id,
)
from orchestration.store import AUDIT_COLUMNS
from tests.builders import event_json, make_bound_letter, make_dead_letter

NOW = datetime(2026, 2, 1, 9, 30, 15, 123456, tzinfo=UTC)


def decision(verdict: str = "approve", corrected: dict | None = None, **overrides):
    values = {"decision": verdict, "reviewer": "ana", "identity_source": "os_user",
              "reason": "amount fixed from the provider dashboard", "corrected_event": corrected}
    return ReviewDecision(**{**values, **overrides})


def refused(letter, verdict, match: str) -> None:
    with pytest.raises(DecisionRefusedError, match=match):
        check_decision(letter, verdict)


def test_an_approval_that_keeps_the_event_id_re_drives_that_event():
    letter, event = make_bound_letter()
    assert check_decision(letter, decision(corrected=event_json(event))) == event


def test_an_approval_with_another_event_id_is_refused():
    letter, _ = make_bound_letter()
    _, other = make_bound_letter()
    refused(letter, decision(corrected=event_json(other)),
            r"is not the dead letter's .*an approval must keep it")


def test_an_approval_of_the_original_payload_is_bound_too():
    letter, event = make_bound_letter()
    letter.payload = json.dumps(event_json(event))
    assert check_decision(letter, decision()) == event
    _, other = make_bound_letter()
    letter.payload = json.dumps(event_json(other))
    refused(letter, decision(), "an approval must keep it")


def test_the_kept_id_must_still_be_the_events_provider_and_provider_id():
    letter, event = make_bound_letter()
    moved = event_json(dataclasses.replace(event, provider_event_id="evt_other"))
    refused(letter, decision(corrected=moved), r"not <provider>:<provider_event_id>")


def test_a_letter_filed_under_its_coordinates_can_only_be_rejected():
    letter = make_dead_letter()  # named no event id: dlq:<topic>:<partition>:<offset>
    _, event = make_bound_letter()
    refused(letter, decision(corrected=event_json(event)), "named no event id")
    refused(letter, decision(corrected=event_json(event) | {"event_id": letter.event_id}),
            "named no event id")
    assert check_decision(letter, decision("reject")) is None


def test_a_correction_payment_events_would_refuse_is_refused_here():
    letter, event = make_bound_letter()
    refused(letter, decision(corrected=event_json(event) | {"amount_cents": 10**9}),
            "refused by payment_events")


@pytest.mark.parametrize(("change", "match"), [
    (lambda e: ["not", "an", "object"], "must be a JSON object"),
    (lambda e: e | {"colour": "red"}, "unknown fields: colour"),
    (lambda e: e | {"amount_cents": "42.00"}, "must be an integer"),
    (lambda e: e | {"metadata": {"ratio": float("nan")}}, "Out of range float"),  # not JSON
])
def test_a_corrected_event_that_is_not_one_is_refused(change, match):
    letter, event = make_bound_letter()
    refused(letter, decision(corrected=change(event_json(event))),
            f"approve needs a valid corrected event: .*{match}")


def test_a_rejection_needs_no_event_and_may_carry_none():
    letter, event = make_bound_letter()
    assert check_decision(letter, decision("reject")) is None
    refused(letter, decision("reject", event_json(event)), "carries no corrected event")


@pytest.mark.parametrize(("overrides", "match"), [
    ({"decision": "approve_all"}, "decision must be one of approve, reject"),
    ({"reviewer": "Ana from payments"}, "is not an identity"),
    ({"reviewer": ""}, "is not an identity"),
    ({"reviewer": "ana\n"}, "is not an identity"),
    ({"reviewer": "a" * 129}, "is not an identity"),
    ({"identity_source": "typed"}, "identity_source must be one of os_user, configured"),
    ({"reason": "   "}, "a reason is required"),
    ({"reason": "x" * (REVIEW_REASON_MAX_CHARS + 1)}, "at most 1000"),
    ({"reason": "ok\x1b[2Jwiped"}, "control characters"),
    ({"reason": "nul\x00"}, "control characters"),
])
def test_who_and_why_are_checked_with_every_decision(overrides, match):
    letter, _ = make_bound_letter()
    refused(letter, decision("reject", **overrides), match)


@pytest.mark.parametrize("name", ["ana", "svc-triage", "CORP\\ana", "ana@EXAMPLE.ORG",
                                  "uid:1000", "host$", "a" * 128])
def test_account_names_are_identities(name):
    assert check_reviewer(name) == name


def test_a_reason_may_span_lines_and_reach_the_limit():
    assert check_reason("line one\n\tline two") == "line one\n\tline two"
    assert check_reason("x" * REVIEW_REASON_MAX_CHARS)


def test_the_corrected_event_digest_is_of_canonical_json():
    a = {"b": 1, "a": {"y": "é", "x": [1, 2]}}
    b = json.loads('{ "a": {"x": [1,2], "y": "\\u00e9"}, "b": 1 }')
    assert corrected_event_sha256(a) == corrected_event_sha256(b)
    # Sorted keys, no whitespace, UTF-8 (not \u escapes): the digest is a contract.
    canonical = '{"a":{"x":[1,2],"y":"é"},"b":1}'.encode()
    assert corrected_event_sha256(a) == hashlib.sha256(canonical).hexdigest()


def test_an_approvals_audit_row_holds_who_what_when_why_and_only_the_digest():
    letter, event = make_bound_letter()
    corrected = event_json(event)
    audit = audit_decision(letter.event_id, decision(corrected=corrected),
                           workflow_id=f"dlq-review:{letter.event_id}", run_id="run-1",
                           update_id="review-approve-1", decided_at=NOW)
    assert audit == ReviewAudit(f"dlq-review:{letter.event_id}", "run-1", "review-approve-1",
                                letter.event_id, "approve", "ana", "os_user",
                                "amount fixed from the provider dashboard",
                                corrected_event_sha256(corrected), NOW)
    stored = json.dumps(dataclasses.asdict(audit), default=str)
    for value in (event.payment_id, event.merchant_id, event.card_last_four, "o-1"):
        assert value not in stored  # no field of the payload itself


def test_a_rejection_and_an_expiry_have_no_digest_and_an_expiry_no_reviewer():
    letter, _ = make_bound_letter()
    ids = {"workflow_id": "dlq-review:x", "run_id": "r"}
    rejected = audit_decision(letter.event_id, decision("reject"), update_id="u",
                              decided_at=NOW, **ids)
    assert (rejected.decision, rejected.corrected_event_sha256) == ("reject", None)
    expired = audit_expiry(letter.event_id, decided_at=NOW, timeout_seconds=604800, **ids)
    assert (expired.decision, expired.reviewer, expired.identity_source, expired.update_id) == (
        "expire", None, None, None)
    assert expired.reason == ("no review decision within 604800 s "
                              "(ORCHESTRATOR_REVIEW_TIMEOUT_SECONDS)")


def test_the_same_decision_is_the_same_update_and_another_is_not():
    letter, event = make_bound_letter()
    first = decision(corrected=event_json(event))
    assert decision_update_id(first) == decision_update_id(decision(corrected=event_json(event)))
    assert decision_update_id(first) != decision_update_id(
        dataclasses.replace(first, reason="other"))
    assert re.fullmatch(r"review-approve-[0-9a-f]{32}", decision_update_id(first))


def test_the_audit_rows_fields_are_the_migrations_columns_in_order():
    [sql] = [m.sql for m in load_migrations() if m.name == "review_audit"]
    body = re.search(r"CREATE TABLE dlq_review_audit \((.*)\);", sql, re.S)[1]
    body = re.sub(r"--[^\n]*", "", body)
    columns = [line.split()[0] for line in body.splitlines()
               if line.strip() and line.split()[0].islower()
               and line.split()[0] not in {"id", "recorded_at"}]
    assert tuple(columns) == AUDIT_COLUMNS == tuple(f.name for f in
                                                    dataclasses.fields(ReviewAudit))


async def test_the_decision_and_the_outcome_cross_temporal_as_json_and_back():
    letter, event = make_bound_letter()
    sent = decision(corrected=event_json(event))
    audit = audit_decision(letter.event_id, sent, workflow_id="w", run_id="r", update_id="u",
                           decided_at=NOW)
    outcome = ReviewOutcome(letter.event_id, "approved", "ana", sent.reason,
                            sent.corrected_event, audit)
    converter = DataConverter.default
    for value in (sent, outcome):
        [back] = await converter.decode(await converter.encode([value]), [type(value)])
        assert back == value


async def test_a_decision_without_an_identity_source_does_not_decode():
    # What a client built for the old signal sends: the workflow rejects the update.
    converter = DataConverter.default
    old = {"decision": "approve", "reviewer": "ana", "corrected_event": None, "reason": None}
    with pytest.raises(TypeError):
        await converter.decode(await converter.encode([old]), [ReviewDecision])
