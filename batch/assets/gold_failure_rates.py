"""gold.failure_rates: each day, failures per provider and failure code, as a share of attempts."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from batch.assets._day_marts import materialize_day_mart
from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.charts import chart_failure_rates
from batch.marts import DAY_COLUMN, DayMart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import SILVER_COLUMNS_FOR_GOLD, build_failure_rates

FAILURE_RATES = (GOLD_NAMESPACE, "failure_rates")
FAILURE_RATES_MART = DayMart(
    FAILURE_RATES, source=SILVER_PAYMENT_EVENTS, source_day=DAY_COLUMN,
    source_columns=SILVER_COLUMNS_FOR_GOLD, build=build_failure_rates, chart=chart_failure_rates)


@asset(key_prefix=["gold"], name="failure_rates", group_name="gold", kinds={"iceberg"},
       deps=[AssetKey(["silver", "payment_events"])])
def failure_rates(context: AssetExecutionContext,
                  catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the changed days of failure rates by provider and failure code, with a chart."""
    return materialize_day_mart(context, catalog, FAILURE_RATES_MART)
