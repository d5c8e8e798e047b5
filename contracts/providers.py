"""Providers: the one list of them, their raw topics and credentials, every event-type table
and the raw topics' key formats.

What the gateway, the normalizer and the simulator must agree on about a provider is here:
adding one is its ``Provider`` member and its row in each table below (with its topic names
in ``contracts/topics.py``), ``gateway/providers/<name>.py`` and ``streams/providers/<name>.py``,
which are found by the provider's name. Pure data and functions. A provider's event kind that
is not listed has no normalized type and is dead-lettered as ``event_type.unknown``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from contracts import topics
from contracts.events import STRIPE_EVENT_TYPES, EventType

__all__ = [
    "ADYEN_CANCEL_OR_REFUND",
    "ADYEN_EVENT_TYPES",
    "BRAINTREE_EVENT_TYPES",
    "BRAINTREE_TIMESTAMP_FORMAT",
    "CREDENTIAL_SETTINGS",
    "PROVIDER_NAMES",
    "ORIGIN_HEADER",
    "RAW_HEADERS",
    "RAW_TOPICS",
    "RAW_TOPIC_NAMES",
    "SQUARE_FAILED_REFUND_STATUSES",
    "SQUARE_PAYMENT_STATUSES",
    "SQUARE_PAYMENT_TYPES",
    "SQUARE_REFUND_TYPES",
    "STRIPE_EVENT_TYPES",
    "STRIPE_TOPIC_ROUTES",
    "Origin",
    "Provider",
    "adyen_key",
    "braintree_key",
    "braintree_key_has_kind",
    "braintree_timestamp",
    "raw_headers",
    "stripe_raw_topic",
]


class Provider(StrEnum):
    STRIPE = "stripe"
    ADYEN = "adyen"
    BRAINTREE = "braintree"
    SQUARE = "square"


PROVIDER_NAMES: tuple[str, ...] = tuple(provider.value for provider in Provider)

# The topics the gateway writes each provider's webhooks to, and the normalizer reads.
RAW_TOPICS: dict[Provider, tuple[str, ...]] = {
    Provider.STRIPE: topics.STRIPE_RAW_TOPICS,
    Provider.ADYEN: (topics.ADYEN_NOTIFICATION,),
    Provider.BRAINTREE: (topics.BRAINTREE_NOTIFICATION,),
    Provider.SQUARE: (topics.SQUARE_PAYMENT, topics.SQUARE_REFUND),
}

# Each raw topic's short name: the normalizer's agent for it is ``normalize-<name>`` and counts
# under ``<name>``, and a deployment renames the topic with ``STREAMS_TOPIC_<NAME>``.
RAW_TOPIC_NAMES: dict[str, str] = {
    topics.STRIPE_PAYMENT_INTENT: "payment_intent",
    topics.STRIPE_CHARGE: "charge",
    topics.STRIPE_REFUND: "refund",
    topics.ADYEN_NOTIFICATION: "adyen",
    topics.BRAINTREE_NOTIFICATION: "braintree",
    topics.SQUARE_PAYMENT: "square_payment",
    topics.SQUARE_REFUND: "square_refund",
}

# The Kafka headers of every raw-topic record, in this order (ARCHITECTURE.md, "The raw
# topics' value"): what the gateway writes, and the simulator too when it skips the gateway.
RAW_HEADERS = ("provider", "event_type", "received_at", "request_id")


# An optional header on a raw record that the gateway did not write from a webhook: who put
# it there. A record without it came from a webhook.
ORIGIN_HEADER = "origin"


class Origin(StrEnum):
    # Re-produced by the replay command for an event the pipeline holds no row for: the
    # normalizer lets it past its dedup table (which may remember the lost first copy);
    # downstream writes stay idempotent by event_id, so it can never double a row.
    REPLAY = "replay"
    # Fetched from the provider's API by reconciliation because no webhook brought it. It
    # goes through dedup like a webhook, so a webhook arriving later is a duplicate.
    RECONCILIATION = "reconciliation"


def raw_headers(provider: str, event_type: str, received_at: str,
                request_id: str) -> list[tuple[str, bytes]]:
    """A raw record's headers; ``received_at`` is RFC 3339 UTC. gateway/records.py writes the
    same (a unit test pins the two equal)."""
    values = (provider, event_type, received_at, request_id)
    return [(name, value.encode()) for name, value in zip(RAW_HEADERS, values, strict=True)]


# The settings (environment variables, no prefix) that hold each provider's webhook
# credentials: the gateway verifies with them and the simulator signs with them, so both
# read them under these names.
CREDENTIAL_SETTINGS: dict[Provider, tuple[str, ...]] = {
    Provider.STRIPE: ("STRIPE_WEBHOOK_SECRET",),
    Provider.ADYEN: ("ADYEN_HMAC_KEY", "ADYEN_BASIC_AUTH_USERNAME", "ADYEN_BASIC_AUTH_PASSWORD"),
    Provider.BRAINTREE: ("BRAINTREE_MERCHANT_ID", "BRAINTREE_PUBLIC_KEY",
                         "BRAINTREE_PRIVATE_KEY"),
    Provider.SQUARE: ("SQUARE_SIGNATURE_KEY", "SQUARE_NOTIFICATION_URL"),
}

# The raw topics' Kafka key is the provider event id. Stripe's and Square's is the body's
# own event id (``evt_...``, ``event_id``); Adyen's and Braintree's are built below.


def adyen_key(psp_reference: str, event_code: str, success: str) -> str:
    """``<pspReference>:<eventCode>:<success>``: pspReference and eventCode are how Adyen says
    to spot a redelivery; success keeps another outcome for the same pair apart."""
    return f"{psp_reference}:{event_code}:{success}"


BRAINTREE_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def braintree_timestamp(moment: datetime) -> str:
    """A notification's time as its key holds it: UTC, to the second. A naive time is taken
    as UTC already (the SDK reads Braintree's ``...Z`` timestamps as naive)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(BRAINTREE_TIMESTAMP_FORMAT)


def braintree_key(kind: str, subject_id: str, timestamp: datetime) -> str:
    """``<kind>:<subject id>:<YYYY-MM-DDTHH:MM:SSZ>``, because Braintree gives a notification
    no id. Opaque but for its kind: subject ids may hold colons."""
    return f"{kind}:{subject_id}:{braintree_timestamp(timestamp)}"


def braintree_key_has_kind(key: str, kind: str) -> bool:
    """Whether a Braintree key was built for a notification of this kind."""
    return key.startswith(f"{kind}:")


# Stripe's event type -> normalized type is ``STRIPE_EVENT_TYPES`` (kept in contracts.events
# beside the unified event; re-exported here).

# Stripe event type prefix -> raw topic, tried in order: the gateway routes a webhook with it,
# and reconciliation routes an event fetched from Stripe's API the same way. Longest prefix
# first: charge.refund.* and charge.dispute.* must win over charge.*.
STRIPE_TOPIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("payment_intent.", topics.STRIPE_PAYMENT_INTENT),
    ("charge.refund.", topics.STRIPE_REFUND),
    ("charge.dispute.", topics.STRIPE_CHARGE),
    ("charge.", topics.STRIPE_CHARGE),
    ("refund.", topics.STRIPE_REFUND),
)


