"""Request and response models of the HTTP API, adapted to the pure models at the edge."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inference.models.churn import ChurnInput
from inference.models.fraud import FraudInput
from inference.models.recovery import RecoveryInput
from inference.models.retry import RetryInput

EventId = Annotated[str, Field(min_length=1, max_length=255)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255)]
AmountCents = Annotated[
    int, Field(ge=0, le=100_000_000, description="Integer minor units of `currency`.")
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, upper case.")]
FailureCode = Annotated[
    str, Field(min_length=1, max_length=64, description="Stripe decline or error code.")
]
AttemptCount = Annotated[int, Field(ge=1, le=100)]
Label = Annotated[str, Field(min_length=1, max_length=64)]
PaymentCount = Annotated[int, Field(ge=0, le=1_000_000)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Request(BaseModel):
    # Strict so that "100", 100.5 and true are refused rather than coerced into amounts.
    model_config = ConfigDict(strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model_version: str


def _check_amount_has_currency(amount_cents: int | None, currency: str | None) -> None:
    if (amount_cents is None) != (currency is None):
        raise ValueError("amount_cents and currency must be given together")


class ChurnPredictRequest(_Request):
    customer_id: ExternalId
    successful_payments: PaymentCount
    failed_payments: PaymentCount
    consecutive_failures: PaymentCount
    days_since_last_success: Annotated[int, Field(ge=0, le=36_500)] | None = Field(
        description="Null when the customer has never paid successfully."
    )
    total_amount_cents: Annotated[int, Field(ge=0, le=1_000_000_000_000)]

    @model_validator(mode="after")
    def _consecutive_within_failed(self) -> Self:
        if self.consecutive_failures > self.failed_payments:
            raise ValueError("consecutive_failures cannot exceed failed_payments")
        return self

    def to_input(self) -> ChurnInput:
        return ChurnInput(
            customer_id=self.customer_id,
            successful_payments=self.successful_payments,
            failed_payments=self.failed_payments,
            consecutive_failures=self.consecutive_failures,
            days_since_last_success=self.days_since_last_success,
            total_amount_cents=self.total_amount_cents,
        )


class FraudScoreRequest(_Request):
    event_id: EventId
    amount_cents: AmountCents
    currency: Currency
    card_brand: Label | None = None
    payment_method_type: Label | None = None
    customer_id: ExternalId | None = None
    merchant_id: ExternalId | None = None
    customer_history: ChurnPredictRequest | None = None

    def to_input(self) -> FraudInput:
        history = self.customer_history
        return FraudInput(
            amount_cents=self.amount_cents,
            currency=self.currency,
            card_brand=self.card_brand,
            payment_method_type=self.payment_method_type,
            customer_id=self.customer_id,
            merchant_id=self.merchant_id,
            customer_history=history.to_input() if history else None,
        )


class RetryStrategyRequest(_Request):
    event_id: EventId
    failure_code: FailureCode
    attempt_count: AttemptCount = Field(
        description="Attempts made so far, the failed one included."
    )
    amount_cents: AmountCents | None = None
    currency: Currency | None = None

    @model_validator(mode="after")
    def _amount_with_currency(self) -> Self:
        _check_amount_has_currency(self.amount_cents, self.currency)
        return self

    def to_input(self) -> RetryInput:
        return RetryInput(
            failure_code=self.failure_code,
            attempt_count=self.attempt_count,
            amount_cents=self.amount_cents,
            currency=self.currency,
        )


class RecoveryRecommendRequest(_Request):
    event_id: EventId
    failure_code: FailureCode
    attempt_number: AttemptCount = Field(description="Number of the attempt that failed.")
    amount_cents: AmountCents | None = None
    currency: Currency | None = None
    customer_id: ExternalId | None = None

    @model_validator(mode="after")
    def _amount_with_currency(self) -> Self:
        _check_amount_has_currency(self.amount_cents, self.currency)
        return self

    def to_input(self) -> RecoveryInput:
        return RecoveryInput(
            failure_code=self.failure_code,
            attempt_number=self.attempt_number,
            amount_cents=self.amount_cents,
            currency=self.currency,
            customer_id=self.customer_id,
        )


class FraudScoreResponse(_Response):
    fraud_score: Probability
    risk_level: Literal["low", "medium", "high"]
    risk_factors: list[str]


class RetryStrategyResponse(_Response):
    action: Literal["retry_now", "retry_later", "contact_customer", "do_not_retry"]
    delay_seconds: Annotated[int, Field(ge=0)]
    max_attempts: Annotated[int, Field(ge=1)]
    confidence: Probability
    reason: str


class ChurnPredictResponse(_Response):
    churn_probability: Probability
    risk_level: Literal["low", "medium", "high", "critical"]
    factors: list[str]
    actions: list[str]
    days_to_churn_estimate: Annotated[int, Field(ge=0)]


class RecoveryStepResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    delay_seconds: Annotated[int, Field(ge=0, description="From the time of the plan.")]
    channel: Literal["automatic", "email", "in_app", "internal", "system"]


class RecoveryRecommendResponse(_Response):
    steps: Annotated[list[RecoveryStepResponse], Field(min_length=1)]
    expected_recovery_probability: Probability


class HealthResponse(BaseModel):
    status: Literal["ok", "ready", "not_ready"]
    model_versions: dict[str, str]
