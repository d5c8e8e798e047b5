"""A bronze table made before a column existed gains it, on a real PyIceberg SQL catalog
(SQLite, in a temporary folder): issue 15 added the quarantine's payload_sha256 and
payload_redaction to bronze.payment_events_quarantine, which a running stack already has."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow as pa
from pyiceberg.catalog import load_catalog

from batch.lake import commit_load, ensure_bronze_table, write_data_files
from batch.loads import arrow_schema
from batch.schemas import PAYMENT_EVENTS_QUARANTINE

NEW = ("payload_sha256", "payload_redaction")
AT = datetime(2026, 1, 1, tzinfo=UTC)


def row(spec, event_id: str) -> dict:
    values = {"event_id": event_id, "source_topic": "t", "source_partition": 0,
              "source_offset": 1, "original_payload": "{}", "payload_encoding": "utf-8",
              "error_codes": ["x"], "errors": "[]", "review_status": "pending",
              "quarantined_at": AT, "updated_at": AT, "payload_sha256": "0" * 64,
              "payload_redaction": "redacted"}
    return {name: values.get(name) for name, _, _ in spec.columns}


def load(table, spec, event_id: str) -> None:
    rows = pa.Table.from_pylist([row(spec, event_id)], schema=arrow_schema(spec))
    commit_load(table, write_data_files(table, rows), [], 1)


def test_an_older_bronze_quarantine_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    catalog = load_catalog("lakehouse", type="sql", uri=f"sqlite:///{tmp_path}/catalog.db",
                           warehouse=tmp_path.as_uri())
    old_spec = dataclasses.replace(PAYMENT_EVENTS_QUARANTINE, columns=tuple(
        c for c in PAYMENT_EVENTS_QUARANTINE.columns if c[0] not in NEW))
    load(ensure_bronze_table(catalog, old_spec), old_spec, "stripe:evt_old")

    table = ensure_bronze_table(catalog, PAYMENT_EVENTS_QUARANTINE)
    assert ensure_bronze_table(catalog, PAYMENT_EVENTS_QUARANTINE).schema() == table.schema()
    for name in NEW:
        assert not table.schema().find_field(name).required
    load(catalog.load_table(PAYMENT_EVENTS_QUARANTINE.identifier), PAYMENT_EVENTS_QUARANTINE,
         "stripe:evt_new")

    rows = {r["event_id"]: r for r in catalog.load_table(
        PAYMENT_EVENTS_QUARANTINE.identifier).scan().to_arrow().to_pylist()}
    assert rows["stripe:evt_old"]["payload_sha256"] is None
    assert (rows["stripe:evt_new"]["payload_sha256"], rows["stripe:evt_new"]["payload_redaction"]
            ) == ("0" * 64, "redacted")
