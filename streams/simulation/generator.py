"""Realistic Stripe webhook events for the simulator: pure and deterministic for a seed.

Bodies are shaped like the Stripe CLI fixtures; a share are payment failures, exact
duplicates (a provider retry) or invalid events, so a run exercises every branch.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from contracts.currencies import MAX_AMOUNT_MINOR, is_zero_decimal

CURRENCIES = ("usd",) * 6 + ("eur", "gbp", "jpy", "cad", "aud", "krw", "brl", "inr")
CARDS = (("visa", "4242"), ("mastercard", "4444"), ("amex", "8431"), ("visa", "0002"))
DECLINES = (("card_declined", "insufficient_funds", "Your card has insufficient funds."),
            ("card_declined", "generic_decline", "Your card was declined."),
            ("expired_card", None, "Your card has expired."),
            ("incorrect_cvc", None, "Your card's security code is incorrect."))
INVALID_KINDS = ("float_amount", "unknown_currency", "amount_too_large", "missing_id",
                 "not_json", "bad_last4")


@dataclass(frozen=True, slots=True)
class SimulatorMix:
    failure_ratio: float = 0.15
    duplicate_ratio: float = 0.05
    invalid_ratio: float = 0.03


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    kind: str  # "valid", "duplicate" or "invalid"
    stripe_type: str
    key: str  # the provider event id, the raw topics' key
    body: bytes


def raw_topic_kind(stripe_type: str) -> str:
    """Which raw topic a Stripe type lands on: payment_intent, charge or refund."""
    if stripe_type.startswith(("refund.", "charge.refund.")):
        return "refund"
    if stripe_type.startswith("payment_intent."):
        return "payment_intent"
    return "charge"


def generate_events(count: int, *, seed: int, mix: SimulatorMix | None = None,
                    start_ts: int = 1_767_225_600) -> Iterator[GeneratedEvent]:
    mix = mix or SimulatorMix()
    rng = random.Random(seed)
    sent: list[GeneratedEvent] = []
    for i in range(count):
        roll = rng.random()
        if sent and roll < mix.duplicate_ratio:
            original = rng.choice(sent)
            yield GeneratedEvent("duplicate", original.stripe_type, original.key, original.body)
            continue
        event_id = f"evt_sim{seed}_{i:08d}"
        event = _valid_event(rng, event_id, start_ts + i, failed=rng.random() < mix.failure_ratio)
        if roll < mix.duplicate_ratio + mix.invalid_ratio:
            generated = _invalid(rng, event)
        else:
            generated = GeneratedEvent("valid", event["type"], event_id, orjson.dumps(event))
            sent.append(generated)
        yield generated


def _amount(rng: random.Random, currency: str) -> int:
    major = rng.choice((5, 12, 20, 49, 99, 150, 300, 1200))
    # Zero-decimal amounts are whole yen / won, so a realistic price is a larger integer.
    if is_zero_decimal(currency):
        return major * (1000 if currency == "krw" else 100)
    return major * 100


def _valid_event(rng: random.Random, event_id: str, created: int, *, failed: bool) -> dict:
    currency = rng.choice(CURRENCIES)
    amount = _amount(rng, currency)
    brand, last4 = rng.choice(CARDS)
    customer = f"cus_{rng.randrange(1, 500):06d}"
    n = int(event_id.rsplit("_", 1)[1])
    pi_id, ch_id = f"pi_sim{n:010d}", f"ch_sim{n:010d}"
    card = {"type": "card", "card": {"brand": brand, "last4": last4, "exp_month": 12,
                                     "exp_year": 2030, "funding": "credit", "country": "US"}}
    metadata = {"order_id": str(rng.randrange(1000, 99999)),
                "merchant_id": f"acct_m{rng.randrange(1, 20):03d}"}
    kind = rng.choice(("payment_intent", "charge", "charge", "refund", "dispute")) if not failed \
        else rng.choice(("payment_intent", "charge"))
    if kind == "payment_intent":
        obj = {"id": pi_id, "object": "payment_intent", "amount": amount, "currency": currency,
               "customer": customer, "metadata": metadata,
               "status": "requires_payment_method" if failed else "succeeded",
               "charges": {"object": "list", "data": [
                   {"id": ch_id, "object": "charge", "payment_method_details": card}]}}
        if failed:
            code, decline, message = rng.choice(DECLINES)
            obj["last_payment_error"] = {"code": code, "decline_code": decline,
                                         "message": message, "charge": ch_id}
        stripe_type = "payment_intent.payment_failed" if failed else "payment_intent.succeeded"
    elif kind == "charge":
        code, _, message = rng.choice(DECLINES) if failed else (None, None, None)
        obj = {"id": ch_id, "object": "charge", "amount": amount, "currency": currency,
               "customer": customer, "payment_intent": pi_id, "metadata": metadata,
               "status": "failed" if failed else "succeeded", "paid": not failed,
               "failure_code": code, "failure_message": message,
               "payment_method_details": card}
        stripe_type = "charge.failed" if failed else "charge.succeeded"
    elif kind == "refund":
        obj = {"id": f"re_sim{n:010d}", "object": "refund", "amount": amount // 2,
               "currency": currency, "charge": ch_id, "payment_intent": pi_id,
               "metadata": metadata, "status": "succeeded"}
        stripe_type = "charge.refund.updated"
    else:
        obj = {"id": f"dp_sim{n:010d}", "object": "dispute", "amount": amount,
               "currency": currency, "charge": ch_id, "payment_intent": pi_id,
               "metadata": {}, "reason": "fraudulent", "status": "warning_needs_response"}
        stripe_type = "charge.dispute.created"
    return {"id": event_id, "object": "event", "api_version": "2020-08-27", "created": created,
            "livemode": False, "pending_webhooks": 1, "type": stripe_type,
            "data": {"object": obj}}


def _invalid(rng: random.Random, event: dict) -> GeneratedEvent:
    kind = rng.choice(INVALID_KINDS)
    obj = event["data"]["object"]
    if kind == "not_json":
        return GeneratedEvent("invalid", event["type"], event["id"],
                              b'{"id": "' + event["id"].encode() + b'", "type": ')
    if kind == "float_amount":
        obj["amount"] = obj["amount"] + 0.5
    elif kind == "unknown_currency":
        obj["currency"] = "xyz"
    elif kind == "amount_too_large":
        obj["amount"] = MAX_AMOUNT_MINOR + 1
    elif kind == "missing_id":
        event["id"] = "null"
    else:
        obj["object"], obj["id"] = "charge", obj.get("id") or "ch_x"
        obj["payment_method_details"] = {"type": "card", "card": {"brand": "visa",
                                                                  "last4": "4242424242424242"}}
        event["type"] = "charge.succeeded"
    key = event["id"] if event["id"] != "null" else f"evt_invalid_{rng.randrange(10**9)}"
    return GeneratedEvent("invalid", event["type"], key, orjson.dumps(event))
