"""The starter picks the workflow and argument for each output-topic message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.dead_letters import DeadLetter, ValidationIssue
from contracts.workflows import DLQ_REVIEW, PAYMENT_EVENT, workflow_id
from streams import starter
from streams.codecs import build_dead_letter, encode_dead_letter, encode_event
from tests.builders import make_payment_event
from tests.unit.streams.streams_agent_helpers import starter_event

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    value: bytes


def event_on(topic: str, value: bytes):
    return starter_event(FakeMessage(topic, 2, 9, value))


def test_normalized_message_starts_payment_workflow():
    payment = make_payment_event(provider_event_id="evt_1")
    target, event_id, arg = starter.decode_for_start(
        event_on(starter.settings.TOPIC_NORMALIZED, encode_event(payment)))
    assert (target, event_id, arg) == (PAYMENT_EVENT, "stripe:evt_1", payment)
    assert workflow_id(target, event_id) == "payment-event:stripe:evt_1"
    assert (target.workflow, target.signal) == ("PaymentEventWorkflow", "event_received")


def test_dead_letter_message_starts_review_workflow():
    letter = build_dead_letter(b"x", [ValidationIssue("payload.not_json", "bad")], topic="t",
                               partition=0, offset=1, failed_at=NOW)
    target, event_id, arg = starter.decode_for_start(
        event_on(starter.settings.TOPIC_VALIDATION_DLQ, encode_dead_letter(letter)))
    assert (target, event_id, arg) == (DLQ_REVIEW, letter.event_id, letter)
    assert workflow_id(target, event_id) == "dlq-review:dlq:t:0:1"


def test_undecodable_message_goes_to_review_not_the_floor():
    topic = starter.settings.TOPIC_NORMALIZED
    target, event_id, arg = starter.decode_for_start(event_on(topic, b"\xffgarbage"))
    assert target == DLQ_REVIEW
    assert isinstance(arg, DeadLetter)
    assert event_id == f"dlq:{topic}:2:9"
    assert (arg.stage, arg.error_codes) == ("start", ["starter.undecodable"])


def test_gateway_dead_letter_goes_to_review_with_stage_gateway():
    topic = starter.settings.TOPIC_WEBHOOKS_DLQ
    message = FakeMessage(topic, 0, 4, b"{}")
    message.key, message.headers = b"evt_3", [("provider", b"stripe"), ("reason", b"r.x")]
    target, event_id, arg = starter.decode_for_start(starter_event(message))
    assert (target, event_id) == (DLQ_REVIEW, "stripe:evt_3")
    assert (arg.stage, arg.error_codes, arg.source_offset) == ("gateway", ["r.x"], 4)
