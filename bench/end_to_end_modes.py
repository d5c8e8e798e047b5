"""End to end in both starter modes: one workflow per payment, then micro-batches.

    python -m bench.end_to_end_modes [--duration 120] [--batch-size 25]

The same running pipeline, the same signed webhooks through the gateway, measured twice in
one run: first with the starter as deployed by default (one PaymentEventWorkflow per
event; the baseline), then with the starter restarted in the batched mode
(STREAMS_STARTER_BATCH_SIZE, one starter actor so batches fill). Per mode: the sustained
rate at which rows commit when the gateway is offered more than the mode can take, and the
CPU per payment of every stage. Then, in the batched mode, the time from each 2xx to its
committed row at half of the batched sustained rate. The starter is restarted in its
default mode at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from functools import partial

from bench import results
from bench.end_to_end import phase, stage_cpu
from infra.demo import start_services
from infra.services import AppService, all_services
from telemetry import exit_after_flush

STAGE = "end_to_end_modes"
entry = partial(results.entry, STAGE, digits=3)
DEFAULT_SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "300"))
BATCH_SIZE = int(os.environ.get("BENCH_BATCH_SIZE", "25"))
# Offered rates: above what each mode can take on this box (per event ~30/s, batched more).
PER_EVENT_OFFER = 60.0
BATCHED_OFFER = 200.0


async def saturate(rate: float, duration: float) -> dict:
    before = stage_cpu()
    measured = await phase(rate=rate, duration=duration)
    after = stage_cpu()
    measured["cpu_ms"] = {name: (after[name] - before[name]) * 1000 / max(1, measured["rows"])
                          for name in before if name in after}
    return measured


def restart(service: AppService, env: dict[str, str]) -> None:
    service.stop()
    service.extra_env = env
    start_services([service])


def run(duration: float = DEFAULT_SECONDS, batch_size: int = BATCH_SIZE) -> list[dict]:
    services = all_services()
    start_services(services)
    starter = next(s for s in services if s.name == "starter")
    default_env = dict(starter.extra_env)
    per_event = asyncio.run(saturate(PER_EVENT_OFFER, duration))
    # The batched mode's defaults otherwise: one gathering actor (STREAMS_STARTER_BATCH_ACTORS).
    restart(starter, {**default_env, "STREAMS_STARTER_BATCH_SIZE": str(batch_size)})
    try:
        batched = asyncio.run(saturate(BATCHED_OFFER, duration))
        latency = asyncio.run(phase(rate=max(batched["rows_per_s"] / 2, 2.0),
                                    duration=duration))
    finally:
        restart(starter, default_env)
    orchestration = ("orchestration-worker", "temporal")
    entries = [
        entry("sustained_events_per_second[batched]", batched["rows_per_s"], "events/s",
              per_event["rows_per_s"], "≥2× the per-event mode", {"min_ratio": 2.0}),
        entry("orchestration_cpu_ms_per_event[batched]",
              sum(batched["cpu_ms"].get(n, 0.0) for n in orchestration), "ms",
              sum(per_event["cpu_ms"].get(n, 0.0) for n in orchestration),
              "≤10 ms (worker + Temporal server)", {"max_value": 10.0}),
        entry("p99_2xx_to_row_at_half_rate[batched]", latency["p99_s"], "s", None, "≤1 s",
              {"max_value": 1.0}),
        entry("p50_2xx_to_row_at_half_rate[batched]", latency["p50_s"], "s", None, "report",
              None),
        entry("lost_events", per_event["lost"] + batched["lost"] + latency["lost"], "events",
              None, "0", {"max_value": 0}),
    ]
    for name in batched["cpu_ms"]:
        entries.append(entry(f"cpu_ms_per_event.{name}[batched]", batched["cpu_ms"][name],
                             "ms", per_event["cpu_ms"].get(name), "report", None))
    entries.append(entry("cpu_ms_per_event.all_stages[batched]",
                         sum(batched["cpu_ms"].values()), "ms",
                         sum(per_event["cpu_ms"].values()), "report", None))
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    args = parser.parse_args()
    from bench.__main__ import to_markdown

    print(to_markdown(run(args.duration, args.batch_size)))


if __name__ == "__main__":
    main()
    exit_after_flush(0)
