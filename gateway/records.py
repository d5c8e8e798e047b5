"""The Kafka records the gateway writes: their keys and headers, kept inside the budget.

``contracts.limits`` gives every record ``MAX_KEY_BYTES`` of key and ``MAX_HEADERS_BYTES``
of header names and values, and the body limit is what is left. This module is where the
gateway keeps that promise, for every key and header it writes:

- a provider event id is at most ``MAX_EVENT_ID_BYTES`` of UTF-8 (the raw key; the unified
  ``<provider>:<id>`` downstream then stays far below ``MAX_KEY_BYTES`` too);
- an event type is at most ``MAX_EVENT_TYPE_BYTES`` (the ``event_type`` header);
- the request id is at most 128 ASCII characters (``telemetry.asgi`` adopts nothing longer);
- a dead letter's ``detail`` is cut to ``ISSUE_MESSAGE_MAX_CHARS`` and then to whatever
  the other headers leave of ``MAX_HEADERS_BYTES`` (the webhooks.dlq envelope is built by
  ``contracts.dead_letters.gateway_dead_letter_headers``, which the starter reads back).

An authentic event whose id or type is longer is dead-lettered (``event_id_too_long``,
``event_type_too_long``), keyed ``request:<request_id>``: reviewable, never a broken record.
"""

from __future__ import annotations

from dataclasses import replace

from contracts.limits import MAX_VALUE_BYTES
from gateway.providers import InvalidItem, Outcome, RefusedItem

# Real ids are short (evt_… is ~30 bytes, an Adyen key ~40); 255 leaves the unified
# event id and the dead-letter key room, and is the same bound the structure models use.
MAX_EVENT_ID_BYTES = 255
MAX_EVENT_TYPE_BYTES = 255
MAX_REQUEST_ID_BYTES = 128

Headers = list[tuple[str, bytes]]


def bounded_event_id(event_id: str | None) -> str | None:
    """The id when it fits a key, else None (the record is then keyed by its request)."""
    if event_id is None or len(event_id.encode()) > MAX_EVENT_ID_BYTES:
        return None
    return event_id


def event_type_fits(event_type: str) -> bool:
    return len(event_type.encode()) <= MAX_EVENT_TYPE_BYTES


def raw_headers(provider: str, event_type: str, received_at: str, request_id: str) -> Headers:
    """The headers of a raw-topic record (ARCHITECTURE.md, "The raw topics' value")."""
    return [("provider", provider.encode()), ("event_type", event_type.encode()),
            ("received_at", received_at.encode()), ("request_id", request_id.encode())]


def within_budget(outcome: Outcome) -> Outcome:
    """The outcome, or what it must become so that its record cannot exceed the budget."""
    if isinstance(outcome, RefusedItem):
        return outcome
    if len(outcome.value) > MAX_VALUE_BYTES:
        # Unreachable through the body limit and Adyen's own check; kept as the last word.
        return RefusedItem("item_too_large", f"the record value is {len(outcome.value)} bytes; "
                           f"at most {MAX_VALUE_BYTES}", bounded_event_id(outcome.event_id))
    if isinstance(outcome, InvalidItem):
        if outcome.event_id is not None and bounded_event_id(outcome.event_id) is None:
            return replace(outcome, event_id=None)
        return outcome
    if bounded_event_id(outcome.event_id) is None:
        return InvalidItem("event_id_too_long", f"the event id is {len(outcome.event_id.encode())}"
                           f" bytes of UTF-8; at most {MAX_EVENT_ID_BYTES}", None, outcome.value)
    if not event_type_fits(outcome.event_type):
        return InvalidItem("event_type_too_long", f"the event type is "
                           f"{len(outcome.event_type.encode())} bytes of UTF-8; at most "
                           f"{MAX_EVENT_TYPE_BYTES}", outcome.event_id, outcome.value)
    return outcome
