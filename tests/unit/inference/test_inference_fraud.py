from hypothesis import given, settings
from hypothesis import strategies as st

from inference.models.churn import ChurnInput
from inference.models.fraud import MODEL_VERSION, FraudInput, score_fraud

LOYAL = ChurnInput("cus_loyal", 24, 1, 0, 3, 240_000)
NEW_AND_FAILING = ChurnInput("cus_new", 0, 4, 4, None, 0)


def test_everyday_card_payment_from_loyal_customer_is_low_risk() -> None:
    result = score_fraud(FraudInput(4_999, "USD", "visa", "card", "cus_loyal", "acct_1", LOYAL))
    assert result.risk_level == "low"
    assert result.risk_factors == ()
    assert result.model_version == MODEL_VERSION


def test_large_guest_checkout_is_medium_risk() -> None:
    result = score_fraud(FraudInput(600_000, "USD", "visa", "card"))
    assert result.risk_level == "medium"
    assert result.risk_factors == ("very_high_amount", "guest_checkout")


def test_extreme_amount_after_a_run_of_declines_is_high_risk() -> None:
    result = score_fraud(
        FraudInput(2_500_000, "EUR", "mastercard", "card", "cus_new", None, NEW_AND_FAILING)
    )
    assert result.risk_level == "high"
    assert result.fraud_score >= 0.7
    assert {"extreme_amount", "no_prior_successful_payments", "repeated_recent_failures"} <= set(
        result.risk_factors
    )


def test_zero_decimal_currencies_are_compared_in_usd() -> None:
    # 500,000 minor units: 5,000 USD, about 3,350 USD in yen, about 365 USD in won.
    usd = score_fraud(FraudInput(500_000, "USD", "visa", "card", "cus_1"))
    jpy = score_fraud(FraudInput(500_000, "JPY", "visa", "card", "cus_1"))
    krw = score_fraud(FraudInput(500_000, "KRW", "visa", "card", "cus_1"))
    assert "very_high_amount" in usd.risk_factors
    assert "high_amount" in jpy.risk_factors
    assert krw.risk_factors == ()
    assert usd.fraud_score > jpy.fraud_score > krw.fraud_score


def test_small_probe_charge_flags_card_testing_but_zero_verification_does_not() -> None:
    probe = score_fraud(FraudInput(50, "USD", "visa", "card"))
    verification = score_fraud(FraudInput(0, "USD", "visa", "card"))
    assert "card_testing_amount" in probe.risk_factors
    assert "card_testing_amount" not in verification.risk_factors


def test_unknown_labels_raise_risk_and_known_aliases_do_not() -> None:
    odd = score_fraud(FraudInput(5_000, "XYZ", "mystery", "crypto_voucher", "cus_1"))
    assert set(odd.risk_factors) == {
        "unrecognized_currency",
        "unrecognized_payment_method",
        "unrecognized_card_brand",
    }
    aliased = score_fraud(FraudInput(5_000, "USD", "American Express", "card", "cus_1"))
    assert aliased.risk_factors == ()


def test_amount_far_above_customer_average_is_flagged() -> None:
    history = ChurnInput("cus_1", 5, 0, 0, 10, 25_000)  # average 50.00
    assert (
        "amount_far_above_customer_average"
        in score_fraud(
            FraudInput(30_000, "USD", "visa", "card", "cus_1", None, history)
        ).risk_factors
    )


histories = st.builds(
    ChurnInput,
    customer_id=st.just("cus_p"),
    successful_payments=st.integers(0, 1_000_000),
    failed_payments=st.integers(0, 1_000_000),
    consecutive_failures=st.integers(0, 1_000_000),
    days_since_last_success=st.none() | st.integers(0, 36_500),
    total_amount_cents=st.integers(0, 10**12),
)


@settings(max_examples=100, deadline=None)
@given(
    amount=st.integers(0, 100_000_000),
    currency=st.sampled_from(["USD", "JPY", "KRW", "EUR", "ZZZ"]),
    brand=st.none() | st.text(max_size=20),
    method=st.none() | st.text(max_size=20),
    customer_id=st.none() | st.just("cus_p"),
    history=st.none() | histories,
)
def test_score_is_a_probability_with_a_consistent_level(
    amount: int,
    currency: str,
    brand: str | None,
    method: str | None,
    customer_id: str | None,
    history: ChurnInput | None,
) -> None:
    result = score_fraud(FraudInput(amount, currency, brand, method, customer_id, None, history))
    assert 0.0 <= result.fraud_score <= 1.0
    score = result.fraud_score
    assert result.risk_level == ("high" if score >= 0.7 else "medium" if score >= 0.3 else "low")
