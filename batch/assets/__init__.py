"""One module per Iceberg table or mart."""

from batch.assets.bronze_payment_events import payment_events
from batch.assets.bronze_payment_events_quarantine import payment_events_quarantine
from batch.assets.gold_daily_payments import DAILY_PAYMENTS, DAILY_PAYMENTS_MART, daily_payments
from batch.assets.gold_failure_rates import FAILURE_RATES, FAILURE_RATES_MART, failure_rates
from batch.assets.gold_fraud_risk_distribution import (
    FRAUD_RISK_DISTRIBUTION,
    FRAUD_RISK_DISTRIBUTION_MART,
    fraud_risk_distribution,
)
from batch.assets.silver_payment_events import (
    SILVER_PAYMENT_EVENTS,
    SILVER_PAYMENT_EVENTS_MART,
    silver_payment_events,
)
from batch.assets.silver_payments import SILVER_PAYMENTS, silver_payments

BRONZE_ASSETS = [payment_events, payment_events_quarantine]
LAKE_ASSETS = [*BRONZE_ASSETS, silver_payment_events, silver_payments, daily_payments,
               failure_rates, fraud_risk_distribution]
# The day-partitioned tables rebuilt only for changed days, in build order; the gold ones
# have charts.
GOLD_MARTS = [DAILY_PAYMENTS_MART, FAILURE_RATES_MART, FRAUD_RISK_DISTRIBUTION_MART]
DAY_MARTS = [SILVER_PAYMENT_EVENTS_MART, *GOLD_MARTS]

__all__ = [
    "BRONZE_ASSETS", "DAILY_PAYMENTS", "DAILY_PAYMENTS_MART", "DAY_MARTS", "FAILURE_RATES",
    "FAILURE_RATES_MART", "FRAUD_RISK_DISTRIBUTION", "FRAUD_RISK_DISTRIBUTION_MART",
    "GOLD_MARTS", "LAKE_ASSETS", "SILVER_PAYMENTS", "SILVER_PAYMENT_EVENTS",
    "SILVER_PAYMENT_EVENTS_MART", "daily_payments", "failure_rates", "fraud_risk_distribution",
    "payment_events", "payment_events_quarantine", "silver_payment_events", "silver_payments",
]
