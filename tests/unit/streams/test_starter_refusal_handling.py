"""What the starter does with a start Temporal refuses for good (no servers: the start is faked)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from faust.types import TP
from faust.types.tuples import RecordMetadata
from prometheus_client import REGISTRY
from temporalio.service import RPCStatusCode

from contracts.events import PaymentEvent
from streams import starter
from streams.codecs import decode_dead_letter, encode_dead_letter, encode_event
from streams.workflow_starts import StartRefusedError
from tests.builders import make_payment_event
from tests.unit.streams.streams_agent_helpers import starter_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    headers: list = field(default_factory=list)


def Event(message: Message):  # noqa: N802 - reads as the event it builds
    return starter_event(message)


@pytest.fixture
def refused(monkeypatch):
    """Every start is refused with INVALID_ARGUMENT; returns what the starter produced."""
    sent: list[tuple[str, bytes, bytes]] = []

    async def refuse(target, event_id, arg, on_retry=None):
        raise StartRefusedError(f"{target.id_prefix}:{event_id}", RPCStatusCode.INVALID_ARGUMENT,
                                "WorkflowId exceeds maximum allowed length")

    async def send(topic, key, value, partition, timestamp, headers, **_):
        sent.append((topic, key, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(RecordMetadata(topic, 0, TP(topic, 0), len(sent), None, None))
        return done

    monkeypatch.setattr(starter.starter, "signal_with_start", refuse)
    monkeypatch.setattr(starter.app.producer, "send", send)
    return sent


def payment() -> PaymentEvent:
    return make_payment_event(provider_event_id="evt_refused")


async def test_a_refused_payment_becomes_a_start_dead_letter_on_the_dlq(refused):
    raw = encode_event(payment())
    event = Event(Message(starter.settings.TOPIC_NORMALIZED, 1, 41, raw))

    assert await starter.start_message(event, "normalized") == "dead_lettered"

    [(topic, key, value)] = refused
    letter = decode_dead_letter(value)
    assert (topic, key) == (starter.settings.TOPIC_VALIDATION_DLQ, b"stripe:evt_refused")
    assert (letter.event_id, letter.stage, letter.error_codes) == (
        "stripe:evt_refused", "start", ["start.invalid_argument"])
    assert letter.errors[0].message.startswith("Temporal refused the start (INVALID_ARGUMENT)")
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        starter.settings.TOPIC_NORMALIZED, 1, 41)


async def test_a_refused_review_is_parked_not_retried_nor_re_dead_lettered(refused, caplog):
    letter = starter.build_dead_letter(b"x", [], topic="t", partition=0, offset=3,
                                       failed_at=NOW)
    topic = starter.settings.TOPIC_VALIDATION_DLQ
    labels = {"topic": topic, "reason": "start.invalid_argument"}
    before = REGISTRY.get_sample_value("streams_starter_parked_dead_letters_total", labels) or 0
    event = Event(Message(topic, 2, 17, encode_dead_letter(letter)))

    assert await starter.start_message(event, "dead_letter") == "parked"

    assert refused == []
    assert REGISTRY.get_sample_value("streams_starter_parked_dead_letters_total",
                                     labels) == before + 1
    [record] = [r for r in caplog.records if "dead letter parked" in r.getMessage()]
    assert record.levelname == "ERROR"
    assert f"stays at {topic} partition 2 offset 17" in record.getMessage()
