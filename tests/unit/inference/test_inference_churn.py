import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inference.models.churn import MODEL_VERSION, ChurnInput, predict_churn


@pytest.mark.parametrize(
    ("history", "level"),
    [
        # A long-standing subscriber who paid last week.
        (ChurnInput("cus_a", 30, 1, 0, 3, 900_000), "low"),
        # A few failures and a month without a successful payment.
        (ChurnInput("cus_b", 5, 2, 1, 35, 50_000), "medium"),
        (ChurnInput("cus_c", 5, 3, 2, 40, 50_000), "high"),
        # Four declines in a row and nothing collected for four months.
        (ChurnInput("cus_d", 6, 6, 4, 120, 60_000), "critical"),
    ],
)
def test_each_risk_level_is_reached(history: ChurnInput, level: str) -> None:
    result = predict_churn(history)
    assert result.risk_level == level
    assert result.model_version == MODEL_VERSION


def test_customer_who_never_paid_is_flagged() -> None:
    result = predict_churn(ChurnInput("cus_e", 0, 2, 2, None, 0))
    assert "never_paid_successfully" in result.factors
    assert result.risk_level in ("high", "critical")


def test_new_customer_without_history_is_not_alarming() -> None:
    result = predict_churn(ChurnInput("cus_f", 0, 0, 0, None, 0))
    assert result.factors == ("no_payment_history",)
    assert result.risk_level == "low"
    assert result.actions == ("monitor",)


def test_critical_high_value_customer_gets_an_account_manager() -> None:
    result = predict_churn(ChurnInput("cus_g", 20, 10, 5, 100, 2_000_000))
    assert result.risk_level == "critical"
    assert "assign_account_manager" in result.actions
    assert "request_payment_method_update" in result.actions


def test_churn_is_expected_sooner_as_risk_rises() -> None:
    calm = predict_churn(ChurnInput("cus_h", 30, 1, 0, 3, 900_000))
    alarming = predict_churn(ChurnInput("cus_h", 6, 6, 4, 120, 60_000))
    assert alarming.days_to_churn_estimate < calm.days_to_churn_estimate


@settings(max_examples=100, deadline=None)
@given(
    successful=st.integers(0, 1_000_000),
    failed=st.integers(0, 1_000_000),
    consecutive=st.integers(0, 1_000_000),
    days=st.none() | st.integers(0, 36_500),
    total=st.integers(0, 10**12),
)
def test_outputs_stay_in_range(
    successful: int, failed: int, consecutive: int, days: int | None, total: int
) -> None:
    result = predict_churn(ChurnInput("cus_p", successful, failed, consecutive, days, total))
    assert 0.0 <= result.churn_probability <= 1.0
    assert 1 <= result.days_to_churn_estimate <= 180
    assert result.actions
