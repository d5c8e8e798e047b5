"""Per-agent counters, kept both for the JSON views and for Prometheus."""

from __future__ import annotations

from collections import Counter as _Tally

from prometheus_client import Counter, Gauge

OUTCOMES = ("processed", "normalized", "deduplicated", "dead_lettered", "started",
            "already_done", "retried")

_EVENTS = Counter(
    "streams_agent_events_total", "Events handled by a streams agent, by outcome",
    ["app", "agent", "outcome"],
)
DEDUP_ENTRIES = Gauge("streams_dedup_entries", "Entries in the dedup table after the last purge")
DEDUP_PURGED = Counter("streams_dedup_purged_total", "Dedup entries forgotten by the purge timer")


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
