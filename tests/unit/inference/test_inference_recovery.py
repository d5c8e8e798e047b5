import pytest

from inference.models.recovery import MODEL_VERSION, RecoveryInput, recommend_recovery

CODES = [
    "insufficient_funds",
    "card_declined",
    "generic_decline",
    "do_not_honor",
    "processing_error",
    "try_again_later",
    "withdrawal_count_limit_exceeded",
    "expired_card",
    "authentication_required",
    "fraudulent",
    "stolen_card",
    "invalid_amount",
    "made_up_code",
]


@pytest.mark.parametrize("code", CODES)
def test_every_attempt_in_range_gets_a_valid_plan(code: str) -> None:
    # The reference implementation indexed a six-entry schedule and failed from attempt 7.
    for attempt in range(1, 101):
        plan = recommend_recovery(RecoveryInput(code, attempt, 12_000, "USD", "cus_1"))
        assert plan.steps, attempt
        assert 0.0 <= plan.expected_recovery_probability <= 1.0, attempt
        delays = [step.delay_seconds for step in plan.steps]
        assert delays == sorted(delays) and delays[0] >= 0, attempt
        assert plan.model_version == MODEL_VERSION


@pytest.mark.parametrize("attempt", [7, 8, 12, 100])
def test_late_attempts_fall_back_to_customer_outreach(attempt: int) -> None:
    plan = recommend_recovery(RecoveryInput("insufficient_funds", attempt))
    assert [s.action for s in plan.steps] == [
        "request_payment_method_update",
        "send_final_notice",
        "cancel_payment",
    ]


def test_first_soft_decline_plans_retries_before_outreach() -> None:
    plan = recommend_recovery(RecoveryInput("insufficient_funds", 1, 5_000, "USD", "cus_1"))
    actions = [s.action for s in plan.steps]
    assert actions.count("retry_payment") == 3
    assert actions.index("retry_payment") < actions.index("request_payment_method_update")
    assert {s.channel for s in plan.steps} >= {"automatic", "email", "in_app"}


def test_fraud_declines_are_reviewed_without_telling_the_customer() -> None:
    plan = recommend_recovery(RecoveryInput("stolen_card", 1))
    assert {s.channel for s in plan.steps} == {"internal", "system"}
    assert plan.expected_recovery_probability < 0.05


def test_recovery_odds_fall_with_each_failed_attempt() -> None:
    odds = [
        recommend_recovery(RecoveryInput("card_declined", n)).expected_recovery_probability
        for n in range(1, 10)
    ]
    assert odds == sorted(odds, reverse=True) and odds[0] > odds[-1]


def test_guest_payments_get_no_in_app_step() -> None:
    plan = recommend_recovery(RecoveryInput("expired_card", 1))
    assert "in_app" not in {s.channel for s in plan.steps}
