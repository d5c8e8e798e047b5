"""Adyen NotificationRequestItem -> PaymentEvent: every fixture, every mapped code, the edges."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from streams_provider_fixtures import adyen_item, adyen_items, adyen_kafka

from contracts.providers import ADYEN_EVENT_TYPES
from streams.providers.adyen import map_adyen_record
from streams.rules import InvalidEventError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FIXTURES = [(path, i) for path, n in (("adyen/authorisation.json", 1), ("adyen/batch.json", 3),
                                      ("adyen/normalizer_modifications.json", 5))
            for i in range(n)]


def codes_of(item: dict, key: bytes | None = None) -> list[str]:
    default_key, value = adyen_kafka(item)
    with pytest.raises(InvalidEventError) as caught:
        map_adyen_record(key if key is not None else default_key, value, NOW)
    return [i.code for i in caught.value.issues]


@pytest.mark.parametrize(("path", "index"), FIXTURES, ids=lambda v: str(v))
def test_every_fixture_item_maps(path, index):
    item = adyen_items(path)[index]
    key, value = adyen_kafka(item)
    event = map_adyen_record(key, value, NOW)
    assert event.event_id == f"adyen:{key.decode()}"
    assert event.provider == "adyen" and event.provider_event_id == key.decode()
    assert event.amount_cents == item["amount"]["value"]
    assert event.currency == item["amount"]["currency"]
    assert event.merchant_id == item["merchantAccountCode"]
    assert event.payment_id == (item.get("originalReference") or item["pspReference"])
    assert event.provider_created_at == datetime.fromisoformat(item["eventDate"]).astimezone(UTC)
    assert event.provider_created_at.tzinfo is UTC


def test_authorisation_fields():
    item = adyen_items("adyen/batch.json")[0]
    event = map_adyen_record(*adyen_kafka(item), NOW)
    assert (event.event_type, event.status) == ("payment.succeeded", "authorised")
    assert (event.payment_method_type, event.card_brand, event.card_last_four) == (
        "card", "mastercard", "1111")
    assert (event.failure_code, event.failure_message) == (None, None)
    assert event.metadata == {"merchant_reference": "order-1001"}


def test_refused_authorisation_carries_the_reason():
    item = adyen_items("adyen/normalizer_modifications.json")[0]
    event = map_adyen_record(*adyen_kafka(item), NOW)
    assert (event.event_type, event.status) == ("payment.failed", "refused")
    assert (event.failure_code, event.failure_message) == ("not_enough_balance",
                                                           "Not enough balance")
    assert event.customer_id == "shopper-77"


def test_refusal_without_reason_falls_back_to_the_code():
    item = adyen_item(success="false", reason="",
                      additionalData={"refusalReasonCode": "2", "cardSummary": "1111"})
    assert map_adyen_record(*adyen_kafka(item), NOW).failure_code == "refusal_2"


@pytest.mark.parametrize(("code", "success"), sorted(ADYEN_EVENT_TYPES))
def test_every_mapped_code(code, success):
    item = adyen_item(eventCode=code, success=success, originalReference="ORIGINAL00000001")
    event = map_adyen_record(*adyen_kafka(item), NOW)
    expected_type, expected_status = ADYEN_EVENT_TYPES[(code, success)]
    assert (event.event_type, event.status) == (expected_type.value, expected_status)
    assert event.payment_id == "ORIGINAL00000001"
    failing = success == "false" or code.endswith("_FAILED")
    assert (event.failure_code is not None) == failing


@pytest.mark.parametrize(("action", "event_type"), [("refund", "refund.created"),
                                                    ("cancel", "payment.canceled")])
def test_cancel_or_refund_follows_the_modification_action(action, event_type):
    item = adyen_item(eventCode="CANCEL_OR_REFUND",
                      additionalData={"modification.action": action})
    assert map_adyen_record(*adyen_kafka(item), NOW).event_type == event_type


def test_jpy_amounts_are_whole_yen():
    item = adyen_items("adyen/normalizer_modifications.json")[4]
    event = map_adyen_record(*adyen_kafka(item), NOW)
    assert (event.event_type, event.amount_cents, event.currency) == (
        "refund.created", 150000, "JPY")


@pytest.mark.parametrize(("overrides", "code"), [
    ({"eventCode": "REPORT_AVAILABLE"}, "event_type.unknown"),
    ({"eventCode": "CANCELLATION", "success": "false"}, "event_type.unknown"),
    ({"eventCode": "CANCEL_OR_REFUND"}, "event_type.unknown"),
    ({"amount": {"value": 10.5, "currency": "USD"}}, "amount.not_integer"),
    ({"amount": {"value": 100_000_001, "currency": "USD"}}, "amount.out_of_range"),
    ({"amount": {"value": 100, "currency": "XYZ"}}, "currency.unsupported"),
    ({"eventDate": "2024-03-01T10:15:00"}, "created.invalid"),
    ({"eventDate": "yesterday"}, "created.invalid"),
    ({"merchantAccountCode": None}, "field.missing"),
    ({"additionalData": {"cardSummary": "12345"}}, "card_last_four.invalid"),
])
def test_invalid_items_are_refused_with_a_code(overrides, code):
    item = adyen_item()
    item.update(overrides)
    assert codes_of(item) == [code]


def test_a_bad_success_value_is_refused():
    item = adyen_item()
    item["success"] = True
    assert codes_of(item, key=b"NC6HT9CRT65ZGN82:AUTHORISATION:true") == ["field.wrong_type"]


def test_key_must_be_the_gateways():
    assert codes_of(adyen_item(), key=b"other:AUTHORISATION:true") == ["key.mismatch"]


def test_every_issue_is_reported_at_once_with_the_key_as_id():
    item = adyen_item(eventCode="NOPE", amount={"value": "1", "currency": "xyz"})
    key, value = adyen_kafka(item)
    with pytest.raises(InvalidEventError) as caught:
        map_adyen_record(key, value, NOW)
    assert [i.code for i in caught.value.issues] == [
        "event_type.unknown", "amount.not_integer", "currency.unsupported"]
    assert (caught.value.provider, caught.value.provider_event_id) == ("adyen", key.decode())


@pytest.mark.parametrize(("key", "value", "code"), [
    (None, orjson.dumps(adyen_items("adyen/batch.json")[0]), "key.missing"),
    (b"", b"{}", "key.missing"),
    (b"\xff\xfe", b"{}", "key.invalid"),
    (b"k:AUTHORISATION:true", b"not json", "payload.not_json"),
    (b"k:AUTHORISATION:true", b"[]", "payload.not_object"),
])
def test_poison_records(key, value, code):
    with pytest.raises(InvalidEventError) as caught:
        map_adyen_record(key, value, NOW)
    assert [i.code for i in caught.value.issues] == [code]
