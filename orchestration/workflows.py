"""Workflows: enrich each payment event and persist it exactly once; review dead letters.

DLQReviewWorkflow lives in orchestration/review_workflows.py and PaymentBatchWorkflow (the
opt-in micro-batched mode) in orchestration/batch_workflows.py; both are re-exported here,
so the worker registers every workflow from one place.

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

import asyncio
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import PaymentEvent
    from contracts.workflows import PAYMENT_EVENT, STATUS_QUERY
    from orchestration.activities import PaymentActivities
    from orchestration.enrichment import plan_models
    from orchestration.models import (
        Enrichment,
        PaymentEventResult,
        PaymentEventStatus,
        PersistInput,
        ValidationResult,
    )
    from orchestration.policies import (
        INFERENCE_TIMEOUT,
        PERSIST_RETRY,
        PERSIST_TIMEOUT,
        RULES_RETRY,
        RULES_TIMEOUT,
        describe_skip,
        persist_in_rounds,
        read_worker_budget,
        score_or_reason,
    )
    from orchestration.rules import differing_fields

from orchestration.batch_workflows import PaymentBatchWorkflow
from orchestration.review_workflows import DLQReviewWorkflow

__all__ = ["DLQReviewWorkflow", "PaymentBatchWorkflow", "PaymentEventWorkflow"]

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
            for model in models:
                self._missing[model] = describe_skip(validation.errors)
            return enrichment
        self._stage = "enriching"
        # The scores are independent, so they run at once: one activation resolves them
        # all instead of one activation (and one worker round trip) per score.
        scores = await asyncio.gather(*(self._score(model, event) for model in models))
        for model, result in zip(models, scores, strict=True):
            if result is not None:
                setattr(enrichment, model, result)
        return enrichment

    async def _score(self, model: str, event: PaymentEvent) -> Any:
        """One model's score, or None with the reason noted in enrichment_missing."""
        score, reason = await score_or_reason(_SCORERS[model], event, INFERENCE_TIMEOUT)
        if reason is not None:
            self._missing[model] = reason
            workflow.logger.warning("%s score missing: %s", model, reason)
        return score
