"""Braintree notification -> PaymentEvent: fixtures, every mapped kind, exact decimal amounts."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streams_provider_fixtures import (
    braintree_kafka,
    braintree_transaction,
    read_fixture,
)

from contracts.currencies import MINOR_UNIT_EXPONENT
from contracts.providers import BRAINTREE_EVENT_TYPES
from gateway.providers.braintree import BraintreeProvider
from streams.providers.braintree import map_braintree_record
from streams.rules import FieldError, InvalidEventError, check_decimal_amount
from streams.simulation.signing import ProviderKeys

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = ProviderKeys()
FIXTURES = {
    "transaction_settled": ("payment.succeeded", 10000, "USD", "txn_fixture_0001"),
    "dispute_opened": ("dispute.created", 10000, "USD", "dispute_fixture_0001"),
    "transaction_settlement_declined_card": ("payment.failed", 4999, "USD",
                                             "txn_declined_0001"),
    "transaction_settled_jpy": ("payment.succeeded", 1500, "JPY", "txn_jpy_0001"),
    "subscription_charged_unsuccessfully_card": ("payment.failed", 1999, "EUR",
                                                 "txn_sub_0002"),
}


def gateway_key(form: bytes) -> bytes:
    """The key the real gateway derives for a form, so fixtures are checked end to end."""
    provider = BraintreeProvider("pipeline_merchant", KEYS.braintree_public_key,
                                 KEYS.braintree_private_key)
    [verified] = provider.verify(form, {})
    return verified.event_id.encode()


def codes_of(key: bytes, value: bytes) -> list[str]:
    with pytest.raises(InvalidEventError) as caught:
        map_braintree_record(key, value, NOW)
    return [i.code for i in caught.value.issues]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_fixture_maps(name):
    form = read_fixture(f"braintree/{name}.form")
    key = gateway_key(form)
    event = map_braintree_record(key, form, NOW)
    assert event.event_id == f"braintree:{key.decode()}"
    assert (event.event_type, event.amount_cents, event.currency, event.payment_id) == (
        FIXTURES[name])
    assert event.provider_created_at.tzinfo is UTC


def test_card_customer_and_failure_fields():
    form = read_fixture("braintree/transaction_settlement_declined_card.form")
    event = map_braintree_record(gateway_key(form), form, NOW)
    assert (event.payment_method_type, event.card_brand, event.card_last_four) == (
        "card", "mastercard", "4444")
    assert (event.customer_id, event.merchant_id) == ("bt_customer_42", "pipeline_merchant_usd")
    assert (event.failure_code, event.failure_message) == ("4001", "Settlement Declined")
    assert event.provider_created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_subscription_uses_its_latest_transaction():
    form = read_fixture("braintree/subscription_charged_unsuccessfully_card.form")
    event = map_braintree_record(gateway_key(form), form, NOW)
    assert (event.failure_code, event.failure_message) == ("2001", "Insufficient Funds")
    assert event.metadata["subscription_id"] == "sub_0001"


def test_dispute_points_at_the_disputed_transaction():
    form = read_fixture("braintree/dispute_opened.form")
    event = map_braintree_record(gateway_key(form), form, NOW)
    assert (event.status, event.metadata["dispute_id"], event.metadata["dispute_reason"]) == (
        "open", "dispute_fixture_0001", "fraud")


def _subject(kind: str) -> tuple[str, dict]:
    if kind.startswith("dispute_"):
        return "dispute", {"id": "dp_1", "amount_disputed": "5.00", "amount": "5.00",
                           "currency_iso_code": "USD", "status": "open",
                           "transaction": {"id": "txn_disputed", "amount": "5.00"}}
    if kind.startswith("subscription_"):
        return "subscription", {"id": "sub_1", "transactions": [braintree_transaction()]}
    if kind == "refund_failed":
        return "transaction", braintree_transaction(type="credit", status="processor_declined",
                                                    refunded_transaction_id="txn_sale")
    return "transaction", braintree_transaction()


@pytest.mark.parametrize("kind", sorted(BRAINTREE_EVENT_TYPES))
def test_every_mapped_kind(kind):
    tag, subject = _subject(kind)
    event = map_braintree_record(*braintree_kafka(kind, subject, tag), NOW)
    assert event.event_type == BRAINTREE_EVENT_TYPES[kind].value
    expected_payment = {"dispute": "txn_disputed"}.get(tag, "txn_unit_1")
    if kind == "refund_failed":
        expected_payment = "txn_sale"
    assert event.payment_id == expected_payment


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("10.00", "USD", 1000), ("10", "USD", 1000), ("0.01", "USD", 1), ("10.5", "USD", 1050),
    ("10.050", "USD", 1005), ("1500", "JPY", 1500), ("1500.0", "JPY", 1500),
    ("1000000.00", "USD", 100_000_000), ("0", "KRW", 0),
])
def test_decimal_amounts_convert_exactly(amount, currency, minor):
    assert check_decimal_amount(amount, currency) == minor


@pytest.mark.parametrize(("amount", "currency", "code"), [
    ("10.005", "USD", "amount.not_minor_unit"), ("10.5", "JPY", "amount.not_minor_unit"),
    ("0.001", "EUR", "amount.not_minor_unit"), ("1000000.01", "USD", "amount.out_of_range"),
    ("-1.00", "USD", "amount.invalid"), ("1e3", "USD", "amount.invalid"),
    ("NaN", "USD", "amount.invalid"), ("1,000.00", "USD", "amount.invalid"),
    ("", "USD", "field.missing"), (None, "USD", "field.missing"),
])
def test_decimal_amounts_that_are_refused(amount, currency, code):
    with pytest.raises(FieldError) as caught:
        check_decimal_amount(amount, currency)
    assert caught.value.code == code


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100_000_000), st.sampled_from(sorted(MINOR_UNIT_EXPONENT)))
def test_decimal_round_trip_never_loses_a_minor_unit(minor, currency):
    text = str(Decimal(minor).scaleb(-MINOR_UNIT_EXPONENT[currency]))
    assert check_decimal_amount(text, currency) == minor


@pytest.mark.parametrize(("overrides", "code"), [
    ({"amount": "10.005"}, "amount.not_minor_unit"),
    ({"amount": "10.5", "currency_iso_code": "JPY"}, "amount.not_minor_unit"),
    ({"currency_iso_code": "XYZ"}, "currency.unsupported"),
    ({"currency_iso_code": None}, "field.missing"),
    ({"credit_card": {"card_type": "Visa", "last_4": "42"}}, "card_last_four.invalid"),
    ({"id": None}, "field.missing"),
])
def test_invalid_transactions_are_refused_with_a_code(overrides, code):
    transaction = braintree_transaction(**overrides)
    key, form = braintree_kafka(subject=transaction)
    assert codes_of(key, form) == [code]


def test_unknown_kind_is_refused():
    key, form = braintree_kafka("check", {"id": "x"}, "check")
    assert codes_of(key, form) == ["event_type.unknown"]


def test_key_must_start_with_the_kind():
    _, form = braintree_kafka()
    assert codes_of(b"dispute_opened:x:2026-01-02T03:04:05Z", form) == ["key.mismatch"]


@pytest.mark.parametrize(("value", "code"), [
    (b"\xff\xfe", "payload.not_form"), (b"bt_signature=a|b", "payload.not_form"),
    (urlencode({"bt_payload": "!!!"}).encode(), "payload.not_xml"),
    (urlencode({"bt_payload": base64.b64encode(b"<notification")}).encode(), "payload.not_xml"),
    (urlencode({"bt_payload": base64.b64encode(b"<other/>")}).encode(), "payload.not_xml"),
    (urlencode({"bt_payload": base64.b64encode(b"\xff<x/>")}).encode(), "payload.not_base64"),
])
def test_poison_forms(value, code):
    assert codes_of(b"transaction_settled:x:2026-01-02T03:04:05Z", value) == [code]
