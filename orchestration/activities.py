"""Activities: thin I/O around the pure rules and enrichment, with shared clients.

Errors are raised, never returned: a transport failure or a 5xx is retryable (Temporal
retries it under the workflow's policy); a 4xx, a malformed answer or a row the table
refuses is non-retryable, because trying again cannot change the outcome.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import asyncpg
import orjson
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts import DeadLetter, PaymentEvent
from orchestration import enrichment, rules
from orchestration.metrics import Metrics
from orchestration.models import (
    ChurnResult,
    FraudResult,
    PersistBudget,
    PersistInput,
    PersistResult,
    QuarantineRecord,
    RetryResult,
    ReviewOutcome,
    ValidationResult,
)
from orchestration.policies import PERSIST_BUDGET_ACTIVITY
from orchestration.store import AuditConflictError, EventConflictError, PaymentStore
from telemetry import bind_event_id

_JSON_REQUEST = {"Content-Type": "application/json"}


class PaymentActivities:
    """Business rules, the three inference calls and the idempotent write of one event."""

    def __init__(self, store: PaymentStore, http: aiohttp.ClientSession,
                 metrics: Metrics) -> None:
        self._store = store
        self._http = http
        self._metrics = metrics

    @activity.defn(name="validate_business_rules")
    async def validate_business_rules(self, event: PaymentEvent) -> ValidationResult:
        """Check the event against the business rules; broken rules are data, not errors."""
        bind_event_id(event.event_id)
        return ValidationResult(errors=rules.check_business_rules(event))

    @activity.defn(name="get_fraud_score")
    async def get_fraud_score(self, event: PaymentEvent) -> FraudResult:
        """Score a successful payment's fraud risk, with the customer's real history."""
        bind_event_id(event.event_id)
        return await self.score_fraud(event)

    @activity.defn(name="get_retry_strategy")
    async def get_retry_strategy(self, event: PaymentEvent) -> RetryResult:
        """Ask whether and when to retry a failed payment."""
        bind_event_id(event.event_id)
        return await self.score_retry(event)

    @activity.defn(name="get_churn_prediction")
    async def get_churn_prediction(self, event: PaymentEvent) -> ChurnResult:
        """Predict churn from the customer's payment counts in payment_events."""
        bind_event_id(event.event_id)
        return await self.score_churn(event)

    @activity.defn(name="persist_to_postgres")
    async def persist_to_postgres(self, request: PersistInput) -> PersistResult:
        """Write the enriched event to payment_events exactly once."""
        bind_event_id(request.event.event_id)
        return PersistResult(outcome=await self.write(request, activity.info().workflow_id))

    # The bodies below are shared with the batch activities (batch_activities.py): one
    # event's score or write, raising exactly what the per-event activity raises.

    async def score_fraud(self, event: PaymentEvent) -> FraudResult:
        history = None
        if event.customer_id:
            history = enrichment.fold_event(await self._store.load_customer_history(event), event)
        body = await self._post("fraud", "/fraud/score",
                                enrichment.build_fraud_request(event, history))
        return self._read("fraud", enrichment.read_fraud_response, body)

    async def score_retry(self, event: PaymentEvent) -> RetryResult:
        prior = await self._store.count_prior_failures(event)
        body = await self._post("retry", "/retry/strategy",
                                enrichment.build_retry_request(event, prior))
        return self._read("retry", enrichment.read_retry_response, body)

    async def score_churn(self, event: PaymentEvent) -> ChurnResult:
        if not event.customer_id:
            raise ApplicationError("churn needs a customer_id", non_retryable=True)
        history = enrichment.fold_event(await self._store.load_customer_history(event), event)
        request = enrichment.build_churn_request(event.customer_id, history, event)
        body = await self._post("churn", "/churn/predict", request)
        return self._read("churn", enrichment.read_churn_response, body)

    async def write(self, request: PersistInput, workflow_id: str | None) -> str:
        """The row's outcome; a row that can never be written is a non-retryable error
        (EventConflict, RowRejected), anything else is left to the retry policy."""
        try:
            outcome = await self._store.insert_payment_event(request, workflow_id)
        except EventConflictError as err:
            self._metrics.event_conflicts.inc()
            activity.logger.error("event conflicts with its stored row: %s", err)
            raise ApplicationError(str(err), err.fields, type="EventConflict",
                                   non_retryable=True) from err
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as err:
            raise ApplicationError(f"payment_events refused the row: {err}",
                                   type="RowRejected", non_retryable=True) from err
        self._metrics.events_persisted.labels(outcome).inc()
        return outcome

    async def _post(self, model: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with self._http.post(path, data=orjson.dumps(body),
                                       headers=_JSON_REQUEST) as response:
                status, payload = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError) as err:
            self._metrics.inference_requests.labels(model, "unavailable").inc()
            raise ApplicationError(f"{path}: {type(err).__name__}: {err}",
                                   type="InferenceUnavailable") from err
        finally:
            self._metrics.inference_latency.labels(model).observe(time.perf_counter() - started)
        if status >= 500:
            self._metrics.inference_requests.labels(model, "server_error").inc()
            raise ApplicationError(f"{path}: HTTP {status}", type="InferenceUnavailable")
        if status >= 400:
            self._metrics.inference_requests.labels(model, "rejected").inc()
            detail = payload[:300].decode("utf-8", errors="replace")
            raise ApplicationError(f"{path}: HTTP {status}: {detail}",
                                   type="InferenceRejected", non_retryable=True)
        self._metrics.inference_requests.labels(model, "ok").inc()
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as err:
            raise ApplicationError(f"{path}: response is not JSON", type="InferenceBadResponse",
                                   non_retryable=True) from err

    @staticmethod
    def _read(model: str, reader, body: dict[str, Any]):
        try:
            return reader(body)
        except enrichment.BadInferenceResponseError as err:
            raise ApplicationError(f"{model}: {err}", type="InferenceBadResponse",
                                   non_retryable=True) from err


