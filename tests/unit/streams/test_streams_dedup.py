"""The dedup retention rule: forget what is past retention, cap the size, in slices."""

from __future__ import annotations

import asyncio

from streams.dedup import (
    BUCKET_SECONDS,
    SeenEntry,
    SeenHistogram,
    decode_seen,
    encode_seen,
    purge_in_slices,
)
from streams.settings import MIN_DEDUP_RETENTION_SECONDS, StreamsSettings

DAY = 86400.0


async def purge(entries, *, cutoff, slice_size=1000, histogram=None):
    forgotten: list[list[SeenEntry]] = []

    async def forget(batch):
        forgotten.append(batch)

    n = await purge_in_slices(entries, expired=lambda e: e.seen_at < cutoff, forget=forget,
                              slice_size=slice_size, histogram=histogram)
    return n, forgotten


async def test_entries_older_than_retention_expire():
    now = 10 * DAY
    entries = [SeenEntry("old", now - 3 * DAY - 1, 0), SeenEntry("young", now - 3 * DAY + 1, 1)]
    kept = SeenHistogram()
    n, forgotten = await purge(entries, cutoff=now - 3 * DAY, histogram=kept)
    assert n == 1 and [e.event_id for batch in forgotten for e in batch] == ["old"]
    assert kept.total == 1


async def test_a_purge_over_many_entries_works_in_bounded_slices_and_yields_between():
    entries = (SeenEntry(f"e{i}", float(i % 2), 0) for i in range(25_000))  # half expired
    ticks = 0

    async def other_work():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    try:
        n, forgotten = await purge(entries, cutoff=1.0, slice_size=1000)
    finally:
        task.cancel()
    assert n == 12_500
    assert len(forgotten) == 25 and all(len(batch) <= 1000 for batch in forgotten)
    # The loop ran other work between the slices, not only once the purge was over.
    assert ticks >= 25


def test_the_cap_keeps_the_newest_max_entries_to_within_one_bucket():
    kept = SeenHistogram()
    for i in range(100):  # ten entries in each of ten buckets
        kept.add(SeenEntry(f"e{i}", (i // 10) * BUCKET_SECONDS, 0))
    assert kept.cap_cutoff(100) is None
    assert kept.cap_cutoff(70) == 3 * BUCKET_SECONDS  # buckets 0..2 go: 70 stay
    assert kept.cap_cutoff(75) == 3 * BUCKET_SECONDS  # a bucket is kept or dropped whole


def test_seen_values_round_trip_with_their_partition():
    assert decode_seen("x", encode_seen(12.5, 2)) == SeenEntry("x", 12.5, 2)
    assert decode_seen("x", "garbage") is None


def test_retention_below_three_days_is_refused(monkeypatch):
    monkeypatch.setenv("STREAMS_DEDUP_RETENTION_SECONDS", "3600")
    try:
        StreamsSettings()
    except ValueError as exc:
        assert "STREAMS_DEDUP_RETENTION_SECONDS" in str(exc)
    else:
        raise AssertionError("a retention shorter than Stripe's retry window was accepted")
    monkeypatch.setenv("STREAMS_DEDUP_RETENTION_SECONDS", str(MIN_DEDUP_RETENTION_SECONDS))
    assert StreamsSettings().DEDUP_RETENTION_SECONDS == MIN_DEDUP_RETENTION_SECONDS
