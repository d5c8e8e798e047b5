"""The lakehouse job and its schedule."""

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

lakehouse_job = define_asset_job(
    "lakehouse_job", selection=AssetSelection.all(),
    description="Load bronze from PostgreSQL, rebuild silver and gold, run the checks.",
)

# Stopped by default (turn it on in the UI; compose does). It catches what the sensor skips:
# a failed run keeps its run key, so the sensor does not request it again.
lakehouse_hourly_schedule = ScheduleDefinition(
    name="lakehouse_hourly_schedule", job=lakehouse_job, cron_schedule="15 * * * *",
)
