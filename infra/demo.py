"""`make demo`: the stack, every service, the simulator, the batch load, a reconciliation.

    python -m infra.demo [--rate 20] [--duration 60] [--stop]

Exits non-zero unless every accepted webhook is accounted for exactly once. The report
is printed and written to .stack/demo-report.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from infra import stack
from infra.reconcile import RunCounts, format_payment_states, reconcile
from infra.roles import READER
from infra.servers import REPO_ROOT, STATE_DIR, VENV_BIN, StackError, wait_until
from infra.services import (
    GATEWAY_ADMIN_PORT,
    AppService,
    all_services,
    demo_environment,
    operator_environment,
)
from infra.stack_env import setting
from telemetry import exit_after_flush

REPORT = STATE_DIR / "demo-report.json"
# The demo's counts read as the operators' read-only role: its DSN, its catalog URI.
READER_DSN, READER_CATALOG_URI = (name for name, _ in READER.dsns)
CHARTS_DIR = STATE_DIR / "charts"
UI_ADDRESSES = {
    "Temporal UI": "http://127.0.0.1:8233",
    "Dagster": "http://127.0.0.1:3000",
    "Faust normalizer (counters, dedup table)": "http://127.0.0.1:6066/counters",
    "Faust starter (counters)": "http://127.0.0.1:6067/counters",
    "Gateway OpenAPI and metrics (admin port)": f"http://127.0.0.1:{GATEWAY_ADMIN_PORT}/docs",
    "Inference OpenAPI": "http://127.0.0.1:8002/docs",
}


def start_services(services: list[AppService]) -> None:
    for service in services:
        if not service.is_running():
            print(f"  {service.name}: starting (log {service.log_file})", flush=True)
            service.start()
    for service in services:
        def ready(s: AppService = service) -> bool:
            if s.died_early():
                raise StackError(f"{s.name} exited during start-up; see {s.log_file}")
            return s.healthy()

        wait_until(ready, 180, service.name, service.log_file)
        print(f"  {service.name:22} ready  {service.address()}", flush=True)


def normalizer_counters(url: str = "http://127.0.0.1:6066/counters") -> dict[str, int]:
    with urllib.request.urlopen(url, timeout=5) as response:
        per_agent = json.load(response)
    totals: dict[str, int] = {}
    for tally in per_agent.values():
        for key, value in tally.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def run_simulator(rate: float, duration: float, seed: int) -> dict:
    report = STATE_DIR / f"simulator-{seed}.json"
    subprocess.run(
        [str(VENV_BIN / "faust"), "-A", "streams.simulator", "simulate", "--rate", str(rate),
         "--duration", str(duration), "--seed", str(seed),
         "--target", "http://127.0.0.1:8000/webhooks/stripe", "--report", str(report)],
        env={**os.environ, **demo_environment(), **operator_environment()}, cwd=REPO_ROOT,
        check=True, stdout=subprocess.DEVNULL,
    )
    return json.loads(report.read_text())


async def count_rows(prefix: str, since: float, dsn: str | None = None) -> tuple[int, int]:
    import asyncpg

    conn = await asyncpg.connect(dsn or setting(READER_DSN))
    try:
        pg_rows = await conn.fetchval(
            "SELECT count(*) FROM payment_events WHERE provider_event_id LIKE $1", prefix + "%")
        # Events whose id was unreadable are quarantined under their record's key when the
        # body could not be read at all, else under their source coordinates.
        quarantined = await conn.fetchval(
            "SELECT count(*) FROM payment_events_quarantine WHERE provider_event_id LIKE $1 "
            "OR (provider_event_id IS NULL AND source_topic LIKE 'webhooks.stripe.%' "
            "AND quarantined_at >= to_timestamp($2))", prefix + "%", since)
    finally:
        await conn.close()
    return pg_rows, quarantined


async def rows_by_writer(prefix: str, dsn: str | None = None) -> dict[str, int]:
    """The run's payment_events rows per writing workflow id (payment_events.workflow_id)."""
    import asyncpg

    conn = await asyncpg.connect(dsn or setting(READER_DSN))
    try:
        writers = await conn.fetch(
            "SELECT workflow_id, count(*) AS n FROM payment_events "
            "WHERE provider_event_id LIKE $1 AND workflow_id IS NOT NULL GROUP BY workflow_id",
            prefix + "%")
    finally:
        await conn.close()
    return {writer["workflow_id"]: writer["n"] for writer in writers}


async def count_rows_by_completed_workflows(prefix: str, target: str = "127.0.0.1:7233",
                                            dsn: str | None = None) -> int:
    """The run's rows whose writing workflow (a PaymentEventWorkflow or, in the batched
    mode, a PaymentBatchWorkflow) completed."""
    from temporalio.client import Client, WorkflowExecutionStatus

    client = await Client.connect(target)
    rows = 0
    for writer, count in (await rows_by_writer(prefix, dsn)).items():
        # The latest run: a redelivery after a failed run starts a new one under the same id.
        status = (await client.get_workflow_handle(writer).describe()).status
        rows += count if status == WorkflowExecutionStatus.COMPLETED else 0
    return rows


async def count_payments_by_status() -> dict[str, int]:
    """Every payment's current state in PostgreSQL, counted per status."""
    import asyncpg

    conn = await asyncpg.connect(setting(READER_DSN))
    try:
        rows = await conn.fetch("SELECT status, count(*) AS n FROM payments GROUP BY status")
    finally:
        await conn.close()
    return {row["status"]: row["n"] for row in rows}


