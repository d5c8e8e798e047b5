"""Bronze rows as Arrow, and a real PyIceberg SQL catalog on SQLite in a temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog

from batch.lake import commit_load, ensure_bronze_table, read_watermark, write_data_files
from batch.loads import arrow_schema
from batch.schemas import PAYMENT_EVENTS


def sqlite_catalog(folder: Path) -> Catalog:
    return load_catalog("lakehouse", type="sql", uri=f"sqlite:///{folder}/catalog.db",
                        warehouse=(folder / "warehouse").as_uri())


def make_bronze_row(event_id: str, day: int = 2, **overrides) -> dict:
    """A valid bronze row created at noon UTC on 2026-01-<day>."""
    created = datetime(2026, 1, day, 12, tzinfo=UTC)
    row = {
        "event_id": event_id, "provider": "stripe", "provider_event_id": event_id,
        "event_type": "payment.succeeded", "amount_cents": 1000, "currency": "USD",
        "status": "succeeded", "provider_created_at": created, "processed_at": created,
        "merchant_id": "m_1", "customer_id": "c_1", "failure_code": None, "metadata": "{}",
        "schema_version": 1, "fraud_risk_level": "low", "enrichment_missing": "[]",
        "validation_status": "valid", "validation_errors": "[]", "ingested_at": created,
        "updated_at": created,
    }
    row.update(overrides)
    return row


def bronze_table(rows: list[dict]) -> pa.Table:
    schema = arrow_schema(PAYMENT_EVENTS)
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows],
                                schema=schema)


def load_bronze(catalog: Catalog, rows: list[dict], replace: tuple[str, ...] = ()) -> None:
    """Commit rows to bronze as a load does: ``replace`` names event ids already there."""
    table = ensure_bronze_table(catalog, PAYMENT_EVENTS)
    files = write_data_files(table, bronze_table(rows))
    commit_load(table, files, list(replace), read_watermark(table) + 1)
