"""Render `.stack/fault-report.json` as the README's fault table (Markdown), one row per run.

    .venv/bin/python tests/e2e/fault_table.py [report.json]

The README's table is pasted from this output, so its numbers are the report's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CLASS_ORDER = ("kill", "pause", "partition", "latency", "records", "postgres-outage")
HEADER = ("fault", "held", "sent", "2xx", "expected rows", "persisted", "duplicated", "lost",
          "stalled", "time to drain")


def _held(entry: dict) -> str:
    hold = entry.get("hold_s")
    return f"{hold:g} s" if isinstance(hold, int | float) and hold else "—"


def _drain(entry: dict) -> str:
    value = entry.get("time_to_drain_s")
    return f"{value} s" if value is not None else "never"


def row(entry: dict) -> str:
    cells = (entry["fault"], _held(entry), entry["sent"], entry["accepted"], entry["expected"],
             entry["persisted"], entry["duplicated"], entry["lost"], entry["stalled"],
             _drain(entry))
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _order(entry: dict) -> tuple[int, str]:
    kind = entry.get("class", "")
    rank = CLASS_ORDER.index(kind) if kind in CLASS_ORDER else len(CLASS_ORDER)
    return rank, entry["fault"]


def table(entries: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += [row(e) for e in sorted(entries, key=_order)]
    return "\n".join(lines)


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / ".stack" / "fault-report.json"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print(table(json.loads(path.read_text())))
