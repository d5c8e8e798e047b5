"""The payments row on a real PostgreSQL: shuffled lifecycles with duplicates, through
PaymentStore.insert_payment_event, end in the pure in-order state; concurrent events of one
payment serialize on its row and end in the same state.

Needs PostgreSQL only (not Kafka or Temporal): it brings up the stack's PostgreSQL alone
(``infra.stack.up(["postgres"])``, idempotent) and works in a scratch database migrated by
``infra.migrate``. POSTGRES_PORT and STACK_DIR choose the server, e.g. a private one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random

import asyncpg
import pytest

from contracts import PaymentEvent, make_event_id
from contracts.payment_state import PaymentState, apply, from_json
from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS
from infra.migrate import apply_migrations
from orchestration.models import Enrichment, PersistInput, ValidationResult
from orchestration.payment_state import load_payment_state, merge_payment_event
from orchestration.store import PaymentStore, create_pool
from tests.lifecycles import lifecycles

ORDERS_PER_LIFECYCLE = 6  # x 9 lifecycles of several events = 54 shuffled runs, 2+ per provider
PROVIDERS = ("stripe", "adyen", "braintree", "square")


@pytest.fixture(scope="module")
def server_dsn() -> str:
    from infra import stack
    from infra.stack_env import admin_dsn

    stack.up(["postgres"])
    return admin_dsn()


@pytest.fixture
async def pool(server_dsn, unique):
    name = f"scratch_payments_{unique}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = server_dsn.rsplit("/", 1)[0] + f"/{name}"
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
        finally:
            await conn.close()
        pool = await create_pool(dsn, 1, 4)
        try:
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def persist(event: PaymentEvent) -> PersistInput:
    return PersistInput(event, ValidationResult(), Enrichment())


def run_of(events: tuple[PaymentEvent, ...], run: str) -> list[PaymentEvent]:
    """The lifecycle under its own payment and event ids, so runs never meet."""
    return [dataclasses.replace(
        e, payment_id=f"{e.payment_id}-{run}", provider_event_id=f"{run}-{e.provider_event_id}",
        event_id=make_event_id(e.provider, f"{run}-{e.provider_event_id}")) for e in events]


def fold(events) -> PaymentState:
    state = None
    for event in events:
        state = apply(state, event)
    return state


async def assert_row_is(pool: asyncpg.Pool, expected: PaymentState) -> None:
    row = await load_payment_state(pool, expected.provider, expected.payment_id)
    assert row is not None
    for name in PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS:
        assert row[name] == getattr(expected, name), name
    assert from_json(expected.provider, expected.payment_id, row["merge_state"]) == expected


async def test_shuffled_lifecycles_with_duplicates_end_in_the_in_order_state(pool):
    store = PaymentStore(pool)
    chosen = {name: events for name, events in lifecycles().items() if len(events) > 1}
    assert {name.split(":", 1)[0] for name in chosen} == set(PROVIDERS)
    shuffle = random.Random(17)
    for i, (name, events) in enumerate(chosen.items()):
        for n in range(ORDERS_PER_LIFECYCLE):
            run = run_of(events, f"l{i}r{n}")
            order = run + shuffle.choices(run, k=len(run) // 2 + 1)
            shuffle.shuffle(order)
            outcomes = [await store.insert_payment_event(persist(e)) for e in order]
            assert outcomes.count("inserted") == len(run), name
            await assert_row_is(pool, fold(run))
    count = await pool.fetchval("SELECT count(*) FROM payments")
    assert count == len(chosen) * ORDERS_PER_LIFECYCLE


async def test_a_duplicate_event_changes_nothing(pool):
    store = PaymentStore(pool)
    events = run_of(lifecycles()["square:hYy9pRFVxpDsO1FB05SunFWUe9JZY"], "dup")
    for event in events:
        await store.insert_payment_event(persist(event))
    before = await load_payment_state(pool, "square", events[0].payment_id)
    await asyncio.sleep(0.01)
    assert await store.insert_payment_event(persist(events[2])) == "duplicate"
    assert await load_payment_state(pool, "square", events[0].payment_id) == before
    stamp = "SELECT updated_at FROM payments WHERE payment_id = $1"
    assert await pool.fetchval(stamp, events[0].payment_id) is not None


async def test_an_event_without_a_payment_id_leaves_payments_alone(pool):
    [event] = run_of(lifecycles()["stripe:pi_00000000000000"], "none")
    await PaymentStore(pool).insert_payment_event(persist(dataclasses.replace(event,
                                                                              payment_id=None)))
    assert await pool.fetchval("SELECT count(*) FROM payments") == 0


@pytest.mark.parametrize("row_exists", [False, True])
async def test_concurrent_events_of_one_payment_serialize_on_its_row(pool, row_exists):
    store = PaymentStore(pool)
    events = run_of(lifecycles()["stripe:ch_000000000000000000000000"], f"c{int(row_exists)}")
    first, held, second = events[0], events[1], events[2]
    if row_exists:
        await store.insert_payment_event(persist(first))
    holder = await pool.acquire()
    try:
        transaction = holder.transaction()
        await transaction.start()
        await merge_payment_event(holder, held)  # holds the row (or its pending insert)
        waiting = asyncio.create_task(store.insert_payment_event(persist(second)))
        await asyncio.sleep(0.5)
        assert not waiting.done(), "the second writer did not wait for the row"
        await transaction.commit()
        assert await asyncio.wait_for(waiting, 10) == "inserted"
    finally:
        await pool.release(holder)
    await assert_row_is(pool, fold([first, held, second] if row_exists else [held, second]))


async def test_many_concurrent_writers_end_in_the_in_order_state(pool):
    store = PaymentStore(pool)
    runs = [run_of(events, f"m{i}") for i, events in enumerate(
        e for name, e in lifecycles().items() if name.endswith(":all-fixtures"))]
    order = [event for run in runs for event in run]
    order += order[::3]
    random.Random(5).shuffle(order)
    await asyncio.gather(*(store.insert_payment_event(persist(e)) for e in order))
    for run in runs:
        await assert_row_is(pool, fold(run))
