"""End to end: signed webhooks through every service until each is a PostgreSQL row.

    python -m bench.end_to_end [--duration 300]

Baseline: the Temporal ceiling of this server in the same run (the same workflow shape
with no-op activities, from bench.orchestration), because on a laptop-sized box the
Temporal dev server is the pipeline's bottleneck. Two phases:

- saturation: send faster than the ceiling for ``duration`` seconds and measure the
  sustained rate at which rows commit (first 2xx to last row);
- latency: send at half the ceiling and measure, per event, the time from the gateway's
  2xx to the committed row (``payment_events.ingested_at``).

During the saturation phase the CPU of every stage's processes (read from /proc, with
their children: PostgreSQL's backends, for one) is divided by the rows committed: the
cost of one payment in each stage, which is what sizes a production deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from functools import partial

import asyncpg
import httpx

from bench import results
from bench.cpu import process_tree_cpu
from bench.orchestration import connect_temporal, measure_ceiling
from infra.demo import start_services
from infra.services import all_services, demo_environment
from infra.stack import all_servers
from infra.stack_env import admin_dsn
from streams.simulation.generator import SimulatorMix, generate_events
from streams.simulation.signing import sign_stripe
from streams.simulation.simulate import pace
from telemetry import exit_after_flush

STAGE = "end_to_end"
entry = partial(results.entry, STAGE, digits=3)
GATEWAY = "http://127.0.0.1:8000/webhooks/stripe"
DEFAULT_SECONDS = float(os.environ.get("BENCH_E2E_SECONDS", "300"))


async def send_events(rate: float, duration: float, seed: int) -> dict[str, float]:
    """POST signed events at `rate`; returns provider event id -> wall time of its 2xx."""
    secret = demo_environment()["STRIPE_WEBHOOK_SECRET"].split(",")[0]
    events = list(generate_events(int(rate * duration), seed=seed,
                                  mix=SimulatorMix(0.15, 0.0, 0.0)))
    acked: dict[str, float] = {}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def send(event) -> None:
            headers = {"Stripe-Signature": sign_stripe(event.body, secret, int(time.time())),
                       "Content-Type": "application/json"}
            response = await client.post(GATEWAY, content=event.body, headers=headers)
            if response.is_success:
                acked[event.key] = time.time()

        await pace(events, rate, send)
    return acked


async def wait_rows(prefix: str, expected: int, idle_limit: float = 60) -> dict[str, float]:
    """Provider event id -> commit time, once every row is in (or rows stop arriving)."""
    conn = await asyncpg.connect(admin_dsn())
    try:
        last_count, last_change = -1, time.monotonic()
        while True:
            rows = await conn.fetch(
                "SELECT provider_event_id, extract(epoch FROM ingested_at) AS at "
                "FROM payment_events WHERE provider_event_id LIKE $1", prefix + "%")
            if len(rows) >= expected:
                break
            if len(rows) != last_count:
                last_count, last_change = len(rows), time.monotonic()
            elif time.monotonic() - last_change > idle_limit:
                break
            await asyncio.sleep(1)
        return {r["provider_event_id"]: float(r["at"]) for r in rows}
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def phase(rate: float, duration: float) -> dict:
    seed = int(time.time() * 1000) % 10**9
    acked = await send_events(rate, duration, seed)
    committed = await wait_rows(f"evt_sim{seed}_", len(acked))
    latencies = [committed[k] - t for k, t in acked.items() if k in committed]
    span = max(committed.values()) - min(acked.values())
    return {"offered": rate, "acked": len(acked), "rows": len(committed),
            "lost": len(set(acked) - set(committed)),
            "rows_per_s": len(committed) / span if span > 0 else 0.0,
            "p50_s": percentile(latencies, 50), "p99_s": percentile(latencies, 99)}


PIPELINE_STAGES = ("gateway", "normalizer", "starter", "orchestration-worker", "inference",
                   "temporal", "kafka", "postgres")


def stage_cpu() -> dict[str, float]:
    """CPU seconds so far of each pipeline stage's running process tree."""
    pids = {s.name: s.read_pid() for s in [*all_services(), *all_servers()]}
    return {name: process_tree_cpu(pids[name]) for name in PIPELINE_STAGES if pids.get(name)}


async def measure(duration: float) -> tuple[float, dict, dict]:

    client = await connect_temporal("127.0.0.1:7233")
    ceiling = (await measure_ceiling(client, f"e2e{int(time.time())}"))["wf_per_s"]
    before = stage_cpu()
    saturation = await phase(rate=max(ceiling * 1.3, 5.0), duration=duration)
    after = stage_cpu()
    saturation["cpu_ms"] = {name: (after[name] - before[name]) * 1000 / max(1, saturation["rows"])
                            for name in before if name in after}
    latency = await phase(rate=max(ceiling / 2, 2.0), duration=duration)
    return ceiling, saturation, latency


def run(duration: float = DEFAULT_SECONDS) -> list[dict]:
    start_services(all_services())
    ceiling, saturation, latency = asyncio.run(measure(duration))
    lost = saturation["lost"] + latency["lost"]
    return [
        entry("sustained_events_per_second", saturation["rows_per_s"], "events/s", ceiling,
              "≥0.7× Temporal ceiling", {"min_ratio": 0.7}),
        entry("p50_2xx_to_row_at_half_ceiling", latency["p50_s"], "s", None, "", None),
        entry("p99_2xx_to_row_at_half_ceiling", latency["p99_s"], "s", None, "≤2 s",
              {"max_value": 2.0}),
        entry("lost_events", lost, "events", None, "0", {"max_value": 0}),
        *(entry(f"cpu_ms_per_event.{name}", ms, "ms", None, "report", None)
          for name, ms in saturation["cpu_ms"].items()),
        entry("cpu_ms_per_event.all_stages", sum(saturation["cpu_ms"].values()), "ms", None,
              "report", None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=DEFAULT_SECONDS)
    args = parser.parse_args()
    from bench.__main__ import to_markdown

    print(to_markdown(run(args.duration)))


if __name__ == "__main__":
    main()
    exit_after_flush(0)
