#!/bin/sh
# The compose `dagster` service: DAGSTER_HOME with telemetry off (batch/instance.py), the
# sensor and the hourly schedule switched on (the schedule ships stopped; the sensor ships
# running, and is started again here should someone have stopped it in the UI), then
# `dagster dev` with this script's arguments. The on/off state lives in DAGSTER_HOME, so
# this is idempotent.
set -eu
python -m batch.instance
dagster sensor start -m batch.definitions postgres_new_rows_sensor
dagster schedule start -m batch.definitions lakehouse_hourly_schedule
exec dagster dev -m batch.definitions "$@"
