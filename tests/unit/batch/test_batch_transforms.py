"""Silver and gold transforms over in-memory Arrow tables."""

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from batch.transforms import (
    build_daily_payments,
    build_failure_rates,
    build_fraud_risk_distribution,
    build_silver_payment_events,
    count_duplicate_keys,
    count_null_keys,
    find_daily_payments_mismatches,
)

DAY = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)


def make_bronze(rows: list[dict]) -> pa.Table:
    defaults = {"provider": "stripe", "event_type": "payment.succeeded", "merchant_id": "m_1",
                "customer_id": "c_1", "currency": "USD", "amount_cents": 100,
                "status": "succeeded", "failure_code": None, "fraud_risk_level": "low",
                "validation_status": "valid", "provider_created_at": DAY}
    full = [{**defaults, "event_id": f"e{i}", **row} for i, row in enumerate(rows)]
    schema = pa.schema([
        ("event_id", pa.string()), ("provider", pa.string()), ("event_type", pa.string()),
        ("merchant_id", pa.string()), ("customer_id", pa.string()), ("currency", pa.string()),
        ("amount_cents", pa.int64()), ("status", pa.string()), ("failure_code", pa.string()),
        ("fraud_risk_level", pa.string()), ("validation_status", pa.string()),
        ("provider_created_at", pa.timestamp("us", tz="UTC")),
    ])
    return pa.Table.from_pylist(full, schema=schema)


def test_amounts_are_kept_per_currency_and_invalid_rows_are_left_out():
    bronze = make_bronze([
        {"currency": "USD", "amount_cents": 150}, {"currency": "USD", "amount_cents": 50},
        {"currency": "JPY", "amount_cents": 1000},
        {"currency": "USD", "amount_cents": 70, "event_type": "payment.failed"},
        {"currency": "USD", "amount_cents": 9, "validation_status": "invalid"},
    ])
    daily = build_daily_payments(build_silver_payment_events(bronze)).to_pylist()
    assert [(r["currency"], r["event_count"], r["succeeded_amount_minor"],
             r["failed_count"], r["failed_amount_minor"]) for r in daily] == [
        ("JPY", 1, 1000, 0, 0), ("USD", 3, 200, 1, 70)]
    assert {str(r["event_date"]) for r in daily} == {"2026-01-02"}


def test_failure_rates_divide_by_each_providers_attempts():
    bronze = make_bronze([
        {"provider": "adyen"}, {"provider": "adyen"}, {"provider": "adyen"},
        {"provider": "adyen", "event_type": "payment.failed", "failure_code": "expired_card"},
        {"provider": "stripe", "event_type": "charge.failed", "failure_code": None},
        {"provider": "stripe", "event_type": "refund.created"},
    ])
    rates = build_failure_rates(build_silver_payment_events(bronze)).to_pylist()
    assert [(r["provider"], r["failure_code"], r["failures"], r["attempts"], r["failure_rate"])
            for r in rates] == [("adyen", "expired_card", 1, 4, 0.25),
                                ("stripe", "unknown", 1, 1, 1.0)]
    assert {str(r["event_date"]) for r in rates} == {"2026-01-02"}


def test_failure_rates_are_per_day():
    next_day = datetime(2026, 1, 3, 8, tzinfo=UTC)
    bronze = make_bronze([
        {"event_type": "payment.failed", "failure_code": "card_declined"}, {},
        {"event_type": "payment.failed", "failure_code": "card_declined",
         "provider_created_at": next_day},
    ])
    rates = build_failure_rates(build_silver_payment_events(bronze)).to_pylist()
    assert [(str(r["event_date"]), r["failures"], r["attempts"], r["failure_rate"])
            for r in rates] == [("2026-01-02", 1, 2, 0.5), ("2026-01-03", 1, 1, 1.0)]


def test_unscored_events_have_their_own_fraud_risk_level():
    bronze = make_bronze([{"fraud_risk_level": "high"}, {"fraud_risk_level": None},
                          {"fraud_risk_level": None}, {"fraud_risk_level": "low"}])
    rows = build_fraud_risk_distribution(build_silver_payment_events(bronze)).to_pylist()
    assert {r["fraud_risk_level"]: (r["event_count"], r["share"]) for r in rows} == {
        "high": (1, 0.25), "low": (1, 0.25), "unscored": (2, 0.5)}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["USD", "JPY", "EUR"]),
                          st.integers(0, 100_000_000),
                          st.sampled_from(["payment.succeeded", "payment.failed",
                                           "refund.created"])),
                max_size=30))
def test_the_daily_mart_always_sums_back_to_bronze(rows):
    bronze = make_bronze([{"currency": c, "amount_cents": a, "event_type": t}
                          for c, a, t in rows])
    daily = build_daily_payments(build_silver_payment_events(bronze))
    assert find_daily_payments_mismatches(daily, bronze) == []


def test_a_mart_that_lost_a_row_is_reported_by_currency():
    bronze = make_bronze([{"currency": "USD"}, {"currency": "EUR"}, {"currency": "EUR"}])
    daily = build_daily_payments(build_silver_payment_events(bronze.slice(0, 2)))
    (mismatch,) = find_daily_payments_mismatches(daily, bronze)
    assert (mismatch["currency"], mismatch["expected_events"], mismatch["mart_events"]) == (
        "EUR", 2, 1)


def test_duplicate_and_null_keys_are_counted():
    bronze = make_bronze([{"event_id": "a"}, {"event_id": "a"}, {"event_id": "b"},
                          {"currency": None}])
    assert count_duplicate_keys(bronze) == 1
    assert count_null_keys(bronze, ("event_id", "currency")) == {"event_id": 0, "currency": 1}
