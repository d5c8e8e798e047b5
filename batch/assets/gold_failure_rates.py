"""gold.failure_rates: failures per provider and failure code, as a share of attempts."""

from dagster import AssetKey, MaterializeResult, asset

from batch.assets.silver_payment_events import SILVER_PAYMENT_EVENTS
from batch.lake import read_table, replace_mart
from batch.resources import IcebergCatalogResource
from batch.schemas import GOLD_NAMESPACE
from batch.transforms import build_failure_rates

FAILURE_RATES = (GOLD_NAMESPACE, "failure_rates")


@asset(key_prefix=["gold"], name="failure_rates", group_name="gold", kinds={"iceberg"},
       deps=[AssetKey(["silver", "payment_events"])])
def failure_rates(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild failure rates by provider and failure code."""
    lake = catalog.load()
    rows = build_failure_rates(read_table(lake, SILVER_PAYMENT_EVENTS))
    replace_mart(lake, FAILURE_RATES, rows)
    return MaterializeResult(metadata={"rows": rows.num_rows})
