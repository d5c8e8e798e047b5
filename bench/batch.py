"""Batch benchmark: rows/s from PostgreSQL into Iceberg bronze, beside a raw COPY of the rows.

    python -m bench.batch [--rows 1000000]

Two layouts of the same rows, each in its own scratch database:

- ``arrival``: provider_created_at rises with the insert order over 30 days, as rows
  do when the workflows insert events as they come. This is the target's figure.
- ``scattered``: consecutive rows cycle through the 30 days, as a backfill in random
  order would; every chunk touches every day partition, so the loader sorts and gathers.

Both figures of a layout come from one run on its scratch database: the baseline is a server-side
``COPY (SELECT ...) TO '<file>'`` of the same SELECT the loader runs (as the local
``postgres`` superuser, which COPY TO a file needs), then the real loader
(``batch.loads.load_bronze_table``: ADBC Arrow fetch, cast, one Iceberg commit), after
an untimed warm-up write that pays a fresh process's one-off import costs (~0.8 s).
"""


from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from pyiceberg.catalog.sql import SqlCatalog

from batch.lake import commit_load, write_data_files
from batch.loads import extract_sql, load_bronze_table, shape_rows
from batch.resources import AdbcPostgresResource
from batch.schemas import PAYMENT_EVENTS
from bench.results import entry
from infra import stack_env
from infra.migrate import migrate

DEFAULT_ROWS = int(os.environ.get("BENCH_BATCH_ROWS", "1000000"))
TARGET_ROWS_PER_S = 200_000
TARGET_RATIO = 0.6

_GENERATE = """
INSERT INTO payment_events (event_id, provider, provider_event_id, event_type, payment_id,
    merchant_id, customer_id, amount_cents, currency, payment_method_type, card_brand,
    card_last_four, status, failure_code, metadata, provider_created_at, processed_at,
    schema_version, fraud_score, fraud_risk_level, validation_status)
SELECT 'stripe:evt_' || g, 'stripe', 'evt_' || g,
       CASE WHEN g % 10 = 0 THEN 'payment.failed' ELSE 'payment.succeeded' END,
       'pi_' || g, 'm_' || (g % 500), 'cus_' || (g % 50000), (g * 37) % 100000000,
       (ARRAY['USD','EUR','GBP','JPY','CAD','AUD','CHF','CNY','HKD','NZD','SEK','SGD','NOK',
              'MXN','INR','BRL','KRW','ZAR','DKK','PLN'])[1 + g % 20],
       'card', 'visa', lpad((g % 10000)::text, 4, '0'),
       CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN g % 10 = 0 THEN 'card_declined' END,
       '{"order": "o"}'::jsonb,
       {created_at},
       now(), 1, (g % 100) / 100.0, (ARRAY['low','medium','high'])[1 + g % 3], 'valid'
FROM generate_series(1, $1) AS g
"""
LAYOUTS = {
    "arrival": "timestamptz '2026-01-01' + (g::float8 / $1 * 30 * 86400) * interval '1 s'",
    "scattered": "timestamptz '2026-01-01' + (g % 30) * interval '1 day'"
                 " + (g % 86400) * interval '1 s'",
}


def _dsn(database: str) -> str:
    """The superuser's DSN (POSTGRES_ADMIN_DSN in .stack/env) on ``database``: the bench
    makes scratch databases and writes COPY's file on the server, which only it may."""
    return stack_env.admin_dsn().rsplit("/", 1)[0] + f"/{database}"


async def _create_database(name: str, rows: int, layout: str) -> None:
    admin = await asyncpg.connect(_dsn("payments"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    await migrate(_dsn(name))
    conn = await asyncpg.connect(_dsn(name))
    try:
        await conn.execute(_GENERATE.replace("{created_at}", LAYOUTS[layout]), rows)
        await conn.execute("VACUUM ANALYZE payment_events")
    finally:
        await conn.close()


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(_dsn("payments"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _time_copy_to_file(name: str, path: str) -> float:
    """Seconds for the server to write the loader's SELECT to a file with COPY."""
    conn = await asyncpg.connect(_dsn(name))
    try:
        sql = extract_sql(PAYMENT_EVENTS, 0, 2**62)
        # The same untimed warm-up as the loader's (_warm_up: the first 1,000 rows), so
        # neither side of the ratio pays a one-off cost the other does not.
        await conn.execute(f"COPY ({sql} LIMIT 1000) TO '{path}'")
        start = time.perf_counter()
        await conn.execute(f"COPY ({sql}) TO '{path}'")
        return time.perf_counter() - start
    finally:
        await conn.close()


def _warm_up(catalog: SqlCatalog, postgres: AdbcPostgresResource) -> None:
    """Pay the one-off costs of a fresh process (lazy imports, thread pools) untimed."""
    conn = postgres.connect()
    try:
        cursor = conn.cursor()
        cursor.execute(extract_sql(PAYMENT_EVENTS, 0, 2**62) + " LIMIT 1000")
        sample = cursor.fetch_arrow_table()
    finally:
        conn.close()
    catalog.create_namespace_if_not_exists("warmup")
    table = catalog.create_table(("warmup", "payment_events"), schema=PAYMENT_EVENTS.schema,
                                 partition_spec=PAYMENT_EVENTS.partition_spec)
    shaped, _ = shape_rows(sample, PAYMENT_EVENTS)
    commit_load(table, write_data_files(table, shaped), [], 0)


def measure(rows: int, layout: str) -> tuple[float, float]:
    """(loader rows/s, COPY TO file rows/s) for one layout, in one scratch database."""
    name = f"bench_batch_{uuid.uuid4().hex[:8]}"
    workdir = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    copy_file = f"/tmp/{name}.copy"
    asyncio.run(_create_database(name, rows, layout))
    try:
        copy_s = asyncio.run(_time_copy_to_file(name, copy_file))
        catalog = SqlCatalog("lakehouse", uri=_dsn(name).replace("postgresql://",
                                                                 "postgresql+psycopg2://", 1),
                             warehouse=(workdir / "warehouse").as_uri())
        postgres = AdbcPostgresResource(dsn=_dsn(name))
        _warm_up(catalog, postgres)
        start = time.perf_counter()
        result = load_bronze_table(catalog, postgres.connect, PAYMENT_EVENTS)
        load_s = time.perf_counter() - start
        if result.rows != rows:
            raise RuntimeError(f"loaded {result.rows} rows, expected {rows}")
        catalog.engine.dispose()
    finally:
        asyncio.run(_drop_database(name))
        shutil.rmtree(workdir, ignore_errors=True)
        Path(copy_file).unlink(missing_ok=True)
    return rows / load_s, rows / copy_s


def run(rows: int = DEFAULT_ROWS) -> list[dict]:
    entries = []
    for layout in LAYOUTS:
        value, baseline = measure(rows, layout)
        target = layout == "arrival"
        entries.append(entry(
            "batch", f"postgres_to_iceberg_rows_per_s ({rows} rows, {layout})", value,
            "rows/s", baseline,
            f">= {TARGET_ROWS_PER_S} and >= {TARGET_RATIO}x COPY TO file" if target else "context",
            {"min_value": TARGET_ROWS_PER_S, "min_ratio": TARGET_RATIO} if target else None,
            digits=0))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    args = parser.parse_args()
    for figure in run(args.rows):
        print(f"{figure['metric']:58} {figure['value']:>8} rows/s  COPY TO file "
              f"{figure['baseline']:>8}  ratio {figure['ratio']:>6}  {figure['target']}"
              f"  met {figure['met']}")


if __name__ == "__main__":
    main()
