"""Review decisions: what a reviewer may decide about a dead letter, and the audit it leaves.

Pure and deterministic. The DLQ review workflow's update validator and the review CLI run
the same checks, so a decision the CLI sends is one the workflow takes, and the workflow
still refuses a bad one from any other Temporal client. The checks bind an approval to its
dead letter: the corrected event keeps the letter's event id (and so its provider and
provider event id), or nothing is re-driven.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from datetime import datetime

from contracts import DeadLetter, PaymentEvent
from contracts.dead_letters import COORDINATES_ID_PREFIX
from contracts.workflows import (
    IDENTITY_SOURCES,
    REVIEW_DECISIONS,
    REVIEW_REASON_MAX_CHARS,
    REVIEWER_MAX_CHARS,
    REVIEWER_PATTERN,
    ReviewDecision,
    corrected_event_sha256,
)
from orchestration import rules
from orchestration.models import ReviewAudit

EXPIRE = "expire"  # the audit's decision when the review timeout, not a person, closes it
_REVIEWER = re.compile(REVIEWER_PATTERN)
# Control characters other than tab and newline would rewrite a terminal or a log line
# when the audit is read; PostgreSQL text refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DecisionRefusedError(ValueError):
    """A decision this dead letter's review cannot take; the message says why."""


def check_reviewer(name: object) -> str:
    """The reviewer's identity, or why it is not one (contracts.workflows.REVIEWER_PATTERN)."""
    if not isinstance(name, str) or not _REVIEWER.fullmatch(name):
        raise DecisionRefusedError(
            f"reviewer {str(name)[:80]!r} is not an identity: up to {REVIEWER_MAX_CHARS} "
            "letters, digits and ._@+:\\$- (an OS account or ORCHESTRATOR_REVIEWER_IDENTITY), "
            "never free text")
    return name


def check_reason(reason: object) -> str:
    """Why, as given: required, at most REVIEW_REASON_MAX_CHARS, no control characters."""
    if not isinstance(reason, str) or not reason.strip():
        raise DecisionRefusedError("a reason is required with every decision")
    if len(reason) > REVIEW_REASON_MAX_CHARS:
        raise DecisionRefusedError(f"the reason is {len(reason)} characters; at most "
                                   f"{REVIEW_REASON_MAX_CHARS} are kept in the audit")
    if _CONTROL.search(reason):
        raise DecisionRefusedError("the reason holds control characters")
    return reason


def check_decision(letter: DeadLetter, decision: ReviewDecision) -> PaymentEvent | None:
    """The event an approval re-drives (None for a rejection), or DecisionRefusedError."""
    if decision.decision not in REVIEW_DECISIONS:
        raise DecisionRefusedError(f"decision must be one of {', '.join(REVIEW_DECISIONS)}, "
                                   f"not {str(decision.decision)[:40]!r}")
    check_reviewer(decision.reviewer)
    if decision.identity_source not in IDENTITY_SOURCES:
        raise DecisionRefusedError(f"identity_source must be one of {', '.join(IDENTITY_SOURCES)}")
    check_reason(decision.reason)
    if decision.decision == "reject":
        if decision.corrected_event is not None:
            raise DecisionRefusedError("a rejection carries no corrected event")
        return None
    return check_approval(letter, decision.corrected_event)


def check_approval(letter: DeadLetter, corrected: dict | None) -> PaymentEvent:
    """The corrected event (or, when None, the letter's own payload) bound to the letter."""
    if letter.event_id.startswith(COORDINATES_ID_PREFIX):
        raise DecisionRefusedError(
            f"{letter.event_id} named no event id (it is filed under its source coordinates), "
            "so no corrected event can be bound to it: reject it, and let the provider's "
            "retry or `python -m orchestration.replay` bring the event back")
    try:
        data = rules.read_original_payload(letter) if corrected is None else corrected
        event = rules.parse_payment_event(data)
        if corrected is not None:
            corrected_event_sha256(corrected)  # refuses what is not plain JSON (NaN)
    except (rules.CorrectedEventError, ValueError, TypeError) as err:
        raise DecisionRefusedError(f"approve needs a valid corrected event: {err}") from None
    if event.event_id != letter.event_id:
        raise DecisionRefusedError(
            f"the corrected event's event_id {event.event_id[:200]!r} is not the dead letter's "
            f"{letter.event_id!r}: an approval must keep it")
    issues = rules.check_business_rules(event)
    if any(issue.code == "event_id.mismatch" for issue in issues):
        raise DecisionRefusedError("the corrected event's event_id is not "
                                   "<provider>:<provider_event_id>")
    unstorable = rules.refuses_storage(issues)
    if unstorable:
        raise DecisionRefusedError("corrected event would be refused by payment_events: "
                                   + "; ".join(issue.message for issue in unstorable))
    return event


def decision_update_id(decision: ReviewDecision) -> str:
    """The update id a caller gives a decision: the same decision sent twice is one update.

    Temporal answers a repeated update id with the first one's outcome, so a reviewer who
    re-runs a command whose answer was lost gets that answer instead of a refusal.
    """
    canonical = json.dumps(asdict(decision), sort_keys=True, separators=(",", ":"))
    return f"review-{decision.decision}-{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def audit_decision(event_id: str, decision: ReviewDecision, *, workflow_id: str, run_id: str,
                   update_id: str | None, decided_at: datetime) -> ReviewAudit:
    """The audit row of a reviewer's decision: the corrected event only as its digest."""
    digest = (None if decision.corrected_event is None
              else corrected_event_sha256(decision.corrected_event))
    return ReviewAudit(workflow_id, run_id, update_id, event_id, decision.decision,
                       decision.reviewer, decision.identity_source, decision.reason, digest,
                       decided_at)


def audit_expiry(event_id: str, *, workflow_id: str, run_id: str, decided_at: datetime,
                 timeout_seconds: int) -> ReviewAudit:
    """The audit row of a review that no one decided in time."""
    reason = (f"no review decision within {timeout_seconds} s "
              "(ORCHESTRATOR_REVIEW_TIMEOUT_SECONDS)")
    return ReviewAudit(workflow_id, run_id, None, event_id, EXPIRE, None, None, reason, None,
                       decided_at)
