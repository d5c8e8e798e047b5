"""The one Definitions loads and holds every asset, check, schedule and sensor."""

import pytest
from dagster import AssetKey

from batch.definitions import defs
from batch.resources import PyIcebergCatalogResource


def test_definitions_hold_the_lakehouse():
    repo = defs.get_repository_def()
    assert repo.asset_graph.get_all_asset_keys() == {
        AssetKey(["bronze", "payment_events"]), AssetKey(["bronze", "payment_events_quarantine"]),
        AssetKey(["silver", "payment_events"]), AssetKey(["silver", "payments"]),
        AssetKey(["gold", "daily_payments"]),
        AssetKey(["gold", "failure_rates"]), AssetKey(["gold", "fraud_risk_distribution"]),
    }
    check_names = {key.name for key in repo.asset_graph.asset_check_keys}
    assert "payment_events_have_unique_event_ids" in check_names
    assert "daily_payments_sum_back_to_bronze" in check_names
    assert "silver_payments_match_postgres_payments" in check_names
    assert "payment_events_are_fresh" in check_names
    assert {s.name for s in repo.schedule_defs} == {
        "lakehouse_hourly_schedule", "lake_freshness_schedule", "lake_compaction_schedule",
        "lake_snapshot_expiry_schedule", "lake_orphan_removal_schedule"}
    assert [s.name for s in repo.sensor_defs] == ["postgres_new_rows_sensor"]


CATALOG_URI = "postgresql+psycopg2://payments_batch:unit-test-password-0123@db/payments"


def test_the_catalog_defaults_to_a_sql_catalog_named_lakehouse(monkeypatch, tmp_path):
    monkeypatch.setenv("STACK_DIR", str(tmp_path))
    monkeypatch.delenv("BATCH_WAREHOUSE", raising=False)
    monkeypatch.setenv("BATCH_CATALOG_URI", CATALOG_URI)
    props = PyIcebergCatalogResource().catalog_properties()
    assert props["type"] == "sql"
    assert props["uri"] == CATALOG_URI
    assert props["warehouse"] == (tmp_path / "warehouse").as_uri()


def test_a_missing_or_password_less_connection_setting_is_named(monkeypatch):
    from pydantic import ValidationError

    from batch.resources import AdbcPostgresResource
    from batch.settings import BatchConfigError, BatchSettings

    for name in ("BATCH_CATALOG_URI", "BATCH_POSTGRES_DSN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(BatchConfigError, match="BATCH_CATALOG_URI"):
        PyIcebergCatalogResource().catalog_properties()
    with pytest.raises(BatchConfigError, match="BATCH_POSTGRES_DSN"):
        AdbcPostgresResource().connect()
    monkeypatch.setenv("BATCH_POSTGRES_DSN", "postgresql://payments_batch@db/payments")
    with pytest.raises(ValidationError, match="BATCH_POSTGRES_DSN holds no password") as err:
        BatchSettings()
    assert "payments_batch@db" not in str(err.value)  # the value is never echoed


def test_batch_settings_point_the_catalog_at_rest_and_s3(monkeypatch):
    monkeypatch.setenv("BATCH_CATALOG_TYPE", "rest")
    monkeypatch.setenv("BATCH_CATALOG_URI", "http://iceberg-rest:8181")
    monkeypatch.setenv("BATCH_WAREHOUSE", "s3://lakehouse/")
    monkeypatch.setenv("BATCH_CATALOG_PROPERTIES", '{"s3.endpoint": "http://minio:9000"}')
    props = PyIcebergCatalogResource().catalog_properties()
    assert props == {"type": "rest", "uri": "http://iceberg-rest:8181",
                     "warehouse": "s3://lakehouse/", "s3.endpoint": "http://minio:9000"}


def test_dagster_home_gets_a_telemetry_off_instance_file(tmp_path):
    from batch.instance import ensure_dagster_home

    home = ensure_dagster_home(tmp_path / "dagster")
    assert "enabled: false" in (home / "dagster.yaml").read_text()
