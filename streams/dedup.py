"""Which dedup entries to forget, a slice at a time: pure, so the rule is tested without a worker.

The purge reads the table in slices and yields to the event loop between them, so a table
of millions never holds the loop for more than one slice. Entries past the retention go in
a first pass. If more than ``max_entries`` remain, a second pass forgets the oldest; which
ones is read from a histogram of first-seen times kept during the first pass (bounded
memory, whatever the table's size), so the cap may forget up to one bucket more than
strictly needed.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

# Width of a histogram bucket: the most the cap can over-forget, in first-seen time.
BUCKET_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SeenEntry:
    event_id: str
    seen_at: float  # epoch seconds when the event was first written out
    partition: int  # the changelog partition, needed to write its tombstone


@dataclass(slots=True)
class SeenHistogram:
    """How many entries were first seen in each BUCKET_SECONDS-wide bucket."""

    counts: Counter[int] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, entry: SeenEntry) -> None:
        self.counts[math.floor(entry.seen_at / BUCKET_SECONDS)] += 1

    def cap_cutoff(self, max_entries: int) -> float | None:
        """The first-seen time below which entries go so that at most max_entries stay."""
        if self.total <= max_entries:
            return None
        kept = 0
        for bucket in sorted(self.counts, reverse=True):  # newest first
            kept += self.counts[bucket]
            if kept > max_entries:
                return (bucket + 1) * BUCKET_SECONDS  # this bucket and older all go
        return None  # unreachable: the total is over max_entries


def iter_slices(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


async def purge_in_slices(
    entries: Iterable[SeenEntry], *, expired: Callable[[SeenEntry], bool],
    forget: Callable[[list[SeenEntry]], Awaitable[None]], slice_size: int,
    histogram: SeenHistogram | None = None, keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """Forget the expired entries, slice_size read at a time, yielding between slices.

    The entries kept are counted into ``histogram`` when one is given. The pass stops early
    once ``keep_going()`` is false (the next purge starts over). Returns how many entries
    were forgotten.
    """
    forgotten = 0
    for chunk in iter_slices(entries, slice_size):
        if not keep_going():
            break
        gone = []
        for entry in chunk:
            if expired(entry):
                gone.append(entry)
            elif histogram is not None:
                histogram.add(entry)
        if gone:
            await forget(gone)
            forgotten += len(gone)
        await asyncio.sleep(0)  # let batches, heartbeats and web requests run
    return forgotten


def encode_seen(seen_at: float, partition: int) -> list[float | int]:
    return [seen_at, partition]


def decode_seen(event_id: str, value: object) -> SeenEntry | None:
    if isinstance(value, list) and len(value) == 2:
        return SeenEntry(event_id, float(value[0]), int(value[1]))
    return None
