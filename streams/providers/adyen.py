"""Pure mapping of one Adyen NotificationRequestItem into the unified PaymentEvent.

The gateway writes each authentic item alone, as JSON, keyed ``<pspReference>:<eventCode>:
<success>``; that key is the provider event id. The event type comes from eventCode and
success (see ``contracts.providers.ADYEN_EVENT_TYPES``); the key is
``contracts.providers.adyen_key``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from contracts.dead_letters import ValidationIssue
from contracts.events import EventType, PaymentEvent, make_event_id
from contracts.providers import ADYEN_CANCEL_OR_REFUND, ADYEN_EVENT_TYPES, Provider, adyen_key
from streams.rules import (
    FieldError,
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

PROVIDER = Provider.ADYEN.value
# Adyen's paymentMethod variant -> card brand; a variant not listed is not a card.
CARD_BRANDS = {"visa": "visa", "mc": "mastercard", "amex": "amex", "discover": "discover",
               "jcb": "jcb", "diners": "diners", "cup": "unionpay", "maestro": "maestro",
               "cartebancaire": "cartes_bancaires"}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def map_adyen_record(key: bytes | None, raw: bytes, processed_at: datetime) -> PaymentEvent:
    """Decode and map one gateway-written Adyen item; raises InvalidEventError."""
    provider_event_id, item = decode_keyed_json(key, raw, PROVIDER)
    return map_adyen_item(provider_event_id, item, processed_at)


def map_adyen_item(provider_event_id: str, item: dict[str, Any],
                   processed_at: datetime) -> PaymentEvent:
    """Map a decoded NotificationRequestItem (no wrapper) to a PaymentEvent."""
    issues: list[ValidationIssue] = []
    check = make_collector(issues)
    additional = as_dict(item.get("additionalData"))

    psp = check(require_text, item.get("pspReference"), "pspReference")
    code = check(require_text, item.get("eventCode"), "eventCode")
    success = check(_success, item.get("success"))
    if psp and code and success and provider_event_id != adyen_key(psp, code, success):
        issues.append(ValidationIssue(
            "key.mismatch", f"key {provider_event_id!r} is not pspReference:eventCode:success",
            "key"))
    mapped = _event_type(code, success, additional) if code and success else None
    if code and success and mapped is None:
        issues.append(ValidationIssue(
            "event_type.unknown", f"unknown Adyen eventCode {code!r} with success={success}",
            "eventCode"))
    amount_obj = as_dict(item.get("amount"))
    amount = check(check_amount, amount_obj.get("value"), "amount.value")
    currency = check(check_currency, amount_obj.get("currency"), "amount.currency")
    created = check(check_iso_datetime, item.get("eventDate"), "eventDate")
    merchant_id = check(require_text, item.get("merchantAccountCode"),
                        "merchantAccountCode")
    # A modification (refund, capture, cancel) names the payment it changes.
    original = check(optional_text, item.get("originalReference"), "originalReference")
    customer_id = check(optional_text, additional.get("shopperReference"),
                        "additionalData.shopperReference")
    method = check(optional_text, item.get("paymentMethod"), "paymentMethod")
    last_four = check(check_last_four, additional.get("cardSummary"),
                      "additionalData.cardSummary")
    metadata = check(_metadata, item, additional) or {}
    failure_code, failure_message = (
        check(_failure, item, additional) if _is_failure(code, success) else None
    ) or (None, None)

    if issues:
        raise InvalidEventError(issues, provider=PROVIDER, provider_event_id=provider_event_id)
    event_type, status = mapped
    method_type, brand = _payment_method(method)
    return PaymentEvent(
        event_id=make_event_id(PROVIDER, provider_event_id),
        provider=PROVIDER,
        provider_event_id=provider_event_id,
        event_type=event_type.value,
        amount_cents=amount,
        currency=currency,
        status=status,
        provider_created_at=created,
        processed_at=processed_at,
        payment_id=original or psp,
        merchant_id=merchant_id,
        customer_id=customer_id,
        payment_method_type=method_type,
        card_brand=brand,
        card_last_four=last_four if brand else None,
        failure_code=failure_code,
        failure_message=failure_message,
        metadata=metadata,
    )


def _success(value: Any) -> str:
    text = require_text(value, "success")
    if text not in ("true", "false"):
        raise FieldError("success.invalid", "success must be 'true' or 'false'", "success")
    return text


def _event_type(code: str, success: str,
                additional: dict[str, Any]) -> tuple[EventType, str] | None:
    if code == "CANCEL_OR_REFUND" and success == "true":
        return ADYEN_CANCEL_OR_REFUND.get(str(additional.get("modification.action", "")))
    return ADYEN_EVENT_TYPES.get((code, success))


def _is_failure(code: str | None, success: str | None) -> bool:
    return success == "false" or bool(code and code.endswith("_FAILED"))


def _failure(item: dict[str, Any], additional: dict[str, Any]) -> tuple[str, str | None]:
    """Adyen sends a refusal as free text in ``reason``; its slug is the failure code."""
    reason = optional_text(item.get("reason"), "reason")
    code = optional_text(additional.get("refusalReasonCode"), "additionalData.refusalReasonCode")
    slug = _NOT_SLUG.sub("_", reason.lower()).strip("_") if reason else ""
    return slug or (f"refusal_{code}" if code else "refused"), reason


def _payment_method(method: str | None) -> tuple[str | None, str | None]:
    if not method:
        return None, None
    # Wallet variants ("visa_applepay") are still that card brand underneath.
    brand = CARD_BRANDS.get(method.lower().split("_", 1)[0])
    return ("card", brand) if brand else (method.lower(), None)


def _metadata(item: dict[str, Any], additional: dict[str, Any]) -> dict[str, str]:
    """merchantReference, plus the ``metadata.*`` entries Adyen passes in additionalData."""
    metadata = {key.removeprefix("metadata."): str(value)
                for key, value in additional.items()
                if key.startswith("metadata.") and value is not None}
    reference = optional_text(item.get("merchantReference"), "merchantReference")
    if reference:
        metadata["merchant_reference"] = reference
    return metadata


# The name streams.providers reads this module's mapper by.
map_record = map_adyen_record
