"""Every dead letter the streams build or read carries its payload redacted by the data map:
the normalizer's, the gateway's (webhooks.dlq), and one any client wrote to the open
payments.validation.dlq, whatever it claims. The original's sha256 and coordinates stay.
The normalized event carries only what the data map keeps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson
import pytest

from contracts.dead_letters import DeadLetter, ValidationIssue
from streams import starter
from streams.codecs import build_dead_letter, decode_dead_letter, decode_event
from streams.gateway_letters import gateway_dead_letter
from streams.outputs import OutputTopics, build_output
from streams.providers import PROVIDER_STREAMS
from streams.records import to_letter
from streams.schemas import DeadLetteringSchema
from tests.fixture_fields import fixture_records, found_in, sensitive_values

NOW = datetime(2026, 1, 2, tzinfo=UTC)
PROVIDER_MAPPERS = {streams.provider: streams.mapper for streams in PROVIDER_STREAMS}
RECORDS = [r for r in fixture_records() if sensitive_values(r)]


class Message:
    def __init__(self, value: bytes) -> None:
        self.topic, self.value, self.partition, self.offset = "payments.validation.dlq", value, 0, 3
        self.key, self.headers = b"k", []


def leaks(letter: DeadLetter, record) -> list[str]:
    return [v for v in sensitive_values(record) if found_in(v, letter.payload)]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.provider}:{r.name}")
def test_the_normalizers_and_the_gateways_letters_keep_no_sensitive_value(record):
    issue = ValidationIssue("amount.not_integer", "bad")
    built = build_dead_letter(record.value, [issue], topic="webhooks.x", partition=1, offset=2,
                              failed_at=NOW, provider=record.provider)
    gateway = gateway_dead_letter(record.value, record.key, [("reason", b"unknown_event_type")],
                                  topic="webhooks.dlq", partition=0, offset=4, now=NOW)
    for letter in (built, gateway):
        assert not leaks(letter, record)
        assert letter.payload_redaction == "redacted"
        assert letter.payload_sha256 == hashlib.sha256(record.value).hexdigest()
        assert letter.payload_length == len(record.value)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: f"{r.provider}:{r.name}")
@pytest.mark.parametrize("claim", [None, "redacted"])
def test_a_letter_someone_else_wrote_is_redacted_when_read(record, claim):
    injected = orjson.dumps({
        "event_id": "stripe:evt_injected", "source_topic": "webhooks.x", "source_partition": 0,
        "source_offset": 1, "payload": record.value.decode(), "payload_encoding": "utf-8",
        "errors": [{"code": "x", "message": "y", "field": None}], "failed_at": NOW.isoformat(),
        "payload_sha256": "0" * 64, "payload_length": len(record.value),
        "payload_redaction": claim})
    schema = starter.dlq_topic.schema
    assert isinstance(schema, DeadLetteringSchema)
    started = to_letter(schema.loads_value(starter.app, Message(injected)))
    decoded = decode_dead_letter(injected)
    for letter in (started, decoded):
        assert not leaks(letter, record)
        assert letter.payload_redaction == "redacted" and letter.payload_sha256 == "0" * 64
        assert letter.error_codes == ["x"]  # read as the letter it is, not as poison


def test_the_normalizer_publishes_the_event_the_data_map_keeps(stripe_event):
    payload = stripe_event("charge.succeeded", metadata={"order_id": "o-1", "email": "a@b.co",
                                                         "customer_name": "Jenny Rosen"})
    message = Message(orjson.dumps(payload))
    message.topic = "webhooks.stripe.charge"
    out = build_output(message, "stripe", PROVIDER_MAPPERS["stripe"], NOW,
                       OutputTopics("payments.normalized", "payments.validation.dlq"))
    event = decode_event(out.value)
    assert out.topic == "payments.normalized" and event.metadata == {"order_id": "o-1"}
    assert (event.card_brand, event.card_last_four) == ("visa", "4242")