class QuarantineActivities:
    """Writes of payment_events_quarantine for the DLQ review workflow."""

    def __init__(self, store: PaymentStore, metrics: Metrics, review_timeout_seconds: int) -> None:
        self._store = store
        self._metrics = metrics
        self._review_timeout_seconds = review_timeout_seconds

    @activity.defn(name="persist_quarantine")
    async def persist_quarantine(self, dead_letter: DeadLetter) -> QuarantineRecord:
        """Quarantine the dead letter once, and say how long it may wait for a review."""
        bind_event_id(dead_letter.event_id)
        status = await self._store.insert_quarantine(dead_letter)
        self._metrics.quarantined.inc()
        return QuarantineRecord(status, self._review_timeout_seconds)

    @activity.defn(name="record_review")
    async def record_review(self, outcome: ReviewOutcome) -> None:
        """Record the review's outcome on the quarantine row, with its audit row."""
        bind_event_id(outcome.event_id)
        try:
            audited = await self._store.record_review(outcome)
        except AuditConflictError as err:
            activity.logger.error("review audit conflicts with its stored row: %s", err)
            raise ApplicationError(str(err), err.fields, type="AuditConflict",
                                   non_retryable=True) from err
        except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as err:
            raise ApplicationError(f"the review's rows were refused: {err}",
                                   type="RowRejected", non_retryable=True) from err
        if audited != "duplicate":  # a retry of a committed write is not a second review
            self._metrics.reviews.labels(outcome.review_status).inc()


class BudgetActivities:
    """The worker's persistence budget, asked for by a workflow whose write keeps failing."""

    def __init__(self, budget: PersistBudget) -> None:
        self._budget = budget

    @activity.defn(name=PERSIST_BUDGET_ACTIVITY)
    async def persistence_budget(self) -> PersistBudget:
        """Rounds and pause from ORCHESTRATOR_PERSIST_ROUNDS / _ROUND_PAUSE_SECONDS."""
        return self._budget
