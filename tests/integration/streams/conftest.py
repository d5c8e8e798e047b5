"""Real faust workers as subprocesses against the real broker, on per-test copies of topics."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.builders import make_stripe_webhook
from tests.kafka_clients import kafka_kwargs

REPO_ROOT = Path(__file__).resolve().parents[3]
FAUST = REPO_ROOT / ".venv" / "bin" / "faust"


@dataclass
class PipelineTopics:
    suffix: str
    payment_intent: str
    charge: str
    refund: str
    normalized: str
    dlq: str
    app_ids: list[str] = field(default_factory=list)

    # Copies of the other providers' raw topics too: a worker must never read the shared ones.
    @property
    def providers(self) -> dict[str, str]:
        base = self.normalized.removesuffix(".normalized")
        return {name: f"{base}.{name}" for name in (
            "adyen", "braintree", "square_payment", "square_refund")}

    @property
    def webhooks_dlq(self) -> str:  # the gateway's dead letters, read by the starter
        return self.normalized.removesuffix(".normalized") + ".webhooks_dlq"

    def env(self) -> dict[str, str]:
        return {
            "STREAMS_TOPIC_WEBHOOKS_DLQ": self.webhooks_dlq,
            "STREAMS_TOPIC_PAYMENT_INTENT": self.payment_intent,
            "STREAMS_TOPIC_CHARGE": self.charge,
            "STREAMS_TOPIC_REFUND": self.refund,
            "STREAMS_TOPIC_NORMALIZED": self.normalized,
            "STREAMS_TOPIC_VALIDATION_DLQ": self.dlq,
            **{f"STREAMS_TOPIC_{name.upper()}": topic for name, topic in self.providers.items()},
        }

    def all(self) -> list[str]:
        return [self.payment_intent, self.charge, self.refund, self.normalized, self.dlq,
                *self.providers.values(), self.webhooks_dlq]


@pytest.fixture
def topic_replicas() -> int:
    """Replicas of each test topic: one on the shared broker."""
    return 1


@pytest.fixture
async def pipeline_topics(kafka_bootstrap, unique, topic_replicas):
    """Fresh copies of the five pipeline topics (3 partitions); deleted after, with changelogs."""
    base = f"test.streams.{unique}"
    topics = PipelineTopics(unique, f"{base}.pi", f"{base}.charge", f"{base}.refund",
                            f"{base}.normalized", f"{base}.dlq")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 3, topic_replicas) for t in topics.all()])
        yield topics
        existing = set(await admin.list_topics())
        extra = [t for t in existing if any(t.startswith(f"{a}-") for a in topics.app_ids)]
        await admin.delete_topics([t for t in topics.all() + extra if t in existing])
    finally:
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Worker:
    """One `faust -A <app> worker` subprocess with its own web port and data dir."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path) -> None:
        self.app, self.log_path = app, log_path
        self.port = free_port()
        self.env = {**os.environ, **env, "STREAMS_WEB_PORT": str(self.port)}
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.proc = subprocess.Popen(
            [sys.executable, str(FAUST), "-A", self.app, "worker", "-l", "info"],
            cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=5) as client:
            return await client.get(f"http://127.0.0.1:{self.port}{path}")

    async def wait_ready(self, within: float = 90, path: str = "/ready") -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, self.tail()
            try:
                if (await self.get(path)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
        raise AssertionError(f"worker not ready:\n{self.tail()}")

    async def counters(self) -> dict:
        return (await self.get("/counters")).json()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # never leave a worker behind, even one stuck stopping
                self.proc.wait(timeout=30)
                raise

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def start_worker(tmp_path, pipeline_topics):
    """start_worker(app, app_id, **env) -> a ready Worker; every worker is stopped after."""
    workers: list[Worker] = []

    async def start(app: str, app_id: str, env: dict[str, str] | None = None,
                    ready_path: str = "/ready") -> Worker:
        pipeline_topics.app_ids.append(app_id)
        starter = app.endswith("starter")
        id_var = "STREAMS_STARTER_APP_ID" if starter else "STREAMS_NORMALIZER_APP_ID"
        worker = Worker(app, {
            **pipeline_topics.env(), id_var: app_id,
            "STREAMS_DATA_DIR": str(tmp_path / "faust"),
            # A killed worker's partitions move on sooner than the 60 s default.
            "STREAMS_BROKER_SESSION_TIMEOUT_SECONDS": "10", **(env or {}),
        }, tmp_path / f"{app_id}.log")
        workers.append(worker.start())
        await worker.wait_ready(path=ready_path)
        return worker

    yield start
    stuck = []
    for worker in workers:
        try:
            worker.stop()
        except subprocess.TimeoutExpired:
            stuck.append(f"{worker.app} did not stop on SIGTERM:\n{worker.tail()}")
    if stuck:
        pytest.fail("\n".join(stuck))


@pytest.fixture
async def producer(kafka_bootstrap):
    prod = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap,
                            **kafka_kwargs(), acks="all", linger_ms=5)
    await prod.start()
    yield prod
    await prod.stop()


async def read_topic(bootstrap: str, topic: str, *, expect: int, within: float = 120,
                     quiet: float = 3.0) -> list[tuple[bytes, bytes]]:
    """Every committed record of a topic: waits for `expect`, then `quiet` more for extras."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False,
                                isolation_level="read_committed", auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        records: list[tuple[bytes, bytes]] = []
        deadline = time.monotonic() + within
        last_new = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            got = [(m.key, m.value) for msgs in batch.values() for m in msgs]
            if got:
                records.extend(got)
                last_new = time.monotonic()
            elif len(records) >= expect and time.monotonic() - last_new >= quiet:
                break
        return records
    finally:
        await consumer.stop()


@pytest.fixture
def read_all(kafka_bootstrap):
    async def read(topic: str, *, expect: int, **kwargs) -> list[tuple[bytes, bytes]]:
        return await read_topic(kafka_bootstrap, topic, expect=expect, **kwargs)

    return read


@pytest.fixture
def raw_event():
    """raw_event(fixture_name, evt_id, **object_overrides) -> (key, bytes) as the gateway writes."""
    import orjson

    def build(name: str, evt_id: str, **overrides) -> tuple[bytes, bytes]:
        return evt_id.encode(), orjson.dumps(make_stripe_webhook(name, evt_id, **overrides))

    return build


@pytest.fixture
def wait_committed(kafka_bootstrap):
    """wait_committed(group, topics): until the group's committed offsets reach each log end."""

    async def wait(group: str, topics: list[str], within: float = 60) -> dict:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
        await admin.start()
        await consumer.start()
        try:
            parts = [TopicPartition(t, p) for t in topics for p in range(3)]
            ends = await consumer.end_offsets(parts)
            deadline = time.monotonic() + within
            committed: dict = {}
            while time.monotonic() < deadline:
                offsets = await admin.list_consumer_group_offsets(group)
                committed = {tp: offsets[tp].offset if tp in offsets else -1 for tp in parts}
                # An empty partition has nothing to commit.
                if all(committed[tp] == ends[tp] or ends[tp] == 0 for tp in parts):
                    return committed
                await asyncio.sleep(0.5)
            raise AssertionError(f"offsets not committed: {committed} vs ends {ends}")
        finally:
            await consumer.stop()
            await admin.close()

    return wait
