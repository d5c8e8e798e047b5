"""Realistic Adyen, Braintree and Square webhooks for the simulator: deterministic for a seed.

Each event is signed as its provider signs it, and carries both what is posted to the
gateway and what the gateway would write to Kafka, so a run can target either. A share are
failures, exact duplicates (a provider retry) or authentic-but-invalid events that the
normalizer must dead-letter.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from contracts.currencies import MAX_AMOUNT_MINOR, MINOR_UNIT_EXPONENT
from contracts.providers import braintree_key
from streams.simulation.generator import SimulatorMix
from streams.simulation.signing import (
    SQUARE_SIGNATURE_HEADER,
    ProviderKeys,
    adyen_basic_auth,
    adyen_batch_body,
    adyen_record,
    braintree_xml,
    sign_adyen_item,
    sign_braintree_form,
    sign_square,
    square_topic_kind,
)

CURRENCIES = ("USD",) * 5 + ("EUR", "GBP", "JPY", "CAD", "AUD", "KRW")
CARDS = (("visa", "Visa", "VISA", "4242"), ("mc", "MasterCard", "MASTERCARD", "4444"),
         ("amex", "American Express", "AMERICAN_EXPRESS", "8431"))


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    kind: str  # "valid", "duplicate" or "invalid"
    provider: str
    event_type: str  # the provider's own (eventCode, kind or type)
    topic_kind: str  # adyen, braintree, square_payment or square_refund
    key: str  # the gateway's Kafka key
    value: bytes  # the gateway's Kafka value
    http_body: bytes
    http_headers: dict[str, str] = field(default_factory=dict)


def generate_provider_events(provider: str, count: int, *, seed: int,
                             mix: SimulatorMix | None = None, keys: ProviderKeys | None = None,
                             start_ts: int = 1_767_225_600) -> Iterator[ProviderEvent]:
    mix, keys = mix or SimulatorMix(), keys or ProviderKeys()
    build = _BUILDERS[provider]
    rng = random.Random(f"{provider}:{seed}")
    sent: list[ProviderEvent] = []
    for i in range(count):
        roll = rng.random()
        if sent and roll < mix.duplicate_ratio:
            original = rng.choice(sent)
            yield ProviderEvent("duplicate", *_fields(original))
            continue
        invalid = roll < mix.duplicate_ratio + mix.invalid_ratio
        event = build(rng, f"{seed}x{i:08d}", start_ts + i, keys,
                      failed=rng.random() < mix.failure_ratio,
                      invalid=rng.choice(_INVALID[provider]) if invalid else None)
        if not invalid:
            sent.append(event)
        yield event


def _fields(event: ProviderEvent) -> tuple:
    return (event.provider, event.event_type, event.topic_kind, event.key, event.value,
            event.http_body, event.http_headers)


def _money(rng: random.Random, currency: str) -> int:
    major = rng.choice((5, 12, 20, 49, 99, 150, 300))
    return major * (10 ** MINOR_UNIT_EXPONENT[currency]) * (10 if currency == "KRW" else 1)


def _adyen(rng: random.Random, n: str, ts: int, keys: ProviderKeys, *, failed: bool,
           invalid: str | None) -> ProviderEvent:
    currency = rng.choice(CURRENCIES)
    variant, _, _, last4 = rng.choice(CARDS)
    code = "AUTHORISATION" if failed else rng.choice(
        ("AUTHORISATION", "AUTHORISATION", "CAPTURE", "REFUND", "CANCELLATION", "CHARGEBACK"))
    item = {"additionalData": {"cardSummary": last4,
                               "shopperReference": f"shopper-{rng.randrange(1, 500)}"},
            "amount": {"currency": currency, "value": _money(rng, currency)},
            "eventCode": code, "eventDate": _iso(ts, "+00:00"),
            "merchantAccountCode": "PaymentsPipelineECOM",
            "merchantReference": f"order-{rng.randrange(1000, 99999)}",
            "paymentMethod": variant, "pspReference": f"SIM{n}".upper(),
            "reason": "Refused" if failed else "", "success": "false" if failed else "true"}
    if code != "AUTHORISATION":
        item["originalReference"] = f"SIMORIG{n}".upper()
    if invalid == "unknown_code":
        item["eventCode"] = "OFFER_CLOSED"
    elif invalid == "unknown_currency":
        item["amount"]["currency"] = "XYZ"
    elif invalid == "amount_too_large":
        item["amount"]["value"] = MAX_AMOUNT_MINOR + 1
    elif invalid == "bad_last4":
        item["additionalData"]["cardSummary"] = "42"
    sign_adyen_item(item, keys.adyen_hmac_key)
    key, value = adyen_record(item)
    headers = {"Authorization": adyen_basic_auth(keys.adyen_username, keys.adyen_password),
               "Content-Type": "application/json"}
    return ProviderEvent("invalid" if invalid else "valid", "adyen", item["eventCode"], "adyen",
                         key, value, adyen_batch_body([item]), headers)


def _braintree(rng: random.Random, n: str, ts: int, keys: ProviderKeys, *, failed: bool,
               invalid: str | None) -> ProviderEvent:
    currency = rng.choice(CURRENCIES)
    _, card_type, _, last4 = rng.choice(CARDS)
    amount = str(Decimal(_money(rng, currency)).scaleb(-MINOR_UNIT_EXPONENT[currency]))
    if invalid == "fraction_of_minor_unit":
        amount += "5" if MINOR_UNIT_EXPONENT[currency] else ".5"
    elif invalid == "unknown_currency":
        currency = "XYZ"
    kind = rng.choice(("transaction_settlement_declined", "subscription_charged_unsuccessfully")
                      ) if failed else rng.choice(("transaction_settled", "transaction_settled",
                                                   "subscription_charged_successfully",
                                                   "dispute_opened"))
    transaction = {"id": f"txn_sim{n}", "status": "settlement_declined" if failed else "settled",
                   "type": "sale", "currency_iso_code": currency, "amount": amount,
                   "merchant_account_id": "pipeline_merchant", "order_id": f"order-{n}",
                   "payment_instrument_type": "credit_card",
                   "customer": {"id": f"bt_cust_{rng.randrange(1, 500)}"},
                   "credit_card": {"card_type": card_type, "last_4": last4}}
    if failed:
        transaction |= {"processor_response_code": "2001",
                        "processor_response_text": "Insufficient Funds"}
    if kind.startswith("subscription_"):
        tag, subject = "subscription", {"id": f"sub_sim{n}", "transactions": [transaction]}
    elif kind == "dispute_opened":
        tag, subject = "dispute", {"id": f"dp_sim{n}", "amount_disputed": amount,
                                   "currency_iso_code": currency, "status": "open",
                                   "reason": "fraud", "transaction": {"id": f"txn_sim{n}"}}
    else:
        tag, subject = "transaction", transaction
    form = sign_braintree_form(braintree_xml(kind, _iso(ts, "Z"), tag, subject),
                               keys.braintree_public_key, keys.braintree_private_key)
    key = braintree_key(kind, subject["id"], datetime.fromtimestamp(ts, UTC))
    return ProviderEvent("invalid" if invalid else "valid", "braintree", kind, "braintree",
                         key, form, form, {"Content-Type": "application/x-www-form-urlencoded"})


def _square(rng: random.Random, n: str, ts: int, keys: ProviderKeys, *, failed: bool,
            invalid: str | None) -> ProviderEvent:
    currency = rng.choice(CURRENCIES)
    _, _, brand, last4 = rng.choice(CARDS)
    money = {"amount": _money(rng, currency), "currency": currency}
    payment_id = f"sqpay{n}"
    square_type = "payment.created" if failed else rng.choice(
        ("payment.created", "payment.updated", "payment.updated", "refund.created",
         "refund.updated"))
    if invalid == "unknown_status":
        square_type = "payment.updated"  # only a payment's status picks its type
    if square_type.startswith("refund."):
        obj = {"id": f"{payment_id}_refund", "payment_id": payment_id, "amount_money": money,
               "status": "PENDING" if square_type == "refund.created" else "COMPLETED",
               "location_id": "LSIM"}
    else:
        obj = {"id": payment_id, "amount_money": money, "source_type": "CARD",
               "status": "FAILED" if failed else rng.choice(("COMPLETED", "COMPLETED",
                                                             "APPROVED")),
               "customer_id": f"sqcust{rng.randrange(1, 500)}", "location_id": "LSIM",
               "card_details": {"card": {"card_brand": brand, "last_4": last4}}}
        if failed:
            obj["card_details"]["errors"] = [{"code": "GENERIC_DECLINE",
                                              "detail": "Authorization error"}]
    if invalid == "unknown_currency":
        money["currency"] = "XYZ"
    elif invalid == "float_amount":
        money["amount"] += 0.5
    elif invalid == "unknown_status":
        obj["status"] = "VOIDED"
    kind = square_type.split(".", 1)[0]
    body = orjson.dumps({"merchant_id": "SIMMERCHANT", "type": square_type,
                         "event_id": f"sqevt-{n}", "created_at": _iso(ts, "Z"),
                         "data": {"type": kind, "id": obj["id"], "object": {kind: obj}}})
    headers = {SQUARE_SIGNATURE_HEADER: sign_square(body, keys.square_signature_key,
                                                    keys.square_notification_url),
               "Content-Type": "application/json"}
    return ProviderEvent("invalid" if invalid else "valid", "square", square_type,
                         square_topic_kind(square_type), f"sqevt-{n}", body, body, headers)


def _iso(ts: int, zone: str) -> str:
    text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + zone


_BUILDERS: dict[str, Callable[..., ProviderEvent]] = {
    "adyen": _adyen, "braintree": _braintree, "square": _square}
_INVALID = {"adyen": ("unknown_code", "unknown_currency", "amount_too_large", "bad_last4"),
            "braintree": ("fraction_of_minor_unit", "unknown_currency"),
            "square": ("unknown_currency", "float_amount", "unknown_status")}
PROVIDERS = tuple(_BUILDERS)
