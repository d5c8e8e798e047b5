"""The compose stack's reconciliation, the `reconcile` service: `make demo`'s last steps.

    python -m infra.compose.reconcile --report /data/simulator/report.json --duration 60

Runs after the `simulator` service, on the compose network: reads the simulator's report,
waits until PostgreSQL holds every accepted event and the Dagster sensor has loaded them
into Iceberg, then applies infra/reconcile.py's rules with infra/demo.py's queries. Exits
non-zero unless every accepted event is accounted for exactly once.

The normalizer's dedup and dead-letter counters are its totals since it started, which on
a fresh stack are this run's; reconcile() only reports them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from infra.demo import collect_counts, count_iceberg_rows, normalizer_counters, wait_for_pipeline
from infra.reconcile import reconcile


def wait_for_iceberg(prefix: str, rows: int, timeout: float) -> int:
    """Poll Iceberg until it holds ``rows`` rows of the run (the sensor loads every 30 s)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
    from sqlalchemy.exc import ProgrammingError

    deadline = time.monotonic() + timeout
    while True:
        try:
            loaded = count_iceberg_rows(prefix)
        except (NoSuchTableError, NoSuchNamespaceError, ProgrammingError):
            # The first load has not run yet: no Iceberg table, or (read as the reader
            # role, which never creates them) not even the catalog's own tables.
            loaded = 0
        print(f"  iceberg: {loaded} of {rows} rows", flush=True)
        if loaded >= rows or time.monotonic() > deadline:
            return loaded
        time.sleep(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, required=True, help="the simulator's --report")
    parser.add_argument("--seed", type=int, default=None,
                        help="the simulator's --seed (default: the one its report names)")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="the simulator's --duration (bounds the run's quarantine window)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds to wait for PostgreSQL, then as long for Iceberg")
    parser.add_argument("--dsn", default=os.environ.get("ORCHESTRATOR_READER_POSTGRES_DSN"))
    parser.add_argument("--temporal", default=os.environ.get("ORCHESTRATOR_TEMPORAL_TARGET"))
    parser.add_argument("--counters", default="http://normalizer:6066/counters")
    args = parser.parse_args(argv)
    if not args.dsn or not args.temporal:
        parser.error("--dsn and --temporal (or ORCHESTRATOR_READER_POSTGRES_DSN and "
                     "ORCHESTRATOR_TEMPORAL_TARGET) are needed")

    sim = json.loads(args.report.read_text())
    seed = sim["seed"] if args.seed is None else args.seed
    prefix = f"evt_sim{seed}_"
    # Quarantined events with no readable id are matched by time: from the run's start on.
    since = args.report.stat().st_mtime - args.duration - 60
    expected = sim["valid"] + sim["invalid"] - sim["rejected"]
    print(f"reconcile: run {prefix}*, {expected} accepted events expected", flush=True)
    pg_rows, quarantined = wait_for_pipeline(prefix, since, expected, args.timeout, args.dsn)
    wait_for_iceberg(prefix, pg_rows, args.timeout)
    counts = collect_counts(sim, {}, normalizer_counters(args.counters), prefix, pg_rows,
                            quarantined, temporal_target=args.temporal)
    result = reconcile(counts)
    width = max(map(len, result.report))
    for key, value in result.report.items():
        print(f"  {key:{width}}  {value}")
    for problem in result.problems:
        print(f"  PROBLEM: {problem}")
    print("reconcile: every accepted event is accounted for exactly once" if result.ok
          else "reconcile: FAILED", flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
