"""Readiness probes that make a real protocol call, not just a TCP connect."""

from __future__ import annotations

import asyncio


def temporal_ready(target: str) -> bool:
    from temporalio.client import Client

    async def probe() -> bool:
        client = await asyncio.wait_for(Client.connect(target, namespace="default"), 5)
        await asyncio.wait_for(client.service_client.check_health(), 5)
        return True

    try:
        return asyncio.run(probe())
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def postgres_ready(port: int, password: str | None, database: str = "postgres",
                   user: str = "postgres") -> bool:
    """Whether the server answers a query as ``user``; a refused password is an error, not
    "not ready yet": waiting would never change it."""
    import asyncpg

    async def probe() -> bool:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user=user, password=password, database=database,
            timeout=3,
        )
        try:
            return await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()

    try:
        return asyncio.run(probe())
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        raise
    except Exception:  # noqa: BLE001 - any other failure means "not ready yet"
        return False
