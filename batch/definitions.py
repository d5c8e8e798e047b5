"""The one Dagster Definitions: `dagster dev -m batch.definitions`."""

from dagster import Definitions

from batch.assets import LAKE_ASSETS
from batch.checks import LAKE_CHECKS
from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from batch.schedules import lakehouse_hourly_schedule, lakehouse_job
from batch.sensors import postgres_new_rows_sensor

defs = Definitions(
    assets=LAKE_ASSETS,
    asset_checks=LAKE_CHECKS,
    jobs=[lakehouse_job],
    schedules=[lakehouse_hourly_schedule],
    sensors=[postgres_new_rows_sensor],
    # Empty fields fall back to BATCH_* settings when a run starts, not at import.
    resources={"catalog": PyIcebergCatalogResource(), "postgres": AdbcPostgresResource()},
)
