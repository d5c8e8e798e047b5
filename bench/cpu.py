"""CPU seconds of processes, read from /proc: what each stage of a benchmark costs.

Rates on a shared machine swing with the neighbours; the CPU a process spends per event
moves far less, and it is the figure that sizes a production deployment.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    # The fields after the ")" that ends the command name: ppid is [1], utime [11], stime [12].
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def process_tree_cpu(pid: int) -> float:
    """CPU seconds so far of ``pid`` and its live descendants (workers, backends, children).

    Children that already exited are counted in the parent's cutime/cstime only once
    reaped, so a window should compare live, long-running processes.
    """
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat_fields(entry.name)
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (ppid, _) in stats.items() if ppid == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(stats[p][1] for p in tree if p in stats) / _TICKS
