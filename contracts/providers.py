"""Adyen, Braintree and Square event kinds -> normalized event types, with the status kept.

Pure data, the counterpart of ``contracts.events.STRIPE_EVENT_TYPES``; it belongs in
contracts next to it, and lives here until that move. A kind that is not listed has no
normalized type and is dead-lettered as ``event_type.unknown``.
"""

from __future__ import annotations

from contracts.events import EventType

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
