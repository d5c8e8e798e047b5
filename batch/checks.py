"""Asset checks, named as the predicate that must hold; each can fail and says why."""

from __future__ import annotations

import pyarrow as pa
from dagster import AssetCheckResult, AssetKey, asset_check

from batch.assets import (
    DAILY_PAYMENTS,
    SILVER_PAYMENTS,
    daily_payments,
    payment_events,
    payment_events_quarantine,
    silver_payments,
)
from batch.lake import ensure_bronze_table, read_table, read_watermark
from batch.loads import ConnectPostgres, count_loaded_source_rows
from batch.payment_states import SILVER_PAYMENT_COLUMNS, compare_payments
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE, BronzeTable
from batch.transforms import count_duplicate_keys, count_null_keys, find_daily_payments_mismatches

_NULL_KEYS = ("event_id", "provider", "currency", "provider_created_at")
_XID_SPACE = 2**32


def check_row_count(catalog: IcebergCatalogResource, postgres: PostgresResource,
                    spec: BronzeTable) -> AssetCheckResult:
    table = ensure_bronze_table(catalog.load(), spec)
    watermark = read_watermark(table)
    lake_rows = table.scan(selected_fields=("event_id",)).to_arrow().num_rows
    source_rows = count_loaded_source_rows(postgres.connect, spec, watermark)
    return AssetCheckResult(
        passed=lake_rows == source_rows,
        metadata={"iceberg_rows": lake_rows, "postgres_rows": source_rows,
                  "watermark_xid": watermark},
    )


def check_unique_ids(catalog: IcebergCatalogResource, spec: BronzeTable) -> AssetCheckResult:
    keys = ensure_bronze_table(catalog.load(), spec).scan(selected_fields=("event_id",))
    duplicates = count_duplicate_keys(keys.to_arrow())
    return AssetCheckResult(passed=duplicates == 0, metadata={"duplicate_event_ids": duplicates})


@asset_check(asset=payment_events)
def payment_events_match_postgres_row_count(
    catalog: IcebergCatalogResource, postgres: PostgresResource
) -> AssetCheckResult:
    """Iceberg holds exactly the PostgreSQL rows the watermark covers."""
    return check_row_count(catalog, postgres, PAYMENT_EVENTS)


@asset_check(asset=payment_events)
def payment_events_have_unique_event_ids(catalog: IcebergCatalogResource) -> AssetCheckResult:
    """No event_id appears twice in bronze."""
    return check_unique_ids(catalog, PAYMENT_EVENTS)


@asset_check(asset=payment_events)
def payment_events_have_no_null_keys(catalog: IcebergCatalogResource) -> AssetCheckResult:
    """The key columns the marts group by are never null."""
    table = ensure_bronze_table(catalog.load(), PAYMENT_EVENTS)
    nulls = count_null_keys(table.scan(selected_fields=_NULL_KEYS).to_arrow(), _NULL_KEYS)
    return AssetCheckResult(passed=not any(nulls.values()), metadata=nulls)


@asset_check(asset=payment_events_quarantine)
def quarantine_matches_postgres_row_count(
    catalog: IcebergCatalogResource, postgres: PostgresResource
) -> AssetCheckResult:
    """Iceberg holds exactly the quarantined rows the watermark covers."""
    return check_row_count(catalog, postgres, PAYMENT_EVENTS_QUARANTINE)


@asset_check(asset=payment_events_quarantine)
def quarantine_has_unique_event_ids(catalog: IcebergCatalogResource) -> AssetCheckResult:
    """No quarantined event_id appears twice in bronze."""
    return check_unique_ids(catalog, PAYMENT_EVENTS_QUARANTINE)


@asset_check(asset=daily_payments, additional_deps=[AssetKey(["bronze", "payment_events"])])
def daily_payments_sum_back_to_bronze(catalog: IcebergCatalogResource) -> AssetCheckResult:
    """Per currency, the mart's counts and amounts add up to the valid bronze rows."""
    lake = catalog.load()
    mismatches = find_daily_payments_mismatches(
        read_table(lake, DAILY_PAYMENTS), read_table(lake, PAYMENT_EVENTS.identifier))
    return AssetCheckResult(
        passed=not mismatches,
        metadata={"mismatched_currencies": [m["currency"] for m in mismatches],
                  "mismatches": str(mismatches[:20])},
    )


def payments_sql(watermark: int) -> str:
    """PostgreSQL's payments, each flagged ``covered`` when silver built at ``watermark`` knows it.

    Covered, as a load decides (batch.loads): the row's last writer is below the watermark,
    and so is the last writer of every event of its payment (a writer below it can have
    merged an event whose own transaction is above it). ``xmin`` is the 32-bit xid of the
    row's writer; it is placed in the 64-bit xid space by its distance below this snapshot's
    next xid, which a visible row's writer always is. Only SELECT is needed.
    """
    w = int(watermark)  # integers only are formatted in; ADBC's binding has no xid8
    return (
        "WITH s AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid) "
        f"SELECT {', '.join(f'p.{name}' for name in SILVER_PAYMENT_COLUMNS)}, "
        f"((s.next_xid - p.xmin::text::bigint) % {_XID_SPACE} > s.next_xid - {w} "
        " AND NOT EXISTS (SELECT 1 FROM payment_events e WHERE e.provider = p.provider "
        f"  AND e.payment_id = p.payment_id AND e.lake_xid >= '{w}'::xid8)) AS covered "
        "FROM payments p CROSS JOIN s"
    )


def read_postgres_payments(connect: ConnectPostgres, watermark: int) -> pa.Table:
    conn = connect()
    try:
        cursor = conn.cursor()
        cursor.execute(payments_sql(watermark))
        return cursor.fetch_arrow_table()
    finally:
        conn.close()


@asset_check(asset=silver_payments)
def silver_payments_match_postgres_payments(
    catalog: IcebergCatalogResource, postgres: PostgresResource
) -> AssetCheckResult:
    """Every payments row the lake's watermark covers equals its silver.payments row."""
    silver = catalog.load().load_table(SILVER_PAYMENTS)
    watermark = read_watermark(silver)  # the bronze watermark silver was built at
    verdict = compare_payments(silver.scan().to_arrow(),
                               read_postgres_payments(postgres.connect, watermark))
    return AssetCheckResult(passed=verdict.agree,
                            metadata={"watermark_xid": watermark, **verdict.metadata()})


LAKE_CHECKS = [
    payment_events_match_postgres_row_count,
    payment_events_have_unique_event_ids,
    payment_events_have_no_null_keys,
    quarantine_matches_postgres_row_count,
    quarantine_has_unique_event_ids,
    daily_payments_sum_back_to_bronze,
    silver_payments_match_postgres_payments,
]
