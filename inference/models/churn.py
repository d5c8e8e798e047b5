"""Churn risk from a customer's payment history (rule set)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

MODEL_VERSION = "churn-rules-1.0.0"

ChurnRiskLevel = Literal["low", "medium", "high", "critical"]

# The horizon past which a churn date is not worth estimating.
MAX_HORIZON_DAYS = 180
# Lifetime value (minor units) above which losing the customer merits a person's time.
HIGH_VALUE_CENTS = 500_000
_BASE_LOGIT = -2.5
# Each consecutive failure adds risk, but after a handful the signal saturates.
_PER_CONSECUTIVE_FAILURE = 0.9
_MAX_CONSECUTIVE_COUNTED = 4


@dataclass(frozen=True, slots=True)
class ChurnInput:
    customer_id: str
    successful_payments: int
    failed_payments: int
    consecutive_failures: int
    days_since_last_success: int | None  # None: the customer has never paid successfully
    total_amount_cents: int


@dataclass(frozen=True, slots=True)
class ChurnPrediction:
    churn_probability: float
    risk_level: ChurnRiskLevel
    factors: tuple[str, ...]
    actions: tuple[str, ...]
    days_to_churn_estimate: int
    model_version: str = MODEL_VERSION


def predict_churn(history: ChurnInput) -> ChurnPrediction:
    """Estimate how likely a customer is to stop paying, and what to do about it."""
    logit = _BASE_LOGIT
    factors: list[str] = []

    streak = min(history.consecutive_failures, _MAX_CONSECUTIVE_COUNTED)
    if streak:
        logit += _PER_CONSECUTIVE_FAILURE * streak
        factors.append("consecutive_payment_failures")

    days = history.days_since_last_success
    if days is None:
        if history.failed_payments:
            logit += 1.5
            factors.append("never_paid_successfully")
        else:
            # A brand-new customer is uncertain rather than risky.
            logit += 0.5
            factors.append("no_payment_history")
    elif days >= 90:
        logit += 2.0
        factors.append("no_success_in_90_days")
    elif days >= 60:
        logit += 1.5
        factors.append("no_success_in_60_days")
    elif days >= 30:
        logit += 0.8
        factors.append("no_success_in_30_days")
    elif days < 7:
        logit -= 0.5

    attempts = history.successful_payments + history.failed_payments
    if attempts:
        failure_rate = history.failed_payments / attempts
        if failure_rate >= 0.5:
            logit += 1.0
            factors.append("high_failure_rate")
        elif failure_rate >= 0.25:
            logit += 0.5
            factors.append("elevated_failure_rate")

    # Long tenure is the strongest retention signal in subscription billing.
    if history.successful_payments >= 24:
        logit -= 1.0
    elif history.successful_payments >= 12:
        logit -= 0.5

    probability = round(_sigmoid(logit), 4)
    level = _level(probability)
    return ChurnPrediction(
        churn_probability=probability,
        risk_level=level,
        factors=tuple(factors),
        actions=_actions(level, history),
        days_to_churn_estimate=max(1, round(MAX_HORIZON_DAYS * (1 - probability) ** 2)),
    )


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _level(probability: float) -> ChurnRiskLevel:
    if probability >= 0.75:
        return "critical"
    if probability >= 0.5:
        return "high"
    if probability >= 0.25:
        return "medium"
    return "low"


def _actions(level: ChurnRiskLevel, history: ChurnInput) -> tuple[str, ...]:
    if level == "low":
        return ("monitor",)
    actions = ["send_payment_reminder"]
    if history.consecutive_failures:
        actions.append("request_payment_method_update")
    if level in ("high", "critical"):
        actions.append("enable_dunning_sequence")
    if level == "critical":
        actions.append("offer_retention_incentive")
        if history.total_amount_cents >= HIGH_VALUE_CENTS:
            actions.append("assign_account_manager")
    return tuple(actions)
