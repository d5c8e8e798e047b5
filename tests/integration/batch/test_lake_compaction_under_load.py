"""Compaction on the PostgreSQL catalog and file warehouse, while loads run beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lake_background import (
    COLD_DAYS,
    BackgroundLoads,
    assert_bronze_equals_postgres,
    seed_cold_events,
)

import batch.upkeep.compaction as compaction
from batch.schemas import PAYMENT_EVENTS
from batch.upkeep.compaction import compact_table
from batch.upkeep.files import partition_layout

ID = PAYMENT_EVENTS.identifier
TARGET = 64 << 20  # every file of these tests is small against it
COLD = {f"provider_created_at_day=2026-01-{day:02d}" for day in COLD_DAYS}


def compact(lake):
    cutoff = datetime.now(UTC) - timedelta(days=1)  # January is cold, today is not
    return compact_table(lake.catalog.load(), ID, cutoff, TARGET, lake.postgres.connect)


def test_compaction_beside_loads_loses_and_doubles_nothing_and_reruns_as_a_no_op(lake):
    cold_ids = seed_cold_events(lake, loads=5)
    before = partition_layout(lake.catalog.load(), ID)["files_per_partition"]
    assert before == {p: 5 for p in COLD}
    with BackgroundLoads(lake, cold_ids) as loads:
        loads.wait_for_loads(2)
        during = compact(lake)
    assert loads.loads >= 3
    assert during.partitions_rewritten >= 1
    assert during.files_removed > during.files_added
    assert_bronze_equals_postgres(lake)

    # The loads added late events and replacements to the cold days; once they stop, one
    # run leaves a single file per cold day, and the next finds nothing to do.
    settled = compact(lake)
    assert {p: n for p, n in settled.files_after.items() if p in COLD} == {p: 1 for p in COLD}
    again = compact(lake)
    assert (again.partitions_rewritten, again.files_removed) == (0, 0)
    assert again.files_after == settled.files_after
    assert_bronze_equals_postgres(lake)


def test_a_load_replacing_a_row_between_rewrite_and_commit_sends_compaction_back_to_plan(
        lake, monkeypatch):
    """The load deletes a row from a file compaction has rewritten: the swap is refused,
    the partition is planned again, and the row is there once, in its new version."""
    cold_ids = seed_cold_events(lake, loads=3)
    original = compaction.swap_files
    raced = []

    def load_first(*args, **kwargs):
        if not raced:
            raced.append(cold_ids[0])
            lake.execute("UPDATE payment_events SET fraud_risk_level = 'raced' "
                         "WHERE event_id = %s", (cold_ids[0],))
            lake.load_until_caught_up()
        return original(*args, **kwargs)

    monkeypatch.setattr(compaction, "swap_files", load_first)
    result = compact(lake)
    assert raced and result.replans == 1
    assert result.partitions_rewritten == len(COLD_DAYS)
    assert_bronze_equals_postgres(lake)
