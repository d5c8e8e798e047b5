"""Where a raw record came from, and whether the dedup table may drop it: pure.

A raw record written by anything but the gateway's webhook path names its origin in the
``contracts.providers.ORIGIN_HEADER`` header. ``python -m orchestration.replay`` re-produces
an event the pipeline holds no row for with ``origin: replay``. The dedup table may still
remember the lost first copy (its workflow was terminated, or never persisted), so for a
replay copy the table is not asked; everything else about the record is unchanged, and it is
marked seen as usual. A copy already claimed in this batch, or in flight in another actor,
is still a duplicate: two replay copies of one id collapse to one output. Downstream stays
idempotent by event_id, so a replay copy of an event that did land cannot double a row.
A reconciliation record goes through the table like a webhook (contracts.providers.Origin).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping

from contracts.providers import ORIGIN_HEADER, Origin

__all__ = ["is_duplicate", "is_replay", "record_origin"]

Headers = Mapping[str, bytes | str] | Iterable[tuple[str, bytes | str]] | None


def record_origin(headers: Headers) -> str | None:
    """The origin header's value, or None for a webhook (no header, or an unreadable one)."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == ORIGIN_HEADER:
            try:
                return value.decode() if isinstance(value, bytes) else str(value)
            except UnicodeDecodeError:
                return None
    return None


def is_replay(headers: Headers) -> bool:
    return record_origin(headers) == Origin.REPLAY.value


def is_duplicate(key: str, *, replay: bool, claimed: Container[str],
                 in_flight: Container[str], remembered: Callable[[str], bool]) -> bool:
    """Whether the record's output is dropped as a duplicate.

    ``remembered`` asks the dedup table; it is not called for a replay copy.
    """
    if key in claimed or key in in_flight:
        return True
    return not replay and remembered(key)
