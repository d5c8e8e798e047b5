"""The trace command's settings: the worker's (ORCHESTRATOR_*: Temporal), PostgreSQL as the
operators' read-only role (ORCHESTRATOR_READER_POSTGRES_DSN), the broker under the name
every service reads, and the lakehouse catalog under batch's names.

orchestration may not import batch, so the catalog settings are read here under the same
environment variables as ``batch.settings.BatchSettings`` (BATCH_CATALOG_*), with the same
defaults; tests/unit/orchestration/test_trace_settings.py pins the two equal. The catalog's
URI is read first as ``ORCHESTRATOR_READER_CATALOG_URI``: the reader role may read the
catalog's tables but not write them, as batch's role may.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, ValidationInfo, field_validator

from contracts.postgres import check_catalog_uri
from contracts.storage import LAKE_CATALOG_NAME
from orchestration.kafka_sign_in import ReviewerKafkaSignIn
from orchestration.settings import OrchestratorSettings, setting_name


class TraceSettings(OrchestratorSettings, ReviewerKafkaSignIn):
    # Reads topics only: as the read-only reviewer principal (REVIEWER_KAFKA_SASL_*).
    POSTGRES_DSN: str = Field(validation_alias="ORCHESTRATOR_READER_POSTGRES_DSN")
    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS",
                                      "ORCHESTRATOR_KAFKA_BOOTSTRAP_SERVERS"))
    # The Temporal UI the workflow links point at.
    TEMPORAL_UI_URL: str = "http://127.0.0.1:8233"
    # Each source (Kafka, PostgreSQL, Temporal, Iceberg) gets this long, then is reported
    # unreachable: an outage of one never stalls the rest of the trace.
    TRACE_TIMEOUT_SECONDS: float = Field(15.0, gt=0)
    # At most this many records are read per partition searched.
    TRACE_SCAN_MAX_RECORDS: int = Field(200_000, ge=1)
    # A webhook reaches the gateway after the provider created its event, so a raw topic is
    # searched from that time, less this margin for clock skew.
    TRACE_CLOCK_SKEW_SECONDS: float = Field(600.0, ge=0)

    ICEBERG_CATALOG_NAME: str = Field(LAKE_CATALOG_NAME, validation_alias="BATCH_CATALOG_NAME")
    ICEBERG_CATALOG_TYPE: str = Field("sql", validation_alias="BATCH_CATALOG_TYPE")
    ICEBERG_CATALOG_URI: str = Field(validation_alias=AliasChoices(
        "ORCHESTRATOR_READER_CATALOG_URI", "BATCH_CATALOG_URI"))
    ICEBERG_WAREHOUSE: str = Field("", validation_alias="BATCH_WAREHOUSE")
    ICEBERG_CATALOG_PROPERTIES: dict[str, str] = Field({},
                                                        validation_alias="BATCH_CATALOG_PROPERTIES")

    @field_validator("ICEBERG_CATALOG_URI")
    @classmethod
    def _check_catalog_uri(cls, value: str, info: ValidationInfo) -> str:
        return check_catalog_uri(setting_name(cls, info.field_name), value)

    def catalog_properties(self) -> dict[str, str]:
        """PyIceberg properties for reading only: never create the catalog's tables."""
        props = {"type": self.ICEBERG_CATALOG_TYPE, "uri": self.ICEBERG_CATALOG_URI,
                 "init_catalog_tables": "false"}
        if self.ICEBERG_WAREHOUSE:
            props["warehouse"] = self.ICEBERG_WAREHOUSE
        return {**props, **self.ICEBERG_CATALOG_PROPERTIES}
