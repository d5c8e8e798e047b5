"""A webhooks.dlq record (the gateway's refused body, its reason in headers) as a DeadLetter.

Pure: no faust, no I/O. The envelope is contracts.dead_letters' (the gateway builds it with
the same module): the value is the body exactly as received, the key the event id or
``request:<request_id>``, and provider, reason, detail, event_id, received_at and
request_id travel in headers.
Whatever a record lacks, it still becomes a dead letter: a record that cannot be read is
exactly what review exists for, and the agent must never stop on one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from contracts.dead_letters import (
    DeadLetter,
    ValidationIssue,
    gateway_dead_letter_event_id,
    read_gateway_dead_letter_headers,
)
from contracts.limits import ISSUE_MESSAGE_MAX_CHARS
from streams.codecs import build_dead_letter

STAGE = "gateway"
MISSING_REASON = "gateway.reason_missing"
Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None


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
    fields = read_gateway_dead_letter_headers(headers)
    present = ", ".join(sorted(fields)) or "none"
    code = fields.get("reason", MISSING_REASON)
    message = fields.get("detail") or (
        f"gateway dead letter without a detail header (headers present: {present})")
    return build_dead_letter(
        bytes(value or b""), [ValidationIssue(code, message[:ISSUE_MESSAGE_MAX_CHARS])],
        topic=topic, partition=partition, offset=offset,
        failed_at=received_at_of(fields, now), stage=STAGE,
        provider=fields.get("provider"),
        provider_event_id=gateway_dead_letter_event_id(fields, key),
    )
