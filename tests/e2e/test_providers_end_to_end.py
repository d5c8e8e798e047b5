"""Each provider end to end: a request signed as that provider signs it becomes a row in
payment_events, through the real gateway, normalizer, starter, Temporal and PostgreSQL."""

import asyncio
import time

import asyncpg
import httpx
import pytest

from infra.services import demo_environment
from streams.simulation.generator import SimulatorMix
from streams.simulation.provider_generator import generate_provider_events
from streams.simulation.signing import ProviderKeys, SigningSettings
from streams.simulation.simulate import provider_keys

GATEWAY = "http://127.0.0.1:8000/webhooks"


def gateway_keys() -> ProviderKeys:
    env = demo_environment()
    signing = SigningSettings(**{name: env[name] for name in SigningSettings.model_fields})
    return provider_keys(signing, for_gateway=True)


async def wait_for_rows(dsn: str, event_ids: set[str], within: float = 120) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + within
        while True:
            found = {r["event_id"] for r in await conn.fetch(
                "SELECT event_id FROM payment_events WHERE event_id = ANY($1::text[])",
                list(event_ids))}
            if found == event_ids or time.monotonic() > deadline:
                return found
            await asyncio.sleep(1)
    finally:
        await conn.close()


@pytest.mark.parametrize("provider", ["adyen", "braintree", "square"])
def test_a_signed_request_becomes_a_row(pipeline, postgres_dsn, provider):
    seed = int(time.time() * 1000) % 10**9
    events = list(generate_provider_events(provider, 6, seed=seed, keys=gateway_keys(),
                                           mix=SimulatorMix(0.3, 0.0, 0.0)))
    with httpx.Client(timeout=10) as client:
        for event in events:
            response = client.post(f"{GATEWAY}/{provider}", content=event.http_body,
                                   headers=event.http_headers)
            assert response.is_success, response.text

    expected = {f"{provider}:{event.key}" for event in events}
    found = asyncio.run(wait_for_rows(postgres_dsn, expected))

    assert found == expected
