"""Which scores an event needs, the inference requests, and reading their answers."""

from datetime import timedelta

import pytest

from orchestration.enrichment import (
    BadInferenceResponseError,
    build_churn_request,
    build_fraud_request,
    build_retry_request,
    fold_event,
    plan_models,
    read_churn_response,
    read_fraud_response,
    read_retry_response,
)
from orchestration.models import CustomerHistory
from tests.builders import make_failed_event, make_payment_event


def test_models_follow_event_type_and_customer():
    assert plan_models(make_payment_event()) == ["fraud"]
    assert plan_models(make_failed_event(customer_id="c")) == ["retry", "churn"]
    assert plan_models(make_payment_event(event_type="refund.created", customer_id="c")) == [
        "churn"]


def test_the_current_event_is_folded_into_the_history():
    event = make_payment_event(customer_id="c", amount_cents=300)
    earlier = CustomerHistory(2, 3, 2, event.provider_created_at - timedelta(days=4), 1_000)
    after_success = fold_event(earlier, event)
    assert (after_success.successful_payments, after_success.consecutive_failures) == (3, 0)
    assert after_success.total_amount_cents == 1_300
    assert after_success.last_success_at == event.provider_created_at
    after_failure = fold_event(earlier, make_failed_event(customer_id="c"))
    assert (after_failure.failed_payments, after_failure.consecutive_failures) == (4, 3)


def test_days_since_last_success_is_measured_to_the_event_not_the_clock():
    event = make_failed_event(customer_id="c")
    history = CustomerHistory(1, 1, 1, event.provider_created_at - timedelta(days=12), 50)
    assert build_churn_request("c", history, event)["days_since_last_success"] == 12
    assert build_churn_request("c", CustomerHistory(), event)["days_since_last_success"] is None


def test_fraud_carries_the_history_only_with_a_customer():
    assert "customer_history" not in build_fraud_request(make_payment_event(), CustomerHistory())
    body = build_fraud_request(make_payment_event(customer_id="c"), CustomerHistory(1, 0, 0))
    assert body["customer_history"]["customer_id"] == "c"


def test_attempt_count_includes_the_failed_attempt_and_is_capped():
    assert build_retry_request(make_failed_event(), 0)["attempt_count"] == 1
    assert build_retry_request(make_failed_event(), 500)["attempt_count"] == 100


def test_answers_are_read_and_bad_ones_refused():
    assert read_fraud_response({"fraud_score": 0.2, "risk_level": "low",
                                "model_version": "f1"}).fraud_score == 0.2
    assert read_retry_response({"action": "retry_later", "delay_seconds": 60,
                                "model_version": "r1"}).delay_seconds == 60
    assert read_churn_response({"churn_probability": 1, "risk_level": "critical",
                                "model_version": "c1"}).churn_score == 1.0
    with pytest.raises(BadInferenceResponseError):
        read_fraud_response({"fraud_score": 1.5, "risk_level": "low", "model_version": "f1"})
    with pytest.raises(BadInferenceResponseError):
        read_retry_response({"action": "retry_now", "delay_seconds": True, "model_version": "r"})
    with pytest.raises(BadInferenceResponseError):
        read_churn_response({"churn_probability": 0.5, "risk_level": "low"})
