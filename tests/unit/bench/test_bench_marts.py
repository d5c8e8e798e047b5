"""The marts benchmark's own pieces, small: its bronze rows, and one measurement on SQLite."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
from pyiceberg.catalog import load_catalog

import bench.marts
from batch.loads import arrow_schema
from batch.schemas import PAYMENT_EVENTS
from bench.marts import bronze_rows, measure


def test_bronze_rows_fill_the_bronze_schema_a_day_at_a_time():
    rows = bronze_rows(0, 3 * bench.marts.ROWS_PER_DAY)
    assert rows.schema == arrow_schema(PAYMENT_EVENTS)
    days = pc.unique(pc.cast(rows.column("provider_created_at"), "date32")).to_pylist()
    assert days == [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3)]
    assert len(set(rows.column("event_id").to_pylist())) == rows.num_rows
    today = bronze_rows(10**6, 500, on_day=2)
    assert pc.unique(pc.cast(today.column("provider_created_at"), "date32")).to_pylist() == [
        date(2025, 1, 3)]


def test_a_small_measurement_runs_one_day_and_matches_the_full_rebuild(tmp_path, monkeypatch):
    monkeypatch.setattr(bench.marts, "ROWS_PER_DAY", 500)
    monkeypatch.setattr(bench.marts, "COMMIT_ROWS", 1000)
    catalog = load_catalog("lakehouse", type="sql", uri=f"sqlite:///{tmp_path}/catalog.db",
                           warehouse=(tmp_path / "warehouse").as_uri())
    incremental_s, full_s = measure(catalog, history=2500, new_rows=100)
    assert incremental_s > 0 and full_s > 0
