"""Marts benchmark: seconds per mart run as history grows, new rows held constant, beside a
full rebuild of the same marts in the same run.

    python -m bench.marts [--history 1000000,10000000] [--new-rows 10000] [--catalog sqlite]

A mart run is what the lakehouse job does after a load: silver.payment_events and the three
gold marts (``batch.marts.refresh_mart``, charts not included). For each history size, bronze
is written straight to Iceberg through the loader's own writer (``batch.lake``), in arrival
order at a constant ~33k events a day (1M rows are 30 days, 10M are 300), in 1M-row commits,
and the marts are built once, untimed. Then ``--new-rows`` events land on the last day in one
commit, and the run is timed; the baseline is the full rebuild of the same four tables
(``full=True``) right after it, whose rows must equal the run's. The catalog is a SQL catalog
in a scratch PostgreSQL database (as in production), or SQLite for a quick run without servers;
``BENCH_MARTS_HISTORY`` sets the sizes (e.g. ``1000000`` alone for a quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import numpy as np
import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog

from batch.assets import DAY_MARTS, GOLD_MARTS
from batch.lake import commit_load, ensure_bronze_table, write_data_files
from batch.loads import arrow_schema
from batch.marts import refresh_mart
from batch.schemas import PAYMENT_EVENTS
from batch.transforms import run_sql
from bench.results import entry
from infra import stack_env

HISTORY = tuple(int(n) for n in
                os.environ.get("BENCH_MARTS_HISTORY", "1000000,10000000").split(","))
NEW_ROWS = int(os.environ.get("BENCH_MARTS_NEW_ROWS", "10000"))
ROWS_PER_DAY = 33_334
COMMIT_ROWS = 1_000_000
START = datetime(2025, 1, 1, tzinfo=UTC)
# A run that recomputes one day must not cost more than this share of a full rebuild, nor
# grow by more than this factor when the history grows tenfold.
MAX_RATIO = 0.5
MAX_GROWTH = 2.0
_CURRENCIES = np.array(["USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "CNY", "HKD", "NZD",
                        "SEK", "SGD", "NOK", "MXN", "INR", "BRL", "KRW", "ZAR", "DKK", "PLN"])


def _strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, numbers.astype(str)), pa.string())


def bronze_rows(first: int, count: int, on_day: int | None = None) -> pa.Table:
    """Events ``first`` .. ``first+count-1``, in arrival order, ROWS_PER_DAY to a day; or,
    with ``on_day``, all on that day (counted from START), as a load of today's events."""
    g = np.arange(first, first + count, dtype=np.int64)
    step = 86_400_000_000 // ROWS_PER_DAY
    offsets = g * step if on_day is None else on_day * 86_400_000_000 + (g - first) * (
        86_400_000_000 // max(count, 1))
    created = pa.array(int(START.timestamp() * 1e6) + offsets, pa.timestamp("us", tz="UTC"))
    failed = g % 10 == 0
    n = len(g)
    columns = {
        "event_id": _strings("stripe:evt_", g), "provider_event_id": _strings("evt_", g),
        "provider": pa.array(np.array(["stripe", "adyen", "braintree", "square"])[g % 4]),
        "event_type": pa.array(np.where(failed, "payment.failed", "payment.succeeded")),
        "status": pa.array(np.where(failed, "failed", "succeeded")),
        "failure_code": pa.array(np.where(failed, "card_declined", None)),
        "amount_cents": pa.array((g * 37) % 100_000_000), "currency": pa.array(_CURRENCIES[g % 20]),
        "merchant_id": _strings("m_", g % 500), "customer_id": _strings("cus_", g % 50_000),
        "fraud_risk_level": pa.array(np.array(["low", "medium", "high"])[g % 3]),
        "validation_status": pa.array(np.where(g % 100 == 0, "invalid", "valid")),
        "provider_created_at": created, "processed_at": created, "ingested_at": created,
        "updated_at": created, "schema_version": pa.array(np.ones(n, np.int64)),
        "metadata": pa.array(["{}"] * n), "enrichment_missing": pa.array(["[]"] * n),
        "validation_errors": pa.array(["[]"] * n),
    }
    schema = arrow_schema(PAYMENT_EVENTS)
    return pa.table([columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type)
                     for f in schema], schema=schema)


def append_bronze(catalog: Catalog, first: int, count: int, watermark: int,
                  on_day: int | None = None) -> None:
    table = ensure_bronze_table(catalog, PAYMENT_EVENTS)
    rows = bronze_rows(first, count, on_day)
    commit_load(table, write_data_files(table, rows), [], watermark)


