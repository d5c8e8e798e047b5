"""Gateway unit fixtures: an app over an in-memory publisher, driven through ASGI."""

from __future__ import annotations

import httpx
import pytest
from gateway_support import ROTATED_SECRET, SECRET, MemoryPublisher

from gateway.settings import GatewaySettings


@pytest.fixture
def settings() -> GatewaySettings:
    return GatewaySettings(STRIPE_WEBHOOK_SECRET=f"{SECRET},{ROTATED_SECRET}",
                           MAX_BODY_BYTES=64 * 1024, LOG_LEVEL="WARNING")


@pytest.fixture
def publisher() -> MemoryPublisher:
    return MemoryPublisher()


@pytest.fixture
async def app(settings, publisher):
    from gateway.app import create_app

    app = create_app(settings, publisher=publisher)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app):
    """The webhook port."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        yield c


@pytest.fixture
async def admin_client(app):
    """The admin port's app (docs, metrics), in process."""
    transport = httpx.ASGITransport(app=app.state.admin, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway-admin") as c:
        yield c
