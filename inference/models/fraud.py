"""Fraud risk for one payment (rule set)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from inference.models._money import is_known_currency, to_usd
from inference.models.churn import ChurnInput

MODEL_VERSION = "fraud-rules-1.0.0"

FraudRiskLevel = Literal["low", "medium", "high"]

# A logistic over summed rule weights keeps the score in (0, 1) however many rules fire,
# and lets a trained logistic model later replace these weights one for one.
_BASE_LOGIT = -3.0

# (lower bound in USD, weight, factor), highest band first.
_AMOUNT_BANDS: tuple[tuple[float, float, str], ...] = (
    (20_000.0, 3.0, "extreme_amount"),
    (5_000.0, 2.0, "very_high_amount"),
    (1_000.0, 1.0, "high_amount"),
)
# Tiny non-zero charges are the classic card-testing probe; zero is a card verification.
_CARD_TESTING_BELOW_USD = 1.0

# Payment methods the payer authenticates at the bank carry less card-not-present risk.
_METHOD_WEIGHTS: dict[str, float] = {
    "card": 0.0,
    "card_present": -0.8,
    "ideal": -0.7,
    "bancontact": -0.7,
    "sofort": -0.7,
    "giropay": -0.7,
    "eps": -0.7,
    "p24": -0.7,
    "sepa_debit": -0.3,
    "us_bank_account": -0.3,
    "bacs_debit": -0.3,
    "acss_debit": -0.3,
    "au_becs_debit": -0.3,
    "link": -0.2,
    "paypal": -0.2,
    "cashapp": -0.2,
    "klarna": 0.2,
    "afterpay_clearpay": 0.2,
    "affirm": 0.2,
}
_KNOWN_BRANDS = frozenset(
    "visa mastercard amex discover diners jcb unionpay eftpos_au cartes_bancaires interac".split()
)
_BRAND_ALIASES = {"american_express": "amex", "master_card": "mastercard", "diners_club": "diners"}


@dataclass(frozen=True, slots=True)
class FraudInput:
    amount_cents: int
    currency: str
    card_brand: str | None = None
    payment_method_type: str | None = None
    customer_id: str | None = None
    merchant_id: str | None = None  # part of the contract; no rule uses it yet
    customer_history: ChurnInput | None = None


@dataclass(frozen=True, slots=True)
class FraudScore:
    fraud_score: float
    risk_level: FraudRiskLevel
    risk_factors: tuple[str, ...]
    model_version: str = MODEL_VERSION


def score_fraud(payment: FraudInput) -> FraudScore:
    """Score a payment's fraud risk in [0, 1] and name the rules that raised it."""
    weights: list[tuple[float, str | None]] = []
    weights += _amount_weights(payment.amount_cents, payment.currency)
    weights += _instrument_weights(payment.payment_method_type, payment.card_brand)
    if payment.customer_id is None:
        weights.append((0.4, "guest_checkout"))
    if payment.customer_history is not None:
        weights += _history_weights(payment.customer_history, payment.amount_cents)

    logit = _BASE_LOGIT + sum(weight for weight, _ in weights)
    score = round(1 / (1 + math.exp(-logit)), 4)
    return FraudScore(
        fraud_score=score,
        risk_level=_level(score),
        risk_factors=tuple(factor for _, factor in weights if factor is not None),
    )


def _level(score: float) -> FraudRiskLevel:
    if score >= 0.7:
        return "high"
    if score >= 0.3:
        return "medium"
    return "low"


def _amount_weights(amount_cents: int, currency: str) -> list[tuple[float, str | None]]:
    weights: list[tuple[float, str | None]] = []
    if not is_known_currency(currency):
        weights.append((0.5, "unrecognized_currency"))
    usd = to_usd(amount_cents, currency)
    if 0 < usd < _CARD_TESTING_BELOW_USD:
        weights.append((1.0, "card_testing_amount"))
    for floor, weight, factor in _AMOUNT_BANDS:
        if usd >= floor:
            weights.append((weight, factor))
            break
    return weights


def _instrument_weights(method: str | None, brand: str | None) -> list[tuple[float, str | None]]:
    weights: list[tuple[float, str | None]] = []
    method_key = _normalize(method)
    if method_key is None:
        weights.append((0.3, "payment_method_missing"))
    elif method_key in _METHOD_WEIGHTS:
        weight = _METHOD_WEIGHTS[method_key]
        weights.append((weight, "buy_now_pay_later" if weight > 0 else None))
    else:
        weights.append((0.4, "unrecognized_payment_method"))

    brand_key = _normalize(brand)
    brand_key = _BRAND_ALIASES.get(brand_key, brand_key) if brand_key else None
    if brand_key is None:
        if method_key in (None, "card", "card_present"):
            weights.append((0.3, "card_brand_missing"))
    elif brand_key not in _KNOWN_BRANDS:
        weights.append((0.4, "unrecognized_card_brand"))
    return weights


def _history_weights(history: ChurnInput, amount_cents: int) -> list[tuple[float, str | None]]:
    weights: list[tuple[float, str | None]] = []
    if history.successful_payments == 0:
        weights.append((0.8, "no_prior_successful_payments"))
    elif history.successful_payments >= 10 and history.consecutive_failures == 0:
        weights.append((-1.0, None))

    attempts = history.successful_payments + history.failed_payments
    if attempts >= 3 and history.failed_payments / attempts >= 0.5:
        weights.append((1.0, "high_failure_rate"))

    # A run of declines just before this payment looks like card testing or a stolen card.
    if history.consecutive_failures >= 6:
        weights.append((1.8, "repeated_recent_failures"))
    elif history.consecutive_failures >= 3:
        weights.append((1.0, "repeated_recent_failures"))

    # History carries no currency, so it is read as being in the payment's currency.
    if history.successful_payments >= 3:
        average = history.total_amount_cents / history.successful_payments
        if amount_cents >= 5 * average and amount_cents > 0:
            weights.append((1.0, "amount_far_above_customer_average"))
    return weights


def _normalize(label: str | None) -> str | None:
    if label is None:
        return None
    key = label.strip().lower().replace(" ", "_").replace("-", "_")
    return key or None
