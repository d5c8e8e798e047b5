"""Multi-step recovery plan for a failed payment (rule set over the retry policies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inference.models._money import to_usd
from inference.models.retry import (
    LARGE_AMOUNT_USD,
    FailureCategory,
    classify_failure,
    max_attempts_for,
    retry_delay,
)

MODEL_VERSION = "recovery-rules-1.0.0"

Channel = Literal["automatic", "email", "in_app", "internal", "system"]

_DAY = 86_400
# A plan shows the next few retries; a longer tail is re-planned when they fail.
MAX_PLANNED_RETRIES = 3
_FRAUD_CODES = frozenset({"fraudulent", "lost_card", "stolen_card", "pickup_card"})

# Share of payments in each category that end up collected, before attempt decay.
_BASE_PROBABILITY: dict[FailureCategory, float] = {
    "hard": 0.05,
    "customer": 0.45,
    "transient": 0.85,
    "issuer_busy": 0.6,
    "limit": 0.55,
    "funds": 0.5,
    "soft": 0.4,
    "unknown": 0.3,
}
# Every failed attempt is evidence against the next one succeeding.
_DECAY_PER_ATTEMPT = 0.75
_LARGE_AMOUNT_FACTOR = 0.85
# Dunning emails recover a small share even after retries are exhausted.
_OUTREACH_FLOOR = 0.1
_FRAUD_PROBABILITY = 0.01


@dataclass(frozen=True, slots=True)
class RecoveryInput:
    failure_code: str
    attempt_number: int  # number of the attempt that just failed, from 1
    amount_cents: int | None = None
    currency: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecoveryStep:
    action: str
    delay_seconds: int  # from the time of the plan, so steps are in time order
    channel: Channel


@dataclass(frozen=True, slots=True)
class RecoveryPlan:
    steps: tuple[RecoveryStep, ...]
    expected_recovery_probability: float
    model_version: str = MODEL_VERSION


def recommend_recovery(failure: RecoveryInput) -> RecoveryPlan:
    """Lay out retries and customer outreach for a failed payment, with its odds."""
    code = failure.failure_code.strip().lower()
    category = classify_failure(code)
    usd = None
    if failure.amount_cents is not None and failure.currency is not None:
        usd = to_usd(failure.amount_cents, failure.currency)

    if code in _FRAUD_CODES:
        # Customers are not told, so that a fraudster learns nothing from the decline.
        steps = (
            RecoveryStep("flag_for_fraud_review", 0, "internal"),
            RecoveryStep("cancel_payment", 0, "system"),
        )
        return RecoveryPlan(steps, _FRAUD_PROBABILITY)
    if category == "hard":
        steps = (
            RecoveryStep("cancel_payment", 0, "system"),
            RecoveryStep("notify_customer_payment_failed", 0, "email"),
        )
        return RecoveryPlan(steps, _probability(category, failure.attempt_number, usd))

    planned: list[RecoveryStep] = []
    at = 0
    remaining = max(0, max_attempts_for(category, usd) - failure.attempt_number)
    for offset in range(min(remaining, MAX_PLANNED_RETRIES)):
        at += retry_delay(category, failure.attempt_number + offset)
        planned.append(RecoveryStep("retry_payment", at, "automatic"))
        if offset == 0 and category not in ("transient", "customer"):
            planned.append(RecoveryStep("notify_customer_payment_failed", at, "email"))
    planned += _outreach(at, failure.customer_id is not None)

    probability = _probability(category, failure.attempt_number, usd)
    return RecoveryPlan(tuple(planned), max(probability, _OUTREACH_FLOOR))


def _outreach(start: int, has_account: bool) -> list[RecoveryStep]:
    steps = [RecoveryStep("request_payment_method_update", start, "email")]
    if has_account:
        steps.append(RecoveryStep("request_payment_method_update", start, "in_app"))
    steps += [
        RecoveryStep("send_final_notice", start + 7 * _DAY, "email"),
        RecoveryStep("cancel_payment", start + 14 * _DAY, "system"),
    ]
    return steps


def _probability(category: FailureCategory, attempt_number: int, usd: float | None) -> float:
    probability = _BASE_PROBABILITY[category] * _DECAY_PER_ATTEMPT ** max(attempt_number - 1, 0)
    if usd is not None and usd >= LARGE_AMOUNT_USD:
        probability *= _LARGE_AMOUNT_FACTOR
    return round(min(max(probability, 0.0), 1.0), 4)
