"""Pure enrichment logic: which models an event needs, their requests, and their answers.

Churn inputs are real counts from payment_events (see store.load_customer_history) with
the event being processed folded in here. "Days since last success" is measured to the
event's own provider_created_at, not to the wall clock, so a replay gives the same answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contracts import FAILURE_EVENT_TYPES, SUCCESS_EVENT_TYPES, PaymentEvent
from orchestration.models import ChurnResult, CustomerHistory, FraudResult, RetryResult

MAX_ATTEMPT_COUNT = 100  # the inference API's bound on attempt_count
MAX_DAYS = 36_500


def plan_models(event: PaymentEvent) -> list[str]:
    """The scores this event should get, in the order the workflow asks for them."""
    models = []
    if event.event_type in SUCCESS_EVENT_TYPES:
        models.append("fraud")
    if event.event_type in FAILURE_EVENT_TYPES:
        models.append("retry")
    if event.customer_id:
        models.append("churn")
    return models


def fold_event(history: CustomerHistory, event: PaymentEvent) -> CustomerHistory:
    """The customer's history as it stands once this event is counted too."""
    if event.event_type in SUCCESS_EVENT_TYPES:
        last = history.last_success_at
        return replace(
            history,
            successful_payments=history.successful_payments + 1,
            consecutive_failures=0,
            last_success_at=event.provider_created_at if last is None
            else max(last, event.provider_created_at),
            total_amount_cents=history.total_amount_cents + event.amount_cents,
        )
    if event.event_type in FAILURE_EVENT_TYPES:
        return replace(
            history,
            failed_payments=history.failed_payments + 1,
            consecutive_failures=history.consecutive_failures + 1,
        )
    return history


def build_churn_request(customer_id: str, history: CustomerHistory,
                        event: PaymentEvent) -> dict[str, Any]:
    days = None
    if history.last_success_at is not None:
        elapsed = (event.provider_created_at - history.last_success_at).days
        days = min(max(elapsed, 0), MAX_DAYS)
    return {
        "customer_id": customer_id,
        "successful_payments": history.successful_payments,
        "failed_payments": history.failed_payments,
        "consecutive_failures": history.consecutive_failures,
        "days_since_last_success": days,
        "total_amount_cents": history.total_amount_cents,
    }


def build_fraud_request(event: PaymentEvent, history: CustomerHistory | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "amount_cents": event.amount_cents,
        "currency": event.currency,
        "card_brand": event.card_brand,
        "payment_method_type": event.payment_method_type,
        "customer_id": event.customer_id,
        "merchant_id": event.merchant_id,
    }
    if history is not None and event.customer_id:
        body["customer_history"] = build_churn_request(event.customer_id, history, event)
    return body


def build_retry_request(event: PaymentEvent, prior_failures: int) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "failure_code": event.failure_code,
        "attempt_count": min(prior_failures + 1, MAX_ATTEMPT_COUNT),
        "amount_cents": event.amount_cents,
        "currency": event.currency,
    }


class BadInferenceResponseError(ValueError):
    """Inference answered 2xx with a body outside its contract."""


def _probability(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BadInferenceResponseError(f"{key} is not a probability: {value!r}")
    return float(value)


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadInferenceResponseError(f"{key} missing from the response")
    return value


def read_fraud_response(body: dict[str, Any]) -> FraudResult:
    return FraudResult(_probability(body, "fraud_score"), _text(body, "risk_level"),
                       _text(body, "model_version"))


def read_retry_response(body: dict[str, Any]) -> RetryResult:
    delay = body.get("delay_seconds")
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise BadInferenceResponseError(f"delay_seconds is not a whole second count: {delay!r}")
    return RetryResult(_text(body, "action"), delay, _text(body, "model_version"))


def read_churn_response(body: dict[str, Any]) -> ChurnResult:
    return ChurnResult(_probability(body, "churn_probability"), _text(body, "risk_level"),
                       _text(body, "model_version"))
