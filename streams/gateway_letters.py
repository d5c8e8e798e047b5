"""A webhooks.dlq record (the gateway's refused body, its reason in headers) as a DeadLetter.

Pure: no faust, no I/O. The contract (contracts/dead_letters.py GATEWAY_DLQ_HEADERS): the
value is the body exactly as received, the key the event id or ``request:<request_id>``,
and provider, reason, detail, event_id, received_at and request_id travel in headers.
Whatever a record lacks, it still becomes a dead letter: a record that cannot be read is
exactly what review exists for, and the agent must never stop on one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from contracts.dead_letters import GATEWAY_DLQ_HEADERS, DeadLetter, ValidationIssue
from contracts.limits import ISSUE_MESSAGE_MAX_CHARS
from streams.codecs import build_dead_letter

STAGE = "gateway"
MISSING_REASON = "gateway.reason_missing"
REQUEST_KEY_PREFIX = "request:"

Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None


def read_headers(headers: Headers) -> dict[str, str]:
    """The contract's headers as text (first value wins; undecodable bytes replaced)."""
    if headers is None:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: dict[str, str] = {}
    for name, value in items:
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if name in GATEWAY_DLQ_HEADERS and name not in found and value is not None:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if text:
                found[name] = text
    return found


def provider_event_id_of(fields: Mapping[str, str], key: bytes | None) -> str | None:
    """The event_id header, else the record's key when the gateway keyed it by event id."""
    if "event_id" in fields:
        return fields["event_id"]
    text = key.decode("utf-8", "replace") if key else ""
    return text if text and not text.startswith(REQUEST_KEY_PREFIX) else None


def received_at_of(fields: Mapping[str, str], now: datetime) -> datetime:
    """When the gateway received the body (RFC 3339 header), else ``now``."""
    try:
        moment = datetime.fromisoformat(fields["received_at"])
    except (KeyError, ValueError):
        return now
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def gateway_dead_letter(value: bytes | None, key: bytes | None, headers: Headers, *, topic: str,
                        partition: int, offset: int, now: datetime) -> DeadLetter:
    """The review input for one webhooks.dlq record, keyed by the unified event id if known.

    A provider's retry of the same refused event carries the same event id, so it reaches
    the same DLQReviewWorkflow and one quarantine row; an id-less record is keyed by its
    coordinates, which are just as stable under redelivery.
    """
    fields = read_headers(headers)
    present = ", ".join(sorted(fields)) or "none"
    code = fields.get("reason", MISSING_REASON)
    message = fields.get("detail") or (
        f"gateway dead letter without a detail header (headers present: {present})")
    return build_dead_letter(
        bytes(value or b""), [ValidationIssue(code, message[:ISSUE_MESSAGE_MAX_CHARS])],
        topic=topic, partition=partition, offset=offset,
        failed_at=received_at_of(fields, now), stage=STAGE,
        provider=fields.get("provider"), provider_event_id=provider_event_id_of(fields, key),
    )
