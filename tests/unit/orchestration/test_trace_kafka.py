"""The trace's Kafka side without a broker: where a key goes, and how records read back into
findings, each record made by the code that writes it on the real path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner, murmur2
from aiokafka.structs import ConsumerRecord

from contracts.dead_letters import gateway_dead_letter_headers
from contracts.providers import ORIGIN_HEADER, Origin
from gateway.publisher import KafkaPublisher
from gateway.records import raw_headers
from orchestration.tracing.kafka import dead_letter_copy, partition_for, raw_copy, refused_copy
from streams.records import dead_letter_value
from tests.builders import make_dead_letter

AT_MS = 1_764_581_400_123  # 2025-12-01T09:30:00.123Z


def record(topic: str, value: bytes, headers=(), key: bytes = b"evt_1",
           timestamp: int = AT_MS) -> ConsumerRecord:
    return ConsumerRecord(topic, 1, 42, timestamp, 0, key, value, None, len(key), len(value),
                          tuple(headers))


async def test_the_gateway_partitions_by_the_default_partitioner():
    producer = KafkaPublisher("127.0.0.1:9092", publish_timeout=1)._new_producer()
    assert type(producer._partitioner) is DefaultPartitioner
    assert isinstance(producer, AIOKafkaProducer)
    await producer.stop()  # never started: nothing to flush


@pytest.mark.parametrize("key", [b"evt_1", b"stripe:evt_1QdemoSucceeded", b"x" * 300])
def test_partition_for_is_murmur2_of_the_key(key):
    assert partition_for(key, {2, 0, 1}) == (murmur2(key) & 0x7FFFFFFF) % 3
    assert partition_for(key, range(3)) == partition_for(key, [2, 1, 0])


def test_a_raw_record_reads_back_as_the_gateway_wrote_it():
    headers = raw_headers("stripe", "charge.succeeded", "2025-12-01T09:30:00Z", "req-1")
    copy = raw_copy(record("webhooks.stripe.charge", b"{}", headers))
    assert copy.coordinates == "webhooks.stripe.charge:1:42"
    assert copy.timestamp == datetime(2025, 12, 1, 9, 30, 0, 123000, tzinfo=UTC)
    assert copy.headers == {"provider": "stripe", "event_type": "charge.succeeded",
                            "received_at": "2025-12-01T09:30:00Z", "request_id": "req-1"}
    assert copy.origin == "webhook"
    replayed = raw_copy(record("t", b"{}", [*headers, (ORIGIN_HEADER, Origin.REPLAY.encode())]))
    assert replayed.origin == "replay"
    assert raw_copy(record("t", b"{}", timestamp=-1)).timestamp is None


def test_a_gateway_refusal_reads_back_with_its_reason():
    headers = gateway_dead_letter_headers(provider="stripe", reason="event_id_too_long",
                                          detail="too long", event_id="evt_1",
                                          received_at="2025-12-01T09:30:00Z",
                                          request_id="req-2")
    copy = refused_copy(record("webhooks.dlq", b"{}", headers))
    assert copy.headers["reason"] == "event_id_too_long"
    assert copy.headers["request_id"] == "req-2"


def test_a_dead_letter_reads_back_from_the_normalizers_bytes():
    letter = make_dead_letter(event_id="stripe:evt_1", source_topic="webhooks.stripe.charge",
                              source_partition=1, source_offset=42)
    found = dead_letter_copy(record("payments.validation.dlq", dead_letter_value(letter)))
    assert found.event_id == "stripe:evt_1"
    assert found.source == "webhooks.stripe.charge:1:42"
    assert found.error_codes == ("amount.not_integer",)
    assert found.why == "amount.not_integer at validate: amount is not an integer"


def test_an_unreadable_dead_letter_is_shown_not_raised():
    found = dead_letter_copy(record("payments.validation.dlq", b"\xff not json",
                                    key=b"stripe:evt_2"))
    assert (found.event_id, found.error_codes) == ("stripe:evt_2", ("unreadable",))
    assert dead_letter_copy(record("payments.validation.dlq", b"[1]")).error_codes == (
        "unreadable",)
