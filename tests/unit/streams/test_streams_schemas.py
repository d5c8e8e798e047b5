"""A value on payments.normalized or payments.validation.dlq that is not its Record reaches
the starter's agent as a dead letter with its coordinates, never as an exception."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import orjson
import pytest

from contracts.dead_letters import ValidationIssue
from contracts.workflows import DLQ_REVIEW, PAYMENT_EVENT
from streams import starter
from streams.codecs import build_dead_letter, encode_dead_letter, encode_event
from streams.records import DeadLetterRecord, NormalizedEvent, to_letter
from streams.schemas import UNDECODABLE_CODE, DeadLetteringSchema
from tests.builders import make_payment_event

NOW = datetime(2026, 1, 2, tzinfo=UTC)
EVENT = orjson.loads(encode_event(make_payment_event(provider_event_id="evt_ok")))
LETTER = orjson.loads(encode_dead_letter(build_dead_letter(
    b"x", [ValidationIssue("payload.not_json", "bad")], topic="t", partition=0, offset=1,
    failed_at=NOW)))

POISON = {
    "not json": b"\xff\xfe\x00not json",
    "empty": b"",
    "a json array": b"[1, 2, 3]",
    "a json string": b'"text"',
    "tombstone": None,
    "nothing it needs": b'{"event_id": "x"}',
}
NORMALIZED_POISON = {
    **POISON,
    "a date that is not one": orjson.dumps({**EVENT, "processed_at": "yesterday"}),
    "a date that is a number": orjson.dumps({**EVENT, "provider_created_at": 5}),
    "a field missing": orjson.dumps({k: v for k, v in EVENT.items() if k != "currency"}),
    # The fault suite's oversized record: an amount that is a megabyte of text would
    # otherwise start a workflow that can never persist it.
    "an amount that is text": orjson.dumps({**EVENT, "amount_cents": "x" * 1000}),
    "an amount beyond bigint": json.dumps({**EVENT, "amount_cents": 2**70}).encode(),
    "an amount that is a bool": orjson.dumps({**EVENT, "amount_cents": True}),
    "metadata that is not text": orjson.dumps({**EVENT, "metadata": {"a": {"b": 1}}}),
    "an id that is a number": orjson.dumps({**EVENT, "event_id": 7}),
}
DLQ_POISON = {
    **POISON,
    "issues that are not a list": orjson.dumps({**LETTER, "errors": "abc"}),
    "an issue without a code": orjson.dumps({**LETTER, "errors": [{"message": "m"}]}),
    "a failed_at that is not a date": orjson.dumps({**LETTER, "failed_at": "never"}),
    # Written before excerpts (no sha256), and its payload is not the base64 it claims.
    "a legacy payload that does not decode": orjson.dumps({
        **LETTER, "payload": "abc", "payload_encoding": "base64", "payload_sha256": None}),
}


class Message:
    def __init__(self, topic: str, value: bytes | None, partition: int = 2, offset: int = 9):
        self.topic, self.value, self.partition, self.offset = topic, value, partition, offset
        self.key, self.headers = b"k", []


def _cases(topic_setting: str, poison: dict[str, bytes | None]):
    return [pytest.param(topic_setting, value, id=f"{topic_setting}: {name}")
            for name, value in poison.items()]


@pytest.mark.parametrize(("setting", "value"), [
    *_cases("TOPIC_NORMALIZED", NORMALIZED_POISON),
    *_cases("TOPIC_VALIDATION_DLQ", DLQ_POISON)])
def test_a_poison_value_decodes_to_the_dead_letter_of_its_coordinates(setting, value):
    topic = getattr(starter.settings, setting)
    schema = {starter.settings.TOPIC_NORMALIZED: starter.normalized_topic,
              starter.settings.TOPIC_VALIDATION_DLQ: starter.dlq_topic}[topic].schema
    assert isinstance(schema, DeadLetteringSchema)

    record = schema.loads_value(starter.app, Message(topic, value))

    assert isinstance(record, DeadLetterRecord)
    letter = to_letter(record)
    assert letter.event_id == f"dlq:{topic}:2:9"
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (topic, 2, 9)
    assert (letter.stage, letter.error_codes) == ("start", [UNDECODABLE_CODE])
    assert letter.payload_length == len(value or b"")


def test_good_values_decode_to_their_records():
    normalized = starter.normalized_topic.schema.loads_value(
        starter.app, Message(starter.settings.TOPIC_NORMALIZED, orjson.dumps(EVENT)))
    letter = starter.dlq_topic.schema.loads_value(
        starter.app, Message(starter.settings.TOPIC_VALIDATION_DLQ, orjson.dumps(LETTER)))
    assert isinstance(normalized, NormalizedEvent) and normalized.event_id == "stripe:evt_ok"
    assert isinstance(letter, DeadLetterRecord) and letter.event_id == "dlq:t:0:1"


@pytest.mark.parametrize(("agent_name", "value", "expected"), [
    ("start_payment_workflows", b"\xffgarbage", DLQ_REVIEW),
    ("start_payment_workflows", b"[]", DLQ_REVIEW),
    ("start_payment_workflows", orjson.dumps(EVENT), PAYMENT_EVENT),
    ("start_dlq_reviews", b'{"errors": 1}', DLQ_REVIEW),
    ("start_dlq_reviews", orjson.dumps(LETTER), DLQ_REVIEW),
])
async def test_the_starter_agents_take_poison_without_crashing(monkeypatch, agent_name, value,
                                                               expected):
    started: list[tuple] = []

    async def start(target, event_id, arg, on_retry=None):
        started.append((target, event_id, arg))
        return "started"

    monkeypatch.setattr(starter.starter, "signal_with_start", start)
    agent = getattr(starter, agent_name)
    topic = {"start_payment_workflows": starter.normalized_topic,
             "start_dlq_reviews": starter.dlq_topic}[agent_name]
    good = orjson.dumps(EVENT if agent_name == "start_payment_workflows" else LETTER)

    def decoded(raw: bytes, offset: int):
        # test_context() feeds a plain channel, which decodes nothing: the topic's schema
        # does what the worker's topic does with the bytes.
        return topic.schema.loads_value(starter.app, Message(topic.get_topic_name(), raw, 1,
                                                             offset))

    async with asyncio.timeout(10), agent.test_context() as ctx:
        await ctx.put(decoded(value, 0), key=b"k", partition=1)
        await ctx.put(decoded(good, 1), key=b"k", partition=1)  # the agent is still there
        while len(started) < 2:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.005)
    target, event_id, _ = started[0]
    assert target == expected
    if value.startswith(b"\xff") or value in (b"[]", b'{"errors": 1}'):
        assert event_id.startswith("dlq:") and event_id.endswith(":1:0")


def test_a_letter_whose_id_is_too_long_for_a_workflow_is_reviewed_under_its_own_coordinates():
    """The fault suite's permanent record on the DLQ: its id is over Temporal's limit, and
    its source coordinates are another letter's. It is reviewed as itself, never parked and
    never folded into that other letter's review."""
    schema = DeadLetteringSchema(DeadLetterRecord)
    for letter in ({**LETTER, "event_id": "stripe:evt_" + "x" * 1200},
                   {**LETTER, "event_id": "stripe:evt_" + "x" * 1200, "payload_sha256": None,
                    "payload": "x", "payload_encoding": "utf-8"}):
        message = Message("payments.validation.dlq", orjson.dumps(letter), 1, 130)
        decoded = to_letter(schema.loads_value(None, message))
        assert decoded.event_id == "dlq:payments.validation.dlq:1:130"
        assert decoded.error_codes == to_letter(
            schema.loads_value(None, Message("x", orjson.dumps(LETTER)))).error_codes
