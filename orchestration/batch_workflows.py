"""PaymentBatchWorkflow: the opt-in micro-batched mode (issue 19), one workflow per batch.

The starter (STREAMS_STARTER_BATCH_SIZE > 1) hands up to contracts BATCH_MAX_EVENTS events
to one workflow, ``payment-batch:<batch_key>``, by signal-with-start of ``batch_received``
with the events as both input and signal argument. Temporal's cost is then per batch (one
workflow, about five markers), not per event. Every guarantee of PaymentEventWorkflow holds
per event:

* **Validate**: one local activity, the same pure rules, one result per event; an invalid
  event is written with its issues and its scores skipped.
* **Score**: one local activity per model (fraud, retry, churn), each over the valid events
  that model serves (orchestration.enrichment.plan_models), run at once. A transient failure
  fails that model's step and Temporal retries it under INFERENCE_RETRY (scores are reads);
  once exhausted, that model's score is missing on those events, in the per-event words. A
  refusal (4xx, bad answer) is that one event's missing reason; the others keep theirs.
* **Persist**: one local activity writing every row (each its own transaction, by
  event_id), inside persist_in_rounds with PERSIST_RETRY. A transient database error
  retries the whole write: it is idempotent, so a row the failed attempt already wrote is
  reported "duplicate" by the retry. A row that can never be written (EventConflict,
  RowRejected) fails neither the batch nor the other events: that event is handed to its
  own child PaymentEventWorkflow (``payment-event:<event_id>``), which fails exactly as the
  per-event mode does, so `python -m orchestration.review failed` shows it and `redrive`
  re-runs it once the cause is fixed.
* **Traceable**: each row's ``workflow_id`` names this workflow (migration 017), and the
  trace follows it here.

The batch fails as a whole only when persisting fails every round (as a per-event run
would); its input, every event, stays in the failed run's history for ``redrive``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import (
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from contracts import PaymentEvent
    from contracts.workflows import PAYMENT_BATCH, PAYMENT_EVENT, STATUS_QUERY, workflow_id
    from orchestration.batch_activities import PaymentBatchActivities
    from orchestration.batches import (
        apply_answers,
        count_outcomes,
        delivery_differs,
        mark_missing,
        plan_scores,
    )
    from orchestration.models import (
        BatchEventResult,
        BatchWrite,
        Enrichment,
        ModelAnswer,
        PaymentBatchResult,
        PaymentBatchStatus,
        PaymentEventResult,
        PersistInput,
        ValidationResult,
    )
    from orchestration.policies import (
        BATCH_STEP_TIMEOUT,
        PERSIST_RETRY,
        RULES_RETRY,
        RULES_TIMEOUT,
        persist_in_rounds,
        read_worker_budget,
        score_or_reason,
    )

_SCORERS = {
    "fraud": PaymentBatchActivities.get_fraud_scores,
    "retry": PaymentBatchActivities.get_retry_strategies,
    "churn": PaymentBatchActivities.get_churn_predictions,
}


@workflow.defn(name=PAYMENT_BATCH.workflow)
class PaymentBatchWorkflow:
    """Validate, score and persist a batch of payment events, each exactly once."""

    @workflow.init
    def __init__(self, events: list[PaymentEvent]) -> None:
        self._events = events
        self._stage = "received"
        self._deliveries = 0
        self._conflicting = 0
        self._outcomes: list[str] = []

    @workflow.signal(name=PAYMENT_BATCH.signal)
    def record_delivery(self, events: list[PaymentEvent]) -> None:
        """Count a (re)delivery of the batch from the starter; this run already owns it."""
        self._deliveries += 1
        if delivery_differs(self._events, events):
            self._conflicting += 1
            workflow.logger.warning("a delivery of batch %s differs from the batch being "
                                    "processed", workflow.info().workflow_id)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> PaymentBatchStatus:
        """Where the batch is, its outcomes so far, and how many deliveries it has had."""
        return PaymentBatchStatus(self._stage, len(self._events),
                                  count_outcomes(self._outcomes), self._deliveries,
                                  self._conflicting)

    @workflow.run
    async def run(self, events: list[PaymentEvent]) -> PaymentBatchResult:
        """Enrich every event and persist each exactly once."""
        self._stage = "validating"
        validations: list[ValidationResult] = await workflow.execute_local_activity_method(
            PaymentBatchActivities.validate_batch, events,
            start_to_close_timeout=RULES_TIMEOUT, retry_policy=RULES_RETRY,
        )
        enrichments = await self._enrich(events, validations)
        self._stage = "persisting"
        requests = [PersistInput(event, validation, enrichment) for event, validation,
                    enrichment in zip(events, validations, enrichments, strict=True)]
        writes: list[BatchWrite] = await persist_in_rounds(
            lambda: workflow.execute_local_activity_method(
                PaymentBatchActivities.persist_batch, requests,
                start_to_close_timeout=BATCH_STEP_TIMEOUT, retry_policy=PERSIST_RETRY,
            ),
            "persist_batch_to_postgres", read_worker_budget,
        )
        results = [BatchEventResult(event.event_id, write.outcome,
                                    "invalid" if validation.errors else "valid",
                                    enrichment.missing, detail=write.reason)
                   for event, validation, enrichment, write
                   in zip(events, validations, enrichments, writes, strict=True)]
        self._outcomes = [result.outcome for result in results]
        refused = [i for i, write in enumerate(writes) if write.outcome == "refused"]
        if refused:
            self._stage = "handing_over"
            # In batch order, all at once; each child's own history shows its failure.
            await asyncio.gather(*(self._hand_over(events[i], results[i]) for i in refused))
            self._outcomes = [result.outcome for result in results]
        self._stage = "completed"
        return PaymentBatchResult(count_outcomes(self._outcomes), results, self._deliveries)

    async def _enrich(self, events: list[PaymentEvent],
                      validations: list[ValidationResult]) -> list[Enrichment]:
        needs, enrichments = plan_scores(events, validations)
        if needs:
            self._stage = "enriching"
            models = list(needs)  # batches.MODELS order
            answers = await asyncio.gather(*(self._score(model, [events[i] for i in needs[model]])
                                             for model in models))
            for model, answer in zip(models, answers, strict=True):
                if isinstance(answer, str):
                    mark_missing(enrichments, model, needs[model], answer)
                else:
                    apply_answers(enrichments, model, needs[model], answer)
        return enrichments

    async def _score(self, model: str, events: list[PaymentEvent]) -> list[ModelAnswer] | str:
        """One model's answers for these events, or why that step failed for good."""
        answers, reason = await score_or_reason(_SCORERS[model], events, BATCH_STEP_TIMEOUT)
        if reason is None:
            return answers
        workflow.logger.warning("%s scores missing for %d events: %s", model, len(events),
                                reason)
        return reason

    async def _hand_over(self, event: PaymentEvent, result: BatchEventResult) -> None:
        """Run the event alone, as the per-event mode would, so that it fails visibly there.

        ALLOW_DUPLICATE_FAILED_ONLY, as the starter's: a failed run is replaced, and a
        completed one means the event is already done (a running one is left to finish).
        ABANDON: the child outlives a batch that is terminated or reset.
        """
        child_id = workflow_id(PAYMENT_EVENT, event.event_id)
        result.child_workflow_id = child_id
        try:
            child: PaymentEventResult = await workflow.execute_child_workflow(
                PAYMENT_EVENT.workflow, event, id=child_id, result_type=PaymentEventResult,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            result.outcome = "already_handled"
            return
        except ChildWorkflowError as err:
            result.outcome, result.detail = "failed", _failure_text(err)
            return
        result.outcome = child.outcome
        result.enrichment_missing = child.enrichment_missing


def _failure_text(err: ChildWorkflowError) -> str:
    cause: Any = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}"
    return str(cause or err)
