"""Snapshot expiry on the PostgreSQL catalog and file warehouse, while loads run beside it."""

from __future__ import annotations

from datetime import UTC, datetime

from lake_background import BackgroundLoads, assert_bronze_equals_postgres, seed_cold_events

from batch.schemas import PAYMENT_EVENTS
from batch.upkeep.cleanup import catalog_tables, expire_table_snapshots

ID = PAYMENT_EVENTS.identifier


def snapshot_ids(lake) -> list[int]:
    return [s.snapshot_id for s in lake.catalog.load().load_table(ID).metadata.snapshots]


def test_expiry_beside_loads_keeps_every_row_and_reruns_as_a_no_op(lake):
    cold_ids = seed_cold_events(lake, loads=6)
    seeded = snapshot_ids(lake)
    assert len(seeded) >= 6
    with BackgroundLoads(lake, cold_ids) as loads:
        loads.wait_for_loads(2)
        cutoff = datetime.now(UTC)
        catalog = lake.catalog.load()
        expired = {identifier: expire_table_snapshots(catalog, identifier, cutoff,
                                                      lake.postgres.connect)
                   for identifier in catalog_tables(catalog)}
    # Every seeded snapshot but the head at the time is gone; the loads' newer ones stay.
    assert expired[ID] >= len(seeded) - 1
    remaining = set(snapshot_ids(lake))
    assert len(set(seeded) & remaining) <= 1
    assert_bronze_equals_postgres(lake)

    # With the loads stopped: one run expires all but the head, the next changes nothing.
    cutoff = datetime.now(UTC)
    catalog = lake.catalog.load()
    expire_table_snapshots(catalog, ID, cutoff, lake.postgres.connect)
    location = catalog.load_table(ID).metadata_location
    assert len(snapshot_ids(lake)) == 1
    assert expire_table_snapshots(catalog, ID, cutoff, lake.postgres.connect) == 0
    assert catalog.load_table(ID).metadata_location == location  # nothing was committed
    assert_bronze_equals_postgres(lake)
