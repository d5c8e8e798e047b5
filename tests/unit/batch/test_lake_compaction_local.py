"""Compaction, expiry and orphan removal on a real PyIceberg catalog in SQLite (no server).

The same jobs on the PostgreSQL catalog, with loads running, are in
tests/integration/batch/test_lake_upkeep_*.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

import batch.upkeep.compaction as compaction
from batch.lake import commit_load, ensure_bronze_table, read_watermark, write_data_files
from batch.loads import arrow_schema
from batch.schemas import PAYMENT_EVENTS
from batch.upkeep.cleanup import expire_table_snapshots, remove_orphan_files
from batch.upkeep.compaction import compact_table
from batch.upkeep.files import file_stats, partition_layout

ID = PAYMENT_EVENTS.identifier
SCHEMA = arrow_schema(PAYMENT_EVENTS)


def event_rows(prefix: str, count: int, day: int, status: str = "succeeded") -> pa.Table:
    start = datetime(2026, 1, day, tzinfo=UTC)
    columns = {}
    for f in SCHEMA:
        if f.name == "event_id":
            values = [f"stripe:{prefix}_{i}" for i in range(count)]
        elif f.name == "status":
            values = [status] * count
        elif pa.types.is_timestamp(f.type):
            values = [start + timedelta(seconds=i) for i in range(count)]
        elif pa.types.is_string(f.type):
            values = [f"{f.name}_{i % 7}" for i in range(count)]
        elif pa.types.is_integer(f.type):
            values = list(range(count))
        else:
            values = [i / 4 for i in range(count)] if pa.types.is_floating(f.type) else None
        columns[f.name] = pa.array(values or [None] * count, f.type)
    return pa.table(columns, schema=SCHEMA)


def load(catalog, rows: pa.Table, replace: list[str] = ()) -> None:
    """What a load commits: files, replaced keys and the next watermark, at once."""
    table = catalog.load_table(ID)
    commit_load(table, write_data_files(table, rows), list(replace), read_watermark(table) + 1)


@pytest.fixture
def catalog(tmp_path):
    lake = SqlCatalog("local", uri=f"sqlite:///{tmp_path}/catalog.db",
                      warehouse=(tmp_path / "warehouse").as_uri())
    ensure_bronze_table(lake, PAYMENT_EVENTS)
    for batch_number in range(4):
        for day in (2, 3):
            load(lake, event_rows(f"d{day}b{batch_number}", 300, day))
    return lake


def stray_file(catalog, name: str, body: bytes) -> Path:
    """A file in the table's data folder that no snapshot references."""
    path = Path(catalog.load_table(ID).location().removeprefix("file://")) / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def rows_by_id(catalog) -> Counter:
    table = catalog.load_table(ID)
    return Counter(table.scan(selected_fields=("event_id",)).to_arrow().column(0).to_pylist())


def test_cold_small_files_become_one_file_and_a_rerun_is_a_no_op(catalog):
    before = rows_by_id(catalog)
    result = compact_table(catalog, ID, datetime.now(UTC), target_bytes=64 << 20)
    assert result.files_before == {"provider_created_at_day=2026-01-02": 4,
                                   "provider_created_at_day=2026-01-03": 4}
    assert result.files_after == {"provider_created_at_day=2026-01-02": 1,
                                  "provider_created_at_day=2026-01-03": 1}
    assert (result.partitions_rewritten, result.rows_rewritten) == (2, 2400)
    assert rows_by_id(catalog) == before and set(before.values()) == {1}
    # The watermark is the load's; compaction never moves it.
    assert read_watermark(catalog.load_table(ID)) == 8
    again = compact_table(catalog, ID, datetime.now(UTC), target_bytes=64 << 20)
    assert again.partitions_rewritten == 0 and again.files_after == result.files_after


def test_hot_partitions_are_left_alone(catalog):
    cutoff = datetime(2026, 1, 3, 12, tzinfo=UTC)  # Jan 2 has ended, Jan 3 has not
    result = compact_table(catalog, ID, cutoff, target_bytes=64 << 20)
    assert result.files_after == {"provider_created_at_day=2026-01-02": 1,
                                  "provider_created_at_day=2026-01-03": 4}


def test_a_load_that_replaces_a_row_mid_compaction_is_neither_lost_nor_doubled(
        catalog, monkeypatch):
    """The load rewrites a planned file first: the swap is refused and the partition replanned."""
    original = compaction.swap_files
    raced: list[int] = []

    def load_then_swap(*args, **kwargs):
        if not raced:
            raced.append(1)
            load(catalog, event_rows("d2b0", 1, 2, status="refunded"), replace=["stripe:d2b0_0"])
        return original(*args, **kwargs)

    monkeypatch.setattr(compaction, "swap_files", load_then_swap)
    result = compact_table(catalog, ID, datetime.now(UTC), target_bytes=64 << 20)
    assert result.replans == 1 and result.partitions_rewritten == 2
    counts = rows_by_id(catalog)
    assert len(counts) == 2400 and set(counts.values()) == {1}
    table = catalog.load_table(ID)
    replaced = table.scan(row_filter="event_id == 'stripe:d2b0_0'").to_arrow().to_pylist()
    assert [r["status"] for r in replaced] == ["refunded"]
    assert len(file_stats(table)) == 2


def test_expiry_and_orphan_removal_leave_the_rows_and_a_rerun_does_nothing(catalog):
    compact_table(catalog, ID, datetime.now(UTC), target_bytes=64 << 20)
    rows = rows_by_id(catalog)
    stray = stray_file(catalog, "stray.parquet", b"a file a failed commit left")
    snapshots = len(catalog.load_table(ID).metadata.snapshots)
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert expire_table_snapshots(catalog, ID, later) == snapshots - 1
    assert expire_table_snapshots(catalog, ID, later) == 0
    assert len(catalog.load_table(ID).metadata.snapshots) == 1
    removed = remove_orphan_files(catalog, ID, later).removed
    assert str(stray) in removed and len(removed) > 8  # the 8 load files are orphans now
    assert remove_orphan_files(catalog, ID, later).removed == []
    assert rows_by_id(catalog) == rows
    assert partition_layout(catalog, ID)["max_files_per_partition"] == 1


def test_files_younger_than_the_margin_stay(catalog):
    stray = stray_file(catalog, "young.parquet", b"perhaps a load that has not committed yet")
    result = remove_orphan_files(catalog, ID, datetime.now(UTC) - timedelta(hours=1))
    assert result.removed == [] and stray.exists()
