"""Outputs the broker will never take: dead-lettered with their own reason, never retried."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka.errors import (
    InvalidTopicError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
)
from faust.events import Event
from faust.exceptions import ProducerSendError
from faust.types import Message

from streams import normalizer, outputs
from streams.codecs import decode_dead_letter
from streams.outputs import OutputRefusedError

PI_TOPIC = normalizer.settings.TOPIC_PAYMENT_INTENT
NORMALIZED = normalizer.settings.TOPIC_NORMALIZED
DLQ = normalizer.settings.TOPIC_VALIDATION_DLQ


@pytest.fixture(autouse=True)
def clean_dedup():
    normalizer.dedup_table.data.clear()
    yield
    normalizer.dedup_table.data.clear()


@pytest.fixture
def refuse(sent, monkeypatch):
    """refuse(topic, error): deliveries to that topic fail with error; others go to `sent`."""
    refusals: dict[str, BaseException] = {}
    attempts: list[str] = []

    async def send(topic, key, value, partition, timestamp, headers, **kw):
        attempts.append(topic)
        if topic in refusals:
            future = asyncio.get_running_loop().create_future()
            future.set_exception(refusals[topic])
            return future
        return await sent.send(topic, key, value, partition, timestamp, headers, **kw)

    monkeypatch.setattr(normalizer.app.producer, "send", send)

    def add(topic: str, error: BaseException) -> list[str]:
        refusals[topic] = error
        return attempts

    return add


def raw_events(values: list[bytes], partition: int = 0) -> list[Event]:
    return [Event(normalizer.app, b"k", value, None,
                  Message(PI_TOPIC, partition, offset, 0.0, 0, None, b"k", value, None))
            for offset, value in enumerate(values)]


@pytest.mark.parametrize(("error", "reason"), [
    (MessageSizeTooLargeError(), "output.too_large"),
    (ProducerSendError("queue"), None),  # faust's wrapper, its cause set below
    (InvalidTopicError(), "output.invalid_topic"),
    (TopicAuthorizationFailedError(), "output.refused"),
])
async def test_a_refused_normalized_event_is_dead_lettered_once_with_its_reason(
        sent, refuse, stripe_event, error, reason):
    if isinstance(error, ProducerSendError):
        error.__cause__, reason = MessageSizeTooLargeError(), "output.too_large"
    attempts = refuse(NORMALIZED, error)
    payload = stripe_event("payment_intent.succeeded")
    await normalizer.normalize_batch(raw_events([orjson.dumps(payload)]), "refusal_test")

    assert attempts.count(NORMALIZED) == 1  # not retried
    [(key, raw_letter)] = sent.on(DLQ)
    letter = decode_dead_letter(raw_letter)
    assert key == letter.event_id == f"stripe:{payload['id']}"
    assert (letter.error_codes, letter.stage) == ([reason], "publish")
    assert key in normalizer.dedup_table  # marked seen: its offset moves on


async def test_a_transient_error_is_retried_until_the_event_is_normalized(sent, refuse,
                                                                          stripe_event,
                                                                          monkeypatch):
    errors = iter([KafkaTimeoutError(), NotLeaderForPartitionError()])
    real_send = normalizer.app.producer.send

    async def flaky(topic, *args, **kw):
        error = next(errors, None) if topic == NORMALIZED else None
        if error is not None:
            future = asyncio.get_running_loop().create_future()
            future.set_exception(error)
            return future
        return await real_send(topic, *args, **kw)

    async def no_sleep(_):
        pass

    monkeypatch.setattr(normalizer.app.producer, "send", flaky)
    monkeypatch.setattr("streams.publishing.asyncio.sleep", no_sleep)
    await normalizer.normalize_batch(
        raw_events([orjson.dumps(stripe_event("charge.succeeded"))]), "refusal_test")
    assert len(sent.on(NORMALIZED)) == 1 and sent.on(DLQ) == []


async def test_when_even_the_dead_letter_is_refused_the_offset_cannot_move(sent, refuse):
    refuse(DLQ, TopicAuthorizationFailedError())
    with pytest.raises(OutputRefusedError) as caught:
        await normalizer.normalize_batch(raw_events([b"not json"]), "refusal_test")
    assert (caught.value.topic, caught.value.offset, caught.value.reason) == (
        PI_TOPIC, 0, "output.refused")
    assert len(normalizer.dedup_table.data) == 0


async def test_a_normalized_event_over_the_value_budget_is_dead_lettered_before_producing(
        sent, stripe_event, monkeypatch):
    monkeypatch.setattr(outputs, "MAX_VALUE_BYTES", 100)
    payload = stripe_event("payment_intent.succeeded")
    await normalizer.normalize_batch(raw_events([orjson.dumps(payload)]), "refusal_test")
    assert sent.on(NORMALIZED) == []
    [(key, raw_letter)] = sent.on(DLQ)
    assert key == f"stripe:{payload['id']}"
    assert decode_dead_letter(raw_letter).error_codes == ["output.too_large"]


async def test_an_event_id_too_long_for_a_key_is_dead_lettered_under_its_coordinates(
        sent, stripe_event):
    payload = stripe_event("payment_intent.succeeded")
    payload["id"] = "evt_" + "x" * 5000
    await normalizer.normalize_batch(raw_events([orjson.dumps(payload)], partition=1),
                                     "refusal_test")
    [(key, raw_letter)] = sent.on(DLQ)
    assert key == f"dlq:{PI_TOPIC}:1:0"
    assert decode_dead_letter(raw_letter).error_codes == ["provider_event_id.too_long",
                                                          "output.too_large"]
