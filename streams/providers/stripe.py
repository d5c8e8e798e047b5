"""Pure mapping of a Stripe event into the unified PaymentEvent, or the reasons it cannot be.

Every issue found is collected, so a dead letter tells a reviewer everything wrong at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contracts.dead_letters import ValidationIssue
from contracts.events import PaymentEvent, make_event_id
from contracts.providers import STRIPE_EVENT_TYPES, Provider
from streams.rules import (
    FieldError,
    InvalidEventError,
    as_dict,
    check_amount,
    check_currency,
    check_epoch,
    check_last_four,
    make_collector,
    optional_text,
    parse_json_object,
    require_text,
    stringify_metadata,
)

PROVIDER = Provider.STRIPE.value


def map_stripe_record(key: bytes | None, raw: bytes, processed_at: datetime) -> PaymentEvent:
    """Map one raw-topic record; a Stripe body names its own id, which is also the key."""
    return map_stripe_bytes(raw, processed_at)


def map_stripe_bytes(raw: bytes, processed_at: datetime) -> PaymentEvent:
    """Decode and map one raw Stripe webhook body; raises InvalidEventError."""
    return map_stripe_event(parse_json_object(raw), processed_at)


def map_stripe_event(payload: dict[str, Any], processed_at: datetime) -> PaymentEvent:
    """Map a decoded Stripe event (see STRIPE_EVENT_TYPES) to a PaymentEvent."""
    issues: list[ValidationIssue] = []
    check = make_collector(issues)

    evt_id = check(require_text, payload.get("id"), "id")
    stripe_type = check(require_text, payload.get("type"), "type")
    event_type = STRIPE_EVENT_TYPES.get(stripe_type) if stripe_type else None
    if stripe_type and event_type is None:
        issues.append(
            ValidationIssue("event_type.unknown", f"unknown Stripe type {stripe_type!r}", "type")
        )
    created = check(check_epoch, payload.get("created"), "created")
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        issues.append(
            ValidationIssue("field.missing", "data.object must be an object", "data.object")
        )
        obj = {}

    kind = _object_kind(obj, stripe_type or "")
    object_id = check(_object_id, obj, kind)
    amount = check(check_amount, obj.get("amount"), "data.object.amount")
    currency = check(check_currency, obj.get("currency"), "data.object.currency")
    metadata = check(stringify_metadata, obj.get("metadata"), "data.object.metadata")
    customer_id = check(_customer_id, obj.get("customer"))
    status = check(_status, obj)
    payment_id = check(_payment_id, obj, kind, object_id)
    method = _payment_method(obj, kind)
    method_type = check(optional_text, method.get("type"), "payment_method_type")
    brand = check(optional_text, method.get("brand"), "card_brand")
    last_four = check(check_last_four, method.get("last4"))
    failure_code, failure_message = check(_failure, obj, kind) or (None, None)
    merchant_id = check(_merchant_id, payload.get("account"), metadata or {})

    if issues:
        raise InvalidEventError(issues, provider=PROVIDER, provider_event_id=evt_id)
    return PaymentEvent(
        event_id=make_event_id(PROVIDER, evt_id),
        provider=PROVIDER,
        provider_event_id=evt_id,
        event_type=event_type.value,
        amount_cents=amount,
        currency=currency,
        status=status,
        provider_created_at=created,
        processed_at=processed_at,
        payment_id=payment_id,
        merchant_id=merchant_id,
        customer_id=customer_id,
        payment_method_type=method_type,
        card_brand=brand.lower() if brand else None,
        card_last_four=last_four,
        failure_code=failure_code,
        failure_message=failure_message,
        metadata=metadata,
    )


def _object_kind(obj: dict[str, Any], stripe_type: str) -> str:
    kind = obj.get("object")
    if isinstance(kind, str) and kind in {"payment_intent", "charge", "refund", "dispute"}:
        return kind
    if stripe_type.startswith("charge.dispute."):
        return "dispute"
    if stripe_type.startswith(("refund.", "charge.refund.")):
        return "refund"
    return stripe_type.split(".", 1)[0]


def _object_id(obj: dict[str, Any], kind: str) -> str | None:
    # Older dispute payloads carry no id of their own; their payment id is the charge.
    if kind in {"refund", "dispute"}:
        return optional_text(obj.get("id"), "data.object.id")
    return require_text(obj.get("id"), "data.object.id")


def _payment_id(obj: dict[str, Any], kind: str, object_id: str | None) -> str | None:
    # Refunds and disputes point at the payment they reverse; that is the payment id.
    if kind in {"refund", "dispute"}:
        return optional_text(obj.get("charge"), "data.object.charge") or optional_text(
            obj.get("payment_intent"), "data.object.payment_intent"
        )
    return object_id


def _customer_id(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded customer object
        value = value.get("id")
    return optional_text(value, "data.object.customer")


def _merchant_id(account: Any, metadata: dict[str, str]) -> str | None:
    # Connect events name the connected account; direct ones may carry it in metadata.
    return optional_text(account, "account") or optional_text(
        metadata.get("merchant_id"), "metadata.merchant_id"
    )


def _status(obj: dict[str, Any]) -> str:
    status = optional_text(obj.get("status"), "data.object.status")
    if status is not None:
        return status
    # Legacy charge payloads have no status, only `paid`.
    paid = obj.get("paid")
    if obj.get("object") == "charge" and isinstance(paid, bool):
        return "succeeded" if paid else "failed"
    raise FieldError("field.missing", "data.object.status is required", "data.object.status")


def _payment_method(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """Only type, brand and last4: no other card data leaves this function."""
    if kind == "payment_intent":
        charges = _dict(obj.get("charges")).get("data")
        if isinstance(charges, list) and charges and isinstance(charges[-1], dict):
            return _payment_method(charges[-1], "charge")
        pm = _dict(_dict(obj.get("last_payment_error")).get("payment_method"))
        card = _dict(pm.get("card"))
        return {"type": pm.get("type"), "brand": card.get("brand"), "last4": card.get("last4")}
    if kind == "charge":
        details = _dict(obj.get("payment_method_details"))
        if details:
            card = _dict(details.get("card"))
            return {"type": details.get("type"), "brand": card.get("brand"),
                    "last4": card.get("last4")}
        source = _dict(obj.get("source"))
        if source.get("object") == "card":
            return {"type": "card", "brand": source.get("brand"), "last4": source.get("last4")}
    return {}


def _failure(obj: dict[str, Any], kind: str) -> tuple[str | None, str | None]:
    if kind == "payment_intent":
        error = _dict(obj.get("last_payment_error"))
        code = optional_text(error.get("code"), "last_payment_error.code") or optional_text(
            error.get("decline_code"), "last_payment_error.decline_code"
        )
        return code, optional_text(error.get("message"), "last_payment_error.message")
    if kind == "charge":
        return (
            optional_text(obj.get("failure_code"), "data.object.failure_code"),
            optional_text(obj.get("failure_message"), "data.object.failure_message"),
        )
    return None, None


def _dict(value: Any) -> dict[str, Any]:
    return as_dict(value)


# The name streams.providers reads this module's mapper by.
map_record = map_stripe_record
