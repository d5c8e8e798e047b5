"""gold.daily_payments: counts and minor-unit amounts per day, merchant and currency."""

from dagster import AssetKey, MaterializeResult, asset

from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.lake import read_table, replace_mart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import build_daily_payments

DAILY_PAYMENTS = (GOLD_NAMESPACE, "daily_payments")


@asset(key_prefix=["gold"], name="daily_payments", group_name="gold", kinds={"iceberg"},
       deps=[AssetKey(["silver", "payment_events"])])
def daily_payments(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild daily payments per merchant and currency, never summed across currencies."""
    lake = catalog.load()
    rows = build_daily_payments(read_table(lake, SILVER_PAYMENT_EVENTS))
    replace_mart(lake, DAILY_PAYMENTS, rows)
    return MaterializeResult(metadata={"rows": rows.num_rows})
