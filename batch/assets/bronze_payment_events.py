"""bronze.payment_events: PostgreSQL's payment_events, loaded into Iceberg exactly once."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from batch.loads import load_bronze_table
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import PAYMENT_EVENTS


@asset(key_prefix=["bronze"], name="payment_events", group_name="bronze",
       kinds={"iceberg", "postgres"})
def payment_events(context: AssetExecutionContext, catalog: IcebergCatalogResource,
                   postgres: PostgresResource) -> MaterializeResult:
    """Load new and changed payment events from PostgreSQL into the bronze Iceberg table."""
    result = load_bronze_table(catalog.load(), postgres.connect, PAYMENT_EVENTS)
    context.log.info("loaded %s rows (%s replaced)", result.rows, result.replaced)
    return MaterializeResult(metadata={
        "rows_loaded": result.rows, "rows_replaced": result.replaced,
        "watermark_xid": result.watermark_to,
    })
