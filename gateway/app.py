"""The gateway service: `uvicorn gateway.app:app` (127.0.0.1:8000 by default).

Settings are read when uvicorn asks this module for ``app`` (see ``__getattr__`` below),
so a missing secret of an enabled provider (GATEWAY_PROVIDERS, default stripe) stops the
process at startup naming the setting, while tests and tools can import ``create_app``
without any environment.

The webhook port serves the webhooks, ``/health`` and ``/ready`` only. That ``app`` also
starts the admin surface (docs and metrics, ``gateway.admin``) on its own loopback port
from its lifespan; ``create_app`` does so only when asked (``serve_admin``), so that
in-process tests never bind a fixed port.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.admin import RunningAdmin, create_admin_app
from gateway.intake import WebhookIntake, error_body
from gateway.metrics import Metrics
from gateway.providers import Provider, build_providers
from gateway.publisher import KafkaPublisher, Publisher
from gateway.routes import bench, json_response, operations, webhooks_doc
from gateway.settings import GatewaySettings, load_settings
from telemetry import configure_logging
from telemetry.asgi import RequestIdMiddleware

log = logging.getLogger("gateway.app")

async def reject_invalid_request(request: Request, exc: RequestValidationError) -> Response:
    # FastAPI's default is a 422 echoing the input; the gateway's contract is a plain 400.
    return json_response(error_body("rejected", "invalid_request", "the request is invalid"),
                         400)


async def report_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    status = exc.status_code if exc.status_code < 500 else 503
    return json_response(error_body("rejected", reason, str(exc.detail)), status)


async def report_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return json_response(error_body("unavailable", "internal_error", "internal error"), 503)


def document_webhooks(app: FastAPI) -> None:
    """Put the webhook contract in the OpenAPI document without a route that could answer.

    The one webhook endpoint is the raw-ASGI intake (gateway.intake), which FastAPI's router
    never sees; its contract comes from ``webhooks_doc``, a router that is never mounted.
    """
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary,
                routes=[*app.routes, *webhooks_doc.routes])
        return app.openapi_schema

    app.openapi = openapi


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    admin: RunningAdmin | None = app.state.admin_server
    if admin is not None:
        await admin.start()  # first: a taken admin port stops startup before Kafka is tried
    await app.state.publisher.start()
    app.state.accepting = True
    log.info("gateway started", extra={"providers": sorted(app.state.providers)})
    yield
    # Not-ready while uvicorn drains; then stop() flushes whatever is still in flight.
    app.state.accepting = False
    await app.state.publisher.stop()
    if admin is not None:
        await admin.stop()
    log.info("gateway stopped")


def create_app(
    settings: GatewaySettings | None = None,
    publisher: Publisher | None = None,
    providers: dict[str, Provider] | None = None,
    *,
    serve_admin: bool = False,
) -> FastAPI:
    """Build the app; tests inject settings and, for HTTP-only tests, a publisher.

    The admin app is always built (``app.state.admin``, for in-process tests); with
    ``serve_admin`` and a non-zero ``GATEWAY_ADMIN_PORT`` the lifespan also serves it.
    """
    settings = settings or load_settings()
    configure_logging("gateway", settings.LOG_LEVEL)
    _route_uvicorn_logs()
    metrics = Metrics()
    if publisher is None:
        publisher = KafkaPublisher(
            settings.KAFKA_BOOTSTRAP_SERVERS,
            publish_timeout=settings.PUBLISH_TIMEOUT_SECONDS,
            connect_retry=settings.CONNECT_RETRY_SECONDS,
            ready_timeout=settings.READY_TIMEOUT_SECONDS,
            ready_cache=settings.READY_CACHE_SECONDS,
            linger_ms=settings.LINGER_MS,
            topic_prefix=settings.TOPIC_PREFIX,
            metrics=metrics,
            auth=settings.kafka_auth(),
        )
        metrics.kafka_connected.set_function(lambda: float(publisher.connected))
    # Metrics are Prometheus (gateway.metrics). FastAPI's native OpenTelemetry would still
    # look up the global providers on every request (~10 µs of a ~200 µs webhook).
    # No docs on the webhook port: they are the admin app's (gateway.admin).
    app = FastAPI(title="Payment webhook gateway", version="1.0.0", lifespan=lifespan,
                  summary="Verified provider webhooks, durable in Kafka before the 2xx.",
                  docs_url=None, redoc_url=None, openapi_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.settings = settings
    app.state.publisher = publisher
    app.state.providers = providers if providers is not None else build_providers(settings)
    app.state.metrics = metrics
    app.state.accepting = False
    app.include_router(operations)
    document_webhooks(app)
    app.state.admin = create_admin_app(app, metrics)
    app.state.admin_server = (RunningAdmin(app.state.admin, settings.ADMIN_HOST,
                                           settings.ADMIN_PORT)
                              if serve_admin and settings.ADMIN_PORT else None)
    if settings.BENCH_ENDPOINT:
        app.include_router(bench)
    app.add_exception_handler(RequestValidationError, reject_invalid_request)
    app.add_exception_handler(StarletteHTTPException, report_http_error)
    app.add_exception_handler(Exception, report_unexpected)
    # Added in this order so the request id is bound before the intake runs.
    app.add_middleware(WebhookIntake, providers=app.state.providers, publisher=publisher,
                       metrics=metrics, max_body_bytes=settings.MAX_BODY_BYTES,
                       bench_endpoint=settings.BENCH_ENDPOINT)
    app.add_middleware(RequestIdMiddleware)
    return app


def _route_uvicorn_logs() -> None:
    # uvicorn installs plain-text handlers before importing the app; send its records
    # through the JSON root handler instead. Per-request access lines are left to the
    # webhook route, which logs each refusal and failure with the request and event ids
    # (each acceptance at DEBUG; gateway_webhooks counts every outcome).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        app = create_app(serve_admin=True)
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