def run_marts(catalog: Catalog, *, full: bool) -> tuple[float, list]:
    start = time.perf_counter()
    results = [refresh_mart(catalog, mart, full=full) for mart in DAY_MARTS]
    return time.perf_counter() - start, results


def gold_rows(catalog: Catalog) -> dict[str, pa.Table]:
    return {m.name: catalog.load_table(m.identifier).scan().to_arrow() for m in GOLD_MARTS}


def differing_rows(a: pa.Table, b: pa.Table) -> int:
    rows = run_sql("SELECT count(*) AS n FROM ((SELECT * FROM a EXCEPT ALL SELECT * FROM b) "
                   "UNION ALL (SELECT * FROM b EXCEPT ALL SELECT * FROM a))", a=a, b=b)
    return rows.column("n")[0].as_py()


def measure(catalog: Catalog, history: int, new_rows: int) -> tuple[float, float]:
    """(seconds of the run after a load of ``new_rows``, seconds of a full rebuild)."""
    commits = 0
    for first in range(0, history, COMMIT_ROWS):
        commits += 1
        append_bronze(catalog, first, min(COMMIT_ROWS, history - first), commits)
    run_marts(catalog, full=False)  # the first build: every day, untimed
    # The new rows are today's: they land on the history's last day, beside its events.
    append_bronze(catalog, history, new_rows, commits + 1, on_day=(history - 1) // ROWS_PER_DAY)
    incremental_s, results = run_marts(catalog, full=False)
    if any(r.days is None or len(r.days) != 1 for r in results):
        raise RuntimeError(f"the run rebuilt more than the new rows' day: {results}")
    after_run = gold_rows(catalog)
    full_s, _ = run_marts(catalog, full=True)
    for name, rows in gold_rows(catalog).items():
        if differing := differing_rows(after_run[name], rows):
            raise RuntimeError(f"{name}: {differing} rows differ from the full rebuild")
    return incremental_s, full_s


def _dsn(database: str) -> str:
    """The stack's admin on `database` (a scratch database of this run), as bench/batch.py."""
    return stack_env.admin_dsn().rsplit("/", 1)[0] + f"/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn("payments"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def measure_in_scratch(history: int, new_rows: int, kind: str) -> tuple[float, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-marts-"))
    name = f"bench_marts_{uuid.uuid4().hex[:8]}"
    warehouse = (workdir / "warehouse").as_uri()
    if kind == "sqlite":
        uri = f"sqlite:///{workdir}/catalog.db"
    else:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        uri = _dsn(name).replace("postgresql://", "postgresql+psycopg2://", 1)
    catalog = load_catalog("lakehouse", type="sql", uri=uri, warehouse=warehouse)
    try:
        return measure(catalog, history, new_rows)
    finally:
        catalog.engine.dispose()
        if kind != "sqlite":
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


def run(history: tuple[int, ...] = HISTORY, new_rows: int = NEW_ROWS,
        catalog: str = "postgres") -> list[dict]:
    entries, runs = [], {}
    for size in history:
        runs[size] = measure_in_scratch(size, new_rows, catalog)
        value, baseline = runs[size]
        entries.append(entry(
            "marts", f"mart_run_s ({size:,} rows of history, {new_rows:,} new)", value, "s",
            baseline, f"<= {MAX_RATIO}x the full rebuild", {"max_ratio": MAX_RATIO}))
    if len(history) > 1:
        small, large = min(history), max(history)
        growth = runs[large][0] / runs[small][0]
        full_growth = runs[large][1] / runs[small][1]
        entries.append(entry(
            "marts", f"mart_run_growth ({large:,} vs {small:,} rows of history)", growth, "x",
            full_growth, f"<= {MAX_GROWTH}x (the full rebuild's growth beside it)",
            {"max_value": MAX_GROWTH}))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default=",".join(map(str, HISTORY)),
                        help="comma-separated history sizes in rows")
    parser.add_argument("--new-rows", type=int, default=NEW_ROWS)
    parser.add_argument("--catalog", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    history = tuple(int(n) for n in args.history.split(","))
    for figure in run(history, args.new_rows, args.catalog):
        print(f"{figure['metric']:58} {figure['value']:>8} {figure['unit']}  full rebuild "
              f"{figure['baseline']:>8}  ratio {figure['ratio']}  {figure['target']}"
              f"  met {figure['met']}")


if __name__ == "__main__":
    main()
