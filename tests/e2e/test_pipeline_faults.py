"""kill -9 one component at a time while webhooks flow: every 2xx'd webhook is still stored
exactly once (payment_events if valid, quarantine if not) once the component is back.

The full run (`make test-faults`) kills each service and each server; the short unmarked
one kills the normalizer and the orchestration worker during one small flow.
"""

import json
import os
import time
from pathlib import Path

import pytest
from faults import parent_of, run_fault

from infra.servers import STATE_DIR

FAULT_REPORT = STATE_DIR / "fault-report.json"

SERVICES = ("gateway", "normalizer", "starter", "orchestration-worker", "inference")
SERVERS = ("temporal", "kafka", "postgres")
FAULTS = (*SERVICES, *SERVERS)


def other_test_runs() -> list[str]:
    """Command lines of pytest runs other than this one (they share the stack's servers)."""
    mine, pid = set(), os.getpid()
    while pid and pid > 1:  # this run and the shells and wrappers that launched it
        mine.add(pid)
        pid = parent_of(pid)
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            pid, argv = int(cmdline.parent.name), cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        text = b" ".join(argv).decode(errors="replace").strip()
        if pid not in mine and "pytest" in text and "pgrep" not in text:
            found.append(f"{pid} {text}")
    return found


def write_fault_report(entries: list[dict]) -> None:
    """Merge these entries (by fault) into .stack/fault-report.json and print a table."""
    existing = json.loads(FAULT_REPORT.read_text()) if FAULT_REPORT.exists() else []
    names = {e["fault"] for e in entries}
    merged = [e for e in existing if e["fault"] not in names] + entries
    FAULT_REPORT.parent.mkdir(parents=True, exist_ok=True)
    FAULT_REPORT.write_text(json.dumps(merged, indent=2))
    print(format_table(entries))


def format_table(entries: list[dict]) -> str:
    columns = ("fault", "sent", "accepted", "persisted", "duplicated", "lost",
               "recovered_s", "drained_s", "collateral_restarts")
    rows = [[str(e.get(c, "")) for c in columns] for e in entries]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n" + "\n".join(lines)


def fresh_seed() -> int:
    # Distinct per run and per fault, so each flow's event ids are its own.
    time.sleep(0.002)
    return int(time.time() * 1000) % 10**9


def assert_exactly_once(entry: dict) -> None:
    assert entry["lost"] == 0, f"acknowledged but not stored: {entry['missing']}"
    assert entry["duplicated"] == 0, entry
    assert entry["persisted"] == entry["expected"], entry
    assert entry["accepted"] > 0, "no webhook was acknowledged; the flow proves nothing"


def wait_for_exclusive_stack(timeout: float = 300) -> None:
    """Killing a shared server disrupts anyone else's run: wait for them, else skip."""
    deadline = time.monotonic() + timeout
    while (others := other_test_runs()) and time.monotonic() < deadline:
        time.sleep(5)
    if others:
        pytest.skip(f"other test runs share the stack: {others[:3]}")


@pytest.fixture(scope="module")
def fault_table():
    entries: list[dict] = []
    yield entries
    if entries:
        print(format_table(entries))
        print(f"fault report: {FAULT_REPORT}")


def test_nothing_lost_when_workers_are_killed(pipeline):
    """The short version for `make test`: the orchestration worker, then the normalizer."""
    entry = run_fault(("orchestration-worker", "normalizer"), seed=fresh_seed(), rate=8,
                      duration=14, kill_after=3, downtime=1, drain_timeout=180)
    write_fault_report([entry])
    assert_exactly_once(entry)


@pytest.mark.faults
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", FAULTS)
def test_nothing_lost_when_a_component_is_killed(pipeline, fault_table, name):
    if name in SERVERS:
        wait_for_exclusive_stack()
    entry = run_fault((name,), seed=fresh_seed(), rate=15, duration=24, kill_after=6,
                      downtime=2, drain_timeout=600)
    fault_table.append(entry)
    write_fault_report([entry])
    print(json.dumps({k: entry[k] for k in ("fault", "recovered_s", "drained_s")}))
    assert_exactly_once(entry)
