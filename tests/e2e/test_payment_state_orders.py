"""A payment's current state is the same under any order, on the real stack.

For each provider, every multi-event fixture lifecycle is sent once in fixture order, then
in 20 shuffled orders with duplicates mixed in (rotating over the provider's lifecycles),
each run as its own payment (``fixture_runs``). All go through the real gateway, Kafka,
normalizer, starter, Temporal and PostgreSQL, every run at once. Then each run's
``payments`` row, read back with the run's suffix taken off its ids, must equal its
lifecycle's in-order row, and the in-order row must equal the pure fold
(``contracts.payment_state``) of the events in order. The pure property test
(tests/unit/contracts) covers thousands of orders; this one shows the servers keep it.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg
import httpx
import pytest

from contracts.payment_state import PaymentState, apply
from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS
from tests.e2e.fixture_runs import Request, run_tag, runs
from tests.e2e.gateway_requests import GATEWAY, gateway_keys, stripe_secret, wait_for_rows

SHUFFLED_RUNS = 20
PROVIDERS = ("stripe", "adyen", "braintree", "square")
COLUMNS = PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS


def plan(provider: str, shuffle: random.Random) -> list[tuple[str, str, list[Request]]]:
    """(lifecycle, run tag, requests in send order): one in-order run per lifecycle, then
    SHUFFLED_RUNS shuffled ones with about half as many duplicates again."""
    keys, secret = gateway_keys(), stripe_secret()
    names = list(runs(provider, run_tag(0), keys, secret))
    planned = []
    for n, name in enumerate(names):
        tag = f"{run_tag(n)}i"
        planned.append((name, tag, runs(provider, tag, keys, secret)[name]))
    for n in range(SHUFFLED_RUNS):
        name, tag = names[n % len(names)], f"{run_tag(n)}s"
        requests = runs(provider, tag, keys, secret)[name]
        order = requests + shuffle.choices(requests, k=len(requests) // 2 + 1)
        shuffle.shuffle(order)
        planned.append((name, tag, order))
    return planned


async def send_in_order(client: httpx.AsyncClient, requests: list[Request]) -> None:
    for request in requests:
        response = await client.post(f"{GATEWAY}/{request.provider}", content=request.body,
                                     headers=request.headers)
        assert response.is_success, response.text


def without_tag(row: dict, tag: str) -> dict:
    return {name: value.replace(f"_{tag}", "").replace(tag.upper(), "").replace(f"-{tag}", "")
            if isinstance(value, str) else value for name, value in row.items()}


def folded(requests: list[Request]) -> dict:
    state: PaymentState | None = None
    for request in requests:
        state = apply(state, request.event)
    return {name: getattr(state, name) for name in COLUMNS}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_order_ends_in_the_in_order_state(pipeline, postgres_dsn, provider):
    planned = plan(provider, random.Random(f"orders:{provider}"))

    async def send_all() -> None:
        limit = asyncio.Semaphore(6)

        async def one(requests: list[Request]) -> None:
            async with limit:
                await send_in_order(client, requests)

        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(one(requests) for _, _, requests in planned))

    asyncio.run(send_all())
    expected_ids = {r.event.event_id for _, _, requests in planned for r in requests}
    found = asyncio.run(wait_for_rows(postgres_dsn, expected_ids, within=300))
    assert found == expected_ids, f"{len(expected_ids - found)} events have no row"

    async def read_rows() -> dict[str, dict]:
        conn = await asyncpg.connect(postgres_dsn)
        try:
            rows = {}
            for _, tag, requests in planned:
                payment_id = requests[0].event.payment_id
                row = await conn.fetchrow(f"SELECT {', '.join(COLUMNS)} FROM payments "
                                          "WHERE provider = $1 AND payment_id = $2",
                                          provider, payment_id)
                assert row is not None, payment_id
                rows[tag] = dict(row)
            return rows
        finally:
            await conn.close()

    rows = asyncio.run(read_rows())
    in_order = {}
    for name, tag, requests in planned:
        if tag.endswith("i"):
            assert rows[tag] == folded(requests), name
            in_order[name] = without_tag(rows[tag], tag)
    assert len(planned) - len(in_order) == SHUFFLED_RUNS
    for name, tag, _ in planned:
        assert without_tag(rows[tag], tag) == in_order[name], (name, tag)
