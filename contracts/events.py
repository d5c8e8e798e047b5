"""The unified payment event: the one definition every service shares.

The SQL table, the Iceberg schema and the Faust record are all checked against
``PaymentEvent`` by tests, so a field added here fails those tests until they follow.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from types import NoneType, UnionType
from typing import get_args, get_origin

SCHEMA_VERSION = 1


class EventType(StrEnum):
    """Normalized event types, provider-neutral."""

    PAYMENT_CREATED = "payment.created"
    PAYMENT_PROCESSING = "payment.processing"
    PAYMENT_REQUIRES_ACTION = "payment.requires_action"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELED = "payment.canceled"
    CHARGE_SUCCEEDED = "charge.succeeded"
    CHARGE_FAILED = "charge.failed"
    CHARGE_CAPTURED = "charge.captured"
    CHARGE_UPDATED = "charge.updated"
    CHARGE_REFUNDED = "charge.refunded"
    REFUND_CREATED = "refund.created"
    REFUND_UPDATED = "refund.updated"
    REFUND_FAILED = "refund.failed"
    DISPUTE_CREATED = "dispute.created"
    DISPUTE_UPDATED = "dispute.updated"
    DISPUTE_CLOSED = "dispute.closed"
    DISPUTE_FUNDS_WITHDRAWN = "dispute.funds_withdrawn"
    DISPUTE_FUNDS_REINSTATED = "dispute.funds_reinstated"


# What the enrichment treats as a settled success or a failure needing a retry decision.
SUCCESS_EVENT_TYPES = frozenset({EventType.PAYMENT_SUCCEEDED, EventType.CHARGE_SUCCEEDED})
FAILURE_EVENT_TYPES = frozenset({EventType.PAYMENT_FAILED, EventType.CHARGE_FAILED})


# Stripe's event type -> normalized type. Every fixture in shared/fixtures/stripe is here.
# The other providers' tables are in contracts.providers.
STRIPE_EVENT_TYPES: dict[str, EventType] = {
    "payment_intent.created": EventType.PAYMENT_CREATED,
    "payment_intent.processing": EventType.PAYMENT_PROCESSING,
    "payment_intent.requires_action": EventType.PAYMENT_REQUIRES_ACTION,
    "payment_intent.amount_capturable_updated": EventType.PAYMENT_AUTHORIZED,
    "payment_intent.succeeded": EventType.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": EventType.PAYMENT_FAILED,
    "payment_intent.canceled": EventType.PAYMENT_CANCELED,
    "charge.succeeded": EventType.CHARGE_SUCCEEDED,
    "charge.failed": EventType.CHARGE_FAILED,
    "charge.captured": EventType.CHARGE_CAPTURED,
    "charge.updated": EventType.CHARGE_UPDATED,
    "charge.refunded": EventType.CHARGE_REFUNDED,
    "refund.created": EventType.REFUND_CREATED,
    "refund.updated": EventType.REFUND_UPDATED,
    "refund.failed": EventType.REFUND_FAILED,
    "charge.refund.updated": EventType.REFUND_UPDATED,
    "charge.dispute.created": EventType.DISPUTE_CREATED,
    "charge.dispute.updated": EventType.DISPUTE_UPDATED,
    "charge.dispute.closed": EventType.DISPUTE_CLOSED,
    "charge.dispute.funds_withdrawn": EventType.DISPUTE_FUNDS_WITHDRAWN,
    "charge.dispute.funds_reinstated": EventType.DISPUTE_FUNDS_REINSTATED,
}


def make_event_id(provider: str, provider_event_id: str) -> str:
    return f"{provider}:{provider_event_id}"


@dataclass(slots=True)
class PaymentEvent:
    """One payment-provider event in the pipeline's own shape (schema version 1).

    Amounts are integer minor units (see ``contracts.currencies``). Datetimes are UTC.
    Only the last four card digits are ever kept.
    """

    event_id: str
    provider: str
    provider_event_id: str
    event_type: str
    amount_cents: int
    currency: str
    status: str
    provider_created_at: datetime
    processed_at: datetime
    payment_id: str | None = None
    merchant_id: str | None = None
    customer_id: str | None = None
    payment_method_type: str | None = None
    card_brand: str | None = None
    card_last_four: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION


PAYMENT_EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PaymentEvent))


# PostgreSQL's bigint: an integer field outside it could never be stored.
INT_RANGE = (-(2**63), 2**63 - 1)


def _matches(value: object, annotation: object) -> bool:
    if isinstance(annotation, UnionType):
        return any(_matches(value, arm) for arm in get_args(annotation))
    if annotation is NoneType:
        return value is None
    if get_origin(annotation) is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    if annotation is int:
        return (isinstance(value, int) and not isinstance(value, bool)
                and INT_RANGE[0] <= value <= INT_RANGE[1])
    return isinstance(value, annotation)  # type: ignore[arg-type]


def mistyped_fields(event: PaymentEvent) -> list[str]:
    """The fields whose values are not of the contract's type. A consumer of
    ``payments.normalized`` checks this before acting on an event, since the topic is open
    to any writer and a value of the wrong kind would fail much later, in a workflow."""
    return [name for name, annotation in _FIELD_TYPES
            if not _matches(getattr(event, name), annotation)]


_FIELD_TYPES = tuple((f.name, f.type) for f in fields(PaymentEvent))