def wait_for_pipeline(prefix: str, since: float, expected: int, timeout: float,
                      dsn: str | None = None) -> tuple[int, int]:
    """Poll until rows stop arriving or the expected number is reached, showing progress."""
    deadline = time.monotonic() + timeout
    last, stable_since = (-1, -1), time.monotonic()
    while time.monotonic() < deadline:
        counts = asyncio.run(count_rows(prefix, since, dsn))
        print(f"\r  rows: {counts[0]} payment_events, {counts[1]} quarantined "
              f"(expecting {expected} in all)", end="", flush=True)
        if sum(counts) >= expected:
            break
        if counts != last:
            last, stable_since = counts, time.monotonic()
        elif time.monotonic() - stable_since > 60:
            break
        time.sleep(2)
    print()
    return asyncio.run(count_rows(prefix, since, dsn))


def run_batch_load() -> None:
    subprocess.run(
        [str(VENV_BIN / "dagster"), "job", "execute", "-m", "batch.definitions",
         "-j", "lakehouse_job"],
        env={**os.environ, **demo_environment()}, cwd=REPO_ROOT, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def reader_catalog():
    """The lakehouse catalog as the operators' read-only role sees it: this process holds no
    service's settings (BATCH_CATALOG_URI is Dagster's own), and the reader may not create
    the catalog's tables, so it never tries."""
    from batch.resources import PyIcebergCatalogResource

    return PyIcebergCatalogResource(uri=setting(READER_CATALOG_URI),
                                    properties={"init_catalog_tables": "false"}).load()


def write_mart_charts() -> list[Path]:
    """The gold marts' charts, as their assets attach them, as PNG files under .stack/charts."""
    from batch.assets import GOLD_MARTS
    from batch.marts import write_charts

    return write_charts(reader_catalog(), GOLD_MARTS, CHARTS_DIR)


def count_iceberg_rows(prefix: str) -> int:
    from pyiceberg.expressions import StartsWith

    table = reader_catalog().load_table(("bronze", "payment_events"))
    scan = table.scan(row_filter=StartsWith("provider_event_id", prefix),
                      selected_fields=("event_id",))
    return scan.to_arrow().num_rows


def collect_counts(sim: dict, before: dict[str, int], after: dict[str, int], prefix: str,
                   pg_rows: int, quarantined: int, extra_invalid: int = 0,
                   temporal_target: str = "127.0.0.1:7233") -> RunCounts:
    """One run's counts: the simulator's report, the normalizer's counter deltas, and what
    Temporal, PostgreSQL and Iceberg hold for the run's event ids.

    ``extra_invalid`` counts bad records written straight to Kafka, past the gateway.
    The addresses default to the local stack's; the compose stack passes its own.
    """
    return RunCounts(
        sent=sim["sent"], accepted=sim["accepted"], rejected=sim["rejected"],
        errors=sim["errors"], unique_valid=sim["valid"], duplicates=sim["duplicates"],
        invalid=sim["invalid"] + extra_invalid,
        deduplicated=after.get("deduplicated", 0) - before.get("deduplicated", 0),
        dead_lettered=after.get("dead_lettered", 0) - before.get("dead_lettered", 0),
        rows_by_completed_workflows=asyncio.run(
            count_rows_by_completed_workflows(prefix, temporal_target)),
        pg_rows=pg_rows, quarantine_rows=quarantined, iceberg_rows=count_iceberg_rows(prefix),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=float(os.environ.get("DEMO_RATE", 20)))
    parser.add_argument("--duration", type=float,
                        default=float(os.environ.get("DEMO_DURATION", 60)))
    parser.add_argument("--stop", action="store_true",
                        default=os.environ.get("DEMO_STOP", "") not in ("", "0"),
                        help="stop the services at the end (default: leave them running)")
    args = parser.parse_args(argv)
    seed = int(time.time())
    prefix = f"evt_sim{seed}_"
    services = all_services()
    try:
        print("1/5 the stack", flush=True)
        stack.up([])
        print("2/5 the services", flush=True)
        start_services(services)
        before = normalizer_counters()
        started = time.time()
        print(f"3/5 the simulator: {args.rate:g}/s for {args.duration:g}s (seed {seed})",
              flush=True)
        sim = run_simulator(args.rate, args.duration, seed)
        expected = sim["valid"] + sim["invalid"] - sim["rejected"]
        pg_rows, quarantined = wait_for_pipeline(prefix, started, expected, timeout=300)
        after = normalizer_counters()
        print("4/5 the batch load into Iceberg", flush=True)
        run_batch_load()
        for path in write_mart_charts():
            print(f"  chart: {path}", flush=True)
        print("5/5 reconciliation", flush=True)
        counts = collect_counts(sim, before, after, prefix, pg_rows, quarantined)
        by_status = asyncio.run(count_payments_by_status())
    except (StackError, subprocess.CalledProcessError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.stop:
            for service in reversed(services):
                service.stop()
    result = reconcile(counts)
    REPORT.write_text(json.dumps(result.report, indent=2))
    width = max(map(len, result.report))
    for key, value in result.report.items():
        print(f"  {key:{width}}  {value}")
    for problem in result.problems:
        print(f"  PROBLEM: {problem}")
    print(f"  report: {REPORT}")
    if not args.stop:
        print("\nStill running (make down stops the servers; --stop stops services too):")
        for name, url in UI_ADDRESSES.items():
            print(f"  {name:42} {url}")
    print()
    for line in format_payment_states(by_status):
        print(line)
    print("\ndemo: every accepted event is accounted for exactly once" if result.ok
          else "\ndemo: FAILED reconciliation")
    return 0 if result.ok else 1


if __name__ == "__main__":
    exit_after_flush(main())
