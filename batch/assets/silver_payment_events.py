"""silver.payment_events: valid events with their UTC day and outcome (the gold marts' base)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from batch.assets._day_marts import materialize_day_mart
from batch.lake import ensure_bronze_table
from batch.marts import DayMart
from batch.resources import IcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS, SILVER_NAMESPACE
from batch.transforms import BRONZE_COLUMNS_FOR_SILVER, build_silver_payment_events

SILVER_PAYMENT_EVENTS = (SILVER_NAMESPACE, "payment_events")
SILVER_PAYMENT_EVENTS_MART = DayMart(
    SILVER_PAYMENT_EVENTS, source=PAYMENT_EVENTS.identifier, source_day="provider_created_at",
    source_columns=BRONZE_COLUMNS_FOR_SILVER, build=build_silver_payment_events)


@asset(key_prefix=["silver"], name="payment_events", group_name="silver", kinds={"iceberg"},
       deps=[AssetKey(["bronze", "payment_events"])])
def silver_payment_events(context: AssetExecutionContext,
                          catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the event-level silver table for the days bronze changed since its last run."""
    ensure_bronze_table(catalog.load(), PAYMENT_EVENTS)
    return materialize_day_mart(context, catalog, SILVER_PAYMENT_EVENTS_MART)
