"""The worker's small HTTP face: /health, /ready (Temporal and PostgreSQL answer), /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from temporalio.client import Client

from orchestration.store import PaymentStore

CHECK_TIMEOUT_SECONDS = 2.0


class HealthServer:
    """Liveness, readiness that checks dependencies, and Prometheus exposition."""

    def __init__(self, client: Client, store: PaymentStore, registry: CollectorRegistry,
                 host: str, port: int) -> None:
        self._client = client
        self._store = store
        self._registry = registry
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.accepting = True  # False once shutdown begins, so readiness drops first

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self.get_live)
        app.router.add_get("/live", self.get_live)
        app.router.add_get("/ready", self.get_ready)
        app.router.add_get("/metrics", self.get_metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def get_live(self, request: web.Request) -> web.Response:
        """Liveness: the process is up."""
        return web.json_response({"status": "ok"})

    async def get_ready(self, request: web.Request) -> web.Response:
        """Readiness: not shutting down, and Temporal and PostgreSQL both answer."""
        checks = {
            "temporal": await _check(lambda: self._client.service_client.check_health(
                timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS))),
            "postgres": await _check(self._store.ping),
            "worker": "ok" if self.accepting else "shutting down",
        }
        ready = all(value == "ok" for value in checks.values())
        return web.json_response({"status": "ready" if ready else "not_ready", "checks": checks},
                                 status=200 if ready else 503)

    async def get_metrics(self, request: web.Request) -> web.Response:
        """Prometheus exposition of the worker's metrics."""
        return web.Response(body=generate_latest(self._registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as err:  # noqa: BLE001 - any failure means "not ready", with its reason
        return f"{type(err).__name__}: {err}"[:200]
    return "ok"
