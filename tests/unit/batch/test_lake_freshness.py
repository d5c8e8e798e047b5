"""Freshness as a number: the lag rule, the settings that bound it, and the load sensor."""

from __future__ import annotations

import dagster as dg
import pytest

from batch.freshness import Backlog, backlog_sql, is_fresh, lag_seconds
from batch.lake_settings import (
    MAX_COMMITS_PER_MINUTE,
    LakeConfigError,
    load_lake_settings,
)
from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE

NOW = 1_780_000_000.0


def test_no_missing_row_is_no_lag():
    assert lag_seconds(Backlog(rows=0, oldest_epoch_s=None, now_epoch_s=NOW)) == 0.0


def test_the_lag_is_how_long_the_oldest_missing_row_has_waited():
    backlog = Backlog(rows=3, oldest_epoch_s=NOW - 42.5, now_epoch_s=NOW)
    assert lag_seconds(backlog) == 42.5
    assert is_fresh(backlog, max_lag_s=60)
    assert not is_fresh(backlog, max_lag_s=40)


def test_a_stalled_loader_keeps_failing_after_the_inserts_stop():
    """Unlike newest-against-newest, the lag grows with the clock while a row waits."""
    waiting_since = NOW - 10
    assert is_fresh(Backlog(1, waiting_since, NOW), 120)
    assert not is_fresh(Backlog(1, waiting_since, NOW + 600), 120)


def test_a_row_stamped_after_the_database_clock_read_is_no_negative_lag():
    assert lag_seconds(Backlog(1, NOW + 0.2, NOW)) == 0.0


@pytest.mark.parametrize(("spec", "column"), [(PAYMENT_EVENTS, "ingested_at"),
                                              (PAYMENT_EVENTS_QUARANTINE, "quarantined_at")])
def test_the_backlog_query_reads_new_rows_at_or_above_the_watermark(spec, column):
    sql = backlog_sql(spec, 12345)
    assert f"min({column})" in sql
    assert "lake_xid >= '12345'::xid8" in sql
    # Updates of rows already loaded are not arrivals: only rows created since count.
    assert "lake_created_xid >= '12345'::xid8" in sql
    assert "clock_timestamp()" in sql


def test_the_default_settings_keep_commits_and_lag_within_the_goal(monkeypatch):
    for name in ("LOAD_INTERVAL_SECONDS", "FRESHNESS_MAX_LAG_SECONDS"):
        monkeypatch.delenv(f"BATCH_{name}", raising=False)
    settings = load_lake_settings()
    assert 60 / settings.LOAD_INTERVAL_SECONDS <= MAX_COMMITS_PER_MINUTE
    assert settings.LOAD_INTERVAL_SECONDS < settings.FRESHNESS_MAX_LAG_SECONDS


@pytest.mark.parametrize(("env", "named"), [
    ({"BATCH_LOAD_INTERVAL_SECONDS": "10"}, "BATCH_LOAD_INTERVAL_SECONDS"),
    ({"BATCH_LOAD_INTERVAL_SECONDS": "60", "BATCH_FRESHNESS_MAX_LAG_SECONDS": "60"},
     "BATCH_FRESHNESS_MAX_LAG_SECONDS"),
    ({"BATCH_SNAPSHOT_RETENTION_SECONDS": "60"}, "BATCH_SNAPSHOT_RETENTION_SECONDS"),
    ({"BATCH_ORPHAN_MIN_AGE_SECONDS": "600"}, "BATCH_ORPHAN_MIN_AGE_SECONDS"),
    ({"BATCH_COMPACTION_TARGET_FILE_BYTES": "1000"}, "BATCH_COMPACTION_TARGET_FILE_BYTES"),
    ({"BATCH_COMPACTION_COLD_AFTER_SECONDS": "-1"}, "BATCH_COMPACTION_COLD_AFTER_SECONDS"),
    ({"BATCH_FRESHNESS_MAX_LAG_SECONDS": "soon"}, "BATCH_FRESHNESS_MAX_LAG_SECONDS"),
])
def test_a_setting_that_breaks_its_rule_is_refused_by_name(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(LakeConfigError, match=named):
        load_lake_settings()


def test_the_load_sensor_runs_by_default_on_the_configured_interval():
    from batch.sensors import postgres_new_rows_sensor

    assert postgres_new_rows_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert postgres_new_rows_sensor.minimum_interval_seconds == \
        load_lake_settings().LOAD_INTERVAL_SECONDS


def test_the_load_sensor_waits_while_a_lakehouse_run_is_in_flight():
    """One load per interval at most: a second run would commit again within it."""
    from batch.sensors import postgres_new_rows_sensor

    instance = dg.DagsterInstance.ephemeral()
    instance.add_run(dg.DagsterRun(job_name="lakehouse_job", run_id="in-flight",
                                   status=dg.DagsterRunStatus.STARTED))
    # Unreachable addresses: the sensor must decide before it opens any connection.
    context = dg.build_sensor_context(instance=instance, resources={
        "catalog": PyIcebergCatalogResource(uri="postgresql+psycopg2://nobody@127.0.0.1:1/x"),
        "postgres": AdbcPostgresResource(dsn="postgresql://nobody@127.0.0.1:1/x"),
    })
    result = postgres_new_rows_sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert "still queued or running" in result.skip_message
