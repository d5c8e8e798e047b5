"""Gateway integration fixtures: the real app, in-process over ASGI, with a real producer."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from gateway_kafka_support import SECRET

from gateway.settings import GatewaySettings


@contextlib.asynccontextmanager
async def running_gateway(bootstrap: str, **overrides):
    """The full app (real KafkaPublisher) with its lifespan running, and a client for it."""
    from gateway.app import create_app

    settings = GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                               LOG_LEVEL="WARNING", **overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture(scope="session")
async def gateway_client(kafka_bootstrap):
    """One gateway on the shared broker for the tests that don't fault it."""
    async with running_gateway(kafka_bootstrap, PUBLISH_TIMEOUT_SECONDS=10) as client:
        yield client
