"""silver.payments: each payment's current state, folded from bronze by the store's own fold."""

from dagster import AssetKey, MaterializeResult, asset

from batch.lake import WATERMARK_PROPERTY, read_watermark, replace_mart
from batch.payment_states import FOLDED_COLUMNS, build_silver_payments
from batch.resources import IcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS, SILVER_NAMESPACE

SILVER_PAYMENTS = (SILVER_NAMESPACE, "payments")


@asset(key_prefix=["silver"], name="payments", group_name="silver", kinds={"iceberg"},
       deps=[AssetKey(["bronze", "payment_events"])])
def silver_payments(catalog: IcebergCatalogResource) -> MaterializeResult:
    """Rebuild one row per (provider, payment_id): its current state, as PostgreSQL's payments."""
    lake = catalog.load()
    bronze = lake.load_table(PAYMENT_EVENTS.identifier)
    # The rows and the watermark come from one metadata version, so they match; silver keeps
    # the watermark it was built at, which is what its agreement check compares up to.
    watermark = read_watermark(bronze)
    rows = build_silver_payments(bronze.scan(selected_fields=FOLDED_COLUMNS).to_arrow())
    replace_mart(lake, SILVER_PAYMENTS, rows, {WATERMARK_PROPERTY: str(watermark)})
    return MaterializeResult(metadata={"rows": rows.num_rows, "watermark_xid": watermark})
