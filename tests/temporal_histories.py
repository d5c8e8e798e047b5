"""Reading a Temporal history raw: every Payload in it, wherever the API nests one.

Inputs, signal arguments, results, local-activity markers (a map of Payloads), headers,
memos and failures' encoded attributes and details all hold ``Payload`` messages at
different depths; walking the protobuf finds each, including any a later API adds, with
the path it was found at (``marker_recorded_event_attributes.details[result].payloads[0]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent

# Payloads the SDK's core writes for its own bookkeeping, never through the payload codec:
# a local activity's marker data (sequence, attempt, activity type, times), a patch marker's
# id, search attributes. They carry no event data of ours; they are still searched for it.
CORE_BOOKKEEPING = ("marker_recorded_event_attributes.details[data]",
                    "marker_recorded_event_attributes.details[patch-data]",
                    "search_attributes")


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """(path, payload) of every Payload inside ``message``, itself included."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.type != FieldDescriptor.TYPE_MESSAGE:
                continue
            items = [(f"{name}[{key}]", item) for key, item in value.items()]
        elif field.is_repeated:
            items = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for item_path, item in items:
            yield from payloads_in(item, item_path)


def history_payloads(events: Iterable[HistoryEvent]) -> list[tuple[str, Payload]]:
    """Every payload of a history, its path prefixed with the event's id."""
    return [(f"event {event.event_id}: {path}", payload) for event in events
            for path, payload in payloads_in(event)]


def is_core_bookkeeping(path: str) -> bool:
    return any(part in path for part in CORE_BOOKKEEPING)
