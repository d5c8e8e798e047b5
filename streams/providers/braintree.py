"""Pure mapping of one Braintree webhook notification into the unified PaymentEvent.

The gateway has verified the signature and writes the url-encoded form body as received,
keyed ``<kind>:<subject id>:<timestamp>`` (``contracts.providers.braintree_key``). Here the
form is only parsed: ``bt_payload`` -> base64 -> the SDK's own XML reader. Amounts are decimal
strings in major units ("10.00"), converted exactly (see ``streams.rules.check_decimal_amount``).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from braintree.util.xml_util import XmlUtil

from contracts.dead_letters import ValidationIssue
from contracts.events import FAILURE_EVENT_TYPES, EventType, PaymentEvent, make_event_id
from contracts.providers import BRAINTREE_EVENT_TYPES, Provider, braintree_key_has_kind
from streams.rules import (
    FieldError,
    InvalidEventError,
    as_dict,
    check_currency,
    check_decimal_amount,
    check_iso_datetime,
    check_last_four,
    decode_key,
    make_collector,
    optional_text,
    require_text,
)

PROVIDER = Provider.BRAINTREE.value
CARD_BRANDS = {"visa": "visa", "mastercard": "mastercard", "american express": "amex",
               "discover": "discover", "jcb": "jcb", "maestro": "maestro",
               "china unionpay": "unionpay", "diners club": "diners", "elo": "elo"}
METHOD_TYPES = {"credit_card": "card", "paypal_account": "paypal", "venmo_account": "venmo",
                "apple_pay_card": "apple_pay", "android_pay_card": "google_pay",
                "us_bank_account": "us_bank_account", "sepa_debit_account": "sepa_debit"}
_FAILURE_TYPES = FAILURE_EVENT_TYPES | {EventType.REFUND_FAILED}


def map_braintree_record(key: bytes | None, raw: bytes, processed_at: datetime) -> PaymentEvent:
    """Decode and map one gateway-written Braintree form body; raises InvalidEventError."""
    provider_event_id = decode_key(key, PROVIDER)
    try:
        notification = decode_notification(raw)
    except FieldError as exc:
        raise InvalidEventError([exc.as_issue()], provider=PROVIDER,
                                provider_event_id=provider_event_id) from None
    return map_braintree_notification(provider_event_id, notification, processed_at)


def decode_notification(raw: bytes) -> dict[str, Any]:
    """The form's bt_payload as the SDK reads it: base64, then XML, into nested dicts."""
    try:
        form = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise FieldError("payload.not_form", "value is not an ASCII url-encoded form") from None
    payloads = form.get("bt_payload", [])
    if len(payloads) != 1 or not payloads[0]:
        raise FieldError("payload.not_form", "the form needs exactly one bt_payload",
                         "bt_payload")
    try:
        xml = base64.decodebytes(payloads[0].encode("ascii"))
        document = XmlUtil.dict_from_xml(xml.decode("utf-8"))
    except (binascii.Error, UnicodeError):
        raise FieldError("payload.not_base64", "bt_payload is not base64 UTF-8 text",
                         "bt_payload") from None
    except Exception as exc:  # noqa: BLE001 - the SDK's XML reader raises many types
        raise FieldError("payload.not_xml", f"bt_payload is not notification XML: "
                         f"{type(exc).__name__}", "bt_payload") from None
    notification = document.get("notification") if isinstance(document, dict) else None
    if not isinstance(notification, dict):
        raise FieldError("payload.not_xml", "bt_payload has no <notification>", "bt_payload")
    return notification


