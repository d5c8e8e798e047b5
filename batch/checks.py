"""Asset checks, named as the predicate that must hold; each can fail and says why."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetKey, asset_check

from batch.assets import DAILY_PAYMENTS, daily_payments, payment_events, payment_events_quarantine
from batch.lake import ensure_bronze_table, read_table, read_watermark
from batch.loads import count_loaded_source_rows
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE, BronzeTable
from batch.transforms import count_duplicate_keys, count_null_keys, find_daily_payments_mismatches

_NULL_KEYS = ("event_id", "provider", "currency", "provider_created_at")


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


LAKE_CHECKS = [
    payment_events_match_postgres_row_count,
    payment_events_have_unique_event_ids,
    payment_events_have_no_null_keys,
    quarantine_matches_postgres_row_count,
    quarantine_has_unique_event_ids,
    daily_payments_sum_back_to_bronze,
]
