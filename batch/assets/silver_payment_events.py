"""silver.payment_events: valid events with their UTC day and outcome (the gold marts' base)."""

from dagster import AssetKey, MaterializeResult, asset

from batch.lake import read_table, replace_mart
from batch.resources import IcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS, SILVER_NAMESPACE
from batch.transforms import build_silver_payment_events

SILVER_PAYMENT_EVENTS = (SILVER_NAMESPACE, "payment_events")


@asset(key_prefix=["silver"], name="payment_events", group_name="silver", kinds={"iceberg"},
       deps=[AssetKey(["bronze", "payment_events"])])
def silver_payment_events(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the event-level silver table from bronze."""
    lake = catalog.load()
    rows = build_silver_payment_events(read_table(lake, PAYMENT_EVENTS.identifier))
    replace_mart(lake, SILVER_PAYMENT_EVENTS, rows)
    return MaterializeResult(metadata={"rows": rows.num_rows})
