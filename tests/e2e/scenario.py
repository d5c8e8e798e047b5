"""One fault beyond kill -9 while signed webhooks flow, judged event by event and by offsets.

The flow is the kill suite's (`faults.BackgroundFlow`, `faults.account`): every webhook that
got a 2xx must be stored exactly once. On top, from the heal on, a `StallWatch` reads the
consumer groups' committed and end offsets: a partition with lag whose committed offset
stands still for the window is *stalled*; *time to drain* runs from the heal until every
2xx'd event (and every poison record) is stored and no group has lag.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from faults import (
    BackgroundFlow,
    account,
    component,
    ensure_pipeline,
    parent_of,
    wait_for_quiet_pipeline,
)
from injectors import Fault, hold_fault
from offsets import StallWatch

from infra.servers import STATE_DIR
from infra.services import all_services

FAULT_REPORT = STATE_DIR / "fault-report.json"
STALL_WINDOW_S = 60.0
COMPONENTS = ("gateway", "normalizer", "starter", "orchestration-worker", "inference",
              "temporal", "kafka", "postgres")


def _pids() -> dict[str, int | None]:
    return {name: component(name).read_pid() for name in COMPONENTS}


def _restart_dead(before: dict[str, int | None]) -> list[str]:
    """A supervisor's job: start any service that died during the fault, and say so."""
    dead = [s for s in all_services() if before.get(s.name) and not s.is_running()]
    if dead:
        ensure_pipeline()
    return [s.name for s in dead]


def preflight(seed: int) -> None:
    """A few webhooks must reach PostgreSQL before the fault, or a failure would be blamed on
    it. Nothing is skipped or restarted to get there: since issue 14 a record left behind by
    an earlier run (oversized, or permanently failing) is dead-lettered like any other, so
    a pipeline that cannot carry the canary is a failure of its own, reported as such."""
    flow = BackgroundFlow((seed + 500_000_000) % 10**9, rate=4, duration=1.5)
    results = flow.start().join(60)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        tally = account(flow, results)
        if tally.lost == 0 and tally.expected > 0:
            return
        time.sleep(1)
    raise RuntimeError(f"the pipeline did not carry a canary flow before the fault: "
                       f"{tally.missing} not stored")


def run_scenario(fault: Fault, *, seed: int, rate: float, lead: float, tail: float,
                 drain_timeout: float, flow_seconds: float | None = None,
                 stall_window: float = STALL_WINDOW_S, after_heal=None,
                 stop_on_stall: bool = True, absent: tuple[str, ...] = ()) -> dict:
    """Flow for `lead` s, hold the fault, heal it, flow `tail` s more; then watch the drain.
    `absent` services are stopped before the flow (a worker that joins during it)."""
    ensure_pipeline()
    wait_for_quiet_pipeline()
    preflight(seed)
    for name in absent:
        component(name).stop()
    before = _pids()
    duration = flow_seconds if flow_seconds is not None else lead + fault.hold + tail
    flow = BackgroundFlow(seed, rate, duration).start()
    time.sleep(lead)
    healed_at = hold_fault(fault)
    watch = StallWatch(window=stall_window).start()
    try:
        restarted = _restart_dead(before)
        extra = after_heal() if after_heal else {}
        results = flow.join(timeout=duration + 120)
        tally, drained_at, stalled = _watch_drain(fault, flow, results, watch, drain_timeout,
                                                  stop_on_stall)
    finally:
        watch.stop()
    entry = {
        "fault": fault.name, "class": fault.kind, "component": fault.target,
        "hold_s": fault.hold, "seed": seed, "rate": rate, "duration_s": duration,
        "sent": tally.sent, "accepted": tally.acknowledged, "rejected": tally.rejected,
        "errors": tally.errors, "expected": tally.expected, "persisted": tally.persisted,
        "duplicated": tally.duplicated, "lost": tally.lost, "missing": tally.missing,
        "stored_without_2xx": tally.unacknowledged_stored,
        "stalled": _stall_label(stalled, tally, drained_at, watch, fault),
        "time_to_drain_s": round(drained_at - healed_at, 1) if drained_at else None,
        "lag_at_end": watch.total_lag(), "offset_samples": watch.samples,
        "restarted": ",".join(restarted) or "-",
        "pids_changed": sorted(n for n, p in _pids().items() if before[n] and p != before[n]),
        **fault.notes, **fault.summary(), **extra,
    }
    return entry


