"""Workflows: enrich each payment event and persist it exactly once; review dead letters.

Failure policy (also in orchestration/README.md):

* A broken business rule never drops an event. The row is written with
  validation_status 'invalid' and the issues in validation_errors, and its scores are
  skipped (enrichment_missing says so), because a score of an invalid event means nothing.
* A model that stays unavailable after its 5 attempts never holds a payment back. The
  row is written with that score NULL and the reason in enrichment_missing, e.g.
  {"fraud": "inference unavailable after 5 attempts: ..."}.
* Persisting retries 5 times with exponential backoff per round, and up to
  PERSIST_ROUNDS rounds a minute apart (the worker's ORCHESTRATOR_PERSIST_ROUNDS and
  ..._ROUND_PAUSE_SECONDS, read into the history once a round has failed), so a
  PostgreSQL outage of ~10 minutes loses nothing. Past that, or when the table refuses
  the row or a different event is already stored under the event_id, the workflow fails
  with an ApplicationError. It is never "done": the event stays in the failed run's
  history, a redelivery from the starter starts a new run, the worker counts it in
  orchestration_failed_workflows, and `python -m orchestration.review redrive` starts a
  new run with the same input once the cause is fixed.

Every step is a *local* activity so that a payment costs one workflow task and about ten
history events; the retry policies are still per activity. A worker that dies mid-way
makes the workflow task time out, and the next worker re-runs the steps from the start,
which is safe because each step is idempotent (the write by event_id).

Bound, with the default budget: rules ≤ 3 × 5 s, each score ≤ 5 × 10 s plus 15 s of
backoff, persisting ≤ PERSIST_ROUNDS × (5 × 10 s + 15 s + 60 s): under 25 minutes in all.
A starter that sets an execution timeout should set at least 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    FailureError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from contracts import DeadLetter, PaymentEvent
    from contracts.workflows import (
        DLQ_REVIEW,
        PAYMENT_EVENT,
        REVIEW_DECISION_SIGNAL,
        STATUS_QUERY,
        workflow_id,
    )
    from orchestration.activities import PaymentActivities, QuarantineActivities
    from orchestration.enrichment import plan_models
    from orchestration.models import (
        DLQReviewResult,
        DLQReviewStatus,
        Enrichment,
        PaymentEventResult,
        PaymentEventStatus,
        PersistInput,
        QuarantineRecord,
        ReviewDecision,
        ReviewOutcome,
        ValidationResult,
    )
    from orchestration.policies import (
        INFERENCE_ATTEMPTS,
        INFERENCE_RETRY,
        INFERENCE_TIMEOUT,
        PERSIST_RETRY,
        PERSIST_TIMEOUT,
        RULES_RETRY,
        RULES_TIMEOUT,
        describe_failure,
        persist_in_rounds,
        read_worker_budget,
    )
    from orchestration.rules import (
        CorrectedEventError,
        differing_fields,
        parse_payment_event,
        read_original_payload,
    )

_SCORERS = {
    "fraud": PaymentActivities.get_fraud_score,
    "retry": PaymentActivities.get_retry_strategy,
    "churn": PaymentActivities.get_churn_prediction,
}


@workflow.defn(name=PAYMENT_EVENT.workflow)
class PaymentEventWorkflow:
    """Validate, score and persist one payment event; redeliveries are counted, not re-run."""

    @workflow.init
    def __init__(self, event: PaymentEvent) -> None:
        self._event = event
        self._stage = "received"
        self._deliveries = 0
        self._conflicting = 0
        self._missing: dict[str, str] = {}

    @workflow.signal(name=PAYMENT_EVENT.signal)
    def record_delivery(self, event: PaymentEvent) -> None:
        """Count a (re)delivery from the starter; the running workflow already owns it."""
        self._deliveries += 1
        if differing_fields(event, self._event):
            self._conflicting += 1
            workflow.logger.warning("delivery of %s differs from the event being processed",
                                    event.event_id)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> PaymentEventStatus:
        """Where this event is, and how many deliveries it has had."""
        return PaymentEventStatus(self._event.event_id, self._stage, self._deliveries,
                                  self._conflicting, dict(self._missing))

    @workflow.run
    async def run(self, event: PaymentEvent) -> PaymentEventResult:
        """Enrich the event and persist it exactly once."""
        self._stage = "validating"
        validation: ValidationResult = await workflow.execute_local_activity_method(
            PaymentActivities.validate_business_rules, event,
            start_to_close_timeout=RULES_TIMEOUT, retry_policy=RULES_RETRY,
        )
        enrichment = await self._enrich(event, validation)
        self._stage = "persisting"
        persisted = await persist_in_rounds(
            lambda: workflow.execute_local_activity_method(
                PaymentActivities.persist_to_postgres,
                PersistInput(event, validation, enrichment),
                start_to_close_timeout=PERSIST_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "persist_to_postgres", read_worker_budget,
        )
        self._stage = "completed"
        return PaymentEventResult(
            event_id=event.event_id,
            outcome=persisted.outcome,
            validation_status="invalid" if validation.errors else "valid",
            fraud_score=enrichment.fraud and enrichment.fraud.fraud_score,
            retry_action=enrichment.retry and enrichment.retry.action,
            churn_score=enrichment.churn and enrichment.churn.churn_score,
            enrichment_missing=enrichment.missing,
            deliveries=self._deliveries,
        )

    async def _enrich(self, event: PaymentEvent, validation: ValidationResult) -> Enrichment:
        enrichment = Enrichment(missing=self._missing)
        models = plan_models(event)
        if validation.errors:
            codes = ", ".join(issue.code for issue in validation.errors)
            for model in models:
                self._missing[model] = f"skipped: the event broke business rules ({codes})"
            return enrichment
        self._stage = "enriching"
        for model in models:
            try:
                result: Any = await workflow.execute_local_activity_method(
                    _SCORERS[model], event,
                    start_to_close_timeout=INFERENCE_TIMEOUT, retry_policy=INFERENCE_RETRY,
                )
            except FailureError as err:
                if isinstance(err, CancelledError):
                    raise
                self._missing[model] = describe_failure(err, INFERENCE_ATTEMPTS)
                workflow.logger.warning("%s score missing: %s", model, self._missing[model])
                continue
            setattr(enrichment, model, result)
        return enrichment


@workflow.defn(name=DLQ_REVIEW.workflow)
class DLQReviewWorkflow:
    """Quarantine a dead letter, wait for a reviewer, then re-drive or close it."""

    @workflow.init
    def __init__(self, dead_letter: DeadLetter) -> None:
        self._letter = dead_letter
        self._review_status = "quarantining"
        self._received = 0
        self._decision: ReviewDecision | None = None
        self._corrected: PaymentEvent | None = None
        self._last_error: str | None = None

    @workflow.signal(name=DLQ_REVIEW.signal)
    def record_dead_letter(self, dead_letter: DeadLetter) -> None:
        """Count a (re)delivery of the dead letter from the starter."""
        self._received += 1

    @workflow.signal(name=REVIEW_DECISION_SIGNAL)
    def decide(self, decision: ReviewDecision) -> None:
        """Take the first usable verdict; an unusable one is reported by `status`."""
        if self._decision is not None:
            self._last_error = "a decision was already taken; later ones are ignored"
            return
        if decision.decision not in ("approve", "reject") or not decision.reviewer:
            self._last_error = "decision must be approve or reject, with a reviewer"
            return
        if decision.decision == "approve":
            try:
                self._corrected = parse_payment_event(
                    decision.corrected_event if decision.corrected_event is not None
                    else read_original_payload(self._letter))
            except CorrectedEventError as err:
                self._last_error = f"approve needs a valid corrected_event: {err}"
                return
        self._decision = decision
        self._last_error = None

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> DLQReviewStatus:
        """The review status of this quarantined event."""
        reviewer = self._decision.reviewer if self._decision else None
        return DLQReviewStatus(self._letter.event_id, self._review_status, reviewer,
                               self._received, self._last_error)

    @workflow.run
    async def run(self, dead_letter: DeadLetter) -> DLQReviewResult:
        """Persist to quarantine, then approve (re-drive), reject or expire."""
        record: QuarantineRecord = await persist_in_rounds(
            lambda: workflow.execute_activity_method(
                QuarantineActivities.persist_quarantine, dead_letter,
                start_to_close_timeout=PERSIST_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "persist_quarantine", read_worker_budget,
        )
        self._review_status = record.review_status
        if record.review_status != "pending":
            return DLQReviewResult(dead_letter.event_id, record.review_status)
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None,
                timeout=timedelta(seconds=record.review_timeout_seconds),
            )
        except TimeoutError:
            await self._record(ReviewOutcome(dead_letter.event_id, "expired"))
            return DLQReviewResult(dead_letter.event_id, "expired")
        decision = self._decision
        if decision is None:  # wait_condition only returns once it is set
            raise ApplicationError("review ended without a decision", non_retryable=True)
        if decision.decision == "reject":
            await self._record(ReviewOutcome(dead_letter.event_id, "rejected", decision.reviewer,
                                             decision.reason))
            return DLQReviewResult(dead_letter.event_id, "rejected")
        corrected = self._corrected
        if corrected is None:  # decide() sets it with every approval
            raise ApplicationError("approval without an event to re-drive", non_retryable=True)
        await self._record(ReviewOutcome(dead_letter.event_id, "approved", decision.reviewer,
                                         decision.reason, decision.corrected_event))
        await self._redrive(corrected)
        return DLQReviewResult(dead_letter.event_id, "approved", corrected.event_id)

    async def _record(self, outcome: ReviewOutcome) -> None:
        await persist_in_rounds(
            lambda: workflow.execute_activity_method(
                QuarantineActivities.record_review, outcome,
                start_to_close_timeout=PERSIST_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "record_review", read_worker_budget,
        )
        self._review_status = outcome.review_status

    async def _redrive(self, event: PaymentEvent) -> None:
        try:
            await workflow.execute_child_workflow(
                PaymentEventWorkflow.run, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            # The corrected event is already in flight from another delivery; that run
            # persists it, idempotently, so there is nothing more to do here.
            workflow.logger.info("%s is already being processed", event.event_id)
