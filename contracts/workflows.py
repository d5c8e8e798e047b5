"""The Temporal names that the starter (streams) and the worker (orchestration) share.

Streams starts workflows by type name, so it never imports orchestration; the names are
wire values, defined here once for both sides (and for infra, bench and the tests).
Renaming any of them strands what is already in flight: a running workflow keeps the
type, id and signal names it was started with, and a completed id no longer deduplicates
a redelivery. tests/unit/contracts/test_contracts_workflows.py pins the values.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The task queue the worker polls and the starter starts on, unless settings say otherwise
# (ORCHESTRATOR_TASK_QUEUE, STREAMS_TEMPORAL_TASK_QUEUE: they must stay equal).
DEFAULT_TASK_QUEUE = "payments"

# Every workflow answers this query with its status dataclass (orchestration.models).
STATUS_QUERY = "status"
# A reviewer's verdict on a quarantined event, sent to its DLQ review workflow as a Temporal
# *update* (a signal until issue 15): the workflow's validator refuses a decision it cannot
# take, and the caller hears why. Its argument is a ReviewDecision (below).
REVIEW_DECISION_UPDATE = "review_decision"


@dataclass(frozen=True, slots=True)
class WorkflowTarget:
    """One workflow type, as the starter addresses it: signal-with-start by id."""

    workflow: str  # the workflow type name orchestration registers
    id_prefix: str  # the workflow id is ``<id_prefix>:<unified event id>``
    signal: str  # the start signal; every (re)delivery sends it


PAYMENT_EVENT = WorkflowTarget("PaymentEventWorkflow", "payment-event", "event_received")
DLQ_REVIEW = WorkflowTarget("DLQReviewWorkflow", "dlq-review", "dead_letter_received")
WORKFLOW_TYPES = (PAYMENT_EVENT.workflow, DLQ_REVIEW.workflow)


def workflow_id(target: WorkflowTarget, event_id: str) -> str:
    """The one id of the event's workflow, so every delivery reaches the same run."""
    return f"{target.id_prefix}:{event_id}"


# --- The review_decision update's argument -------------------------------------------------

REVIEW_DECISIONS = ("approve", "reject")
# Where the reviewer's name comes from: the OS account running the review CLI, or an identity
# configured for a non-interactive caller (ORCHESTRATOR_REVIEWER_IDENTITY). Never free text
# typed with the decision. The audit row (dlq_review_audit) records which.
IDENTITY_SOURCES = ("os_user", "configured")
# What a reviewer name may hold (re.fullmatch): an account name, DOMAIN\user, user@realm or
# uid:<n> (an OS account without a passwd entry); no spaces or control characters to mislead
# whoever reads the audit.
REVIEWER_MAX_CHARS = 128
REVIEWER_PATTERN = rf"^[A-Za-z0-9_][A-Za-z0-9._@+:\\$-]{{0,{REVIEWER_MAX_CHARS - 1}}}$"
# Why: required with every decision, and bounded so a row stays small (dlq_review_audit's
# CHECK says the same).
REVIEW_REASON_MAX_CHARS = 1000


@dataclass(slots=True)
class ReviewDecision:
    """A reviewer's verdict on one quarantined event (the ``review_decision`` update).

    An approval's ``corrected_event`` must keep the dead letter's event id; when it is None
    the dead letter's own payload is re-driven, if it already is a unified event. The
    workflow refuses anything else, and a decision missing a field does not deserialize.
    """

    decision: str  # one of REVIEW_DECISIONS
    reviewer: str  # the caller's identity, matching REVIEWER_PATTERN
    identity_source: str  # one of IDENTITY_SOURCES
    reason: str  # 1..REVIEW_REASON_MAX_CHARS characters
    corrected_event: dict[str, Any] | None = None


def corrected_event_sha256(event: Mapping[str, Any]) -> str:
    """The digest the audit keeps instead of the corrected event: sha256 of canonical JSON.

    Canonical means sorted keys, no whitespace, UTF-8, so the CLI, the workflow and anyone
    re-reading ``payment_events_quarantine.corrected_event`` (jsonb) get the same digest.
    """
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- Micro-batches of payments (issue 19) --------------------------------------------------
# With STREAMS_STARTER_BATCH_SIZE > 1 the starter hands the worker up to that many payments
# in one PaymentBatchWorkflow instead of one PaymentEventWorkflow each: Temporal's cost per
# payment falls by about the batch size (bench/orchestration_batches.py). Each event still
# gets its own payment_events row, written by event_id, so a batch re-run or a redelivered
# event in another batch changes nothing. The default stays one workflow per event.
PAYMENT_BATCH = WorkflowTarget("PaymentBatchWorkflow", "payment-batch", "batch_received")
# At most this many events in one batch, and at most this many bytes of their JSON, well
# under Temporal's 2 MB limit on one payload (an event larger than that starts on its own).
BATCH_MAX_EVENTS = 100
BATCH_MAX_BYTES = 1_048_576


def batch_key(event_ids: Iterable[str]) -> str:
    """The batch's part of its workflow id: a digest of its sorted event ids, so the same
    events redelivered together reach the same workflow (``workflow_id(PAYMENT_BATCH, key)``)."""
    return hashlib.sha256("\n".join(sorted(event_ids)).encode("utf-8")).hexdigest()[:32]
