"""The lake side of an erasure on a real PyIceberg catalog in SQLite (no server): every
table that holds the customer loses their rows, every older snapshot and every file that
held them goes, and the other customer's rows stay. On the PostgreSQL catalog, with a load
running, see tests/integration/batch/test_lake_erasure_under_load.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from batch.erasure.audits import Progress
from batch.erasure.lake import erase_lake, reached_tables
from batch.lake import commit_load, ensure_bronze_table, read_watermark, write_data_files
from batch.loads import arrow_schema
from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE

ERASED, KEPT = "cus_Erased0001", "cus_Kept000002"


def rows_for(spec, values: list[dict]) -> pa.Table:
    """Rows in the bronze table's Arrow shape: the given values, the rest filled in."""
    schema = arrow_schema(spec)
    columns = {}
    for f in schema:
        filled = []
        for i, given in enumerate(values):
            if f.name in given:
                filled.append(given[f.name])
            elif pa.types.is_timestamp(f.type):
                filled.append(datetime(2026, 1, 2 + i % 3, 10, tzinfo=UTC))
            elif pa.types.is_string(f.type):
                filled.append(f"{f.name}_{i}")
            elif pa.types.is_integer(f.type):
                filled.append(i)
            elif pa.types.is_list(f.type):
                filled.append(["code"])
            else:
                filled.append(None)
        columns[f.name] = pa.array(filled, f.type)
    return pa.table(columns, schema=schema)


def load(catalog, spec, rows: pa.Table) -> None:
    table = catalog.load_table(spec.identifier)
    commit_load(table, write_data_files(table, rows), [], read_watermark(table) + 1)


def events(customer: str, count: int, start: int = 0) -> list[dict]:
    return [{"event_id": f"stripe:evt_{customer}_{i}", "customer_id": customer,
             "payment_id": f"pi_{customer}_{i % 2}", "provider": "stripe"}
            for i in range(start, start + count)]


@pytest.fixture
def catalog(tmp_path):
    lake = SqlCatalog("local", uri=f"sqlite:///{tmp_path}/catalog.db",
                      warehouse=(tmp_path / "warehouse").as_uri())
    for spec in (PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE):
        ensure_bronze_table(lake, spec)
    for round_number in range(3):  # three loads: three snapshots, files in each
        load(lake, PAYMENT_EVENTS, rows_for(PAYMENT_EVENTS, events(ERASED, 3, 3 * round_number)
                                            + events(KEPT, 3, 3 * round_number)))
    # A refund of the erased customer's payment that carries no customer id.
    load(lake, PAYMENT_EVENTS, rows_for(PAYMENT_EVENTS, [
        {"event_id": "stripe:evt_refund", "customer_id": None, "payment_id": f"pi_{ERASED}_0",
         "provider": "stripe"}]))
    load(lake, PAYMENT_EVENTS_QUARANTINE, rows_for(PAYMENT_EVENTS_QUARANTINE, [
        {"event_id": "stripe:evt_q1", "original_payload": f'{{"customer": "{ERASED}"}}',
         "corrected_event": None},
        {"event_id": "stripe:evt_q2", "original_payload": f'{{"customer": "{KEPT}"}}',
         "corrected_event": None},
        {"event_id": "stripe:evt_q3", "original_payload": f'{{"customer": "{ERASED}9"}}',
         "corrected_event": f'{{"customer_id": "{ERASED}"}}'},
    ]))
    lake.create_namespace("silver")
    payments = pa.table({"provider": ["stripe"] * 4,
                         "payment_id": [f"pi_{c}_{i}" for c in (ERASED, KEPT) for i in (0, 1)],
                         "status": ["succeeded"] * 4})
    lake.create_table(("silver", "payments"), schema=payments.schema).append(payments)
    # Like silver.payment_events: no payment_id, so its refund is found through bronze.
    silver = pa.table({"event_id": [f"stripe:evt_{ERASED}_0", f"stripe:evt_{KEPT}_0",
                                    "stripe:evt_refund"],
                       "customer_id": [ERASED, KEPT, None], "outcome": ["succeeded"] * 3})
    lake.create_table(("silver", "payment_events"), schema=silver.schema).append(silver)
    lake.create_namespace("gold")
    totals = pa.table({"currency": ["USD"], "event_count": [19]})
    lake.create_table(("gold", "daily_payments"), schema=totals.schema).append(totals)
    return lake


def warehouse_files_naming(root: Path, value: str) -> list[str]:
    return sorted(str(p) for p in root.rglob("*") if p.is_file()
                  and value.encode() in p.read_bytes())


def test_the_customer_leaves_every_table_snapshot_and_file_and_the_other_stays(
        catalog, tmp_path):
    warehouse = tmp_path / "warehouse"
    assert warehouse_files_naming(warehouse, ERASED)
    assert [(i, k.value) for i, k in reached_tables(catalog)] == [
        (("bronze", "payment_events"), "events"),
        (("bronze", "payment_events_quarantine"), "quarantine"),
        (("silver", "payment_events"), "events"),
        (("silver", "payments"), "payments")]
    progress = Progress()
    erase_lake(catalog, ERASED, (), None, datetime.now(UTC) - timedelta(days=3), progress)

    bronze = catalog.load_table(PAYMENT_EVENTS.identifier).scan().to_arrow()
    assert set(bronze.column("customer_id").to_pylist()) == {KEPT}
    assert bronze.num_rows == 9  # the refund of the erased customer's payment went too
    quarantine = catalog.load_table(PAYMENT_EVENTS_QUARANTINE.identifier).scan().to_arrow()
    assert quarantine.column("event_id").to_pylist() == ["stripe:evt_q2"]
    payments = catalog.load_table(("silver", "payments")).scan().to_arrow()
    assert sorted(payments.column("payment_id").to_pylist()) == [f"pi_{KEPT}_0", f"pi_{KEPT}_1"]
    silver = catalog.load_table(("silver", "payment_events")).scan().to_arrow()
    assert silver.column("event_id").to_pylist() == [f"stripe:evt_{KEPT}_0"]
    assert warehouse_files_naming(warehouse, ERASED) == []
    assert warehouse_files_naming(warehouse, KEPT)
    for identifier in (PAYMENT_EVENTS.identifier, ("silver", "payments")):
        assert len(catalog.load_table(identifier).metadata.snapshots) == 1
    assert progress.lake_rows == {"bronze.payment_events": 10,
                                  "bronze.payment_events_quarantine": 2,
                                  "silver.payment_events": 2, "silver.payments": 2}
    assert len(progress.snapshots_expired["bronze.payment_events"]) == 4
    assert progress.files_removed["bronze.payment_events"]
    assert "gold.daily_payments" not in progress.lake_rows  # aggregates: left alone

    again = Progress()
    erase_lake(catalog, ERASED, (), None, datetime.now(UTC) - timedelta(days=3), again)
    assert set(again.lake_rows.values()) == {0}
    assert not any(again.files_removed.values())


def test_a_dry_run_counts_and_changes_nothing(catalog):
    snapshots = len(catalog.load_table(PAYMENT_EVENTS.identifier).metadata.snapshots)
    progress = Progress()
    erase_lake(catalog, ERASED, (), None, datetime.now(UTC), progress, dry_run=True)
    assert progress.lake_rows["bronze.payment_events"] == 10
    assert not any(progress.files_removed.values())
    table = catalog.load_table(PAYMENT_EVENTS.identifier)
    assert len(table.metadata.snapshots) == snapshots
    assert ERASED in table.scan().to_arrow().column("customer_id").to_pylist()
