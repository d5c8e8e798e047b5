"""silver.payments on real PostgreSQL and the SQL catalog: the fold agrees with the store.

Events are written by orchestration's own PaymentStore, so PostgreSQL's payments rows are the
real writer's; the lake folds bronze with contracts.payment_state. The check then agrees after
a load, skips rows written after the watermark, and names a payment whose row was altered
once a load covers the change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random

import psycopg2.extras
from dagster import materialize

from batch.assets import LAKE_ASSETS, SILVER_PAYMENT_EVENTS, SILVER_PAYMENTS
from batch.checks import LAKE_CHECKS, silver_payments_match_postgres_payments
from batch.lake import replace_mart
from batch.payment_states import SILVER_PAYMENT_COLUMNS
from batch.transforms import build_silver_payment_events
from contracts import PaymentEvent, make_event_id
from orchestration.models import Enrichment, PersistInput, ValidationResult
from orchestration.store import PaymentStore, create_pool
from tests.lifecycles import lifecycles


def fixture_events(run: str) -> list[PaymentEvent]:
    """Every fixture payment of the four providers, under this run's own ids, shuffled."""
    events = [dataclasses.replace(
        e, payment_id=f"{e.payment_id}-{run}", provider_event_id=f"{run}-{e.provider_event_id}",
        event_id=make_event_id(e.provider, f"{run}-{e.provider_event_id}"))
        for name, payment in lifecycles().items() if not name.endswith(":all-fixtures")
        for e in payment]
    random.Random(run).shuffle(events)
    return events


def hold_back_one_payment(events: list[PaymentEvent]) -> tuple[list, list]:
    """The events of the first event's payment, and all the others."""
    key = (events[0].provider, events[0].payment_id)
    return ([e for e in events if (e.provider, e.payment_id) == key],
            [e for e in events if (e.provider, e.payment_id) != key])


def store_events(dsn: str, events: list[PaymentEvent]) -> None:
    """Through the real store: each event row and its payments row in one transaction."""
    async def write() -> None:
        pool = await create_pool(dsn, 1, 2)
        try:
            store = PaymentStore(pool)
            for event in events:
                await store.insert_payment_event(
                    PersistInput(event, ValidationResult(), Enrichment()))
        finally:
            await pool.close()

    asyncio.run(write())


def postgres_payments(lake) -> list[dict]:
    conn = lake.connect()
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(f"SELECT {', '.join(SILVER_PAYMENT_COLUMNS)} FROM payments "
                        "ORDER BY provider, payment_id")
            return [dict(row) for row in cur.fetchall()]
    finally:
        conn.close()


def build_lake(lake) -> dict[str, bool]:
    lake.load_until_caught_up()
    result = materialize([*LAKE_ASSETS, *LAKE_CHECKS], resources=lake.resources)
    assert result.success
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def check(lake):
    return silver_payments_match_postgres_payments(catalog=lake.catalog, postgres=lake.postgres)


def test_silver_payments_equal_the_stores_rows_and_every_check_passes(lake):
    events = fixture_events("a")
    store_events(lake.dsn, events)
    assert build_lake(lake) == {c.check_key.name: True for c in LAKE_CHECKS}

    expected = postgres_payments(lake)
    assert {r["provider"] for r in expected} == {"stripe", "adyen", "braintree", "square"}
    assert lake.read(SILVER_PAYMENTS).to_pylist() == expected
    verdict = check(lake)
    assert verdict.passed
    assert verdict.metadata["compared"].value == len(expected)
    assert verdict.metadata["skipped_not_yet_covered"].value == 0


def test_a_payment_written_after_the_watermark_is_skipped_until_a_load_covers_it(lake):
    held, others = hold_back_one_payment(fixture_events("b"))
    store_events(lake.dsn, others)
    build_lake(lake)
    store_events(lake.dsn, held[:1])  # a new payment, and so a row silver cannot know yet
    verdict = check(lake)
    assert verdict.passed
    assert verdict.metadata["skipped_not_yet_covered"].value == 1

    assert build_lake(lake)["silver_payments_match_postgres_payments"]
    assert check(lake).metadata["skipped_not_yet_covered"].value == 0


def test_an_altered_payments_row_fails_the_check_by_its_key_once_a_load_covers_it(lake):
    held, others = hold_back_one_payment(fixture_events("c"))
    store_events(lake.dsn, others)
    build_lake(lake)
    target = postgres_payments(lake)[0]
    key = f"{target['provider']}:{target['payment_id']}"
    lake.execute("UPDATE payments SET amount_refunded = amount_refunded + 1 "
                 "WHERE provider = %s AND payment_id = %s",
                 (target["provider"], target["payment_id"]))
    # Written after the watermark: it cannot agree yet, so it is skipped, not blamed.
    assert check(lake).passed

    # A new event of another payment (one of the altered payment would rewrite its row)
    # moves the watermark past the change.
    store_events(lake.dsn, held[:1])
    assert not build_lake(lake)["silver_payments_match_postgres_payments"]
    verdict = check(lake)
    assert not verdict.passed
    assert verdict.metadata["differing_keys"].value == [key]
    assert verdict.metadata["differing_columns"].value == {key: ["amount_refunded"]}


def test_an_event_level_silver_payments_from_before_is_replaced_by_the_payment_level_one(lake):
    store_events(lake.dsn, fixture_events("d"))
    lake.load_until_caught_up()
    # The lake as it was before issue 17: silver.payments held events.
    catalog = lake.catalog.load()
    replace_mart(catalog, SILVER_PAYMENTS,
                 build_silver_payment_events(lake.read(("bronze", "payment_events"))))
    assert "event_id" in lake.read(SILVER_PAYMENTS).column_names

    assert all(build_lake(lake).values())
    assert lake.read(SILVER_PAYMENTS).column_names == list(SILVER_PAYMENT_COLUMNS)
    assert "event_id" in lake.read(SILVER_PAYMENT_EVENTS).column_names


def test_a_payment_whose_event_changed_after_the_watermark_is_skipped(lake):
    events = fixture_events("e")
    store_events(lake.dsn, events)
    build_lake(lake)
    # The payments row is untouched (its writer is below the watermark), but one of its
    # events was rewritten after it: silver may hold that event's old version, so wait.
    lake.execute("UPDATE payment_events SET updated_at = now() WHERE event_id = %s",
                 (events[0].event_id,))
    verdict = check(lake)
    assert verdict.passed
    assert verdict.metadata["skipped_not_yet_covered"].value == 1
