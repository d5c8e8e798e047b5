"""Pure mapping of one Square webhook body (payment.* or refund.*) into the PaymentEvent.

The gateway writes the body as received, keyed by its ``event_id``. A payment event's
normalized type comes from the payment's status, a refund event's from its type (see
``contracts.providers``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.dead_letters import ValidationIssue
from contracts.events import EventType, PaymentEvent, make_event_id
from contracts.providers import (
    SQUARE_FAILED_REFUND_STATUSES,
    SQUARE_PAYMENT_STATUSES,
    SQUARE_PAYMENT_TYPES,
    SQUARE_REFUND_TYPES,
    Provider,
)
from streams.rules import (
    InvalidEventError,
    as_dict,
    check_amount,
    check_currency,
    check_iso_datetime,
    check_last_four,
    decode_keyed_json,
    make_collector,
    optional_text,
    require_text,
)

PROVIDER = Provider.SQUARE.value
# Square's card_brand enum -> the lower-case brands the Stripe mapping produces.
CARD_BRANDS = {"VISA": "visa", "MASTERCARD": "mastercard", "AMERICAN_EXPRESS": "amex",
               "DISCOVER": "discover", "DISCOVER_DINERS": "diners", "JCB": "jcb",
               "CHINA_UNIONPAY": "unionpay", "INTERAC": "interac", "EFTPOS": "eftpos",
               "FELICA": "felica", "EBT": "ebt"}


def map_square_record(key: bytes | None, raw: bytes, processed_at: datetime) -> PaymentEvent:
    """Decode and map one gateway-written Square body; raises InvalidEventError."""
    provider_event_id, payload = decode_keyed_json(key, raw, PROVIDER)
    return map_square_event(provider_event_id, payload, processed_at)


def map_square_event(provider_event_id: str, payload: dict[str, Any],
                     processed_at: datetime) -> PaymentEvent:
    """Map a decoded Square payment.* or refund.* event to a PaymentEvent."""
    issues: list[ValidationIssue] = []
    check = make_collector(issues)

    event_id = check(require_text, payload.get("event_id"), "event_id")
    if event_id and event_id != provider_event_id:
        issues.append(ValidationIssue(
            "key.mismatch", f"key {provider_event_id!r} is not the body's event_id", "key"))
    square_type = check(require_text, payload.get("type"), "type")
    kind = "refund" if square_type in SQUARE_REFUND_TYPES else "payment"
    obj = as_dict(as_dict(as_dict(payload.get("data")).get("object")).get(kind))
    where = f"data.object.{kind}"
    if not obj:
        issues.append(ValidationIssue("field.missing", f"{where} must be an object", where))
    status = check(require_text, obj.get("status"), f"{where}.status") if obj else None
    event_type = _event_type(square_type, status, issues) if square_type and status else None
    money = as_dict(obj.get("amount_money"))
    amount = check(check_amount, money.get("amount"), f"{where}.amount_money.amount")
    currency = check(check_currency, money.get("currency"),
                     f"{where}.amount_money.currency")
    created = check(check_iso_datetime, payload.get("created_at"), "created_at")
    object_id = check(require_text, obj.get("id"), f"{where}.id") if obj else None
    payment_id = object_id if kind == "payment" else check(
        require_text, obj.get("payment_id"), f"{where}.payment_id")
    merchant_id = check(optional_text, payload.get("merchant_id"), "merchant_id")
    customer_id = check(optional_text, obj.get("customer_id"), f"{where}.customer_id")
    card_details = as_dict(obj.get("card_details"))
    card = as_dict(card_details.get("card"))
    brand = check(optional_text, card.get("card_brand"), "card.card_brand")
    last_four = check(check_last_four, card.get("last_4"), "card.last_4")
    source_type = check(optional_text, obj.get("source_type"), f"{where}.source_type")
    failure_code, failure_message = (
        check(_failure, obj, card_details)
        if event_type in (EventType.PAYMENT_FAILED, EventType.REFUND_FAILED) else None
    ) or (None, None)
    metadata = check(_metadata, obj, kind, object_id) or {}

    if issues:
        raise InvalidEventError(issues, provider=PROVIDER, provider_event_id=provider_event_id)
    return PaymentEvent(
        event_id=make_event_id(PROVIDER, provider_event_id),
        provider=PROVIDER,
        provider_event_id=provider_event_id,
        event_type=event_type.value,
        amount_cents=amount,
        currency=currency,
        status=status.lower(),
        provider_created_at=created,
        processed_at=processed_at,
        payment_id=payment_id,
        merchant_id=merchant_id,
        customer_id=customer_id,
        payment_method_type=source_type.lower() if source_type else None,
        card_brand=CARD_BRANDS.get(brand.upper(), brand.lower()) if brand else None,
        card_last_four=last_four,
        failure_code=failure_code,
        failure_message=failure_message,
        metadata=metadata,
    )


def _event_type(square_type: str, status: str,
                issues: list[ValidationIssue]) -> EventType | None:
    if square_type in SQUARE_PAYMENT_TYPES:
        event_type = SQUARE_PAYMENT_STATUSES.get(status.upper())
        if event_type is None:
            issues.append(ValidationIssue("status.unknown", f"unknown Square payment status "
                                          f"{status!r}", "data.object.payment.status"))
        return event_type
    if square_type in SQUARE_REFUND_TYPES:
        if square_type == "refund.updated" and status.upper() in SQUARE_FAILED_REFUND_STATUSES:
            return EventType.REFUND_FAILED
        return SQUARE_REFUND_TYPES[square_type]
    issues.append(ValidationIssue("event_type.unknown", f"unknown Square type {square_type!r}",
                                  "type"))
    return None


def _failure(obj: dict[str, Any], card_details: dict[str, Any]) -> tuple[str | None, str | None]:
    """Square's first card error (e.g. GENERIC_DECLINE), in Stripe's lower-case spelling."""
    errors = card_details.get("errors")
    first = as_dict(errors[0]) if isinstance(errors, list) and errors else {}
    code = optional_text(first.get("code"), "card_details.errors.code")
    message = optional_text(first.get("detail"), "card_details.errors.detail")
    if code:
        return code.lower(), message
    status = require_text(obj.get("status"), "status")
    return status.lower(), message or optional_text(obj.get("reason"), "reason")


def _metadata(obj: dict[str, Any], kind: str, object_id: str | None) -> dict[str, str]:
    metadata = {name: text for name in ("location_id", "order_id", "reference_id")
                if (text := optional_text(obj.get(name), name))}
    if kind == "refund" and object_id:
        metadata["refund_id"] = object_id
        reason = optional_text(obj.get("reason"), "reason")
        if reason:
            metadata["reason"] = reason
    return metadata


# The name streams.providers reads this module's mapper by.
map_record = map_square_record
