"""Orphan-file removal on the PostgreSQL catalog and file warehouse, while loads run."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyiceberg.table
from batch_lake import make_event_row
from lake_background import BackgroundLoads, assert_bronze_equals_postgres, seed_cold_events

from batch.schemas import PAYMENT_EVENTS
from batch.upkeep.cleanup import list_files, referenced_files, remove_orphan_files

ID = PAYMENT_EVENTS.identifier
TWO_DAYS_AGO = time.time() - 2 * 86_400


def table_files(lake) -> set[str]:
    return {path for path, _ in list_files(lake.catalog.load().load_table(ID))}


def leave_a_failed_load(lake, monkeypatch) -> None:
    """A load whose Iceberg commit fails: its data files, manifest and manifest list stay
    in the warehouse, referenced by no snapshot."""
    def fail_commit(self):
        raise RuntimeError("injected: Iceberg commit failed")

    lake.add_events([make_event_row(f"stripe:failed_{i}") for i in range(3)])
    with monkeypatch.context() as patch:
        patch.setattr(pyiceberg.table.Transaction, "commit_transaction", fail_commit)
        assert not lake.materialize(raise_on_error=False).success


def test_orphans_go_beside_loads_referenced_and_young_files_stay_and_a_rerun_is_a_no_op(
        lake, monkeypatch):
    cold_ids = seed_cold_events(lake, loads=3)
    committed = table_files(lake)
    leave_a_failed_load(lake, monkeypatch)
    orphans = table_files(lake) - committed
    assert any(path.endswith(".parquet") for path in orphans)
    assert not orphans & {p.removeprefix("file://") for p in referenced_files(
        lake.catalog.load().load_table(ID))}
    # Age every file now in the warehouse past the margin; files written from here on
    # (the loads below, before and after they commit) are young.
    for path in table_files(lake):
        os.utime(path, (TWO_DAYS_AGO, TWO_DAYS_AGO))

    with BackgroundLoads(lake, cold_ids) as loads:
        loads.wait_for_loads(2)
        removed = remove_orphan_files(lake.catalog.load(), ID,
                                      datetime.now(UTC) - timedelta(hours=1)).removed
    assert orphans <= set(removed)
    # Beside them go the first metadata files of tables a load created while another had
    # just done so: the SQL catalog writes the file, then refuses the second create.
    assert all(p.endswith(".metadata.json") for p in set(removed) - orphans), removed
    assert not any(Path(path).exists() for path in orphans)
    table = lake.catalog.load().load_table(ID)
    assert all(Path(p.removeprefix("file://")).exists() for p in referenced_files(table))
    assert_bronze_equals_postgres(lake)  # the failed load's rows arrive with the next load

    again = remove_orphan_files(lake.catalog.load(), ID, datetime.now(UTC) - timedelta(hours=1))
    assert again.removed == []
