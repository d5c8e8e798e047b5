"""Faust web views: liveness, readiness, Prometheus metrics, counters and the dedup table.

Every table has a view that is answered by the worker owning the key asked for (a request
to another worker is forwarded to it); the web server binds STREAMS_WEB_HOST, 127.0.0.1.

Both workers get stall visibility here: every few seconds each assigned partition's lag,
oldest unacknowledged record and committed offset are sampled into Prometheus gauges, and
/ready fails, naming the partitions, when one has lag and its committed offset has not
moved for STREAMS_STALL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

import faust
from faust.exceptions import SameNode
from faust.types import TP
from faust.web import Request, Response, View
from faust.web.exceptions import ServiceUnavailable
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.events import make_event_id
from streams.dedup import decode_seen
from streams.faust_internals import broker_client, committed_offsets, forward_request
from streams.metrics import AgentCounters, export_partitions
from streams.settings import StreamsSettings
from streams.stalls import PartitionSample, PartitionState, StallTracker

log = logging.getLogger(__name__)
ReadyCheck = Callable[[faust.App], Awaitable[tuple[bool, dict[str, Any]]]]


async def sample_partitions(app: faust.App) -> list[PartitionSample]:
    """Lag inputs and the oldest held record of each assigned partition this app commits."""
    consumer = app.consumer
    tps = sorted(tp for tp in consumer.assignment() if app.topics.acks_enabled_for(tp.topic))
    committed = committed_offsets(app)
    oldest: dict[TP, tuple[int, float]] = {}
    for message in list(consumer.unacked):
        resume = committed.get(message.tp) or 0
        if message.acked or message.offset < resume or message.timestamp is None:
            continue  # acked, or left over from before a seek
        held = oldest.get(message.tp)
        if held is None or message.offset < held[0]:
            oldest[message.tp] = (message.offset, message.timestamp)
    starts: dict[TP, int] = {}
    unknown = [tp for tp in tps if committed.get(tp) is None]
    if unknown:
        try:  # nothing committed yet: the group resumes from the log's start
            starts = dict(await asyncio.wait_for(consumer.earliest_offsets(*unknown), 5))
        except Exception as exc:  # noqa: BLE001 - lag is then unknown, not zero
            log.warning("earliest offsets unavailable: %r", exc)
    samples = []
    for tp in tps:
        try:
            highwater = consumer.highwater(tp)
        except Exception:  # noqa: BLE001 - revoked mid-sample or not fetched yet: unknown
            highwater = None
        resume = committed.get(tp)
        samples.append(PartitionSample(tp.topic, tp.partition, highwater,
                                       resume if resume is not None else starts.get(tp),
                                       oldest[tp][1] if tp in oldest else None))
    return samples


class PartitionWatch:
    """Samples an app's partitions into the stall tracker and the Prometheus gauges."""

    def __init__(self, app: faust.App, label: str, stall_seconds: float) -> None:
        self.app, self.label = app, label
        self.tracker = StallTracker(stall_seconds)
        self._lock = asyncio.Lock()

    @property
    def interval(self) -> float:
        # Often enough that a stall is seen soon after STALL_SECONDS, never in a tight loop.
        return min(5.0, max(0.5, self.tracker.stall_seconds / 4))

    async def refresh(self) -> list[PartitionState]:
        async with self._lock:
            if self.app.consumer is None or self.app.rebalancing:
                return self.tracker.states  # assignments are moving: keep the last view
            try:
                samples = await sample_partitions(self.app)
            except Exception as exc:  # noqa: BLE001 - e.g. the consumer not started yet
                log.warning("partition sample failed: %r", exc)
                return self.tracker.states
            states = self.tracker.observe(samples, time.time())
            export_partitions(self.label, states)
            return states


_watches: dict[str, PartitionWatch] = {}


