"""The batched mode's activities (PaymentBatchWorkflow): PaymentActivities' per-event bodies
run over a batch, every event's call at once.

A failure that another attempt may cure (a transport error, a 5xx, PostgreSQL unreachable)
fails the whole step, so Temporal retries it under the per-event policy. That is safe:
scoring only reads, and the write is idempotent by event_id, so the events that succeeded
are done again to no effect (a row the failed attempt wrote comes back "duplicate"). A
refusal no attempt can cure (a 4xx, an answer outside the contract, a row the table refuses
or that conflicts with its stored row) concerns one event: it is that event's answer, and
the others are unaffected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts import PaymentEvent
from orchestration import rules
from orchestration.activities import PaymentActivities
from orchestration.models import BatchWrite, ModelAnswer, PersistInput, ValidationResult
from telemetry import bind_event_id

T = TypeVar("T")


def is_refusal(err: BaseException) -> bool:
    """A failure no retry can change: the event's own answer, not the step's failure."""
    return isinstance(err, ApplicationError) and err.non_retryable


def settle(results: Sequence[T | BaseException]) -> list[T | ApplicationError]:
    """Each event's answer or refusal, once every call has ended; the first other failure
    is raised, failing the step (and is retried with it)."""
    for result in results:
        if isinstance(result, BaseException) and not is_refusal(result):
            raise result
    return list(results)  # type: ignore[arg-type]


class PaymentBatchActivities:
    """Business rules, one model's scores and the idempotent write, for a batch of events."""

    def __init__(self, payments: PaymentActivities) -> None:
        self._payments = payments
        self._scorers: dict[str, Callable[[PaymentEvent], Awaitable[Any]]] = {
            "fraud": payments.score_fraud,
            "retry": payments.score_retry,
            "churn": payments.score_churn,
        }

    def all(self) -> list[Callable[..., Any]]:
        return [self.validate_batch, self.get_fraud_scores, self.get_retry_strategies,
                self.get_churn_predictions, self.persist_batch]

    @activity.defn(name="validate_business_rules_batch")
    async def validate_batch(self, events: list[PaymentEvent]) -> list[ValidationResult]:
        """Check every event against the business rules; one result per event, in order."""
        return [ValidationResult(errors=rules.check_business_rules(e)) for e in events]

    @activity.defn(name="get_fraud_scores")
    async def get_fraud_scores(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        """Fraud scores of these successful payments, or each refusal."""
        return await self._score("fraud", events)

    @activity.defn(name="get_retry_strategies")
    async def get_retry_strategies(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        """Retry advice for these failed payments, or each refusal."""
        return await self._score("retry", events)

    @activity.defn(name="get_churn_predictions")
    async def get_churn_predictions(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        """Churn predictions for these customers' events, or each refusal."""
        return await self._score("churn", events)

    @activity.defn(name="persist_batch_to_postgres")
    async def persist_batch(self, requests: list[PersistInput]) -> list[BatchWrite]:
        """Write every event's row exactly once (one transaction each); one outcome each."""
        workflow_id = activity.info().workflow_id
        results = settle(await asyncio.gather(
            *(self._write(request, workflow_id) for request in requests),
            return_exceptions=True))
        return [BatchWrite("refused", r.type, r.message) if isinstance(r, ApplicationError)
                else BatchWrite(r) for r in results]

    async def _score(self, model: str, events: list[PaymentEvent]) -> list[ModelAnswer]:
        results = settle(await asyncio.gather(
            *(self._score_one(model, event) for event in events), return_exceptions=True))
        return [ModelAnswer(refused=r.message) if isinstance(r, ApplicationError) else r
                for r in results]

    async def _score_one(self, model: str, event: PaymentEvent) -> ModelAnswer:
        bind_event_id(event.event_id)  # each gathered call runs in a context of its own
        return ModelAnswer(**{model: await self._scorers[model](event)})

    async def _write(self, request: PersistInput, workflow_id: str) -> str:
        bind_event_id(request.event.event_id)
        return await self._payments.write(request, workflow_id)
