"""Dataclasses that cross the workflow/activity boundary (Temporal serializes them as JSON).

Kept apart from workflows.py and activities.py so that both import them without either
importing the other's dependencies into the workflow sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts import DeadLetter, PaymentEvent, ValidationIssue
from contracts.workflows import ReviewDecision


@dataclass
class ValidationResult:
    errors: list[ValidationIssue] = field(default_factory=list)


@dataclass
class FraudResult:
    fraud_score: float
    risk_level: str
    model_version: str


@dataclass
class RetryResult:
    action: str
    delay_seconds: int
    model_version: str


@dataclass
class ChurnResult:
    churn_score: float
    risk_level: str
    model_version: str


@dataclass
class Enrichment:
    fraud: FraudResult | None = None
    retry: RetryResult | None = None
    churn: ChurnResult | None = None
    # model -> why its score is NULL on the row, e.g. {"fraud": "inference unavailable ..."}
    missing: dict[str, str] = field(default_factory=dict)


@dataclass
class PersistInput:
    event: PaymentEvent
    validation: ValidationResult
    enrichment: Enrichment


@dataclass
class PersistResult:
    outcome: str  # "inserted", "duplicate" (an identical row was there) or "erased" (not stored)


@dataclass
class ModelAnswer:
    """One event's answer from a batch's scoring step (one model): its score in the field of
    that model, or the message of inference's refusal (policies.describe_refusal words it)."""

    fraud: FraudResult | None = None
    retry: RetryResult | None = None
    churn: ChurnResult | None = None
    refused: str | None = None


@dataclass
class BatchWrite:
    """One event's outcome in a batch's write: inserted, duplicate or erased as PersistResult
    says; or "refused", a row that can never be written (error_type EventConflict or
    RowRejected, and why), which the batch hands to the event's own PaymentEventWorkflow."""

    outcome: str
    error_type: str | None = None
    reason: str | None = None


@dataclass
class CustomerHistory:
    """A customer's earlier settled payments, as counted from payment_events."""

    successful_payments: int = 0
    failed_payments: int = 0
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    total_amount_cents: int = 0


@dataclass
class PersistBudget:
    """How long a workflow keeps trying to persist: the worker's ORCHESTRATOR_PERSIST_*."""

    rounds: int
    round_pause_seconds: float


@dataclass
class QuarantineRecord:
    review_status: str  # pending, approved, rejected or expired
    review_timeout_seconds: int


@dataclass
class ReviewAudit:
    """One dlq_review_audit row: who decided what about which dead letter, when and why.

    The fields are the table's columns in order (id and recorded_at aside; a unit test pins
    them). A run takes one decision, so (workflow_id, run_id) is the row's key: a retried
    write finds its own row. The corrected event is kept as its digest only.
    """

    workflow_id: str
    run_id: str
    update_id: str | None  # the Temporal update that carried it; None for an expiry
    event_id: str  # the dead letter's
    decision: str  # approve, reject or expire
    reviewer: str | None  # None only for an expiry, which no one decides
    identity_source: str | None  # contracts.workflows.IDENTITY_SOURCES; None for an expiry
    reason: str
    corrected_event_sha256: str | None  # contracts.workflows.corrected_event_sha256
    decided_at: datetime  # when the workflow accepted the decision (workflow time)


@dataclass
class ReviewOutcome:
    event_id: str
    review_status: str  # approved, rejected or expired
    reviewer: str | None = None
    reason: str | None = None
    corrected_event: dict[str, Any] | None = None
    # Written in the same transaction as the quarantine row; None only from a run that
    # took its decision before the audit existed.
    audit: ReviewAudit | None = None


@dataclass
class PaymentEventResult:
    event_id: str
    outcome: str
    validation_status: str
    fraud_score: float | None
    retry_action: str | None
    churn_score: float | None
    enrichment_missing: dict[str, str]
    deliveries: int


@dataclass
class PaymentEventStatus:
    event_id: str
    stage: str
    deliveries: int
    conflicting_deliveries: int
    enrichment_missing: dict[str, str]


@dataclass
class BatchEventResult:
    event_id: str
    # inserted, duplicate or erased; for an event handed to its own PaymentEventWorkflow,
    # that run's outcome, "failed" (its failure in detail) or "already_handled" (a run of
    # that id is running or has completed).
    outcome: str
    validation_status: str
    enrichment_missing: dict[str, str]
    child_workflow_id: str | None = None
    detail: str | None = None


@dataclass
class PaymentBatchResult:
    outcomes: dict[str, int]  # outcome -> events
    events: list[BatchEventResult]
    deliveries: int


@dataclass
class PaymentBatchStatus:
    stage: str  # received, validating, enriching, persisting, handing_over, completed
    events: int
    outcomes: dict[str, int]  # so far: every event's, once persisting is done
    deliveries: int
    conflicting_deliveries: int


@dataclass
class DLQReviewStatus:
    event_id: str
    review_status: str
    reviewer: str | None
    dead_letters_received: int
    last_error: str | None
    decision: str | None = None  # approve or reject, once a reviewer's decision is taken


@dataclass
class DLQReviewResult:
    event_id: str
    review_status: str
    redriven_event_id: str | None = None


__all__ = [
    "BatchEventResult",
    "BatchWrite",
    "ChurnResult",
    "CustomerHistory",
    "DLQReviewResult",
    "DLQReviewStatus",
    "DeadLetter",
    "Enrichment",
    "FraudResult",
    "ModelAnswer",
    "PaymentBatchResult",
    "PaymentBatchStatus",
    "PaymentEventResult",
    "PaymentEventStatus",
    "PersistInput",
    "PersistResult",
    "QuarantineRecord",
    "RetryResult",
    "ReviewAudit",
    "ReviewDecision",
    "ReviewOutcome",
    "ValidationResult",
]
