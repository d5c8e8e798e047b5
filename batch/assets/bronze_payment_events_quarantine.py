"""bronze.payment_events_quarantine: the quarantine table, review decisions included."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from batch.loads import load_bronze_table
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import PAYMENT_EVENTS_QUARANTINE


@asset(key_prefix=["bronze"], name="payment_events_quarantine", group_name="bronze",
       kinds={"iceberg", "postgres"})
def payment_events_quarantine(context: AssetExecutionContext, catalog: IcebergCatalogResource,
                              postgres: PostgresResource) -> MaterializeResult:
    """Load new and reviewed quarantine rows from PostgreSQL into the bronze Iceberg table."""
    result = load_bronze_table(catalog.load(), postgres.connect, PAYMENT_EVENTS_QUARANTINE)
    context.log.info("loaded %s rows (%s replaced)", result.rows, result.replaced)
    return MaterializeResult(metadata={
        "rows_loaded": result.rows, "rows_replaced": result.replaced,
        "watermark_xid": result.watermark_to,
    })
