"""Stripe event -> PaymentEvent: every fixture, and every named edge case."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import orjson
import pytest

from contracts.events import STRIPE_EVENT_TYPES, PaymentEvent
from streams.providers.stripe import map_stripe_bytes, map_stripe_event
from streams.rules import InvalidEventError
from tests.builders import STRIPE_FIXTURES

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIXTURES = sorted(STRIPE_FIXTURES.glob("*.json"))


def issue_codes(payload) -> list[str]:
    with pytest.raises(InvalidEventError) as caught:
        map_stripe_event(payload, NOW)
    return [i.code for i in caught.value.issues]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_maps_to_a_payment_event(path):
    raw = path.read_bytes()
    payload = orjson.loads(raw)
    event = map_stripe_bytes(raw, NOW)

    assert isinstance(event, PaymentEvent)
    assert event.event_id == f"stripe:{payload['id']}"
    assert event.event_type == STRIPE_EVENT_TYPES[payload["type"]].value
    assert event.amount_cents == payload["data"]["object"]["amount"]
    assert event.currency == payload["data"]["object"]["currency"].upper()
    assert event.provider_created_at == datetime.fromtimestamp(payload["created"], UTC)
    assert event.processed_at == NOW
    assert event.card_last_four is None or (len(event.card_last_four) == 4
                                            and event.card_last_four.isdigit())
    assert all(isinstance(v, str) for v in event.metadata.values())
    obj = payload["data"]["object"]
    expected_payment_id = obj.get("charge") or obj.get("payment_intent") if obj.get(
        "object") in {"refund", "dispute"} else obj["id"]
    assert event.payment_id == expected_payment_id
    assert event.payment_id.startswith(("pi_", "ch_"))


def test_payment_intent_failure_fields(stripe_event):
    event = map_stripe_event(stripe_event("payment_intent.payment_failed"), NOW)
    assert (event.failure_code, event.failure_message) == ("card_declined",
                                                           "Your card was declined.")
    assert (event.payment_method_type, event.card_brand, event.card_last_four) == (
        "card", "visa", "0002")


def test_payment_intent_card_from_last_payment_error_when_no_charges(stripe_event):
    event = map_stripe_event(stripe_event("payment_intent.payment_failed", charges=None), NOW)
    assert (event.payment_method_type, event.card_brand, event.card_last_four) == (
        "card", "visa", "0002")


def test_charge_failure_fields(stripe_event):
    event = map_stripe_event(stripe_event("charge.failed"), NOW)
    assert event.failure_code == "card_declined"
    assert event.payment_id.startswith("ch_")


def test_no_card_data_but_last_four_and_brand_survive(stripe_event):
    event = map_stripe_event(stripe_event("charge.succeeded"), NOW)
    dumped = orjson.dumps(dataclasses.asdict(event)).decode()
    for secret in ("fingerprint", "exp_month", "exp_year", "kMzSwhaalD1uR96R"):
        assert secret not in dumped


def test_merchant_from_account_then_metadata(stripe_event):
    payload = stripe_event("charge.succeeded", metadata={"merchant_id": "m_meta"})
    assert map_stripe_event(payload, NOW).merchant_id == "m_meta"
    payload["account"] = "acct_123"
    assert map_stripe_event(payload, NOW).merchant_id == "acct_123"
    assert map_stripe_event(stripe_event("charge.succeeded"), NOW).merchant_id is None


def test_jpy_amount_is_not_scaled(stripe_event):
    event = map_stripe_event(stripe_event(currency="jpy", amount=100_000_000), NOW)
    assert (event.amount_cents, event.currency) == (100_000_000, "JPY")
    assert issue_codes(stripe_event(currency="jpy", amount=100_000_001)) == [
        "amount.out_of_range"]


def test_null_spellings_are_normalized(stripe_event):
    event = map_stripe_event(stripe_event(customer="NULL", description="None"), NOW)
    assert event.customer_id is None
    assert issue_codes(stripe_event(currency="null")) == ["field.missing"]


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({"amount": 10.5}, ["amount.not_integer"]),
        ({"amount": "2000"}, ["amount.not_integer"]),
        ({"amount": True}, ["amount.not_integer"]),
        ({"amount": -5}, ["amount.out_of_range"]),
        ({"amount": None}, ["field.missing"]),
        ({"currency": "XYZ"}, ["currency.unsupported"]),
        ({"id": ""}, ["field.missing"]),
        ({"metadata": "oops"}, ["metadata.invalid"]),
        ({"amount": 1.5, "currency": "XYZ"}, ["amount.not_integer", "currency.unsupported"]),
    ],
)
def test_invalid_object_fields(stripe_event, overrides, codes):
    assert issue_codes(stripe_event("charge.succeeded", **overrides)) == codes


def test_bad_last_four_is_rejected(stripe_event):
    payload = stripe_event("charge.succeeded")
    payload["data"]["object"]["payment_method_details"]["card"]["last4"] = "4242424242424242"
    assert issue_codes(payload) == ["card_last_four.invalid"]


def test_unknown_type_and_missing_envelope_fields(stripe_event):
    payload = stripe_event()
    payload["type"] = "invoice.paid"
    assert issue_codes(payload) == ["event_type.unknown"]
    payload = stripe_event()
    del payload["created"]
    assert issue_codes(payload) == ["field.missing"]
    payload = stripe_event()
    payload["data"] = "nope"
    assert "field.missing" in issue_codes(payload)


def test_invalid_error_carries_the_provider_event_id(stripe_event):
    payload = stripe_event(amount=10.5)
    with pytest.raises(InvalidEventError) as caught:
        map_stripe_event(payload, NOW)
    assert (caught.value.provider, caught.value.provider_event_id) == ("stripe", payload["id"])