def _stall_label(stalled: list[str], tally, drained_at, watch: StallWatch, fault: Fault) -> str:
    """The offsets' verdict, and the stall they cannot see: faust with concurrency > 1
    commits past a single unacked record at a partition's head (faust-streaming#606), so a
    record retried forever can leave no lag behind while it is never stored."""
    if stalled:
        return ", ".join(stalled)
    if drained_at is None and watch.total_lag() == 0 and (tally.lost or fault.pending()):
        return "hidden: no lag, not stored"
    return "no"


def _watch_drain(fault: Fault, flow, results, watch: StallWatch, timeout: float,
                 stop_on_stall: bool = True):
    """Poll until drained (stored, poison quarantined, no lag), stalled, or the timeout."""
    deadline = time.monotonic() + timeout
    tally = None
    while True:
        try:
            tally = account(flow, results)
            pending = fault.pending()
        except (TimeoutError, OSError) as exc:  # PostgreSQL may still be coming back
            if time.monotonic() > deadline and tally is not None:
                return tally, None, [f"unreadable: {exc!r}"]
            time.sleep(2)
            continue
        if tally.lost == 0 and pending == 0 and watch.caught_up():
            return tally, time.monotonic(), []
        stalled = watch.stalled()
        if (stalled and stop_on_stall) or time.monotonic() > deadline:
            return tally, None, stalled
        time.sleep(2)


def failed_workflows_since(started: float, prefix: str) -> int:
    """PaymentEvent/DLQReview workflows of this flow that closed as failed."""
    from temporalio.client import Client

    async def count() -> int:
        client = await Client.connect("127.0.0.1:7233")
        query = ("ExecutionStatus = 'Failed' AND StartTime > "
                 f"'{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started - 5))}'")
        return len([w async for w in client.list_workflows(query) if prefix in w.id])

    return asyncio.run(count())


def fresh_seed() -> int:
    # Distinct per run and per fault, so each flow's event ids are its own.
    time.sleep(0.002)
    return int(time.time() * 1000) % 10**9


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
        # Only a Python running pytest: a `flock ... pytest` still waiting for the stack's
        # lock (HELPERS.md) or a `timeout` wrapper is not using the servers yet.
        if (pid not in mine and "python" in Path(argv[0].decode(errors="replace")).name
                and "pytest" in text):
            found.append(f"{pid} {text}")
    return found


def wait_for_exclusive_stack(timeout: float = 300) -> None:
    """Pausing or stopping a shared server disrupts anyone else's run: wait, else skip."""
    deadline = time.monotonic() + timeout
    while (others := other_test_runs()) and time.monotonic() < deadline:
        time.sleep(5)
    if others:
        pytest.skip(f"other test runs share the stack: {others[:3]}")


def write_fault_report(entries: list[dict]) -> None:
    """Merge these entries (by fault) into .stack/fault-report.json and print a table."""
    existing = json.loads(FAULT_REPORT.read_text()) if FAULT_REPORT.exists() else []
    names = {e["fault"] for e in entries}
    merged = [e for e in existing if e["fault"] not in names] + entries
    FAULT_REPORT.parent.mkdir(parents=True, exist_ok=True)
    FAULT_REPORT.write_text(json.dumps(merged, indent=2, default=str))
    print(format_table(entries))


COLUMNS = ("fault", "sent", "accepted", "expected", "persisted", "duplicated", "lost",
           "stalled", "time_to_drain_s", "restarted")


# Shown only when some run measured them (the scale-out runs of test_scale_faults.py).
OPTIONAL_COLUMNS = ("stable_without_s", "served_again_s", "time_to_stable_s")


def format_table(entries: list[dict], columns: tuple[str, ...] = COLUMNS) -> str:
    columns += tuple(c for c in OPTIONAL_COLUMNS if any(c in e for e in entries))
    rows = [[str(e.get(c, "")) for c in columns] for e in entries]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n" + "\n".join(lines)


def record_and_judge(fault_table: list[dict], entry: dict) -> None:
    """Add a run to the session's table and to the report file, then judge it."""
    fault_table.append(entry)
    write_fault_report([entry])
    assert_no_loss_no_stall(entry)


def assert_no_loss_no_stall(entry: dict) -> None:
    assert entry["accepted"] > 0, "no webhook was acknowledged; the flow proves nothing"
    assert entry["lost"] == 0, f"acknowledged but not stored: {entry['missing']}"
    assert entry["duplicated"] == 0, entry
    assert entry["persisted"] == entry["expected"], entry
    assert entry["stalled"] == "no", f"stalled: {entry['stalled']}"
    assert entry["time_to_drain_s"] is not None, f"did not drain: lag {entry['lag_at_end']}"
    assert not entry.get("records_missing"), entry.get("records_missing")
    assert not entry.get("records_without_reason"), entry.get("records_without_reason")
