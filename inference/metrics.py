"""Prometheus metrics: request counts by endpoint and outcome, and request latency."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Latency of pure rule evaluation sits well under 10 ms; the tail buckets catch stalls.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The service's collectors, on a registry of their own so that apps never collide."""

    def __init__(self, model_versions: dict[str, str]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "inference_requests",
            "HTTP requests served.",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "inference_request_duration_seconds",
            "HTTP request latency.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        Info(
            "inference_model", "Versions of the models being served.", registry=self.registry
        ).info(model_versions)


def outcome_of(status: int) -> str:
    """A low-cardinality label for an HTTP status."""
    if status < 400:
        return "success"
    if status == 422:
        return "invalid"
    return "client_error" if status < 500 else "server_error"

access_log = logging.getLogger("inference.access")


class MetricsMiddleware:
    """Count and time every HTTP request, labelled by route template, not raw path."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # The router stores the matched route in the scope; unmatched paths would
            # otherwise let any client mint new label values.
            route = scope.get("route")
            endpoint = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(endpoint, outcome_of(status)).inc()
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(endpoint).observe(elapsed)
            # uvicorn's access log is silenced; this line carries the request id instead.
            access_log.info("request", extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round(elapsed * 1000, 3)})
