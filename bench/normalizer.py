"""Normalizer benchmark: events/s through one faust worker with RocksDB dedup, beside a plain
aiokafka consume -> map -> produce loop over the same events in the same run.

A third run, the faust floor (bench/faust_floor.py), is the normalizer's faust app with
no work: the same batches, confirmed sends and acks, forwarding raw bytes. It is the
ceiling of any faust-based normalizer here, reported as context beside the target. Floor
and normalizer run BENCH_NORMALIZER_PAIRS times in turns; our own work per event (issue
19) is the median of each pair's difference in CPU per event.

Both read the same pre-loaded raw topics and write a fresh output topic; throughput is the
output count over the span of the output records' timestamps, so start-up is not counted.
The machine is shared, so beside throughput it reports CPU time per event (the worker's
between its first and last output; the plain loop's process time), which the other
processes competing for the cores disturb far less.

    python -m bench.normalizer
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.cpu import process_cpu
from bench.results import entry
from contracts.kafka_auth import kafka_auth
from infra.kafka_principals import NORMALIZER
from infra.services import operator_environment
from streams.providers.stripe import map_stripe_bytes
from streams.rules import InvalidEventError
from streams.simulation.generator import SimulatorMix, generate_events, raw_topic_kind

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# The operator principal's sign-in (KAFKA_SASL_*, .stack/env): it may use every topic.
AUTH = kafka_auth(operator_environment()).client_kwargs()
EVENTS = int(os.environ.get("BENCH_NORMALIZER_EVENTS", "20000"))
PAIRS = int(os.environ.get("BENCH_NORMALIZER_PAIRS", "5"))  # floor and worker runs, in turns
TARGET_EPS, TARGET_RATIO = 10_000, 0.6
TARGET_OWN_US = 25  # our work per event on top of the faust floor (issue 19)
MIX = SimulatorMix(failure_ratio=0.15, duplicate_ratio=0.0, invalid_ratio=0.0)


async def load_raw(topics: dict[str, str]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, **AUTH, acks="all", linger_ms=20,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        pending = [await producer.send(topics[raw_topic_kind(e.stripe_type)], e.body,
                                       key=e.key.encode())
                   for e in generate_events(EVENTS, seed=42, mix=MIX)]
        await asyncio.gather(*pending)
        return len(pending)
    finally:
        await producer.stop()


async def output_rate(topic: str, expect: int, within: float = 600) -> float:
    """Events/s from the output records' own timestamps, once `expect` have arrived."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, **AUTH, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        stamps: list[int] = []
        deadline = time.monotonic() + within
        while len(stamps) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            stamps.extend(m.timestamp for msgs in batch.values() for m in msgs)
        if len(stamps) < expect:
            raise RuntimeError(f"only {len(stamps)}/{expect} outputs on {topic}")
        span = (max(stamps) - min(stamps)) / 1000
        return len(stamps) / max(span, 1e-3)
    finally:
        await consumer.stop()


