from collections.abc import AsyncIterator

import httpx
import pytest

from inference.app import create_app


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Module scope: hypothesis re-runs a test body many times against one fixture value.
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inference") as c:
            yield c
