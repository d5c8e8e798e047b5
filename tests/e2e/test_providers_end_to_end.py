"""Each provider end to end: a request signed as that provider signs it becomes a row in
payment_events, through the real gateway, normalizer, starter, Temporal and PostgreSQL."""

import asyncio
import time

import httpx
import pytest

from streams.simulation.generator import SimulatorMix
from streams.simulation.provider_generator import generate_provider_events
from tests.e2e.gateway_requests import GATEWAY, gateway_keys, wait_for_rows


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
