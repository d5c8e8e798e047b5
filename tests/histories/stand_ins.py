"""The recorder's activities: the real names and types, with deterministic bodies chosen per path.

Used only by ``tests/histories/record.py`` to drive the real workflows down each path on a
real Temporal server. They are fixtures of recorded results, not a mock of anything: every
activity here is a *local* or regular activity whose result (or failure) the server writes
into the history, and a replay reads it back from there without calling any activity. So
what matters is only that each result is one the real activity could return, with the
types ``orchestration/activities.py`` declares. The business rules are the real pure
function (``orchestration.rules``); the scores, the writes and the budget are stand-ins.

The path an event takes is named by its provider event id, ``evt_history_<path>``; a dead
letter's review timeout and quarantine answer are looked up by its event id. In a batch
(``evt_history_<batch path>_<n>[_<what>]``), the fraud step of a ``..._unavailable``
batch fails every attempt, and an event whose name ends in ``_refused`` or ``_conflicting``
gets that refusal from its scoring or its write (a conflicting event's own
PaymentEventWorkflow then fails with EventConflict).
"""

from __future__ import annotations

import asyncio
import collections

from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts import DeadLetter, PaymentEvent
from orchestration import rules
from orchestration.models import (
    BatchWrite,
    ChurnResult,
    FraudResult,
    ModelAnswer,
    PersistBudget,
    PersistInput,
    PersistResult,
    QuarantineRecord,
    RetryResult,
    ReviewOutcome,
    ValidationResult,
)
from orchestration.policies import PERSIST_BUDGET_ACTIVITY, PERSIST_RETRY

PATH_PREFIX = "evt_history_"
# Two rounds a second apart: a write that fails a whole round is recorded in ~16 s, one that
# fails every round in ~31 s (each round is PERSIST_RETRY's 5 attempts, 15 s of backoff).
BUDGET = PersistBudget(rounds=2, round_pause_seconds=1)


# A batch whose events' names hold this has its fraud step fail every attempt.
UNAVAILABLE = "_unavailable_"


def path_of(event: PaymentEvent) -> str:
    return event.provider_event_id.removeprefix(PATH_PREFIX)


class StandInActivities:
    """Every activity the worker registers, answering as the path of the event asks."""

    def __init__(self, quarantine: dict[str, QuarantineRecord]) -> None:
        self._quarantine = quarantine
        self._persist_calls: collections.Counter[str] = collections.Counter()
        # The redelivery path: validation waits (once) until the recorder has signalled
        # the second delivery, so that it arrives while the run is in flight.
        self.validating: dict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)
        self.redelivered: dict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)

    def all(self) -> list:
        return [self.validate_business_rules, self.get_fraud_score, self.get_retry_strategy,
                self.get_churn_prediction, self.persist_to_postgres, self.persist_quarantine,
                self.record_review, self.persistence_budget, self.validate_batch,
                self.get_fraud_scores, self.get_retry_strategies, self.get_churn_predictions,
                self.persist_batch]

    @activity.defn(name="validate_business_rules")
    async def validate_business_rules(self, event: PaymentEvent) -> ValidationResult:
        if path_of(event) == "payment_redelivered" and not self.validating[event.event_id].is_set():
            self.validating[event.event_id].set()
            await self.redelivered[event.event_id].wait()
        return ValidationResult(errors=rules.check_business_rules(event))

    @activity.defn(name="get_fraud_score")
    async def get_fraud_score(self, event: PaymentEvent) -> FraudResult:
        if path_of(event) == "payment_score_unavailable":
            # Retryable, as a transport failure is: every attempt of INFERENCE_RETRY fails.
            raise ApplicationError("/fraud/score: ClientConnectorError: connection refused",
                                   type="InferenceUnavailable")
        return FraudResult(0.12, "low", "fraud-recorded")

    @activity.defn(name="get_retry_strategy")
    async def get_retry_strategy(self, event: PaymentEvent) -> RetryResult:
        if path_of(event) == "payment_score_refused":
            raise ApplicationError("/retry/strategy: HTTP 422: unknown failure_code",
                                   type="InferenceRejected", non_retryable=True)
        return RetryResult("retry_later", 3600, "retry-recorded")

    @activity.defn(name="get_churn_prediction")
    async def get_churn_prediction(self, event: PaymentEvent) -> ChurnResult:
        return ChurnResult(0.31, "medium", "churn-recorded")

    @activity.defn(name="persist_to_postgres")
    async def persist_to_postgres(self, request: PersistInput) -> PersistResult:
        path = path_of(request.event)
        self._persist_calls[path] += 1
        if path.endswith("_conflicting"):
            raise ApplicationError("stripe:evt: stored row differs in amount_cents",
                                   ["amount_cents"], type="EventConflict", non_retryable=True)
        if path == "payment_persist_refused":
            raise ApplicationError("payment_events refused the row: CHECK amount_cents",
                                   type="RowRejected", non_retryable=True)
        if path == "payment_persist_exhausted" or (
                path == "payment_persist_second_round"
                and self._persist_calls[path] <= PERSIST_RETRY.maximum_attempts):
            # What asyncpg raises when PostgreSQL is down; the SDK names it by its class.
            raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 5432)")
        return PersistResult("inserted")

    @activity.defn(name="persist_quarantine")
    async def persist_quarantine(self, dead_letter: DeadLetter) -> QuarantineRecord:
        return self._quarantine[dead_letter.event_id]

    @activity.defn(name="record_review")
    async def record_review(self, outcome: ReviewOutcome) -> None:
        return None

    @activity.defn(name=PERSIST_BUDGET_ACTIVITY)
    async def persistence_budget(self) -> PersistBudget:
        return BUDGET

    # --- PaymentBatchWorkflow's steps (orchestration/batch_activities.py) ---

    @activity.defn(name="validate_business_rules_batch")
    async def validate_batch(self, events: list[PaymentEvent]) -> list[ValidationResult]:
        return [ValidationResult(errors=rules.check_business_rules(e)) for e in events]

    @activity.defn(name="get_fraud_scores")
    async def get_fraud_scores(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        if any(UNAVAILABLE in path_of(e) for e in events):
            raise ApplicationError("/fraud/score: ClientConnectorError: connection refused",
                                   type="InferenceUnavailable")
        return [ModelAnswer(fraud=FraudResult(0.12, "low", "fraud-recorded")) for _ in events]

    @activity.defn(name="get_retry_strategies")
    async def get_retry_strategies(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        return [ModelAnswer(refused="/retry/strategy: HTTP 422: unknown failure_code")
                if path_of(e).endswith("_refused")
                else ModelAnswer(retry=RetryResult("retry_later", 3600, "retry-recorded"))
                for e in events]

    @activity.defn(name="get_churn_predictions")
    async def get_churn_predictions(self, events: list[PaymentEvent]) -> list[ModelAnswer]:
        return [ModelAnswer(churn=ChurnResult(0.31, "medium", "churn-recorded")) for _ in events]

    @activity.defn(name="persist_batch_to_postgres")
    async def persist_batch(self, requests: list[PersistInput]) -> list[BatchWrite]:
        return [BatchWrite("refused", "EventConflict",
                           f"{r.event.event_id}: stored row differs in amount_cents")
                if path_of(r.event).endswith("_conflicting") else BatchWrite("inserted")
                for r in requests]
