"""Lake freshness: how long after its PostgreSQL commit a row is readable in bronze.

    python -m bench.lake_freshness [--seconds 300] [--rate 30]

In a scratch database, a thread inserts payment events at a steady rate (default 30 rows/s,
the end-to-end stage's sustained rate; BENCH_FRESHNESS_RATE) for BENCH_FRESHNESS_SECONDS
(default 300), one transaction every 0.1 s, noting each transaction's xid and the time its
COMMIT returned. Meanwhile, every BATCH_LOAD_INTERVAL_SECONDS (default 30), the real load
sensor is evaluated and, when it asks, the bronze assets are materialized through Dagster
in process (batch.loads: the same code a sensor run executes), after which the bench reads
the table's watermark back. A row is readable from the first load whose watermark is
above its xid (batch.loads: exactly those rows are in Iceberg); its freshness is the time
that read returned less its commit time. After the run, the bronze rows are counted
against the inserts (exactly once), and the upkeep jobs run on the table: compaction
(the run's partitions treated as cold), then snapshot expiry.

Baseline, from the same run: the floor of freshness, the wait from each row's commit to
the start of the tick that loaded it, i.e. what a load that took no time at all would give
on the same interval (p95 about 0.95 of the interval for rows arriving evenly). Left out:
a deployed Dagster's daemon evaluates sensors on a 5 s loop and starts each run in a new
process, which adds a few seconds to every load; the marts it rebuilds come after the
bronze commit and delay no row of bronze.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import psycopg2
from dagster import DagsterInstance, RunRequest, build_sensor_context, materialize

from batch.assets import BRONZE_ASSETS
from batch.lake import read_watermark
from batch.lake_settings import load_lake_settings
from batch.resources import AdbcPostgresResource, PyIcebergCatalogResource
from batch.schemas import PAYMENT_EVENTS
from batch.sensors import postgres_new_rows_sensor
from batch.upkeep.cleanup import expire_table_snapshots
from batch.upkeep.compaction import compact_table
from batch.upkeep.files import partition_layout
from bench.results import entry
from infra import stack_env
from infra.migrate import migrate

DEFAULT_SECONDS = float(os.environ.get("BENCH_FRESHNESS_SECONDS", "300"))
DEFAULT_RATE = float(os.environ.get("BENCH_FRESHNESS_RATE", "30"))
GOAL_P95_S = 60.0
GOAL_COMMITS_PER_MINUTE = 4.0
TICK_S = 0.1
TAIL_TICKS = 3  # loads after the inserts stop, until every row is readable
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # no log line per step
ID = PAYMENT_EVENTS.identifier

# psycopg2 placeholders: a literal % is written %%.
_INSERT = """
INSERT INTO payment_events (event_id, provider, provider_event_id, event_type, payment_id,
    merchant_id, customer_id, amount_cents, currency, status, provider_created_at,
    processed_at, schema_version, fraud_score, fraud_risk_level)
SELECT 'stripe:fresh_' || g, 'stripe', 'fresh_' || g, 'payment.succeeded', 'pi_' || g,
       'm_' || (g %% 50), 'cus_' || (g %% 5000), (g * 37) %% 100000, 'USD', 'succeeded',
       now(), now(), 1, (g %% 100) / 100.0, 'low'
FROM generate_series(%s, %s) AS g
"""


@dataclass(frozen=True, slots=True)
class Commit:
    xid: int
    at: float  # when COMMIT returned
    rows: int


@dataclass(frozen=True, slots=True)
class Load:
    tick: float  # when the sensor was evaluated
    readable: float  # when the watermark read after the load returned
    watermark: int


def _dsn(database: str) -> str:
    """The stack's admin on `database` (a scratch database of this run), as bench/batch.py."""
    return stack_env.admin_dsn().rsplit("/", 1)[0] + f"/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("payments"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def insert_steadily(dsn: str, rate: float, seconds: float, out: list[Commit],
                    failed: list[BaseException]) -> None:
    """Insert ``rate`` rows a second for ``seconds``, one transaction per 0.1 s tick."""
    conn = psycopg2.connect(dsn)
    try:
        start, sent, tick = time.time(), 0, 0
        while time.time() < start + seconds:
            tick += 1
            due = int(rate * min(tick * TICK_S, seconds)) - sent
            if due > 0:
                with conn.cursor() as cur:
                    cur.execute(_INSERT, (sent + 1, sent + due))
                    cur.execute("SELECT pg_current_xact_id()::text::bigint")
                    (xid,) = cur.fetchone()
                conn.commit()
                out.append(Commit(xid, time.time(), due))
                sent += due
            time.sleep(max(0.0, start + tick * TICK_S - time.time()))
    except BaseException as exc:  # handed to the main thread, which re-raises it
        failed.append(exc)
    finally:
        conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def freshness(commits: list[Commit], loads: list[Load]) -> tuple[list[float], list[float]]:
    """Per row: (commit -> readable, commit -> start of the tick that loaded it)."""
    waits, floors = [], []
    for commit in commits:
        load = next((ld for ld in loads if ld.watermark > commit.xid), None)
        if load is None:
            raise RuntimeError(f"rows of xid {commit.xid} never became readable")
        waits += [load.readable - commit.at] * commit.rows
        floors += [max(0.0, load.tick - commit.at)] * commit.rows
    return waits, floors


