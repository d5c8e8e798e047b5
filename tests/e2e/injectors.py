"""The faults beyond kill -9, each an inject/heal pair: pause, partition, latency, records,
a PostgreSQL outage. `scenario.run_scenario` holds each for its time while webhooks flow.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from faults import component, kill_component, parent_of, restart_component
from poison import PoisonRecord, quarantine_rows, write_records

from infra import stack
from infra.postgres_server import Postgres
from infra.servers import KAFKA_PORT
from infra.toxiproxy import ToxiproxyClient, link


@dataclass
class Fault:
    kind: str  # pause, partition, latency, records, postgres-outage
    target: str  # a component or a link
    hold: float  # seconds between inject and heal
    inject: Callable[[], None]
    heal: Callable[[], None]
    # Extra things that must arrive before the run counts as drained (poison records).
    pending: Callable[[], int] = lambda: 0
    summary: Callable[[], dict] = dict
    notes: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        held = f" {self.hold:g}s" if self.hold else ""
        return f"{self.kind}{held} {self.target}"


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (PostgreSQL's backends, a JVM's helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        parent = parent_of(int(entry.name))
        if parent is not None:
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill(names: tuple[str, ...], downtime: float, gap: float = 0.0) -> Fault:
    """kill -9 each component in turn (`gap` s apart), restarting each after `downtime` s."""
    recovered: dict[str, float] = {}

    def inject() -> None:
        for n, name in enumerate(names):
            if n:
                time.sleep(gap)
            killed_at = kill_component(component(name))
            time.sleep(downtime)
            restart_component(component(name))
            recovered[name] = round(time.monotonic() - killed_at, 1)

    return Fault("kill -9", " + ".join(names), 0.0, inject, lambda: None,
                 summary=lambda: {"recovered_by_component_s": recovered,
                                  "recovered_s": max(recovered.values(), default=None)})


def pause(name: str, hold: float) -> Fault:
    """SIGSTOP the component's whole process tree for `hold` s, then SIGCONT it."""
    stopped: list[int] = []

    def inject() -> None:
        pid = component(name).read_pid()
        if pid is None:
            raise RuntimeError(f"{name} is not running; nothing to pause")
        stopped[:] = process_tree(pid)
        _signal_all(stopped, signal.SIGSTOP)

    def heal() -> None:
        _signal_all(stopped, signal.SIGCONT)

    return Fault("pause", name, hold, inject, heal)


def partition(link_name: str, hold: float, proxies: ToxiproxyClient) -> Fault:
    """Nothing gets through the link either way for `hold` s (a Toxiproxy blackhole)."""
    lk = link(link_name)
    return Fault("partition", lk.name, hold, lambda: proxies.partition(lk),
                 lambda: proxies.heal_partition(lk))


def latency(link_name: str, hold: float, proxies: ToxiproxyClient, ms: int = 500) -> Fault:
    """Every response on the link arrives `ms` late for `hold` s."""
    lk = link(link_name)
    return Fault("latency", lk.name, hold, lambda: proxies.add_latency(lk, ms),
                 lambda: proxies.remove_toxics(lk), notes={"latency_ms": ms})


def records(target: str, poison: list[PoisonRecord]) -> Fault:
    """Write the records (the fault is their presence); each must reach quarantine."""
    found: dict[str, list[str]] = {}

    def inject() -> None:
        asyncio.run(write_records(f"127.0.0.1:{KAFKA_PORT}", poison))

    def pending() -> int:
        found.clear()
        found.update(asyncio.run(quarantine_rows(poison)))
        return sum(1 for r in poison if not found.get(r.marker))

    def summary() -> dict:
        missing = [f"{r.kind} {r.topic}[{r.partition}]@{r.offset}" for r in poison
                   if not found.get(r.marker)]
        no_reason = [r.marker for r in poison if r.marker in found and not found[r.marker]]
        return {"records_written": len(poison),
                "records_quarantined": len(poison) - len(missing),
                "records_missing": missing, "records_without_reason": no_reason,
                "reasons": sorted({c for codes in found.values() for c in codes})}

    return Fault("records", target, 0.0, inject, lambda: None, pending, summary)


def postgres_outage(hold: float) -> Fault:
    """PostgreSQL stopped (fast shutdown) for `hold` s, then started again."""
    def heal() -> None:
        stack.up(["postgres"])

    return Fault("postgres-outage", "postgres", hold, lambda: Postgres().stop(), heal)


def hold_fault(fault: Fault) -> float:
    """Inject, wait, heal (always); returns when it healed (monotonic)."""
    fault.inject()
    try:
        time.sleep(fault.hold)
    finally:
        fault.heal()
    return time.monotonic()
