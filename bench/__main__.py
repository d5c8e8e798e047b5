"""`make bench`: every benchmark under bench/, each figure beside a same-run baseline.

Each stage module exposes ``run() -> list[dict]`` with entries
``{stage, metric, value, unit, baseline, ratio, target, met}``. The results are written to
``.stack/bench-results.json`` (the contract) and ``.stack/bench-results.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

STAGES = ("gateway", "normalizer", "orchestration", "end_to_end", "batch")
RESULTS_DIR = Path(os.environ.get("STACK_DIR", Path(__file__).resolve().parent.parent / ".stack"))


def machine() -> str:
    mem_kib = next(
        (int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")), 0,
    )
    return f"{os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB, {platform.platform()}"


def figure(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"


def to_markdown(entries: list[dict]) -> str:
    lines = [
        "| stage | metric | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        baseline = figure(e.get("baseline"))
        ratio = "" if e.get("ratio") is None else f"{e['ratio']:.2f}×"
        met = {True: "yes", False: "no"}.get(e.get("met"), "")
        lines.append(
            f"| {e['stage']} | {e['metric']} | {figure(e['value'])} {e.get('unit', '')} "
            f"| {baseline} | {ratio} | {e.get('target') or ''} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", default=list(STAGES))
    args = parser.parse_args(argv)
    entries: list[dict] = []
    failed: list[str] = []
    for stage in args.stages:
        try:
            module = importlib.import_module(f"bench.{stage}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{stage}":
                raise
            print(f"bench: no benchmark for {stage} yet", file=sys.stderr)
            continue
        print(f"bench: {stage} ...", flush=True)
        try:
            entries.extend(module.run())
        except Exception:  # noqa: BLE001 - one broken stage must not hide the others
            traceback.print_exc()
            failed.append(stage)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "bench-results.json").write_text(json.dumps(entries, indent=2))
    header = (f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()} with `make bench`; "
              "every ratio is against a baseline measured in the same run.\n\n")
    table = header + to_markdown(entries)
    (RESULTS_DIR / "bench-results.md").write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
