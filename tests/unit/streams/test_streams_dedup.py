"""The dedup retention rule: forget what is past retention, and cap the size."""

from __future__ import annotations

from streams.dedup import SeenEntry, decode_seen, encode_seen, select_expired
from streams.settings import MIN_DEDUP_RETENTION_SECONDS, StreamsSettings

DAY = 86400.0


def test_entries_older_than_retention_expire():
    now = 10 * DAY
    entries = [SeenEntry("old", now - 3 * DAY - 1, 0), SeenEntry("young", now - 3 * DAY + 1, 1)]
    expired, kept = select_expired(entries, now=now, retention_seconds=3 * DAY, max_entries=10)
    assert [e.event_id for e in expired] == ["old"]
    assert kept == 1


def test_cap_drops_the_oldest_beyond_max_entries():
    entries = [SeenEntry(f"e{i}", float(i), 0) for i in range(10)]
    expired, kept = select_expired(entries, now=20.0, retention_seconds=3 * DAY, max_entries=7)
    assert sorted(e.event_id for e in expired) == ["e0", "e1", "e2"]
    assert kept == 7


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
