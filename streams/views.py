"""Faust web views: liveness, readiness, Prometheus metrics, counters and the dedup table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts.events import make_event_id
from streams.dedup import decode_seen
from streams.metrics import AgentCounters

log = logging.getLogger(__name__)
ReadyCheck = Callable[[faust.App], Awaitable[tuple[bool, dict[str, Any]]]]


async def consumer_ready(app: faust.App) -> tuple[bool, dict[str, Any]]:
    """Ready when partitions are assigned, no rebalance is running and the broker answers."""
    assigned = len(app.consumer.assignment()) if app.consumer else 0
    details: dict[str, Any] = {"assigned_partitions": assigned, "rebalancing": app.rebalancing}
    try:
        client = app.producer._ensure_producer().client  # the running aiokafka client
        details["broker"] = bool(await asyncio.wait_for(client.force_metadata_update(), 5))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported as such
        details["broker"] = False
        details["broker_error"] = repr(exc)
    return bool(assigned and not app.rebalancing and details["broker"]), details


def register_health(app: faust.App, counters: AgentCounters, check_ready: ReadyCheck) -> None:
    """Add /health, /ready, /metrics and /counters to an app's web server."""

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
            return self.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/counters")
    class Counters(View):
        async def get(self, request: Request) -> Response:
            """Per-agent counts of processed, normalized, deduplicated and dead-lettered."""
            return self.json(counters.snapshot())


def register_dedup(app: faust.App, table: Any) -> None:
    """Add /dedup/size and /dedup/{provider}/{provider_event_id} over the dedup table."""

    @app.page("/dedup/size")
    class DedupSize(View):
        async def get(self, request: Request) -> Response:
            """Entries held by this worker (scans its partitions' stores)."""
            return self.json({"size": len(table.data), "app": app.conf.id})

    @app.page("/dedup/{provider}/{provider_event_id}")
    class DedupLookup(View):
        # Route by the raw topic's key, the provider event id: that key chose the
        # partition (and so the worker) that holds this event's dedup entry.
        @app.table_route(table=table, match_info="provider_event_id")
        async def get(self, request: Request, provider: str, provider_event_id: str) -> Response:
            """Whether an event id was seen, and when."""
            event_id = make_event_id(provider, provider_event_id)
            entry = decode_seen(event_id, table.data.get(event_id))
            if entry is None:
                return self.json({"event_id": event_id, "seen": False}, status=404)
            return self.json({"event_id": event_id, "seen": True, "seen_at": entry.seen_at})
