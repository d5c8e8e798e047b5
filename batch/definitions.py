"""The one Dagster Definitions: `dagster dev -m batch.definitions`."""

from dagster import Definitions

from batch.assets import LAKE_ASSETS
from batch.checks import LAKE_CHECKS
from batch.freshness import FRESHNESS_CHECKS, lake_freshness_job, lake_freshness_schedule
from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from batch.schedules import lakehouse_hourly_schedule, lakehouse_job
from batch.sensors import postgres_new_rows_sensor
from batch.upkeep.jobs import UPKEEP_JOBS, UPKEEP_SCHEDULES

defs = Definitions(
    assets=LAKE_ASSETS,
    asset_checks=LAKE_CHECKS + FRESHNESS_CHECKS,
    jobs=[lakehouse_job, lake_freshness_job, *UPKEEP_JOBS],
    schedules=[lakehouse_hourly_schedule, lake_freshness_schedule, *UPKEEP_SCHEDULES],
    sensors=[postgres_new_rows_sensor],
    # Empty fields fall back to BATCH_* settings when a run starts, not at import.
    resources={"catalog": PyIcebergCatalogResource(), "postgres": AdbcPostgresResource()},
)
