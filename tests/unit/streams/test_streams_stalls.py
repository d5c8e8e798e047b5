"""Stall detection: lag plus a committed offset that does not move; idle is never a stall."""

from __future__ import annotations

from prometheus_client import REGISTRY

from streams.metrics import export_partitions
from streams.stalls import PartitionSample, StallTracker


def sample(committed: int | None, highwater: int | None = 10, oldest: float | None = None,
           partition: int = 0) -> PartitionSample:
    return PartitionSample("raw", partition, highwater, committed, oldest)


def test_lag_with_an_unmoving_commit_is_a_stall_after_the_window():
    tracker = StallTracker(stall_seconds=60)
    [first] = tracker.observe([sample(4, oldest=990.0)], now=1000.0)
    assert (first.lag, first.oldest_unacked_age, first.stalled) == (6, 10.0, False)
    [later] = tracker.observe([sample(4, oldest=990.0)], now=1059.0)
    assert not later.stalled
    [stalled] = tracker.observe([sample(4, oldest=990.0)], now=1060.0)
    assert stalled.stalled and stalled.name == "raw:0" and stalled.unmoved_for == 60.0


def test_a_moving_commit_restarts_the_window():
    tracker = StallTracker(stall_seconds=60)
    tracker.observe([sample(4)], now=1000.0)
    [moved] = tracker.observe([sample(5)], now=1100.0)
    assert not moved.stalled and moved.unmoved_for == 0.0


def test_an_idle_partition_is_never_stalled():
    tracker = StallTracker(stall_seconds=60)
    for now in (1000.0, 5000.0, 90_000.0):
        [idle] = tracker.observe([sample(10)], now=now)
        assert idle.lag == 0 and not idle.stalled


def test_unknown_lag_is_not_a_stall_and_revoked_partitions_are_forgotten():
    tracker = StallTracker(stall_seconds=1)
    [unknown] = tracker.observe([sample(None), ], now=0.0)
    assert unknown.lag is None
    tracker.observe([sample(None)], now=10.0)
    assert not tracker.states[0].stalled
    tracker.observe([sample(4, partition=1)], now=20.0)
    assert [s.partition for s in tracker.states] == [1]


def test_gauges_follow_the_assignment():
    tracker = StallTracker(stall_seconds=1)
    export_partitions("unit", tracker.observe([sample(4), sample(7, partition=1)], now=0.0))
    export_partitions("unit", tracker.observe([sample(4)], now=5.0))
    labels = {"app": "unit", "topic": "raw", "partition": "0"}
    assert REGISTRY.get_sample_value("streams_consumer_lag", labels) == 6
    assert REGISTRY.get_sample_value("streams_partition_stalled", labels) == 1
    gone = {**labels, "partition": "1"}
    assert REGISTRY.get_sample_value("streams_consumer_lag", gone) is None
