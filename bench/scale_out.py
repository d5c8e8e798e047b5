"""Scale-out benchmark: the normalizer and the starter with one worker and with two, on
whatever cluster KAFKA_BOOTSTRAP_SERVERS names (`make test-scale`'s three brokers, or the
single-broker default). The baseline is the one-worker run of the same stage, same run.

Each run has its own topics (BENCH_SCALE_PARTITIONS partitions, default 6, replicated as
the cluster allows) and consumer group. The normalizer's rate comes from its output
records' timestamps (bench/normalizer.py); the starter's from its group's committed
offsets, since its output is workflow starts: it starts them on a task queue no worker
polls, and terminates them afterwards. CPU per event is the workers' own, summed.

    python -m bench scale_out
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.cpu import process_cpu
from bench.normalizer import MIX, free_port, start_worker, stop_worker
from bench.results import entry
from contracts.kafka_auth import kafka_auth
from infra.kafka_principals import NORMALIZER, STARTER
from infra.services import codec_environment, operator_environment
from streams.providers.stripe import map_stripe_bytes
from streams.records import normalized_value
from streams.rules import InvalidEventError
from streams.simulation.generator import generate_events, raw_topic_kind

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
# The operator principal's sign-in (KAFKA_SASL_*, .stack/env): it may use every topic.
AUTH = kafka_auth(operator_environment()).client_kwargs()
PARTITIONS = int(os.environ.get("BENCH_SCALE_PARTITIONS", "6"))
NORMALIZER_EVENTS = int(os.environ.get("BENCH_SCALE_NORMALIZER_EVENTS", "30000"))
STARTER_EVENTS = int(os.environ.get("BENCH_SCALE_STARTER_EVENTS", "3000"))
TEMPORAL = os.environ.get("TEMPORAL_TARGET", "127.0.0.1:7233")
RAW = ("payment_intent", "charge", "refund")


async def _topics(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    brokers = len((await admin.describe_cluster())["brokers"])
    await admin.create_topics([NewTopic(n, PARTITIONS, min(3, brokers)) for n in names])


async def _produce(pairs: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, **AUTH, acks="all", linger_ms=20,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        await asyncio.gather(*[await producer.send(t, v, key=k) for t, k, v in pairs])
    finally:
        await producer.stop()


async def _ends(topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, **AUTH)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


async def _committed(admin: AIOKafkaAdminClient, group: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(m.offset for m in offsets.values() if m is not None and m.offset > 0)


async def _progress_rate(count, expect: int, cpu, within: float = 600
                         ) -> tuple[float, float]:
    """(events/s, CPU s/event) between the first progress of `count()` and reaching
    `expect`, so start-up is not counted."""
    first: tuple[int, float, float] | None = None
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done = await count()
        if done and first is None:
            first = (done, time.monotonic(), cpu())
        if done >= expect and first is not None:
            moved = max(done - first[0], 1)
            return moved / max(time.monotonic() - first[1], 1e-3), (cpu() - first[2]) / moved
        await asyncio.sleep(0.1)
    raise RuntimeError(f"progress stopped below {expect}")


def _worker_env(tag: str, n: int, datadir: Path, extra: dict[str, str]) -> dict[str, str]:
    path = datadir / f"worker-{n}"
    path.mkdir(parents=True, exist_ok=True)
    # The bench's app ids and topics are its own: its workers sign in as the operator.
    return {**os.environ, **operator_environment(NORMALIZER, STARTER),
            "STREAMS_DATA_DIR": str(path), "STREAMS_WEB_PORT": str(free_port()),
            "STREAMS_LOG_LEVEL": "WARNING", "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS),
            **extra}


async def _run_workers(module: str, envs: list[dict[str, str]], count, expect: int
                       ) -> tuple[float, float]:
    workers = [start_worker(env, module) for env in envs]
    try:
        return await _progress_rate(
            count, expect, lambda: sum(process_cpu(w.pid) for w in workers))
    finally:
        for worker in workers:
            stop_worker(worker)


async def normalizer(workers: int) -> tuple[float, float]:
    tag = uuid.uuid4().hex[:8]
    names = {k: f"bench.scale.{tag}.{k}" for k in (*RAW, "out", "dlq")}
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **AUTH)
    await admin.start()
    datadir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    app_id = f"bench-scale-normalizer-{tag}"
    try:
        await _topics(admin, list(names.values()))
        events = list(generate_events(NORMALIZER_EVENTS, seed=42, mix=MIX))
        await _produce([(names[raw_topic_kind(e.stripe_type)], e.key.encode(), e.body)
                        for e in events])
        extra = {"STREAMS_NORMALIZER_PROVIDERS": "stripe", "STREAMS_NORMALIZER_APP_ID": app_id,
                 "STREAMS_TOPIC_PAYMENT_INTENT": names["payment_intent"],
                 "STREAMS_TOPIC_CHARGE": names["charge"], "STREAMS_TOPIC_REFUND": names["refund"],
                 "STREAMS_TOPIC_NORMALIZED": names["out"],
                 "STREAMS_TOPIC_VALIDATION_DLQ": names["dlq"]}
        envs = [_worker_env(tag, n, datadir, extra) for n in range(workers)]
        return await _run_workers("streams.normalizer", envs,
                                  lambda: _ends(names["out"]), NORMALIZER_EVENTS)
    finally:
        await _cleanup(admin, [*names.values()], app_id, datadir)


async def starter(workers: int) -> tuple[float, float]:
    tag = uuid.uuid4().hex[:8]
    names = {k: f"bench.scale.{tag}.{k}" for k in ("normalized", "vdlq", "wdlq")}
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **AUTH)
    await admin.start()
    datadir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    app_id = f"bench-scale-starter-{tag}"
    queue = f"bench-scale-{tag}"
    try:
        await _topics(admin, list(names.values()))
        pairs = []
        for e in generate_events(STARTER_EVENTS, seed=7, mix=MIX):
            try:
                event = map_stripe_bytes(e.body, datetime.now(UTC))
            except InvalidEventError:
                continue
            pairs.append((names["normalized"], event.event_id.encode(), normalized_value(event)))
        await _produce(pairs)
        extra = {**codec_environment(),  # the starter encrypts what it sends (encryption/)
                 "STREAMS_STARTER_APP_ID": app_id, "STREAMS_TEMPORAL_TASK_QUEUE": queue,
                 "STREAMS_TOPIC_NORMALIZED": names["normalized"],
                 "STREAMS_TOPIC_VALIDATION_DLQ": names["vdlq"],
                 "STREAMS_TOPIC_WEBHOOKS_DLQ": names["wdlq"]}
        envs = [_worker_env(tag, n, datadir, extra) for n in range(workers)]
        return await _run_workers("streams.starter", envs,
                                  lambda: _committed(admin, app_id), len(pairs))
    finally:
        await _terminate(queue)
        await _cleanup(admin, list(names.values()), app_id, datadir)


async def _terminate(queue: str) -> None:
    """The started workflows wait on a queue nobody polls: end them, so no later run sees
    them running."""
    from temporalio.client import Client

    client = await Client.connect(TEMPORAL)
    async for wf in client.list_workflows(f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"):
        await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate("bench done")


async def _cleanup(admin: AIOKafkaAdminClient, topics: list[str], app_id: str,
                   datadir: Path) -> None:
    existing = set(await admin.list_topics())
    await admin.delete_topics([t for t in existing
                               if t in topics or t.startswith(f"{app_id}-")])
    await admin.close()
    shutil.rmtree(datadir, ignore_errors=True)


def run() -> list[dict]:
    figures = []
    for stage, measure, unit in (("normalizer", normalizer, "events/s"),
                                 ("starter", starter, "starts/s")):
        (one_rate, one_cpu) = asyncio.run(measure(1))
        (two_rate, two_cpu) = asyncio.run(measure(2))
        figures += [
            entry("scale_out", f"{stage} {unit} with 2 workers ({PARTITIONS} partitions)",
                  two_rate, unit, one_rate, "report: against 1 worker, same run", digits=1),
            entry("scale_out", f"{stage} cpu_us_per_event with 2 workers", two_cpu * 1e6,
                  "us/event", one_cpu * 1e6, "report: against 1 worker", digits=1),
        ]
    return figures


if __name__ == "__main__":
    for figure in run():
        print(" | ".join(f"{k}={v}" for k, v in figure.items()))
