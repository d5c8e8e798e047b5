"""Per-agent counters (for the JSON views and Prometheus) and per-partition progress gauges."""

from __future__ import annotations

from collections import Counter as _Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from streams.stalls import PartitionState

OUTCOMES = ("processed", "normalized", "deduplicated", "dead_lettered", "refused", "started",
            "already_done", "retried", "replayed")

_EVENTS = Counter(
    "streams_agent_events_total", "Events handled by a streams agent, by outcome",
    ["app", "agent", "outcome"],
)
DEDUP_ENTRIES = Gauge("streams_dedup_entries", "Entries in the dedup table after the last purge")
DEDUP_PURGED = Counter("streams_dedup_purged_total", "Dedup entries forgotten by the purge timer")
# The starter's batched mode (streams/batches.py); its events are counted per event above too.
BATCHES = Counter("streams_starter_batches",
                  "PaymentBatchWorkflow signal-with-starts, by outcome (refused: its events "
                  "were then started one by one)", ["outcome"])
BATCH_EVENTS = Histogram("streams_starter_batch_events",
                         "Payments per PaymentBatchWorkflow the starter had Temporal accept",
                         buckets=(1, 2, 5, 10, 20, 50, 100))


class AgentCounters:
    """Counts outcomes per agent, readable as a dict and exported to Prometheus."""

    def __init__(self, app: str) -> None:
        self.app = app
        self._tallies: dict[str, _Tally[str]] = {}

    def add(self, agent: str, outcome: str, n: int = 1) -> None:
        self._tallies.setdefault(agent, _Tally())[outcome] += n
        _EVENTS.labels(self.app, agent, outcome).inc(n)

    def get(self, agent: str, outcome: str) -> int:
        return self._tallies.get(agent, _Tally())[outcome]

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {agent: dict(tally) for agent, tally in self._tallies.items()}

_PARTITION = ["app", "topic", "partition"]
CONSUMER_LAG = Gauge("streams_consumer_lag",
                     "Records of an assigned partition past the group's committed offset",
                     _PARTITION)
OLDEST_UNACKED_AGE = Gauge("streams_oldest_unacked_age_seconds",
                           "Age (from its Kafka timestamp) of the oldest record this worker "
                           "holds unacknowledged; 0 when it holds none", _PARTITION)
PARTITION_STALLED = Gauge("streams_partition_stalled",
                          "1 while a partition has lag and its committed offset has not moved "
                          "for STREAMS_STALL_SECONDS", _PARTITION)
COMMITTED_UNMOVED = Gauge("streams_committed_offset_unmoved_seconds",
                          "Seconds since the partition's committed offset last moved",
                          _PARTITION)
_PARTITION_GAUGES = (CONSUMER_LAG, OLDEST_UNACKED_AGE, PARTITION_STALLED, COMMITTED_UNMOVED)
_exported: dict[str, set[tuple[str, str]]] = {}


def export_partitions(app: str, states: Iterable[PartitionState]) -> None:
    """Set the per-partition gauges; drop the series of partitions no longer assigned."""
    current: set[tuple[str, str]] = set()
    for state in states:
        labels = (app, state.topic, str(state.partition))
        current.add(labels[1:])
        if state.lag is None:
            _remove(CONSUMER_LAG, labels)
        else:
            CONSUMER_LAG.labels(*labels).set(state.lag)
        OLDEST_UNACKED_AGE.labels(*labels).set(state.oldest_unacked_age or 0.0)
        PARTITION_STALLED.labels(*labels).set(1 if state.stalled else 0)
        COMMITTED_UNMOVED.labels(*labels).set(state.unmoved_for)
    for gone in _exported.get(app, set()) - current:
        for gauge in _PARTITION_GAUGES:
            _remove(gauge, (app, *gone))
    _exported[app] = current


def _remove(gauge: Gauge, labels: tuple[str, ...]) -> None:
    try:
        gauge.remove(*labels)
    except KeyError:  # never set
        pass
