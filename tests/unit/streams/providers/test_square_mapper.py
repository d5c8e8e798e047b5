"""Square payment.* / refund.* -> PaymentEvent: every fixture, every status, the edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streams_provider_fixtures import square_event, square_kafka

from contracts.providers import SQUARE_PAYMENT_STATUSES
from streams.providers.square import map_square_record
from streams.rules import InvalidEventError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIXTURES = {
    "square/payment.updated.json": ("payment.succeeded", "completed"),
    "square/payment.created.failed.json": ("payment.failed", "failed"),
    "square/payment.created.approved.json": ("payment.authorized", "approved"),
    "square/refund.created.json": ("refund.created", "pending"),
    "square/refund.updated.failed.json": ("refund.failed", "failed"),
}


def codes_of(event: dict, key: bytes | None = None) -> list[str]:
    default_key, value = square_kafka(event)
    with pytest.raises(InvalidEventError) as caught:
        map_square_record(key or default_key, value, NOW)
    return [i.code for i in caught.value.issues]


@pytest.mark.parametrize("path", sorted(FIXTURES))
def test_every_fixture_maps(path):
    body = square_event(path)
    event = map_square_record(*square_kafka(body), NOW)
    kind = body["data"]["type"]
    obj = body["data"]["object"][kind]
    assert (event.event_type, event.status) == FIXTURES[path]
    assert event.event_id == f"square:{body['event_id']}"
    assert event.amount_cents == obj["amount_money"]["amount"]
    assert event.currency == obj["amount_money"]["currency"]
    assert event.payment_id == (obj["id"] if kind == "payment" else obj["payment_id"])
    assert event.merchant_id == body["merchant_id"]
    assert event.provider_created_at == datetime.fromisoformat(body["created_at"])


def test_payment_card_and_failure_fields():
    event = map_square_record(*square_kafka(square_event("square/payment.created.failed.json")),
                              NOW)
    assert (event.payment_method_type, event.card_brand, event.card_last_four) == (
        "card", "mastercard", "9029")
    assert (event.failure_code, event.failure_message) == (
        "generic_decline", "Authorization error: 'GENERIC_DECLINE'")
    assert event.customer_id == "JDKYHBWT1D4F8MFH63DBMEN8Y4"


def test_refund_keeps_its_own_id_and_reason_in_metadata():
    body = square_event("square/refund.created.json")
    event = map_square_record(*square_kafka(body), NOW)
    assert event.metadata["refund_id"] == body["data"]["object"]["refund"]["id"]
    assert event.metadata["reason"] == "Customer returned the item"
    assert event.failure_code is None


def test_failed_refund_without_card_errors_uses_the_status():
    event = map_square_record(*square_kafka(square_event("square/refund.updated.failed.json")),
                              NOW)
    assert (event.failure_code, event.failure_message) == ("failed",
                                                           "Customer returned the item")


@pytest.mark.parametrize("status", sorted(SQUARE_PAYMENT_STATUSES))
@pytest.mark.parametrize("square_type", ["payment.created", "payment.updated"])
def test_every_payment_status(square_type, status):
    body = square_event()
    body["type"] = square_type
    body["data"]["object"]["payment"]["status"] = status
    event = map_square_record(*square_kafka(body), NOW)
    assert event.event_type == SQUARE_PAYMENT_STATUSES[status].value


@pytest.mark.parametrize(("status", "event_type"), [("COMPLETED", "refund.updated"),
                                                    ("PENDING", "refund.updated"),
                                                    ("REJECTED", "refund.failed")])
def test_refund_updated(status, event_type):
    body = square_event("square/refund.created.json")
    body["type"] = "refund.updated"
    body["data"]["object"]["refund"]["status"] = status
    assert map_square_record(*square_kafka(body), NOW).event_type == event_type


def _payment(**overrides) -> dict:
    body = square_event()
    body["data"]["object"]["payment"].update(overrides)
    return body


@pytest.mark.parametrize(("body", "code"), [
    (_payment(status="VOIDED"), "status.unknown"),
    (_payment(amount_money={"amount": 1.5, "currency": "USD"}), "amount.not_integer"),
    (_payment(amount_money={"amount": "100", "currency": "USD"}), "amount.not_integer"),
    (_payment(amount_money={"amount": -1, "currency": "USD"}), "amount.out_of_range"),
    (_payment(amount_money={"amount": 100, "currency": "XYZ"}), "currency.unsupported"),
    (_payment(amount_money=None), "field.missing"),
    (_payment(id=None), "field.missing"),
    (_payment(card_details={"card": {"last_4": "12"}}), "card_last_four.invalid"),
    ({**square_event(), "type": "payment.deleted"}, "event_type.unknown"),
    ({**square_event(), "type": "invoice.created"}, "event_type.unknown"),
    ({**square_event(), "created_at": "2020-11-22 21:16"}, "created.invalid"),
    ({**square_event(), "data": {"object": {}}}, "field.missing"),
])
def test_invalid_events_are_refused_with_a_code(body, code):
    assert set(codes_of(body)) == {code}


def test_refund_needs_its_payment_id():
    body = square_event("square/refund.created.json")
    del body["data"]["object"]["refund"]["payment_id"]
    assert codes_of(body) == ["field.missing"]


def test_key_must_be_the_event_id():
    assert codes_of(square_event(), key=b"another-event-id") == ["key.mismatch"]


@pytest.mark.parametrize(("key", "value", "code"), [
    (None, b"{}", "key.missing"), (b"evt", b"{", "payload.not_json"),
    (b"evt", b'"text"', "payload.not_object")])
def test_poison_records(key, value, code):
    with pytest.raises(InvalidEventError) as caught:
        map_square_record(key, value, NOW)
    assert [i.code for i in caught.value.issues] == [code]
