"""JSON on the wire for the two output topics, and the dead letter built from a failure.

Pure functions (orjson, no faust): the normalizer writes with them and the starter reads
with them, so both sides agree on one encoding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from contracts.dead_letters import DeadLetter, ValidationIssue, encode_payload, source_event_id
from contracts.events import PAYMENT_EVENT_FIELDS, PaymentEvent, make_event_id
from streams.rules import InvalidEventError

_DATETIME_FIELDS = ("provider_created_at", "processed_at")


class UndecodableMessageError(Exception):
    """An output-topic message that is not what the normalizer writes."""


def encode_event(event: PaymentEvent) -> bytes:
    # orjson reads the dataclass itself; asdict() would deep-copy every field first.
    return orjson.dumps(event)


def decode_event(raw: bytes) -> PaymentEvent:
    """A normalized-topic JSON object into the contract dataclass (extra keys ignored)."""
    data = _load_object(raw)
    try:
        values = {k: data[k] for k in PAYMENT_EVENT_FIELDS if k in data}
        for name in _DATETIME_FIELDS:
            values[name] = datetime.fromisoformat(values[name])
        return PaymentEvent(**values)
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableMessageError(f"not a PaymentEvent: {exc!r}") from exc


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return orjson.dumps(letter)


def decode_dead_letter(raw: bytes) -> DeadLetter:
    data = _load_object(raw)
    try:
        data["errors"] = [ValidationIssue(**issue) for issue in data["errors"]]
        data["failed_at"] = datetime.fromisoformat(data["failed_at"])
        return DeadLetter(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableMessageError(f"not a DeadLetter: {exc!r}") from exc


def build_dead_letter(
    raw: bytes,
    issues: list[ValidationIssue],
    *,
    topic: str,
    partition: int,
    offset: int,
    failed_at: datetime,
    stage: str = "validate",
    provider: str | None = None,
    provider_event_id: str | None = None,
) -> DeadLetter:
    """Keyed by the unified id when the payload named one, else by its source coordinates."""
    payload, encoding = encode_payload(raw)
    event_id = (
        make_event_id(provider, provider_event_id)
        if provider and provider_event_id
        else source_event_id(topic, partition, offset)
    )
    return DeadLetter(
        event_id=event_id,
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        payload=payload,
        payload_encoding=encoding,
        errors=issues,
        failed_at=failed_at,
        stage=stage,
        provider=provider,
        provider_event_id=provider_event_id,
    )


def dead_letter_from_error(
    raw: bytes, error: InvalidEventError, *, topic: str, partition: int, offset: int,
    failed_at: datetime,
) -> DeadLetter:
    return build_dead_letter(
        raw, error.issues, topic=topic, partition=partition, offset=offset,
        failed_at=failed_at, provider=error.provider, provider_event_id=error.provider_event_id,
    )


def _load_object(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UndecodableMessageError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UndecodableMessageError("not a JSON object")
    return data
