"""Retry strategy for a failed payment, from its Stripe decline or failure code (rule set)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inference.models._money import to_usd

MODEL_VERSION = "retry-rules-1.0.0"

RetryAction = Literal["retry_now", "retry_later", "contact_customer", "do_not_retry"]
FailureCategory = Literal[
    "hard", "customer", "transient", "issuer_busy", "limit", "funds", "soft", "unknown"
]


@dataclass(frozen=True, slots=True)
class Policy:
    max_attempts: int
    delays: tuple[int, ...]  # wait before retry n+1, indexed by attempts made - 1
    confidence: float
    reason: str


_HOUR = 3_600
_DAY = 86_400

POLICIES: dict[FailureCategory, Policy] = {
    "hard": Policy(1, (), 0.95, "the issuer refused for a reason a retry cannot change"),
    "customer": Policy(1, (), 0.85, "the customer must fix or replace the payment details"),
    # An immediate retry clears most processor blips; later ones back off.
    "transient": Policy(
        5,
        (0, 5 * 60, 30 * 60, 2 * _HOUR),
        0.8,
        "a transient processing failure that usually clears on retry",
    ),
    "issuer_busy": Policy(
        4, (_HOUR, 6 * _HOUR, _DAY), 0.7, "the issuer asked for the payment to be tried again later"
    ),
    "limit": Policy(3, (_DAY, 2 * _DAY), 0.6, "a card limit that resets within days"),
    # Funds tend to arrive on paydays, so retries are spaced over most of a week.
    "funds": Policy(
        4, (_DAY, 3 * _DAY, 5 * _DAY), 0.6, "insufficient funds, which often clear within days"
    ),
    "soft": Policy(4, (6 * _HOUR, _DAY, 3 * _DAY), 0.5, "a soft decline without a stated reason"),
    "unknown": Policy(
        3,
        (_DAY, 3 * _DAY),
        0.4,
        "an unrecognized failure code, treated cautiously as a soft decline",
    ),
}

# Stripe decline codes and API error codes, grouped by what a retry can achieve.
_CODES_BY_CATEGORY: dict[FailureCategory, str] = {
    "hard": """
        fraudulent lost_card stolen_card pickup_card restricted_card security_violation
        merchant_blacklist invalid_account not_permitted duplicate_transaction
        revocation_of_authorization revocation_of_all_authorizations stop_payment_order
        testmode_decline invalid_amount amount_too_small amount_too_large
        debit_not_authorized account_closed
    """,
    "customer": """
        expired_card incorrect_cvc invalid_cvc incorrect_number invalid_number
        invalid_expiry_month invalid_expiry_year incorrect_zip incorrect_address
        authentication_required card_not_supported currency_not_supported
        transaction_not_allowed call_issuer new_account_information_available
        offline_pin_required online_or_offline_pin_required pin_try_exceeded incorrect_pin
        invalid_pin no_account account_frozen
    """,
    "transient": """
        processing_error issuer_not_available reenter_transaction rate_limit
        api_connection_error lock_timeout approve_with_id
    """,
    "issuer_busy": """
        try_again_later no_action_taken
    """,
    "limit": """
        withdrawal_count_limit_exceeded card_velocity_exceeded
    """,
    "soft": """
        card_declined generic_decline do_not_honor service_not_allowed issuer_declined
    """,
    "funds": """
        insufficient_funds
    """,
}
_CATEGORIES: dict[str, FailureCategory] = {
    code: category for category, codes in _CODES_BY_CATEGORY.items() for code in codes.split()
}

# Above this USD-equivalent, an insufficient-funds payment rarely clears by waiting alone.
LARGE_AMOUNT_USD = 1_000.0
_ESCALATION_CONFIDENCE = 0.7
_CONFIDENCE_DECAY_PER_ATTEMPT = 0.05


@dataclass(frozen=True, slots=True)
class RetryInput:
    failure_code: str
    attempt_count: int  # attempts made so far, the failed one included
    amount_cents: int | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class RetryStrategy:
    action: RetryAction
    delay_seconds: int
    max_attempts: int
    confidence: float
    reason: str
    model_version: str = MODEL_VERSION


def classify_failure(failure_code: str) -> FailureCategory:
    """Group a Stripe decline or error code by what a retry can achieve."""
    return _CATEGORIES.get(failure_code.strip().lower(), "unknown")


def max_attempts_for(category: FailureCategory, usd: float | None) -> int:
    """The attempt budget for a failure category, smaller for large unfunded payments."""
    budget = POLICIES[category].max_attempts
    if category == "funds" and usd is not None and usd >= LARGE_AMOUNT_USD:
        budget -= 1
    return budget


def retry_delay(category: FailureCategory, attempts_made: int) -> int:
    """Seconds to wait before the next retry; the last delay repeats past the schedule."""
    delays = POLICIES[category].delays or (0,)
    return delays[min(max(attempts_made, 1), len(delays)) - 1]


def choose_retry_strategy(failure: RetryInput) -> RetryStrategy:
    """Decide whether, when and how often to retry a failed payment."""
    category = classify_failure(failure.failure_code)
    policy = POLICIES[category]
    usd = None
    if failure.amount_cents is not None and failure.currency is not None:
        usd = to_usd(failure.amount_cents, failure.currency)
    budget = max_attempts_for(category, usd)

    if category == "hard":
        return RetryStrategy("do_not_retry", 0, budget, policy.confidence, policy.reason)
    if category == "customer":
        return RetryStrategy("contact_customer", 0, budget, policy.confidence, policy.reason)
    if failure.attempt_count >= budget:
        return RetryStrategy(
            "contact_customer",
            0,
            budget,
            _ESCALATION_CONFIDENCE,
            f"{policy.reason}; the budget of {budget} attempts is spent",
        )

    delay = retry_delay(category, failure.attempt_count)
    confidence = policy.confidence - _CONFIDENCE_DECAY_PER_ATTEMPT * (failure.attempt_count - 1)
    return RetryStrategy(
        action="retry_now" if delay == 0 else "retry_later",
        delay_seconds=delay,
        max_attempts=budget,
        confidence=round(max(confidence, 0.0), 4),
        reason=policy.reason,
    )
