"""The admin surface: OpenAPI docs and Prometheus metrics, on a port of their own.

The webhook port faces the providers (and so the internet); what it would reveal there,
the API's full description and the traffic counters, is for operators only. So ``/docs``,
``/redoc``, ``/openapi.json`` and ``/metrics`` are served by a second, small app, on
``GATEWAY_ADMIN_HOST:GATEWAY_ADMIN_PORT`` (default ``127.0.0.1:8010``), and the webhook port
answers 404 for them. Liveness and readiness stay on the webhook port, where orchestrators
probe the process that serves the webhooks.

``uvicorn gateway.app:app`` starts the admin server from the webhook app's lifespan, as a
second ``uvicorn.Server`` in the same event loop, so the launch command is unchanged; it
stops when the gateway does. The webhook server keeps the signal handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.metrics import Metrics

log = logging.getLogger("gateway.admin")
ADMIN_PATHS = ("/docs", "/redoc", "/openapi.json", "/metrics")


class AdminStartError(SystemExit):
    """The admin port cannot be bound: stops startup naming the setting."""


def create_admin_app(webhook_app: FastAPI, metrics: Metrics) -> FastAPI:
    """Docs for the webhook app's API, and its metrics; nothing that writes."""
    admin = FastAPI(title=f"{webhook_app.title} (admin)", version=webhook_app.version,
                    docs_url="/docs", redoc_url="/redoc", openapi_url="/openapi.json",
                    telemetry={"tracing": False, "metrics": False, "logs": False})
    # The document describes the webhook port's API, not this one's.
    admin.openapi = webhook_app.openapi

    @admin.get("/metrics", include_in_schema=False)
    async def get_metrics(request: Request) -> Response:
        """Prometheus exposition of the gateway's metrics."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return admin


class AdminServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the webhook server it runs beside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class RunningAdmin:
    """The admin server, started in this event loop on its own socket."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server = AdminServer(uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_config=None))
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Bind (so a taken port stops startup naming the setting), then serve."""
        try:
            # Bound here rather than by uvicorn, whose bind failure is a sys.exit.
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.create_server((self.host, self.port), family=family)
        except OSError as exc:
            raise AdminStartError(
                f"gateway: invalid configuration: GATEWAY_ADMIN_HOST/GATEWAY_ADMIN_PORT "
                f"{self.host}:{self.port} cannot be bound ({exc.strerror}); choose a free "
                f"port, or 0 to serve no admin surface") from None
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]),
                                         name="gateway-admin-server")
        # uvicorn offers a flag, not an event, for "listening".
        while not self._server.started and not self._task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # the reason it stopped, raised here
        log.info("admin surface listening", extra={"address": f"{self.host}:{self.port}",
                                                   "paths": list(ADMIN_PATHS)})

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception, SystemExit):
            await self._task
        self._task = None