def stripe_raw_topic(event_type: str) -> str | None:
    """The raw topic of a Stripe event type, or None when the pipeline has no route for it."""
    return next((topic for prefix, topic in STRIPE_TOPIC_ROUTES
                 if event_type.startswith(prefix)), None)

# (eventCode, success) -> (normalized type, status). Adyen's AUTHORISATION is a payment's
# success notification: with Adyen's default immediate capture no CAPTURE ever follows, and
# Stripe's charge.succeeded fires at the same point (the authorisation), so both count as a
# success downstream. A delayed-capture merchant then also gets CAPTURE -> charge.captured.
ADYEN_EVENT_TYPES: dict[tuple[str, str], tuple[EventType, str]] = {
    ("AUTHORISATION", "true"): (EventType.PAYMENT_SUCCEEDED, "authorised"),
    ("AUTHORISATION", "false"): (EventType.PAYMENT_FAILED, "refused"),
    ("CAPTURE", "true"): (EventType.CHARGE_CAPTURED, "captured"),
    ("CAPTURE", "false"): (EventType.CHARGE_FAILED, "capture_failed"),
    ("CAPTURE_FAILED", "true"): (EventType.CHARGE_FAILED, "capture_failed"),
    ("REFUND", "true"): (EventType.REFUND_CREATED, "refunded"),
    ("REFUND", "false"): (EventType.REFUND_FAILED, "refund_failed"),
    ("REFUND_FAILED", "true"): (EventType.REFUND_FAILED, "refund_failed"),
    ("CANCELLATION", "true"): (EventType.PAYMENT_CANCELED, "cancelled"),
    ("CHARGEBACK", "true"): (EventType.DISPUTE_CREATED, "chargeback"),
    ("CHARGEBACK_REVERSED", "true"): (EventType.DISPUTE_FUNDS_REINSTATED, "chargeback_reversed"),
}
# CANCEL_OR_REFUND is whichever Adyen did; additionalData["modification.action"] says which.
ADYEN_CANCEL_OR_REFUND: dict[str, tuple[EventType, str]] = {
    "cancel": (EventType.PAYMENT_CANCELED, "cancelled"),
    "refund": (EventType.REFUND_CREATED, "refunded"),
}

