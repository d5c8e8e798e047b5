"""gold.fraud_risk_distribution: each day's events by fraud risk level."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from batch.assets._day_marts import materialize_day_mart
from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.charts import chart_fraud_risk_distribution
from batch.marts import DAY_COLUMN, DayMart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import SILVER_COLUMNS_FOR_GOLD, build_fraud_risk_distribution

FRAUD_RISK_DISTRIBUTION = (GOLD_NAMESPACE, "fraud_risk_distribution")
FRAUD_RISK_DISTRIBUTION_MART = DayMart(
    FRAUD_RISK_DISTRIBUTION, source=SILVER_PAYMENT_EVENTS, source_day=DAY_COLUMN,
    source_columns=SILVER_COLUMNS_FOR_GOLD, build=build_fraud_risk_distribution,
    chart=chart_fraud_risk_distribution)


@asset(key_prefix=["gold"], name="fraud_risk_distribution", group_name="gold", kinds={"iceberg"},
       deps=[AssetKey(["silver", "payment_events"])])
def fraud_risk_distribution(context: AssetExecutionContext,
                            catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the changed days of the fraud risk distribution, with a chart."""
    return materialize_day_mart(context, catalog, FRAUD_RISK_DISTRIBUTION_MART)
