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
import statistics
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.results import judge

STAGES = ("gateway", "normalizer", "orchestration", "orchestration_shapes",
          "orchestration_batches", "end_to_end", "end_to_end_modes", "batch", "marts",
          "lake_freshness", "scale_out")
RESULTS_DIR = Path(os.environ.get("STACK_DIR", Path(__file__).resolve().parent.parent / ".stack"))


def machine() -> str:
    mem_kib = next(
        (int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")), 0,
    )
    return f"{os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB, {platform.platform()}"


def aggregate(runs: list[list[dict]]) -> list[dict]:
    """One entry per metric over repeated runs: medians, with the value's min and max.

    The ratio is taken per run (each against its own same-run baseline) and then its
    median, so a noisy moment moves value and baseline together and cancels out.
    """
    by_metric: dict[tuple[str, str], list[dict]] = {}
    for run in runs:
        for entry in run:
            by_metric.setdefault((entry["stage"], entry["metric"]), []).append(entry)
    merged = []
    for samples in by_metric.values():
        # The verdict is the goal applied to the medians the table shows, never a vote.
        values = [e["value"] for e in samples]
        baselines = [e["baseline"] for e in samples if e.get("baseline") is not None]
        ratios = [e["ratio"] for e in samples if e.get("ratio") is not None]
        value = statistics.median(values)
        ratio = statistics.median(ratios) if ratios else None
        merged.append({
            **samples[0],
            "value": value, "min": min(values), "max": max(values),
            "runs": len(samples),
            "baseline": statistics.median(baselines) if baselines else None,
            "ratio": ratio,
            "met": judge(samples[0].get("goal"), value, ratio),
        })
    return merged


def figure(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"


def spread(entry: dict) -> str:
    if entry.get("runs", 1) < 2:
        return ""
    return f" ({figure(entry['min'])}–{figure(entry['max'])})"


def to_markdown(entries: list[dict]) -> str:
    lines = [
        "| stage | metric | median (min–max) | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        baseline = figure(e.get("baseline"))
        ratio = "" if e.get("ratio") is None else f"{e['ratio']:.2f}×"
        met = {True: "yes", False: "no"}.get(e.get("met"), "")
        lines.append(
            f"| {e['stage']} | {e['metric']} | {figure(e['value'])} {e.get('unit', '')}{spread(e)} "
            f"| {baseline} | {ratio} | {e.get('target') or ''} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", default=list(STAGES))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")),
                        help="runs of each stage; medians are reported (env BENCH_REPEAT)")
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
        runs = []
        for attempt in range(1, args.repeat + 1):
            print(f"bench: {stage} run {attempt}/{args.repeat} ...", flush=True)
            try:
                runs.append(module.run())
            except Exception:  # noqa: BLE001 - one broken stage must not hide the others
                traceback.print_exc()
                failed.append(stage)
                break
        entries.extend(aggregate(runs))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "bench-results.json").write_text(json.dumps(entries, indent=2))
    header = (f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()} with `make bench` "
              f"({args.repeat} run(s) per stage, medians); every ratio is against a baseline "
              "measured in the same run.\n\n")
    table = header + to_markdown(entries)
    (RESULTS_DIR / "bench-results.md").write_text(table + "\n")
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
