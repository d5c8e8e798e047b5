"""Talking to the real gateway as the providers do, and waiting for what it leads to."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from infra.services import demo_environment
from streams.simulation.signing import ProviderKeys, SigningSettings
from streams.simulation.simulate import provider_keys

GATEWAY = "http://127.0.0.1:8000/webhooks"


def gateway_keys() -> ProviderKeys:
    """The credentials the stack's gateway runs with, so what we sign verifies."""
    env = demo_environment()
    signing = SigningSettings(**{name: env[name] for name in SigningSettings.model_fields})
    return provider_keys(signing, for_gateway=True)


def stripe_secret() -> str:
    return demo_environment()["STRIPE_WEBHOOK_SECRET"]


async def wait_for_ids(dsn: str, table: str, event_ids: set[str],
                       within: float = 120) -> set[str]:
    """The ids of event_ids with a row in `table`, once all have one or time is up."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + within
        while True:
            found = {r["event_id"] for r in await conn.fetch(
                f"SELECT event_id FROM {table} WHERE event_id = ANY($1::text[])",
                list(event_ids))}
            if found == event_ids or time.monotonic() > deadline:
                return found
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def wait_for_rows(dsn: str, event_ids: set[str], within: float = 120) -> set[str]:
    """The ids of event_ids with a payment_events row, once all have one or time is up."""
    return await wait_for_ids(dsn, "payment_events", event_ids, within)
