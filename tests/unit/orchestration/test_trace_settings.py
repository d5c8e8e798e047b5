"""The trace reads batch's lakehouse settings and names without importing batch: pinned equal
here; and a trace whose every source is down, or whose settings are bad."""

from __future__ import annotations

import pytest

from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE
from batch.settings import BatchSettings
from contracts import storage
from orchestration import trace
from orchestration.tracing.settings import TraceSettings

CATALOG_FIELDS = {"ICEBERG_CATALOG_NAME": "CATALOG_NAME", "ICEBERG_CATALOG_TYPE": "CATALOG_TYPE",
                  "ICEBERG_CATALOG_URI": "CATALOG_URI", "ICEBERG_WAREHOUSE": "WAREHOUSE",
                  "ICEBERG_CATALOG_PROPERTIES": "CATALOG_PROPERTIES"}


# The trace signs in as the operators' read-only role (infra/roles.py: payments_reader).
READER_DSN = "postgresql://payments_reader:unit-test-password-0123@db:5432/payments"
READER_CATALOG = "postgresql+psycopg2://payments_reader:unit-test-password-0123@db:5432/lake"


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("BATCH_CATALOG_NAME", "BATCH_CATALOG_TYPE", "BATCH_CATALOG_URI",
                 "BATCH_WAREHOUSE", "BATCH_CATALOG_PROPERTIES", "KAFKA_BOOTSTRAP_SERVERS",
                 "ORCHESTRATOR_READER_CATALOG_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", READER_DSN)
    return monkeypatch


def test_the_catalog_settings_are_batchs_names_and_defaults(clean_env):
    clean_env.setenv("BATCH_CATALOG_URI", READER_CATALOG)
    trace_settings, batch_settings = TraceSettings(), BatchSettings()
    for ours, theirs in CATALOG_FIELDS.items():
        alias = TraceSettings.model_fields[ours].validation_alias
        # The URI is read as the reader's first, then under batch's name.
        names = alias.choices if ours == "ICEBERG_CATALOG_URI" else [alias]
        assert names[-1] == f"BATCH_{theirs}", ours
        if theirs != "WAREHOUSE":  # batch derives its default folder; a reader needs none
            assert getattr(trace_settings, ours) == getattr(batch_settings, theirs), ours
    clean_env.setenv("ORCHESTRATOR_READER_CATALOG_URI", READER_CATALOG)
    clean_env.setenv("BATCH_CATALOG_URI", "postgresql+psycopg2://payments_batch:other-password-"
                                          "0123@db:5432/lake")
    clean_env.setenv("BATCH_CATALOG_PROPERTIES", '{"s3.endpoint": "http://minio:9000"}')
    props = TraceSettings().catalog_properties()
    assert props["uri"] == READER_CATALOG
    assert props["s3.endpoint"] == "http://minio:9000"
    assert props["init_catalog_tables"] == "false"  # a reader never creates the catalog


def test_the_lake_names_are_batchs():
    assert storage.LAKE_CATALOG_NAME == BatchSettings.model_fields["CATALOG_NAME"].default
    assert storage.LAKE_PAYMENT_EVENTS == PAYMENT_EVENTS.identifier
    assert storage.LAKE_QUARANTINE == PAYMENT_EVENTS_QUARANTINE.identifier


def test_a_trace_with_every_source_down_still_prints_each_section(clean_env, capsys):
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    clean_env.setenv("ORCHESTRATOR_READER_POSTGRES_DSN",
                     "postgresql://nobody:unit-test-password-0123@127.0.0.1:1/none")
    clean_env.setenv("ORCHESTRATOR_TEMPORAL_TARGET", "127.0.0.1:1")
    clean_env.setenv("BATCH_CATALOG_URI",
                     "postgresql+psycopg2://nobody:unit-test-password-0123@127.0.0.1:1/none")
    clean_env.setenv("ORCHESTRATOR_TRACE_TIMEOUT_SECONDS", "2")
    assert trace.main(["stripe:evt_down"]) == 1  # nothing found
    text = capsys.readouterr().out
    for section in ("[gateway receipt] unreachable (Kafka 127.0.0.1:1",
                    "[normalizer] unreachable (Kafka",
                    "[workflow PaymentEventWorkflow] unreachable",
                    "[payment_events] unreachable (PostgreSQL", "[quarantine] unreachable",
                    "[iceberg bronze.payment_events] unreachable"):
        assert section in text, text


def test_a_bad_setting_is_named(clean_env, capsys):
    clean_env.setenv("BATCH_CATALOG_URI", READER_CATALOG)
    clean_env.setenv("ORCHESTRATOR_TRACE_TIMEOUT_SECONDS", "-1")
    assert trace.main(["evt_1"]) == 2
    assert "TRACE_TIMEOUT_SECONDS" in capsys.readouterr().err


def test_a_dsn_without_its_password_is_named_and_never_echoed(clean_env, capsys):
    clean_env.setenv("BATCH_CATALOG_URI", READER_CATALOG)
    clean_env.setenv("ORCHESTRATOR_READER_POSTGRES_DSN", "postgresql://payments_reader@db/x")
    assert trace.main(["evt_1"]) == 2
    err = capsys.readouterr().err
    assert "ORCHESTRATOR_READER_POSTGRES_DSN holds no password" in err
    assert "payments_reader@db" not in err
