"""The upkeep jobs and their schedules, running by default beside the loads.

- ``lake_compaction_job`` (hourly at :40): the small files of cold bronze partitions.
- ``lake_snapshot_expiry_job`` (hourly at :50): snapshots past their retention, every table.
- ``lake_orphan_removal_job`` (daily at 03:55 UTC): unreferenced files past the margin.

Each is idempotent (a re-run finds nothing to do) and safe while a load runs
(batch.upkeep.commits). Their settings are read when a run starts (batch.lake_settings).
"""

from datetime import UTC, datetime, timedelta

from dagster import (
    DefaultScheduleStatus,
    OpExecutionContext,
    ScheduleDefinition,
    job,
    op,
)

from batch.lake_settings import load_lake_settings
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import BRONZE_TABLES
from batch.upkeep.cleanup import catalog_tables, expire_table_snapshots, remove_orphan_files
from batch.upkeep.compaction import compact_table
from batch.upkeep.files import day_field
from batch.upkeep.plans import describe_layout


def now() -> datetime:
    return datetime.now(UTC)


@op
def compact_cold_partitions(context: OpExecutionContext, catalog: IcebergCatalogResource,
                            postgres: PostgresResource) -> dict:
    """Rewrite the small files of cold bronze partitions into target-sized files."""
    settings = load_lake_settings()
    cutoff = now() - timedelta(seconds=settings.COMPACTION_COLD_AFTER_SECONDS)
    lake = catalog.load()
    summary = {}
    for spec in BRONZE_TABLES:
        if not lake.table_exists(spec.identifier) or day_field(
                lake.load_table(spec.identifier)) is None:
            continue
        result = compact_table(lake, spec.identifier, cutoff,
                               settings.COMPACTION_TARGET_FILE_BYTES, postgres.connect)
        context.log.info("%s: %s partitions rewritten, %s files into %s (%s re-plans)",
                         result.table, result.partitions_rewritten, result.files_removed,
                         result.files_added, result.replans)
        summary[result.table] = {
            "partitions_rewritten": result.partitions_rewritten,
            "before": describe_layout(result.files_before),
            "after": describe_layout(result.files_after),
        }
    context.add_output_metadata({"tables": summary})
    return summary


@op
def expire_old_snapshots(context: OpExecutionContext, catalog: IcebergCatalogResource,
                         postgres: PostgresResource) -> dict:
    """Expire every table's snapshots older than BATCH_SNAPSHOT_RETENTION_SECONDS."""
    settings = load_lake_settings()
    older_than = now() - timedelta(seconds=settings.SNAPSHOT_RETENTION_SECONDS)
    lake = catalog.load()
    expired = {".".join(identifier): expire_table_snapshots(lake, identifier, older_than,
                                                            postgres.connect)
               for identifier in catalog_tables(lake)}
    context.log.info("snapshots expired: %s", expired)
    context.add_output_metadata({"expired_snapshots": expired})
    return expired


@op
def remove_orphans(context: OpExecutionContext, catalog: IcebergCatalogResource) -> dict:
    """Delete files no snapshot references, older than BATCH_ORPHAN_MIN_AGE_SECONDS."""
    settings = load_lake_settings()
    older_than = now() - timedelta(seconds=settings.ORPHAN_MIN_AGE_SECONDS)
    lake = catalog.load()
    removed = {}
    for identifier in catalog_tables(lake):
        result = remove_orphan_files(lake, identifier, older_than)
        removed[result.table] = len(result.removed)
        for path in result.removed:
            context.log.info("removed orphan %s", path)
    context.add_output_metadata({"orphans_removed": removed})
    return removed


@job(description="Compact the small files of cold bronze partitions.")
def lake_compaction_job():
    compact_cold_partitions()


@job(description="Expire Iceberg snapshots past their retention.")
def lake_snapshot_expiry_job():
    expire_old_snapshots()


@job(description="Remove warehouse files that no snapshot references.")
def lake_orphan_removal_job():
    remove_orphans()


UPKEEP_JOBS = [lake_compaction_job, lake_snapshot_expiry_job, lake_orphan_removal_job]
UPKEEP_SCHEDULES = [
    ScheduleDefinition(name=upkeep.name.replace("_job", "_schedule"), job=upkeep,
                       cron_schedule=cron, execution_timezone="UTC",
                       default_status=DefaultScheduleStatus.RUNNING)
    for upkeep, cron in ((lake_compaction_job, "40 * * * *"),
                         (lake_snapshot_expiry_job, "50 * * * *"),
                         (lake_orphan_removal_job, "55 3 * * *"))
]
