"""JSON on the wire for the two output topics, and the dead letter built from a failure.

Pure functions (orjson, no faust): the normalizer writes with them and the starter reads
with them, so both sides agree on one encoding. A dead letter built here never encodes to
more than ``DEAD_LETTER_MAX_BYTES``, whatever it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from contracts.dead_letters import (
    DeadLetter,
    ValidationIssue,
    bound_issues,
    bound_text,
    decode_payload,
    redact_letter,
    redacted_excerpt,
    source_event_id,
)
from contracts.events import PAYMENT_EVENT_FIELDS, PaymentEvent, make_event_id
from contracts.limits import DEAD_LETTER_MAX_BYTES, MAX_KEY_BYTES
from streams.rules import InvalidEventError

_DATETIME_FIELDS = ("provider_created_at", "processed_at")
# Provider names and stages are ours; the cap only keeps a caller's bug bounded.
_NAME_MAX_CHARS = 64


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
        letter = DeadLetter(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableMessageError(f"not a DeadLetter: {exc!r}") from exc
    # Whoever wrote it, it is read redacted: the topic is open, and older letters are not.
    return redact_letter(letter) if letter.payload_sha256 is not None else bound_legacy(letter)


# Issue codes of a body the mapper could not read at all. Only such a body is filed under
# the record's key: a readable body that names no usable id of its own (say "id": "null",
# shared by many different bodies) keeps its coordinates, one quarantine row each.
UNREADABLE_CODES = frozenset({"payload.not_json", "payload.not_object", "payload.not_form",
                              "payload.not_base64", "payload.not_xml"})


def key_event_id(key: bytes | None) -> str | None:
    """The provider event id the gateway wrote as the record's key, when it is usable.

    A body the normalizer cannot read is still filed under this id, so a provider's retry
    of the same event lands on the same quarantine row instead of a second one.
    """
    if not key:
        return None
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.strip() else None


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
    """Keyed by the unified id when one was named (and fits a key), else by coordinates.

    The payload is redacted by the data map and cut to a bounded excerpt, with the
    original's sha256 and length; the issues are capped, and the encoded letter is checked
    against its budget: issues are left out from the end (the last one kept says how many)
    until it fits.
    """
    provider = None if provider is None else bound_text(provider, _NAME_MAX_CHARS)
    if provider_event_id is not None and not fits_key(f"{provider}:{provider_event_id}"):
        issues = [ValidationIssue("provider_event_id.too_long",
                                  f"the event id is over {MAX_KEY_BYTES} bytes, too long for a "
                                  "key; filed under its source coordinates", "provider_event_id"),
                  *issues]
        provider_event_id = None
    issues = bound_issues(issues)
    excerpt = redacted_excerpt(raw)
    letter = DeadLetter(
        event_id=(make_event_id(provider, provider_event_id) if provider and provider_event_id
                  else source_event_id(topic, partition, offset)),
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        payload=excerpt.text,
        payload_encoding=excerpt.encoding,
        errors=issues,
        failed_at=failed_at,
        stage=bound_text(stage, _NAME_MAX_CHARS),
        provider=provider,
        provider_event_id=provider_event_id,
        payload_sha256=excerpt.sha256,
        payload_length=excerpt.length,
        payload_truncated=excerpt.truncated,
        payload_redaction=excerpt.redaction,
    )
    return _fit_budget(letter)


def dead_letter_from_error(
    raw: bytes, error: InvalidEventError, *, topic: str, partition: int, offset: int,
    failed_at: datetime, provider: str | None = None, key: bytes | None = None,
) -> DeadLetter:
    """The dead letter for a mapping's InvalidEventError.

    ``provider`` and ``key`` are the agent's: they name the event when the payload could
    not (a body that is not JSON names neither its provider nor its id).
    """
    unreadable = any(issue.code in UNREADABLE_CODES for issue in error.issues)
    return build_dead_letter(
        raw, error.issues, topic=topic, partition=partition, offset=offset,
        failed_at=failed_at, provider=error.provider or provider,
        provider_event_id=error.provider_event_id
        or (key_event_id(key) if unreadable else None),
    )


def fits_key(text: str) -> bool:
    try:
        return len(text.encode("utf-8")) <= MAX_KEY_BYTES
    except UnicodeEncodeError:  # a lone surrogate cannot be a Kafka key
        return False


def _fit_budget(letter: DeadLetter) -> DeadLetter:
    """Leave issues out from the end until the encoded letter is within its budget.

    Everything but the issues is bounded well under the budget (an excerpt of 4 KiB is at
    most 24 KiB escaped), so with one issue left it always fits.
    """
    total = len(letter.errors)
    while len(encode_dead_letter(letter)) > DEAD_LETTER_MAX_BYTES and len(letter.errors) > 1:
        kept = letter.errors[:-2]
        letter.errors = [*kept, ValidationIssue(
            "issues.truncated", f"{total - len(kept)} more issues were left out")]
        letter.error_codes = [issue.code for issue in letter.errors]
    return letter


def bound_legacy(letter: DeadLetter) -> DeadLetter:
    """A letter written before excerpts carried its whole payload: bound it on the way in."""
    try:
        raw = decode_payload(letter.payload, letter.payload_encoding)
    except ValueError as exc:
        raise UndecodableMessageError(f"not a DeadLetter payload: {exc!r}") from exc
    bounded = build_dead_letter(
        raw, letter.errors, topic=letter.source_topic, partition=letter.source_partition,
        offset=letter.source_offset, failed_at=letter.failed_at, stage=letter.stage,
        provider=letter.provider, provider_event_id=letter.provider_event_id,
    )
    if fits_key(letter.event_id):  # the id it was keyed and reviewed under
        bounded.event_id = letter.event_id
    return bounded


def _load_object(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UndecodableMessageError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UndecodableMessageError("not a JSON object")
    return data