def run_loads(resources: dict, instance: DagsterInstance, interval: float, until: float,
              inserter: threading.Thread, commits: list[Commit]) -> list[Load]:
    """The sensor and the bronze load on their interval, until the inserts are all readable."""
    catalog = resources["catalog"]
    loads: list[Load] = []
    next_tick, tail = time.time(), 0
    while True:
        time.sleep(max(0.0, next_tick - time.time()))
        tick = time.time()
        next_tick = tick + interval
        context = build_sensor_context(instance=instance, resources=resources)
        if isinstance(postgres_new_rows_sensor(context), RunRequest):
            materialize(BRONZE_ASSETS, resources=resources, instance=instance, run_config=QUIET)
        watermark = read_watermark(catalog.load().load_table(ID))
        loads.append(Load(tick, time.time(), watermark))
        if tick >= until and not inserter.is_alive():
            tail += 1
            if all(c.xid < watermark for c in commits) or tail > TAIL_TICKS:
                return loads


def commits_between(catalog: PyIcebergCatalogResource, start: float, end: float) -> int:
    """Iceberg commits of bronze.payment_events in [start, end), from its snapshot log."""
    table = catalog.load().load_table(ID)
    return sum(start * 1000 <= s.timestamp_ms < end * 1000 for s in table.metadata.snapshots)


def measure(seconds: float, rate: float) -> dict:
    settings = load_lake_settings()
    name = f"bench_fresh_{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-freshness-"))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrate(_dsn(name)))
        catalog = PyIcebergCatalogResource(
            name=name, catalog_type="sql",
            uri=_dsn(name).replace("postgresql://", "postgresql+psycopg2://", 1),
            warehouse=(workdir / "warehouse").as_uri())
        postgres = AdbcPostgresResource(dsn=_dsn(name))
        resources = {"catalog": catalog, "postgres": postgres}
        # One instance for the run, and a first (empty) load that creates the tables: the
        # one-off costs of a fresh process are paid before the clock starts.
        instance = DagsterInstance.ephemeral()
        materialize(BRONZE_ASSETS, resources=resources, instance=instance, run_config=QUIET)
        commits: list[Commit] = []
        failed: list[BaseException] = []
        inserter = threading.Thread(target=insert_steadily, name="inserts",
                                    args=(_dsn(name), rate, seconds, commits, failed))
        start = time.time()
        inserter.start()
        loads = run_loads(resources, instance, settings.LOAD_INTERVAL_SECONDS, start + seconds,
                          inserter, commits)
        inserter.join()
        if failed:
            raise failed[0]
        waits, floors = freshness(commits, loads)
        lake = catalog.load()
        loaded = lake.load_table(ID).scan(selected_fields=("event_id",)).to_arrow().num_rows
        if loaded != len(waits):
            raise RuntimeError(f"bronze holds {loaded} rows, {len(waits)} were inserted")
        result = {
            "interval": settings.LOAD_INTERVAL_SECONDS, "rows": len(waits),
            "rows_per_s": len(waits) / seconds, "waits": waits, "floors": floors,
            "commits_per_minute": commits_between(catalog, start, start + seconds)
            / (seconds / 60),
            "layout_before": partition_layout(lake, ID),
        }
        # Compacted as they will be once cold, then every snapshot but the last expired.
        compact_table(lake, ID, datetime.now(UTC) + timedelta(days=1),
                      settings.COMPACTION_TARGET_FILE_BYTES, postgres.connect)
        result["layout_after"] = partition_layout(lake, ID)
        result["snapshots_before"] = len(lake.load_table(ID).metadata.snapshots)
        expire_table_snapshots(lake, ID, datetime.now(UTC), postgres.connect)
        result["snapshots_after"] = len(lake.load_table(ID).metadata.snapshots)
        lake.engine.dispose()
        return result
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


def run(seconds: float = DEFAULT_SECONDS, rate: float = DEFAULT_RATE) -> list[dict]:
    m = measure(seconds, rate)
    waits, floors = m["waits"], m["floors"]
    label = f"({m['interval']} s interval, {rate:g} rows/s, {seconds:g} s)"
    before, after = m["layout_before"], m["layout_after"]
    return [
        entry("lake_freshness", f"commit_to_readable_p50_s {label}", statistics.median(waits),
              "s", statistics.median(floors), "report"),
        entry("lake_freshness", f"commit_to_readable_p95_s {label}", percentile(waits, 0.95),
              "s", percentile(floors, 0.95), f"<= {GOAL_P95_S:g} s",
              {"max_value": GOAL_P95_S}),
        entry("lake_freshness", f"commit_to_readable_max_s {label}", max(waits), "s",
              max(floors), "report"),
        entry("lake_freshness", "iceberg_commits_per_minute (bronze.payment_events)",
              m["commits_per_minute"], "commits/min", 60 / m["interval"],
              f"<= {GOAL_COMMITS_PER_MINUTE:g}", {"max_value": GOAL_COMMITS_PER_MINUTE}),
        entry("lake_freshness", "inserted_rows_per_s", m["rows_per_s"], "rows/s", rate,
              "context"),
        entry("lake_freshness", "data_files_per_partition_max (after the loads)",
              before["max_files_per_partition"], "files", None, "report", digits=1),
        entry("lake_freshness", "data_files_per_partition_max (after compaction)",
              after["max_files_per_partition"], "files", before["max_files_per_partition"],
              "report", digits=1),
        entry("lake_freshness", "snapshots (after expiry)", m["snapshots_after"], "snapshots",
              m["snapshots_before"], "report", digits=0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE)
    args = parser.parse_args()
    for figure in run(args.seconds, args.rate):
        print(f"{figure['metric']:72} {figure['value']:>10} {figure['unit']:12} baseline "
              f"{figure['baseline']}  {figure['target']}  met {figure['met']}")


if __name__ == "__main__":
    main()
