"""One module per Iceberg table or mart."""

from batch.assets.bronze_payment_events import payment_events
from batch.assets.bronze_payment_events_quarantine import payment_events_quarantine
from batch.assets.gold_daily_payments import DAILY_PAYMENTS, daily_payments
from batch.assets.gold_failure_rates import FAILURE_RATES, failure_rates
from batch.assets.gold_fraud_risk_distribution import (
    FRAUD_RISK_DISTRIBUTION,
    fraud_risk_distribution,
)
from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS, silver_payment_events
from batch.assets.silver_payments import SILVER_PAYMENTS, silver_payments

BRONZE_ASSETS = [payment_events, payment_events_quarantine]
LAKE_ASSETS = [*BRONZE_ASSETS, silver_payment_events, silver_payments, daily_payments,
               failure_rates, fraud_risk_distribution]

__all__ = [
    "BRONZE_ASSETS", "DAILY_PAYMENTS", "FAILURE_RATES", "FRAUD_RISK_DISTRIBUTION",
    "LAKE_ASSETS", "SILVER_PAYMENTS", "SILVER_PAYMENT_EVENTS", "daily_payments",
    "failure_rates", "fraud_risk_distribution", "payment_events", "payment_events_quarantine",
    "silver_payment_events", "silver_payments",
]
