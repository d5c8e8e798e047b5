"""Loads running in a thread while an upkeep job runs, and the comparison with PostgreSQL.

Each round of the thread inserts a new event for today (a hot partition), a late event
for a cold day, and changes one already-loaded cold event (so the next load replaces it:
a delete in a cold partition, the write that races compaction), then runs the real load.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from batch_lake import make_event_row

from batch.loads import load_bronze_table
from batch.schemas import PAYMENT_EVENTS

COLD_DAYS = (2, 3, 4)  # January 2026: long over, so cold


def seed_cold_events(lake, loads: int, per_day: int = 20) -> list[str]:
    """``loads`` separate loads, each adding one small file to every cold day partition."""
    ids = []
    for load in range(loads):
        rows = [make_event_row(f"stripe:seed{load}_{day}_{i}",
                               provider_created_at=f"2026-01-{day:02d}T{i % 24:02d}:00:00Z")
                for day in COLD_DAYS for i in range(per_day)]
        lake.add_events(rows)
        lake.load_until_caught_up()
        ids += [row["event_id"] for row in rows]
    return ids


class BackgroundLoads:
    """``with BackgroundLoads(lake, cold_ids) as loads:`` runs loads until the block ends."""

    def __init__(self, lake, cold_ids: list[str], pause_s: float = 0.05) -> None:
        self.lake, self.cold_ids, self.pause_s = lake, cold_ids, pause_s
        self.loads = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background-loads", daemon=True)

    def __enter__(self) -> BackgroundLoads:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        # At least one more load after the job ended, so its commits interleave with loads.
        self.wait_for_loads(self.loads + 1)
        self._stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the background loads did not stop"
        if exc[0] is None and self.errors:
            raise self.errors[0]

    def wait_for_loads(self, count: int, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.loads < count and not self.errors:
            assert time.monotonic() < deadline, f"only {self.loads} background loads ran"
            time.sleep(0.05)

    def _run(self) -> None:
        catalog = self.lake.catalog.load()
        round_number = 0
        try:
            while not self._stop.is_set():
                round_number += 1
                today = datetime.now(UTC).isoformat()
                self.lake.add_events([
                    make_event_row(f"stripe:hot_{round_number}", provider_created_at=today),
                    make_event_row(f"stripe:late_{round_number}",
                                   provider_created_at="2026-01-03T12:30:00Z"),
                ])
                changed = self.cold_ids[round_number % len(self.cold_ids)]
                self.lake.execute("UPDATE payment_events SET fraud_risk_level = %s "
                                  "WHERE event_id = %s", (f"round_{round_number}", changed))
                load_bronze_table(catalog, self.lake.postgres.connect, PAYMENT_EVENTS)
                self.loads += 1
                time.sleep(self.pause_s)
        except BaseException as exc:  # handed to the test, which fails on it
            self.errors.append(exc)


def postgres_versions(lake) -> Counter:
    """(event_id, fraud_risk_level) of every PostgreSQL row: what bronze must hold."""
    conn = lake.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT event_id, fraud_risk_level FROM payment_events")
            return Counter(cur.fetchall())
    finally:
        conn.close()


def lake_versions(lake) -> Counter:
    table = lake.catalog.load().load_table(PAYMENT_EVENTS.identifier)
    rows = table.scan(selected_fields=("event_id", "fraud_risk_level")).to_arrow()
    return Counter(zip(rows.column("event_id").to_pylist(),
                       rows.column("fraud_risk_level").to_pylist(), strict=True))


def assert_bronze_equals_postgres(lake) -> None:
    """Every row once, in its latest version: none lost, doubled or brought back stale."""
    lake.load_until_caught_up()
    lake_rows, pg_rows = lake_versions(lake), postgres_versions(lake)
    assert max(Counter(event_id for event_id, _ in lake_rows.elements()).values()) == 1
    assert lake_rows == pg_rows
