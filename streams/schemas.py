"""Faust schemas for the output topics: a value that does not decode becomes a dead letter.

faust-streaming 0.15 throws a value it cannot decode into the agent, which crashes it (and
the message is acked first, so it is lost as well). ``DeadLetteringSchema`` decodes each
value into its Record, checks it against the contract, and turns whatever fails into a
``DeadLetterRecord`` carrying the message's coordinates (``dlq:<topic>:<partition>:<offset>``)
and a bounded, redacted excerpt of its bytes; every dead letter read is redacted too. An agent
reading such a topic therefore receives a Record for every message: the one declared, or the
dead letter of the one that was not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import AppT, Message

from contracts.dead_letters import ValidationIssue, redact_letter, source_event_id
from streams import records
from streams.codecs import bound_legacy, build_dead_letter, fits_key

# Undecodable output values go to review under this code, from the stage that read them.
UNDECODABLE_CODE = "starter.undecodable"


def _check_event(record: records.NormalizedEvent, message: Message) -> records.NormalizedEvent:
    records.to_event(record)  # raises for fields of the wrong kind
    return record


def _check_letter(record: records.DeadLetterRecord,
                  message: Message) -> records.DeadLetterRecord:
    read = records.to_letter(record)
    overlong = not fits_key(read.event_id)
    # Written before excerpts: bound it on the way in. Any letter is redacted again (it is a
    # no-op for the normalizer's own), as the topic is open and older letters are not.
    letter = redact_letter(read) if read.payload_sha256 is not None else bound_legacy(read)
    if letter == read and not overlong:
        return record
    if overlong:
        # An id too long to be a key is too long for a workflow id as well (Temporal refuses
        # one over 1,000 characters for good). The letter is reviewed under this message's
        # own coordinates, which no other letter shares; its source's coordinates could be.
        letter.event_id = source_event_id(message.topic, message.partition, message.offset)
    return records.letter_record(letter)


CHECKS: dict[type, Callable[[Any, Message], Any]] = {
    records.NormalizedEvent: _check_event,
    records.DeadLetterRecord: _check_letter,
}


def poison_letter(message: Message, error: BaseException,
                  stage: str = "start") -> records.DeadLetterRecord:
    """The dead letter of a message whose value is not the topic's Record."""
    raw = message.value if isinstance(message.value, bytes) else bytes(message.value or b"")
    detail = str(error.__cause__ or error) or type(error).__name__
    letter = build_dead_letter(raw, [ValidationIssue(UNDECODABLE_CODE, detail)],
                               topic=message.topic, partition=message.partition,
                               offset=message.offset, failed_at=datetime.now(UTC), stage=stage)
    return records.letter_record(letter)


class DeadLetteringSchema(faust.Schema):
    """Bytes keys, Record values; a value that fails to decode is its own dead letter."""

    def __init__(self, value_type: type[faust.Record], stage: str = "start") -> None:
        super().__init__(key_type=bytes, value_type=value_type, key_serializer="raw",
                         value_serializer=records.CODEC)
        self.stage = stage
        self._check = CHECKS.get(value_type, lambda record, message: record)

    def loads_value(self, app: AppT, message: Message, *, loads: Callable | None = None,
                    serializer: Any = None) -> Any:
        try:
            # faust raises ValueDecodeError for a tombstone too: it has no Record either.
            value = super().loads_value(app, message, loads=loads, serializer=serializer)
            return self._check(value, message)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure means "not this Record"
            return poison_letter(message, exc, self.stage)

