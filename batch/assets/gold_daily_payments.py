"""gold.daily_payments: counts and minor-unit amounts per day, merchant and currency."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from batch.assets._day_marts import materialize_day_mart
from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.charts import chart_daily_payments
from batch.marts import DAY_COLUMN, DayMart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import SILVER_COLUMNS_FOR_GOLD, build_daily_payments

DAILY_PAYMENTS = (GOLD_NAMESPACE, "daily_payments")
DAILY_PAYMENTS_MART = DayMart(
    DAILY_PAYMENTS, source=SILVER_PAYMENT_EVENTS, source_day=DAY_COLUMN,
    source_columns=SILVER_COLUMNS_FOR_GOLD, build=build_daily_payments, chart=chart_daily_payments)


@asset(key_prefix=["gold"], name="daily_payments", group_name="gold", kinds={"iceberg"},
       deps=[AssetKey(["silver", "payment_events"])])
def daily_payments(context: AssetExecutionContext,
                   catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the changed days of payments per merchant and currency, with a chart."""
    return materialize_day_mart(context, catalog, DAILY_PAYMENTS_MART)
