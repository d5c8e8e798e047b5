"""Partition progress: consumer lag, the oldest unacknowledged record, and stalls. Pure.

A partition is stalled when it has lag (records past the group's committed offset) and
that committed offset has not moved for ``stall_seconds``: the worker holds records it
cannot finish, or cannot fetch at all. A partition with no lag is never stalled, however
long it stays idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartitionSample:
    """What the consumer knows about one assigned partition at one moment."""

    topic: str
    partition: int
    highwater: int | None  # the offset the next record written will get
    committed: int | None  # the offset the group resumes from
    oldest_unacked_at: float | None = None  # timestamp (epoch s) of the oldest record held


@dataclass(frozen=True, slots=True)
class PartitionState:
    topic: str
    partition: int
    lag: int | None
    oldest_unacked_age: float | None  # seconds; None when nothing is held
    unmoved_for: float  # seconds since the committed offset last moved (or was first seen)
    stalled: bool

    @property
    def name(self) -> str:
        return f"{self.topic}:{self.partition}"


class StallTracker:
    """Remembers when each partition's committed offset last moved."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self._moved: dict[tuple[str, int], tuple[int | None, float]] = {}
        self.states: list[PartitionState] = []

    def observe(self, samples: Iterable[PartitionSample], now: float) -> list[PartitionState]:
        """The state of every sampled partition; partitions no longer sampled are forgotten."""
        moved: dict[tuple[str, int], tuple[int | None, float]] = {}
        states = []
        for sample in samples:
            key = (sample.topic, sample.partition)
            last = self._moved.get(key)
            since = last[1] if last is not None and last[0] == sample.committed else now
            moved[key] = (sample.committed, since)
            lag = (None if sample.highwater is None or sample.committed is None
                   else max(0, sample.highwater - sample.committed))
            age = (None if sample.oldest_unacked_at is None
                   else max(0.0, now - sample.oldest_unacked_at))
            states.append(PartitionState(
                sample.topic, sample.partition, lag, age, now - since,
                stalled=bool(lag) and now - since >= self.stall_seconds))
        self._moved, self.states = moved, states
        return states
