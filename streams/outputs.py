"""What one raw message becomes: the normalized event or a dead letter, within the budget.

Pure (no app, no I/O), so the normalizer's agents stay thin: they build outputs here,
produce them, and mark them seen. A normalized event carries only what the data map keeps
(``contracts.privacy``); a dead letter carries its payload redacted (``streams.codecs``).
Values are the bytes of the topics' Records (``NormalizedEvent``, ``DeadLetterRecord``,
streams/records.py). Every output fits a
record: a normalized event over the value budget, or under a key too long to be one, is
dead-lettered as ``output.too_large`` before the broker is ever asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from faust.types import Message

from contracts.dead_letters import ValidationIssue
from contracts.limits import MAX_KEY_BYTES, MAX_VALUE_BYTES
from contracts.privacy import protect_event
from streams.codecs import build_dead_letter, dead_letter_from_error, key_event_id
from streams.providers import Mapper
from streams.records import dead_letter_value, normalized_value
from streams.rules import InvalidEventError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutputTopics:
    normalized: str
    dlq: str


@dataclass(slots=True)
class Output:
    """The one record a raw message becomes: its key (the event id), topic and value."""

    key: str
    topic: str
    value: bytes
    provider_event_id: str | None = None  # names the event if a dead letter must replace it


class OutputRefusedError(Exception):
    """Even the dead letter for an event was refused for good: its offset cannot move."""

    def __init__(self, topic: str, partition: int, offset: int, reason: str) -> None:
        super().__init__(f"{topic}:{partition}:{offset}: dead letter refused ({reason})")
        self.topic, self.partition, self.offset, self.reason = topic, partition, offset, reason


def build_output(message: Message, provider: str, mapper: Mapper, now: datetime,
                 topics: OutputTopics) -> Output:
    """The normalized event, or a dead letter; within the record budget either way."""
    raw = _value(message)
    key = message.key if isinstance(message.key, bytes) or message.key is None \
        else str(message.key).encode()
    try:
        # The data map's cut of the event (metadata allow-list, free text redacted) is what
        # leaves the normalizer: payments.normalized and every store after it see no more.
        payment = protect_event(mapper(key, raw, now))
    except InvalidEventError as exc:
        letter = dead_letter_from_error(raw, exc, topic=message.topic, partition=message.partition,
                                        offset=message.offset, failed_at=now, provider=provider,
                                        key=key)
        return Output(letter.event_id, topics.dlq, dead_letter_value(letter))
    except Exception as exc:  # noqa: BLE001 - a mapping bug must dead-letter, not kill the agent
        log.exception("normalize failed unexpectedly at %s:%s:%s",
                      message.topic, message.partition, message.offset)
        return dead_letter_output(message, provider, key_event_id(key),
                                  ValidationIssue("normalize.internal_error", repr(exc)), now,
                                  topics, stage="normalize")
    value = normalized_value(payment)  # the NormalizedEvent's bytes
    key_bytes = len(payment.event_id.encode())
    if len(value) > MAX_VALUE_BYTES or key_bytes > MAX_KEY_BYTES:
        issue = ValidationIssue(
            "output.too_large", f"the normalized event is {len(value)} bytes (at most "
            f"{MAX_VALUE_BYTES}) under a key of {key_bytes} bytes (at most {MAX_KEY_BYTES})")
        return dead_letter_output(message, provider, payment.provider_event_id, issue, now, topics)
    return Output(payment.event_id, topics.normalized, value, payment.provider_event_id)


def dead_letter_output(message: Message, provider: str, provider_event_id: str | None,
                       issue: ValidationIssue, now: datetime, topics: OutputTopics,
                       stage: str = "publish") -> Output:
    """A dead letter in place of an output that cannot be (or was not) produced."""
    letter = build_dead_letter(_value(message), [issue], topic=message.topic,
                               partition=message.partition, offset=message.offset,
                               failed_at=now, stage=stage, provider=provider,
                               provider_event_id=provider_event_id)
    return Output(letter.event_id, topics.dlq, dead_letter_value(letter))


def _value(message: Message) -> bytes:
    return message.value if isinstance(message.value, bytes) else bytes(message.value or b"")
