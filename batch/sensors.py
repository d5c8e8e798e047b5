"""A sensor that starts the lakehouse job when PostgreSQL has rows Iceberg lacks."""

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from batch.loads import count_pending_rows
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schedules import lakehouse_job
from batch.schemas import BRONZE_TABLES


@sensor(job=lakehouse_job, minimum_interval_seconds=30)
def postgres_new_rows_sensor(context: SensorEvaluationContext, catalog: IcebergCatalogResource,
                             postgres: PostgresResource):
    """Request a load when a bronze table has loadable row versions in PostgreSQL."""
    lake = catalog.load()
    pending = [count_pending_rows(lake, postgres.connect, spec) for spec in BRONZE_TABLES]
    if not any(p.count for p in pending):
        return SkipReason("no new or changed rows in PostgreSQL")
    # One request per state of the source: the same rows never start two runs.
    run_key = ",".join(f"{p.table}:{p.watermark}-{p.max_xid}" for p in pending)
    return RunRequest(run_key=run_key, tags={"pending_rows": str(sum(p.count for p in pending))})
