"""gold.fraud_risk_distribution: each day's events by fraud risk level."""

from dagster import AssetKey, MaterializeResult, asset

from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.lake import read_table, replace_mart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import build_fraud_risk_distribution

FRAUD_RISK_DISTRIBUTION = (GOLD_NAMESPACE, "fraud_risk_distribution")


@asset(key_prefix=["gold"], name="fraud_risk_distribution", group_name="gold",
       kinds={"iceberg"}, deps=[AssetKey(["silver", "payment_events"])])
def fraud_risk_distribution(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild the distribution of fraud risk levels per day."""
    lake = catalog.load()
    rows = build_fraud_risk_distribution(read_table(lake, SILVER_PAYMENT_EVENTS))
    replace_mart(lake, FRAUD_RISK_DISTRIBUTION, rows)
    return MaterializeResult(metadata={"rows": rows.num_rows})
