"""PaymentBatchWorkflow's pure parts: which events each model scores, how answers land on
each event, the outcome counts, and a redelivery that differs."""

from dataclasses import replace
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from contracts import ValidationIssue
from orchestration.batch_activities import is_refusal, settle
from orchestration.batches import (
    MODELS,
    apply_answers,
    count_outcomes,
    delivery_differs,
    mark_missing,
    plan_scores,
)
from orchestration.enrichment import plan_models
from orchestration.models import FraudResult, ModelAnswer, ValidationResult
from orchestration.policies import describe_skip
from orchestration.rules import check_business_rules
from tests.builders import make_failed_event, make_payment_event

BROKEN = [ValidationIssue("amount.zero_success", "zero", "amount_cents")]


def mixed_batch():
    return [make_payment_event(customer_id="cus_1"), make_failed_event(),
            make_payment_event(event_type="refund.created"),
            make_payment_event(customer_id="cus_2", amount_cents=0),
            make_failed_event(customer_id="cus_3")]


def test_each_model_scores_the_valid_events_it_serves_in_batch_order():
    events = mixed_batch()
    validations = [ValidationResult(check_business_rules(e)) for e in events]
    needs, enrichments = plan_scores(events, validations)
    assert needs == {"fraud": [0], "retry": [1, 4], "churn": [0, 4]}
    assert list(needs) == [m for m in MODELS if m in needs]
    # The invalid event's scores are skipped in the per-event words.
    assert enrichments[3].missing == {m: describe_skip(validations[3].errors)
                                      for m in plan_models(events[3])}
    assert all(not e.missing for i, e in enumerate(enrichments) if i != 3)


def test_the_skip_wording_is_the_per_event_one():
    assert describe_skip(BROKEN) == "skipped: the event broke business rules (amount.zero_success)"


def test_a_batch_nobody_scores_schedules_no_scoring_step():
    events = [make_payment_event(event_type="refund.created")]
    assert plan_scores(events, [ValidationResult()])[0] == {}


def test_answers_and_refusals_land_on_their_events():
    events = [make_payment_event(), make_payment_event(), make_payment_event()]
    needs, enrichments = plan_scores(events, [ValidationResult()] * 3)
    fraud = FraudResult(0.2, "low", "v1")
    apply_answers(enrichments, "fraud", needs["fraud"],
                  [ModelAnswer(fraud=fraud), ModelAnswer(refused="HTTP 422: no"),
                   ModelAnswer(fraud=fraud)])
    assert [e.fraud for e in enrichments] == [fraud, None, fraud]
    assert enrichments[1].missing == {"fraud": "inference refused the request: HTTP 422: no"}


def test_answers_must_match_the_events_asked_about():
    _, enrichments = plan_scores([make_payment_event()], [ValidationResult()])
    with pytest.raises(ValueError, match="fraud"):
        apply_answers(enrichments, "fraud", [0], [])
    with pytest.raises(ValueError, match="validations"):
        plan_scores([make_payment_event()], [])


def test_a_step_that_failed_for_good_marks_every_event_it_served():
    events = [make_payment_event(customer_id="c"), make_failed_event(customer_id="c")]
    needs, enrichments = plan_scores(events, [ValidationResult()] * 2)
    mark_missing(enrichments, "churn", needs["churn"], "inference unavailable after 5 attempts")
    assert [e.missing for e in enrichments] == [
        {"churn": "inference unavailable after 5 attempts"}] * 2


def test_outcomes_are_counted_in_a_stable_order():
    assert count_outcomes(["inserted", "duplicate", "inserted", "failed"]) == {
        "duplicate": 1, "failed": 1, "inserted": 2}
    assert list(count_outcomes(["z", "a"])) == ["a", "z"]


def test_a_redelivery_differs_only_by_content_or_membership():
    batch = [make_payment_event(), make_failed_event()]
    later = [replace(e, processed_at=e.processed_at + timedelta(minutes=1)) for e in batch]
    assert not delivery_differs(batch, list(reversed(later)))
    assert delivery_differs(batch, [batch[0], replace(batch[1], amount_cents=1)])
    assert delivery_differs(batch, batch[:1])
    assert delivery_differs(batch, [batch[0], make_payment_event()])


def test_refusals_are_answers_and_other_failures_fail_the_step():
    refused = ApplicationError("HTTP 422", type="InferenceRejected", non_retryable=True)
    down = ApplicationError("/fraud/score: ClientConnectorError", type="InferenceUnavailable")
    assert is_refusal(refused) and not is_refusal(down) and not is_refusal(OSError())
    assert settle(["a", refused]) == ["a", refused]
    with pytest.raises(ApplicationError, match="ClientConnectorError"):
        settle(["a", refused, down])
    with pytest.raises(ConnectionRefusedError):
        settle([ConnectionRefusedError(), "b"])