def map_braintree_notification(provider_event_id: str, notification: dict[str, Any],
                               processed_at: datetime) -> PaymentEvent:
    """Map a decoded notification (see BRAINTREE_EVENT_TYPES) to a PaymentEvent."""
    issues: list[ValidationIssue] = []
    check = make_collector(issues)

    kind = check(require_text, notification.get("kind"), "kind")
    if kind and not braintree_key_has_kind(provider_event_id, kind):
        issues.append(ValidationIssue(
            "key.mismatch", f"key {provider_event_id!r} does not start with the kind", "key"))
    event_type = BRAINTREE_EVENT_TYPES.get(kind) if kind else None
    if kind and event_type is None:
        issues.append(ValidationIssue("event_type.unknown",
                                      f"Braintree kind {kind!r} has no normalized type", "kind"))
    created = check(_timestamp, notification.get("timestamp"))
    if event_type is None:
        # Without a known kind nothing says where the money is; the rest would be noise.
        raise InvalidEventError(issues, provider=PROVIDER, provider_event_id=provider_event_id)
    subject = as_dict(notification.get("subject"))
    is_dispute = kind.startswith("dispute_")
    source, where = _source(subject, kind)
    if not source:
        issues.append(ValidationIssue("field.missing", f"{where} must be an object", where))

    currency = check(check_currency, source.get("currency_iso_code"),
                     f"{where}.currency_iso_code")
    amount_text = source.get("amount_disputed") or source.get("amount") if is_dispute \
        else source.get("amount")
    amount = check(check_decimal_amount, amount_text, currency, f"{where}.amount") \
        if currency else None
    status = check(require_text, source.get("status"), f"{where}.status") \
        if source else None
    payment_id = check(_payment_id, source, kind, where) if source else None
    merchant_id = check(optional_text, source.get("merchant_account_id"),
                        f"{where}.merchant_account_id")
    customer_id = check(optional_text, as_dict(source.get("customer")).get("id"),
                        f"{where}.customer.id")
    card = as_dict(source.get("credit_card"))
    brand = check(optional_text, card.get("card_type"), "credit_card.card_type")
    last_four = check(check_last_four, card.get("last_4"), "credit_card.last_4")
    instrument = check(optional_text, source.get("payment_instrument_type"),
                       f"{where}.payment_instrument_type")
    failure_code, failure_message = (
        check(_failure, source, status) if event_type in _FAILURE_TYPES else None
    ) or (None, None)
    metadata = check(_metadata, subject, source, kind) or {}

    if issues:
        raise InvalidEventError(issues, provider=PROVIDER, provider_event_id=provider_event_id)
    brand_name = brand.lower() if brand else None
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
        payment_id=payment_id,
        merchant_id=merchant_id,
        customer_id=customer_id,
        payment_method_type=METHOD_TYPES.get(instrument, instrument) if instrument else (
            "card" if card else None),
        card_brand=CARD_BRANDS.get(brand_name, brand_name) if brand_name != "unknown" else None,
        card_last_four=last_four,
        failure_code=failure_code,
        failure_message=failure_message,
        metadata=metadata,
    )


def _timestamp(value: Any) -> datetime:
    # The SDK reads type="datetime" as a naive datetime; Braintree sends UTC ("...Z").
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return check_iso_datetime(value, "timestamp")


def _source(subject: dict[str, Any], kind: str) -> tuple[dict[str, Any], str]:
    """The object that carries the money: the dispute, the subscription's latest
    transaction (Braintree lists the newest first) or the transaction itself."""
    if kind.startswith("dispute_"):
        return as_dict(subject.get("dispute")), "subject.dispute"
    if kind.startswith("subscription_"):
        transactions = as_dict(subject.get("subscription")).get("transactions")
        latest = transactions[0] if isinstance(transactions, list) and transactions else None
        return as_dict(latest), "subject.subscription.transactions[0]"
    return as_dict(subject.get("transaction")), "subject.transaction"


def _payment_id(source: dict[str, Any], kind: str, where: str) -> str:
    if kind.startswith("dispute_"):
        # The disputed transaction is the payment; the dispute id goes to metadata.
        return require_text(as_dict(source.get("transaction")).get("id"),
                            f"{where}.transaction.id")
    if kind == "refund_failed":
        # The subject is the refund (a credit); the payment is the sale it refunds.
        return optional_text(source.get("refunded_transaction_id"),
                             f"{where}.refunded_transaction_id") or require_text(
            source.get("id"), f"{where}.id")
    return require_text(source.get("id"), f"{where}.id")


def _failure(source: dict[str, Any], status: str | None) -> tuple[str | None, str | None]:
    """A gateway rejection reason, else the processor's (settlement) response code and text."""
    for code_field, text_field in (
            ("gateway_rejection_reason", "gateway_rejection_reason"),
            ("processor_settlement_response_code", "processor_settlement_response_text"),
            ("processor_response_code", "processor_response_text")):
        code = optional_text(source.get(code_field), code_field)
        if code:
            return code, optional_text(source.get(text_field), text_field)
    return status, None


def _metadata(subject: dict[str, Any], source: dict[str, Any], kind: str) -> dict[str, str]:
    metadata: dict[str, str] = {}
    if kind.startswith("dispute_"):
        names = {"dispute_id": "id", "dispute_reason": "reason", "dispute_kind": "kind"}
    else:
        names = {"order_id": "order_id", "subscription_id": "subscription_id"}
        if kind == "refund_failed":
            names["refund_id"] = "id"
    for name, field in names.items():
        text = optional_text(source.get(field), field)
        if text:
            metadata[name] = text
    if kind.startswith("subscription_"):
        subscription_id = optional_text(as_dict(subject.get("subscription")).get("id"),
                                        "subscription.id")
        if subscription_id:
            metadata["subscription_id"] = subscription_id
    return metadata


# The name streams.providers reads this module's mapper by.
map_record = map_braintree_record
