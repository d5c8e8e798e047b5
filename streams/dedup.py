"""Which dedup entries to forget: pure, so the retention rule is tested without a worker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeenEntry:
    event_id: str
    seen_at: float  # epoch seconds when the event was first written out
    partition: int  # the changelog partition, needed to write its tombstone


def select_expired(
    entries: Iterable[SeenEntry], *, now: float, retention_seconds: float, max_entries: int
) -> tuple[list[SeenEntry], int]:
    """Entries older than the retention, plus the oldest beyond max_entries; and the size kept."""
    cutoff = now - retention_seconds
    expired: list[SeenEntry] = []
    kept: list[SeenEntry] = []
    for entry in entries:
        (expired if entry.seen_at < cutoff else kept).append(entry)
    if len(kept) > max_entries:
        # A cap below the retention weakens dedup, but unbounded state kills the worker.
        kept.sort(key=lambda e: e.seen_at)
        overflow = len(kept) - max_entries
        expired.extend(kept[:overflow])
        kept = kept[overflow:]
    return expired, len(kept)


def encode_seen(seen_at: float, partition: int) -> list[float | int]:
    return [seen_at, partition]


def decode_seen(event_id: str, value: object) -> SeenEntry | None:
    if isinstance(value, list) and len(value) == 2:
        return SeenEntry(event_id, float(value[0]), int(value[1]))
    return None