# Braintree notification kind -> normalized type; the status is the subject's own.
BRAINTREE_EVENT_TYPES: dict[str, EventType] = {
    "transaction_settled": EventType.PAYMENT_SUCCEEDED,
    "transaction_settlement_declined": EventType.PAYMENT_FAILED,
    "transaction_retried": EventType.PAYMENT_PROCESSING,
    # Paid out to the merchant: the payment already succeeded, this only updates it.
    "transaction_disbursed": EventType.CHARGE_UPDATED,
    "refund_failed": EventType.REFUND_FAILED,
    "subscription_charged_successfully": EventType.PAYMENT_SUCCEEDED,
    "subscription_charged_unsuccessfully": EventType.PAYMENT_FAILED,
    "dispute_opened": EventType.DISPUTE_CREATED,
    "dispute_under_review": EventType.DISPUTE_UPDATED,
    "dispute_disputed": EventType.DISPUTE_UPDATED,
    "dispute_accepted": EventType.DISPUTE_CLOSED,
    "dispute_auto_accepted": EventType.DISPUTE_CLOSED,
    "dispute_won": EventType.DISPUTE_CLOSED,
    "dispute_lost": EventType.DISPUTE_CLOSED,
    "dispute_expired": EventType.DISPUTE_CLOSED,
}

# Square payment.created / payment.updated: the type says little, the payment's status says
# what happened. APPROVED is authorised and awaiting capture (a delayed-capture payment).
SQUARE_PAYMENT_STATUSES: dict[str, EventType] = {
    "APPROVED": EventType.PAYMENT_AUTHORIZED,
    "PENDING": EventType.PAYMENT_PROCESSING,
    "COMPLETED": EventType.PAYMENT_SUCCEEDED,
    "CANCELED": EventType.PAYMENT_CANCELED,
    "FAILED": EventType.PAYMENT_FAILED,
}
SQUARE_PAYMENT_TYPES = frozenset({"payment.created", "payment.updated"})
SQUARE_REFUND_TYPES: dict[str, EventType] = {
    "refund.created": EventType.REFUND_CREATED,
    "refund.updated": EventType.REFUND_UPDATED,
}
# A refund.updated that reports a refund's end in failure is refund.failed, as for Stripe.
SQUARE_FAILED_REFUND_STATUSES = frozenset({"FAILED", "REJECTED"})
