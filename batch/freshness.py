"""Is bronze.payment_events fresh? The lag of the lake behind PostgreSQL, as a check.

The lag is how long the oldest committed PostgreSQL row that bronze lacks has waited:
zero when bronze holds every committed row, else the database's clock less that row's
``ingested_at``. A row is in bronze exactly when its ``lake_xid`` is below the table's
watermark (batch.loads), so the rows bronze lacks are read from PostgreSQL, by the
watermark, in one indexed query.

Comparing the newest row of each side instead would pass forever once a stalled loader
also saw the inserts stop, and fail on the first row after a quiet hour.

The check runs after each load (in ``lakehouse_job``) and, so that a stopped sensor or a
failing load is seen too, on its own schedule every five minutes (``lake_freshness_job``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    asset_check,
    define_asset_job,
)

from batch.assets import payment_events
from batch.lake import ensure_bronze_table, read_watermark
from batch.lake_settings import load_lake_settings
from batch.loads import ConnectPostgres
from batch.resources import IcebergCatalogResource, PostgresResource
from batch.schemas import PAYMENT_EVENTS, BronzeTable

# The column each bronze table's rows are stamped with when PostgreSQL first stores them.
ARRIVAL_COLUMN = {"payment_events": "ingested_at", "payment_events_quarantine": "quarantined_at"}


@dataclass(frozen=True, slots=True)
class Backlog:
    """The committed rows a table's bronze copy lacks, as one query saw them."""

    rows: int
    oldest_epoch_s: float | None  # the earliest arrival stamp among them
    now_epoch_s: float  # PostgreSQL's clock, so no clock of another host enters the lag


def lag_seconds(backlog: Backlog) -> float:
    """How long the oldest row bronze lacks has waited; 0 when it lacks none."""
    if not backlog.rows or backlog.oldest_epoch_s is None:
        return 0.0
    return max(0.0, backlog.now_epoch_s - backlog.oldest_epoch_s)


def is_fresh(backlog: Backlog, max_lag_s: float) -> bool:
    return lag_seconds(backlog) <= max_lag_s


def backlog_sql(spec: BronzeTable, watermark: int) -> str:
    """Rows created at or above the watermark (updates of loaded rows are not arrivals).

    ``lake_xid`` is indexed and a new row's two stamps are equal, so the index narrows it.
    """
    w = int(watermark)  # integers only are formatted in; ADBC's binding has no xid8
    column = ARRIVAL_COLUMN[spec.pg_table]
    return (
        f"SELECT count(*), extract(epoch FROM min({column}))::float8, "
        "extract(epoch FROM clock_timestamp())::float8 "
        f"FROM {spec.pg_table} "
        f"WHERE lake_xid >= '{w}'::xid8 AND lake_created_xid >= '{w}'::xid8"
    )


def read_backlog(connect: ConnectPostgres, spec: BronzeTable, watermark: int) -> Backlog:
    conn = connect()
    try:
        cursor = conn.cursor()
        cursor.execute(backlog_sql(spec, watermark))
        rows, oldest, now = cursor.fetchone()
    finally:
        conn.close()
    return Backlog(rows, oldest, now)


def check_freshness(catalog: IcebergCatalogResource, postgres: PostgresResource,
                    spec: BronzeTable, max_lag_s: float) -> AssetCheckResult:
    # A load committing between these two reads only makes the lag look longer, never shorter.
    watermark = read_watermark(ensure_bronze_table(catalog.load(), spec))
    backlog = read_backlog(postgres.connect, spec, watermark)
    oldest = ("" if backlog.oldest_epoch_s is None
              else datetime.fromtimestamp(backlog.oldest_epoch_s, UTC).isoformat())
    return AssetCheckResult(
        passed=is_fresh(backlog, max_lag_s),
        metadata={"lag_seconds": round(lag_seconds(backlog), 3), "max_lag_seconds": max_lag_s,
                  "rows_not_in_bronze": backlog.rows, "oldest_not_in_bronze": oldest,
                  "watermark_xid": watermark},
    )


@asset_check(asset=payment_events)
def payment_events_are_fresh(catalog: IcebergCatalogResource,
                             postgres: PostgresResource) -> AssetCheckResult:
    """No committed PostgreSQL row has waited longer than BATCH_FRESHNESS_MAX_LAG_SECONDS."""
    max_lag = load_lake_settings().FRESHNESS_MAX_LAG_SECONDS
    return check_freshness(catalog, postgres, PAYMENT_EVENTS, max_lag)


FRESHNESS_CHECKS = [payment_events_are_fresh]

lake_freshness_job = define_asset_job(
    "lake_freshness_job", selection=AssetSelection.checks(*FRESHNESS_CHECKS),
    description="Check that bronze keeps up with PostgreSQL, whether or not loads run.",
)

lake_freshness_schedule = ScheduleDefinition(
    name="lake_freshness_schedule", job=lake_freshness_job, cron_schedule="*/5 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
)