async def consumer_ready(app: faust.App) -> tuple[bool, dict[str, Any]]:
    """Ready when partitions are assigned, no rebalance is running, the broker answers and
    no partition is stalled."""
    assigned = len(app.consumer.assignment()) if app.consumer else 0
    details: dict[str, Any] = {"assigned_partitions": assigned, "rebalancing": app.rebalancing}
    try:
        client = broker_client(app)
        details["broker"] = bool(await asyncio.wait_for(client.force_metadata_update(), 5))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        details["broker"] = False
        details["broker_error"] = repr(exc)
    stalled: list[str] = []
    watch = _watches.get(app.conf.id)
    if watch is not None:
        states = await watch.refresh()
        stalled = [s.name for s in states if s.stalled]
        details["stalled_partitions"] = stalled
        details["partitions"] = {s.name: {"lag": s.lag, "oldest_unacked_age_seconds":
                                          s.oldest_unacked_age,
                                          "committed_unmoved_seconds": round(s.unmoved_for, 1)}
                                 for s in states}
    ok = bool(assigned and not app.rebalancing and details["broker"] and not stalled)
    return ok, details


def register_health(app: faust.App, counters: AgentCounters, check_ready: ReadyCheck,
                    stall_seconds: float | None = None) -> None:
    """Add /health, /ready, /metrics and /counters, and the partition watch, to an app."""
    if stall_seconds is None:
        stall_seconds = StreamsSettings().STALL_SECONDS
    watch = _watches[app.conf.id] = PartitionWatch(app, counters.app, stall_seconds)

    @app.timer(interval=watch.interval)
    async def watch_partitions() -> None:
        """Sample partition progress into the gauges and the stall tracker."""
        await watch.refresh()

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            """Liveness: the worker's event loop answers."""
            return self.json({"status": "ok", "app": app.conf.id})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            """Readiness: consumer assigned and dependencies reachable."""
            ok, details = await check_ready(app)
            return self.json({"ready": ok, **details}, status=200 if ok else 503)

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            """Prometheus exposition of this process's metrics."""
            await watch.refresh()
            return self.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/counters")
    class Counters(View):
        async def get(self, request: Request) -> Response:
            """Per-agent counts of processed, normalized, deduplicated and dead-lettered."""
            return self.json(counters.snapshot())


# app id -> the tables that have a routed web view; every table of an app must (a test checks).
ROUTED_TABLES: dict[str, set[str]] = {}


def route_by_source_key(app: faust.App, table: Any, match_info: str) -> Callable:
    """faust's table_route, for a table filed by its source record's partition.

    The dedup entry of an event sits in the changelog partition of the raw record it came
    from, which the raw key's bytes chose. faust's table_route would hash the key as the
    table serializes it (JSON, ``"evt_1"`` with its quotes) and so ask the wrong worker for
    two keys in three. This asks the worker that owns the partition of the raw key's bytes,
    or answers here when that is this worker.
    """
    ROUTED_TABLES.setdefault(app.conf.id, set()).add(table.name)

    def decorate(handler: Callable) -> Callable:
        @wraps(handler)
        async def get(view: View, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.match_info[match_info].encode()
            try:
                owner = app.assignor.key_store(table.changelog_topic.get_topic_name(), key)
            except KeyError as exc:  # no assignment yet (or a rebalance is running)
                raise ServiceUnavailable() from exc
            try:
                return await forward_request(app, owner, view.web, request)
            except SameNode:
                return await handler(view, request, *args, **kwargs)

        return get

    return decorate


def register_dedup(app: faust.App, table: Any) -> None:
    """Add /dedup/size and /dedup/{provider}/{provider_event_id} over the dedup table."""

    @app.page("/dedup/size")
    class DedupSize(View):
        async def get(self, request: Request) -> Response:
            """Entries held by this worker (scans its partitions' stores)."""
            return self.json({"size": len(table.data), "app": app.conf.id})

    @app.page("/dedup/{provider}/{provider_event_id}")
    class DedupLookup(View):
        # Routed by the raw topic's key, the provider event id: that key chose the
        # partition (and so the worker) that holds this event's dedup entry.
        @route_by_source_key(app, table, match_info="provider_event_id")
        async def get(self, request: Request, provider: str, provider_event_id: str) -> Response:
            """Whether an event id was seen, and when (asked of the worker that owns it)."""
            event_id = make_event_id(provider, provider_event_id)
            entry = decode_seen(event_id, table.data.get(event_id))
            if entry is None:
                return self.json({"event_id": event_id, "seen": False}, status=404)
            return self.json({"event_id": event_id, "seen": True, "seen_at": entry.seen_at})
