"""Right to erasure on the stack's PostgreSQL and a real Iceberg SQL catalog and file
warehouse (issue 18, item 3), erased while loads run: afterwards no current table, and no
file left in the warehouse, holds the customer's id; the other customer is intact; the audit
row names no id; and a load with its watermark reset brings nothing back.

The erasure signs in as payments_eraser (the role `make up` creates; infra/roles.py).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import psycopg2
import pyarrow as pa
from batch_lake import EVENT_COLUMNS, make_event_row
from dagster import materialize
from lake_background import BackgroundLoads, assert_bronze_equals_postgres

from batch.assets import LAKE_ASSETS
from batch.erasure.audits import Operator
from batch.erasure.runs import erase_customer
from batch.lake import WATERMARK_PROPERTY
from batch.loads import load_bronze_table
from batch.schemas import PAYMENT_EVENTS
from batch.upkeep.cleanup import catalog_tables
from contracts.erasure import CUSTOMER_SHA256_SQL, customer_sha256

ERASED, KEPT = "cus_ErasedUnderLoad7", "cus_KeptUnderLoad42"
COLUMNS = (*EVENT_COLUMNS, "customer_id", "payment_id")


def customer_events(customer: str) -> list[dict]:
    """Payments on three cold days, and a refund of the first that carries no customer."""
    rows = [make_event_row(f"stripe:evt_{customer}_{i}", customer_id=customer,
                           payment_id=f"pi_{customer}_{i}",
                           provider_created_at=f"2026-01-0{2 + i % 3}T1{i}:00:00Z")
            for i in range(6)]
    rows.append(make_event_row(f"stripe:evt_{customer}_refund", customer_id=None,
                               payment_id=f"pi_{customer}_0", event_type="charge.refunded"))
    return rows


def seed(lake) -> None:
    conn = lake.connect()
    try:
        with conn.cursor() as cur:
            for customer in (ERASED, KEPT):
                cur.executemany(
                    f"INSERT INTO payment_events ({', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join(f'%({c})s' for c in COLUMNS)})",
                    customer_events(customer))
                cur.executemany(
                    "INSERT INTO payments (provider, payment_id, status, currency, amount, "
                    "amount_captured, amount_refunded, amount_disputed, last_event_id, "
                    "last_event_at, merge_state) VALUES ('stripe', %s, 'succeeded', 'USD', "
                    "1000, 1000, 0, 0, %s, now(), '{}')",
                    [(f"pi_{customer}_{i}", f"stripe:evt_{customer}_{i}") for i in range(6)])
                cur.execute(
                    "INSERT INTO payment_events_quarantine (event_id, provider, source_topic, "
                    "source_partition, source_offset, original_payload, error_codes, errors) "
                    "VALUES (%s, 'stripe', 'webhooks.stripe.charge', 0, 1, %s, "
                    "ARRAY['invalid_amount'], '[]')",
                    (f"stripe:evt_{customer}_bad",
                     f'{{"data": {{"object": {{"customer": "{customer}"}}}}}}'))
        conn.commit()
    finally:
        conn.close()


def eraser_dsn(lake, role_dsn) -> str:
    return role_dsn("eraser", lake.dsn.rsplit("/", 1)[1])


def connect(dsn: str, autocommit: bool = False):
    conn = psycopg2.connect(dsn)
    conn.autocommit = autocommit
    return conn


def strings_in_tables(catalog) -> set[str]:
    """Every string value of every current table (list columns too)."""
    found: set[str] = set()
    for identifier in catalog_tables(catalog):
        rows = catalog.load_table(identifier).scan().to_arrow()
        for column in rows.columns:
            kind = column.type
            if pa.types.is_list(kind) or pa.types.is_large_list(kind):
                column, kind = column.combine_chunks().flatten(), kind.value_type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                found |= {v for v in column.to_pylist() if v is not None}
    return found


def files_holding(warehouse: Path, value: str) -> list[str]:
    """Every file in the warehouse (Parquet, Avro manifests, metadata JSON) whose bytes hold
    the value."""
    return sorted(str(p) for p in warehouse.rglob("*")
                  if p.is_file() and value.encode() in p.read_bytes())


def query(lake, sql: str, params=()) -> list[tuple]:
    conn = lake.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def test_an_erased_customer_leaves_every_table_and_file_while_loads_run(
        lake, role_dsn, tmp_path):
    warehouse = tmp_path / "warehouse"
    seed(lake)
    lake.load_until_caught_up()
    assert materialize(LAKE_ASSETS, resources=lake.resources).success
    catalog = lake.catalog.load()
    assert any(ERASED in value for value in strings_in_tables(catalog))
    assert files_holding(warehouse, ERASED)
    kept_ids = sorted(r["event_id"] for r in customer_events(KEPT))

    dsn = eraser_dsn(lake, role_dsn)
    with BackgroundLoads(lake, kept_ids) as loads:
        loads.wait_for_loads(2)
        record = erase_customer(ERASED, connect=partial(connect, dsn),
                                lock=partial(connect, dsn, autocommit=True), catalog=catalog,
                                operator=Operator("erasure-test", "configured"),
                                orphan_min_age_s=3600)

    assert record.outcome == "completed"
    assert record.postgres_rows == {"payment_events": 7, "payments": 6,
                                    "payment_events_quarantine": 1}
    assert record.lake_rows["bronze.payment_events"] == 7
    assert record.lake_rows["bronze.payment_events_quarantine"] == 1
    assert record.snapshots_expired["bronze.payment_events"]
    assert record.files_removed["bronze.payment_events"]
    # Nothing of the customer in PostgreSQL, in any current table, or in any file.
    for table in ("payment_events", "payment_events_quarantine"):
        assert query(lake, f"SELECT count(*) FROM {table} WHERE event_id LIKE %s",
                     (f"%{ERASED}%",)) == [(0,)]
    assert query(lake, "SELECT count(*) FROM payments WHERE payment_id LIKE %s",
                 (f"%{ERASED}%",)) == [(0,)]
    catalog = lake.catalog.load()
    assert not any(ERASED in value for value in strings_in_tables(catalog))
    assert files_holding(warehouse, ERASED) == []
    # The other customer's rows are all there, and bronze is PostgreSQL exactly.
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier).scan().to_arrow()
    assert sorted(e for e in bronze.column("event_id").to_pylist() if KEPT in e) == kept_ids
    assert_bronze_equals_postgres(lake)
    assert any(KEPT in value for value in strings_in_tables(catalog))

    # The audit row: who, what and when, and the digest, never the id.
    digest = customer_sha256(ERASED)
    assert query(lake, f"SELECT {CUSTOMER_SHA256_SQL.format('%s')}", (ERASED,)) == [(digest,)]
    rows = query(lake, "SELECT row_to_json(a)::text FROM erasure_audit a "
                       "WHERE customer_sha256 = %s", (digest,))
    assert len(rows) == 1
    assert ERASED not in rows[0][0]
    assert '"operator":"erasure-test"' in rows[0][0] and '"outcome":"completed"' in rows[0][0]
    assert query(lake, "SELECT count(*) FROM erased_customers WHERE customer_sha256 = %s",
                 (digest,)) == [(1,)]

    # A backup restored into PostgreSQL, and a load from watermark 0: still not in the lake.
    seed_restored = [r for r in customer_events(ERASED) if r["customer_id"]][:2]
    conn = lake.connect()
    try:
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO payment_events ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join(f'%({c})s' for c in COLUMNS)})", seed_restored)
        conn.commit()
    finally:
        conn.close()
    table = catalog.load_table(PAYMENT_EVENTS.identifier)
    with table.transaction() as txn:
        txn.set_properties({WATERMARK_PROPERTY: "0"})
    reloaded = load_bronze_table(lake.catalog.load(), lake.postgres.connect, PAYMENT_EVENTS)
    assert reloaded.rows > 0  # it read everything again, and left the customer out
    assert not any(ERASED in value for value in strings_in_tables(lake.catalog.load()))
    assert files_holding(warehouse, ERASED) == []


def test_a_dry_run_counts_and_erases_nothing(lake, role_dsn):
    seed(lake)
    lake.load_until_caught_up()
    dsn = eraser_dsn(lake, role_dsn)
    record = erase_customer(ERASED, connect=partial(connect, dsn),
                            lock=partial(connect, dsn, autocommit=True),
                            catalog=lake.catalog.load(),
                            operator=Operator("erasure-test", "configured"),
                            orphan_min_age_s=3600, dry_run=True)
    assert record.postgres_rows["payment_events"] == 7
    assert record.lake_rows["bronze.payment_events"] == 7
    assert query(lake, "SELECT count(*) FROM payment_events WHERE customer_id = %s",
                 (ERASED,)) == [(6,)]
    assert query(lake, "SELECT count(*) FROM erasure_audit") == [(0,)]
    assert query(lake, "SELECT count(*) FROM erased_customers") == [(0,)]
