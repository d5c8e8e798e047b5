"""Row builders and the handle on one test's scratch database and Iceberg catalog."""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg2
import pyarrow as pa
from dagster import materialize

from batch.assets import BRONZE_ASSETS
from batch.loads import count_pending_rows
from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from batch.schemas import BRONZE_TABLES

EVENT_COLUMNS = ("event_id", "provider", "provider_event_id", "event_type", "amount_cents",
                 "currency", "status", "provider_created_at", "processed_at", "schema_version",
                 "merchant_id", "failure_code", "fraud_risk_level", "validation_status")


def make_event_row(event_id: str, **overrides) -> dict:
    row = {
        "event_id": event_id, "provider": "stripe", "provider_event_id": event_id.split(":")[-1],
        "event_type": "payment.succeeded", "amount_cents": 1000, "currency": "USD",
        "status": "succeeded", "provider_created_at": "2026-01-02T10:00:00Z",
        "processed_at": "2026-01-02T10:00:01Z", "schema_version": 1, "merchant_id": "m_1",
        "failure_code": None, "fraud_risk_level": "low", "validation_status": "valid",
    }
    row.update(overrides)
    return row


def insert_events(conn, rows: list[dict]) -> None:
    """Insert on ``conn`` without committing, so a test decides when each commit lands."""
    placeholders = ", ".join(f"%({c})s" for c in EVENT_COLUMNS)
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO payment_events ({', '.join(EVENT_COLUMNS)}) VALUES ({placeholders})",
            rows,
        )


@dataclass
class Lake:
    """Handles on one test's scratch database and Iceberg catalog."""

    dsn: str
    catalog: PyIcebergCatalogResource
    postgres: AdbcPostgresResource

    @property
    def resources(self) -> dict:
        return {"catalog": self.catalog, "postgres": self.postgres}

    def connect(self, autocommit: bool = False):
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = autocommit
        return conn

    def execute(self, sql: str, params=None) -> None:
        conn = self.connect(autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
        finally:
            conn.close()

    def add_events(self, rows: list[dict]) -> None:
        conn = self.connect()
        try:
            insert_events(conn, rows)
            conn.commit()
        finally:
            conn.close()

    def materialize(self, assets=BRONZE_ASSETS, **kwargs):
        return materialize(assets, resources=self.resources, **kwargs)

    def load_until_caught_up(self, timeout_s: float = 60.0) -> None:
        """Load until no row is pending.

        Another engineer's open transaction anywhere in the shared cluster holds the
        snapshot xmin back, which delays (never drops) rows; so wait it out, bounded.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self.materialize()
            lake = self.catalog.load()
            if not any(count_pending_rows(lake, self.postgres.connect, spec).count
                       for spec in BRONZE_TABLES):
                return
            assert time.monotonic() < deadline, "rows still pending after the bounded wait"
            time.sleep(0.5)

    def read(self, identifier: tuple[str, str]) -> pa.Table:
        return self.catalog.load().load_table(identifier).scan().to_arrow()

    def event_id_counts(self, identifier=("bronze", "payment_events")) -> dict[str, int]:
        counts: dict[str, int] = {}
        for event_id in self.read(identifier).column("event_id").to_pylist():
            counts[event_id] = counts.get(event_id, 0) + 1
        return counts