async def cpu_per_event(topic: str, expect: int, cpu, within: float = 600) -> float:
    """CPU seconds per output, sampled at the first and the last output (end offsets polled)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, **AUTH)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        first: tuple[int, float] | None = None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            count = sum((await consumer.end_offsets(parts)).values())
            if count and first is None:
                first = (count, cpu())
            if count >= expect and first is not None:
                return (cpu() - first[1]) / max(count - first[0], 1)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"outputs on {topic} did not reach {expect}")
    finally:
        await consumer.stop()


async def plain_loop(raw: list[str], out: str, expect: int) -> None:
    """The baseline: no framework, batch-produce then commit, the same mapping."""
    consumer = AIOKafkaConsumer(*raw, bootstrap_servers=BOOTSTRAP,
                                **AUTH, group_id=f"bench-plain-{out}",
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                max_poll_records=2000)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, **AUTH, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    done = 0
    try:
        while done < expect:
            batch = await consumer.getmany(timeout_ms=1000)
            pending = []
            for msgs in batch.values():
                for m in msgs:
                    try:
                        event = map_stripe_bytes(m.value, datetime.now(UTC))
                        key = event.event_id.encode()
                        pending.append(await producer.send(out, m.value, key=key))
                    except InvalidEventError:
                        pass
            await asyncio.gather(*pending)
            await consumer.commit()
            done += len(pending)
    finally:
        await producer.stop()
        await consumer.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_worker(env: dict[str, str], module: str = "streams.normalizer") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / ".venv/bin/faust"), "-A", module, "worker",
         "-l", "warn"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=open(Path(env["STREAMS_DATA_DIR"]) / f"{module}.log", "wb"))  # noqa: SIM115


def attach_profiler(pid: int) -> None:
    # e.g. BENCH_PROFILER="py-spy record -f raw -o /tmp/worker.txt --pid {pid}"; it stops
    # and writes its report when the worker exits.
    command = os.environ.get("BENCH_PROFILER")
    if command:
        subprocess.Popen(shlex.split(command.format(pid=pid)), stdout=subprocess.DEVNULL)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=60)


async def run_worker(module: str, env: dict[str, str], output: str) -> tuple[float, float]:
    """(events/s, CPU s/event) of one faust worker until `output` holds every event."""
    worker = start_worker(env, module)
    attach_profiler(worker.pid)
    try:
        cpu = await cpu_per_event(output, EVENTS, lambda: process_cpu(worker.pid))
        return await output_rate(output, EVENTS), cpu
    finally:
        stop_worker(worker)


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


async def measure() -> dict[str, tuple[float, float]]:
    """(events/s, CPU s/event) of the plain loop, the faust floor and the normalizer."""
    tag = uuid.uuid4().hex[:8]
    outputs = [f"out_{kind}{i}" for i in range(PAIRS) for kind in ("floor", "faust")]
    names = {k: f"bench.norm.{tag}.{k}" for k in ("payment_intent", "charge", "refund",
                                                   "out_plain", "dlq", *outputs)}
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **AUTH)
    await admin.start()
    datadir = Path(tempfile.mkdtemp(prefix="bench-normalizer-"))
    app_id = f"bench-normalizer-{tag}"
    try:
        await admin.create_topics([NewTopic(n, 3, 1) for n in names.values()])
        raw_topics = {k: names[k] for k in ("payment_intent", "charge", "refund")}
        await load_raw(raw_topics)

        started = time.process_time()
        await plain_loop(list(raw_topics.values()), names["out_plain"], EVENTS)
        plain_cpu = (time.process_time() - started) / EVENTS
        # Read afterwards, from the records' timestamps, so it takes no CPU from the loop.
        baseline = await output_rate(names["out_plain"], EVENTS)

        # The bench's app ids and topics are its own: its workers sign in as the operator.
        env = {**os.environ, **operator_environment(NORMALIZER),
               "STREAMS_NORMALIZER_PROVIDERS": "stripe",
               "STREAMS_DATA_DIR": str(datadir), "STREAMS_WEB_PORT": str(free_port()),
               "STREAMS_TOPIC_PAYMENT_INTENT": names["payment_intent"],
               "STREAMS_TOPIC_CHARGE": names["charge"], "STREAMS_TOPIC_REFUND": names["refund"],
               "STREAMS_TOPIC_VALIDATION_DLQ": names["dlq"], "STREAMS_LOG_LEVEL": "WARNING"}
        # Floor and worker in turns: the machine's noise (±15 % a run on this shared box)
        # moves neighbouring runs together, so the pairs' differences vary less than either.
        floors, workers = [], []
        for i in range(PAIRS):
            floors.append(await run_worker("bench.faust_floor", {
                **env, "STREAMS_NORMALIZER_APP_ID": f"{app_id}-floor{i}",
                "STREAMS_TOPIC_NORMALIZED": names[f"out_floor{i}"]}, names[f"out_floor{i}"]))
            workers.append(await run_worker("streams.normalizer", {
                **env, "STREAMS_NORMALIZER_APP_ID": f"{app_id}-{i}",
                "STREAMS_TOPIC_NORMALIZED": names[f"out_faust{i}"]}, names[f"out_faust{i}"]))
        own = statistics.median(w[1] - f[1] for f, w in zip(floors, workers, strict=True))
        for f, w in zip(floors, workers, strict=True):  # each pair, for the reader
            print(f"pair: floor {f[0]:.0f} events/s {f[1] * 1e6:.1f} us/event, normalizer "
                  f"{w[0]:.0f} events/s {w[1] * 1e6:.1f} us/event", file=sys.stderr)
        return {"plain": (baseline, plain_cpu), "floor": medians(floors),
                "normalizer": medians(workers), "own": (0.0, own)}
    finally:
        existing = set(await admin.list_topics())
        await admin.delete_topics([t for t in existing
                                   if t in names.values() or t.startswith(f"{app_id}-")])
        await admin.close()
        if os.environ.get("BENCH_KEEP_LOGS") is None:
            shutil.rmtree(datadir, ignore_errors=True)


def run() -> list[dict]:
    measured = asyncio.run(measure())
    (faust_rate, faust_cpu), (baseline, plain_cpu) = measured["normalizer"], measured["plain"]
    floor_rate, floor_cpu = measured["floor"]
    ratio = faust_rate / baseline if baseline else None
    efficiency = plain_cpu / faust_cpu if faust_cpu else None
    return [
        entry("normalizer", "events_per_second (faust worker, RocksDB dedup)", faust_rate,
              "events/s", baseline,
              f">= {TARGET_EPS} events/s and >= {TARGET_RATIO}x plain aiokafka loop",
              {"min_value": TARGET_EPS, "min_ratio": TARGET_RATIO}, digits=1, ratio=ratio),
        # ratio = plain / worker: the share of the plain loop's speed one core would give.
        entry("normalizer", "cpu_us_per_event (faust worker, RocksDB dedup)", faust_cpu * 1e6,
              "us/event", plain_cpu * 1e6, f"plain/worker >= {TARGET_RATIO}",
              {"min_ratio": TARGET_RATIO}, digits=1, ratio=efficiency),
        # Issue 19's figure: what our mapping, dedup and changelog add to faust's own path
        # (the median of the pairs' differences; the baseline is the floors' median).
        entry("normalizer", "own_cpu_us_per_event (worker minus the faust floor)",
              measured["own"][1] * 1e6, "us/event", floor_cpu * 1e6,
              f"<= {TARGET_OWN_US} us over the floor", {"max_value": TARGET_OWN_US}, digits=1),
        entry("normalizer", "events_per_second (faust floor: same app, no work)", floor_rate,
              "events/s", baseline, "context: the ceiling of a faust worker", digits=1),
        entry("normalizer", "cpu_us_per_event (faust floor: same app, no work)",
              floor_cpu * 1e6, "us/event", plain_cpu * 1e6, "context", digits=1,
              ratio=plain_cpu / floor_cpu if floor_cpu else None),
    ]


if __name__ == "__main__":
    for figure in run():
        print(" | ".join(f"{k}={v}" for k, v in figure.items()))
