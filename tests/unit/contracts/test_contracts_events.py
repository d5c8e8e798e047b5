import json
from dataclasses import asdict
from datetime import UTC, datetime

import pytest
from temporalio.converter import DataConverter

from contracts import (
    MAX_AMOUNT_MINOR,
    MINOR_UNIT_EXPONENT,
    PAYMENT_EVENT_FIELDS,
    STRIPE_EVENT_TYPES,
    SUPPORTED_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    DeadLetter,
    PaymentEvent,
    ValidationIssue,
    decode_payload,
    encode_payload,
    make_event_id,
)
from contracts.topics import RAW_TOPICS, TOPIC_SPECS
from tests.builders import STRIPE_FIXTURES, make_payment_event

FIXTURES = STRIPE_FIXTURES


def test_the_twenty_contract_currencies_with_their_minor_units():
    assert len(SUPPORTED_CURRENCIES) == 20
    assert ZERO_DECIMAL_CURRENCIES == {"JPY", "KRW"}
    assert MINOR_UNIT_EXPONENT["USD"] == 2
    assert MAX_AMOUNT_MINOR == 100_000_000


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_every_stripe_fixture_type_has_a_normalized_type(path):
    event_type = json.loads(path.read_text())["type"]
    assert event_type in STRIPE_EVENT_TYPES


def test_fixtures_are_present():
    assert len(list(FIXTURES.glob("*.json"))) >= 18


def test_event_ids_carry_the_provider():
    assert make_event_id("stripe", "evt_123") == "stripe:evt_123"


def test_unified_event_has_the_contract_fields():
    assert set(PAYMENT_EVENT_FIELDS) == {
        "event_id", "provider", "provider_event_id", "event_type", "payment_id", "merchant_id",
        "customer_id", "amount_cents", "currency", "payment_method_type", "card_brand",
        "card_last_four", "status", "failure_code", "failure_message", "metadata",
        "provider_created_at", "processed_at", "schema_version",
    }


def test_a_json_object_with_the_same_fields_deserializes_into_the_event():
    converter = DataConverter.default
    event = make_payment_event()
    payloads = converter.payload_converter.to_payloads([event])
    assert converter.payload_converter.from_payloads(payloads, [PaymentEvent]) == [event]
    as_json = json.dumps(asdict(event), default=lambda v: v.isoformat()).encode()
    payloads[0].data = as_json
    assert converter.payload_converter.from_payloads(payloads, [PaymentEvent]) == [event]


def test_dead_letter_round_trips_through_temporal_json():
    converter = DataConverter.default.payload_converter
    letter = DeadLetter(
        event_id="dlq:webhooks.stripe.charge:1:42", source_topic="webhooks.stripe.charge",
        source_partition=1, source_offset=42, payload="{}", payload_encoding="utf-8",
        errors=[ValidationIssue("field.missing", "currency is required", "currency")],
        failed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert letter.error_codes == ["field.missing"]
    assert converter.from_payloads(converter.to_payloads([letter]), [DeadLetter]) == [letter]


@pytest.mark.parametrize("raw", [b'{"a": 1}', b"\xff\xfe poison", b""])
def test_payloads_are_kept_losslessly(raw):
    assert decode_payload(*encode_payload(raw)) == raw


def test_raw_and_payment_topics_have_three_partitions():
    partitions = {s.name: s.partitions for s in TOPIC_SPECS}
    for topic in RAW_TOPICS + ("payments.normalized", "payments.validation.dlq"):
        assert partitions[topic] == 3
