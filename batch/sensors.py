"""A sensor that starts the lakehouse job when PostgreSQL has rows Iceberg lacks.

It runs by default (``dagster dev`` in ``make demo``, compose), every
BATCH_LOAD_INTERVAL_SECONDS (default 30), and never while a lakehouse run is still
queued or running: one load per table per interval at most, so at most 60/interval
Iceberg commits a minute per table (the setting refuses an interval under 15 s: 4 a
minute). The interval is read when the code location loads, as Dagster needs it then.
"""

from dagster import (
    DagsterInvariantViolationError,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from batch.lake_settings import load_lake_settings
from batch.loads import count_pending_rows
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schedules import lakehouse_job
from batch.schemas import BRONZE_TABLES

IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED]


def lakehouse_run_in_flight(context: SensorEvaluationContext) -> bool:
    try:
        instance = context.instance
    except DagsterInvariantViolationError:
        return False  # a context built without an instance (in a test) has no runs to ask
    runs = instance.get_runs(filters=RunsFilter(job_name=lakehouse_job.name, statuses=IN_FLIGHT),
                             limit=1)
    return bool(runs)


@sensor(job=lakehouse_job, minimum_interval_seconds=load_lake_settings().LOAD_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING)
def postgres_new_rows_sensor(context: SensorEvaluationContext, catalog: IcebergCatalogResource,
                             postgres: PostgresResource):
    """Request a load when a bronze table has loadable row versions in PostgreSQL."""
    # Before any I/O: a run still loading would take these rows anyway, and a second run
    # would only queue behind its lock and commit again within the interval.
    if lakehouse_run_in_flight(context):
        return SkipReason("a lakehouse run is still queued or running")
    lake = catalog.load()
    pending = [count_pending_rows(lake, postgres.connect, spec) for spec in BRONZE_TABLES]
    if not any(p.count for p in pending):
        return SkipReason("no new or changed rows in PostgreSQL")
    # One request per state of the source: the same rows never start two runs.
    run_key = ",".join(f"{p.table}:{p.watermark}-{p.max_xid}" for p in pending)
    return RunRequest(run_key=run_key, tags={"pending_rows": str(sum(p.count for p in pending))})
