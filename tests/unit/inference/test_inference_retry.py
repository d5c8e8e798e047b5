import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.models.retry import (
    MODEL_VERSION,
    RetryInput,
    choose_retry_strategy,
    classify_failure,
)


@pytest.mark.parametrize(
    ("code", "attempt", "action"),
    [
        ("processing_error", 1, "retry_now"),
        ("issuer_not_available", 1, "retry_now"),
        ("processing_error", 2, "retry_later"),
        ("insufficient_funds", 1, "retry_later"),
        ("card_declined", 1, "retry_later"),
        ("generic_decline", 2, "retry_later"),
        ("do_not_honor", 1, "retry_later"),
        ("try_again_later", 1, "retry_later"),
        ("expired_card", 1, "contact_customer"),
        ("incorrect_cvc", 1, "contact_customer"),
        ("authentication_required", 1, "contact_customer"),
        ("fraudulent", 1, "do_not_retry"),
        ("lost_card", 1, "do_not_retry"),
        ("stolen_card", 1, "do_not_retry"),
    ],
)
def test_named_codes_map_to_their_action(code: str, attempt: int, action: str) -> None:
    result = choose_retry_strategy(RetryInput(code, attempt, 5_000, "USD"))
    assert result.action == action
    assert result.model_version == MODEL_VERSION


def test_spent_budget_escalates_to_the_customer() -> None:
    result = choose_retry_strategy(RetryInput("insufficient_funds", 4))
    assert result.action == "contact_customer"
    assert result.max_attempts == 4


def test_unknown_code_is_a_cautious_soft_decline() -> None:
    result = choose_retry_strategy(RetryInput("issuer_on_holiday", 1))
    assert result.action == "retry_later"
    assert result.confidence <= 0.4
    assert "unrecognized" in result.reason


def test_codes_are_matched_case_and_space_insensitively() -> None:
    assert classify_failure("  Insufficient_Funds ") == "funds"


def test_large_unfunded_amount_gets_a_smaller_budget_in_usd_terms() -> None:
    # 200,000 yen is about 1,340 USD; 200,000 won is about 146 USD.
    yen = choose_retry_strategy(RetryInput("insufficient_funds", 1, 200_000, "JPY"))
    won = choose_retry_strategy(RetryInput("insufficient_funds", 1, 200_000, "KRW"))
    assert (yen.max_attempts, won.max_attempts) == (3, 4)


def test_retries_back_off() -> None:
    delays = [
        choose_retry_strategy(RetryInput("insufficient_funds", n)).delay_seconds for n in (1, 2, 3)
    ]
    assert delays == sorted(delays) and delays[0] < delays[-1]


@settings(max_examples=100, deadline=None)
@given(
    code=st.sampled_from(
        [
            "insufficient_funds",
            "processing_error",
            "expired_card",
            "fraudulent",
            "try_again_later",
            "card_velocity_exceeded",
        ]
    )
    | st.text(max_size=64),
    attempt=st.integers(1, 100),
    amount=st.none() | st.integers(0, 100_000_000),
)
def test_strategy_is_always_consistent(code: str, attempt: int, amount: int | None) -> None:
    currency = None if amount is None else "JPY"
    result = choose_retry_strategy(RetryInput(code, attempt, amount, currency))
    assert 0.0 <= result.confidence <= 1.0
    assert result.delay_seconds >= 0 and result.max_attempts >= 1
    if result.action in ("retry_now", "retry_later"):
        assert attempt < result.max_attempts
    assert (result.delay_seconds == 0) == (result.action != "retry_later")
