"""silver.payments: valid events with their UTC day and outcome."""

from dagster import AssetKey, MaterializeResult, asset

from batch.lake import read_table, replace_mart
from batch.resources import IcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS, SILVER_NAMESPACE
from batch.transforms import build_silver_payments

SILVER_PAYMENTS = (SILVER_NAMESPACE, "payments")


@asset(key_prefix=["silver"], name="payments", group_name="silver", kinds={"iceberg"},
       deps=[AssetKey(["bronze", "payment_events"])])
def silver_payments(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the silver payments table from bronze."""
    lake = catalog.load()
    rows = build_silver_payments(read_table(lake, PAYMENT_EVENTS.identifier))
    replace_mart(lake, SILVER_PAYMENTS, rows)
    return MaterializeResult(metadata={"rows": rows.num_rows})
