"""Helpers for the gateway's real-broker tests: signing, read-back by key, a cuttable proxy."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.topics import TOPIC_SPECS
from tests.kafka_clients import kafka_kwargs

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "stripe"
SECRET = "whsec_test_integration_0123456789abcdef"
PARTITIONS = {spec.name: spec.partitions for spec in TOPIC_SPECS}


def gateway_env(**extra: str) -> dict[str, str]:
    """This process's environment without the gateway's settings but its Kafka sign-in (the
    operator's, tests/conftest.py), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "STRIPE_WEBHOOK_SECRET" and (
        not k.startswith("GATEWAY_") or k.startswith("GATEWAY_KAFKA_SASL_"))}
    return {**env, **extra}


def start_uvicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    """``uvicorn gateway.app:app`` as the stack launches it, on ``port``."""
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


async def wait_ready(proc: subprocess.Popen, client: httpx.AsyncClient,
                     within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while True:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            if (await client.get("/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "gateway never became ready"
        await asyncio.sleep(0.2)


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def unique_fixture(name: str) -> tuple[str, bytes]:
    """A real fixture with a fresh event id, so shared raw topics can be filtered by key."""
    body = (FIXTURES_DIR / f"{name}.json").read_bytes()
    old_id = orjson.loads(body)["id"]
    new_id = f"evt_test_{uuid.uuid4().hex}"
    return new_id, body.replace(f'"{old_id}"'.encode(), f'"{new_id}"'.encode(), 1)


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS[t])]
        # Stopping a consumer that was never assigned anything trips over aiokafka's
        # coordinator task; assigning first keeps stop() clean.
        consumer.assign(partitions)
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def read_by_key(bootstrap: str, start: dict[TopicPartition, int], key: bytes,
                      *, wait_for: int | None = 1, within: float = 20.0) -> list:
    """Records with ``key`` written after ``start``.

    With ``wait_for`` set, reads until that many are found (or the timeout); with None,
    reads up to the end offsets of this moment, to prove an absence.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        stop_at = await consumer.end_offsets(list(start)) if wait_for is None else None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                found.extend(r for r in records if r.key == key)
            if wait_for is not None and len(found) >= wait_for:
                break
            if stop_at is not None and all(
                await asyncio.gather(*(_reached(consumer, tp, end)
                                       for tp, end in stop_at.items()))
            ):
                break
    finally:
        await consumer.stop()
    return found


async def _reached(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
    return await consumer.position(tp) >= end


class KafkaProxy:
    """A TCP proxy in front of the shared broker that a test can cut and restore.

    The broker advertises its own address in metadata, which would let a client bypass
    the proxy after bootstrapping; so responses are read frame by frame and that address's
    port is rewritten to the proxy's (same length, so no framing changes).
    """

    def __init__(self, upstream: str, port: int) -> None:
        host, _, upstream_port = upstream.rpartition(":")
        self.upstream_host, self.upstream_port, self.port = host, int(upstream_port), port
        self._needle = host.encode() + struct.pack(">i", self.upstream_port)
        self._replacement = host.encode() + struct.pack(">i", port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def cut(self) -> None:
        """Refuse new connections and drop every open one, as a dead broker would."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        try:
            up_r, up_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, up_w))
        try:
            await asyncio.gather(self._pipe(client_r, up_w), self._pipe_frames(up_r, client_w))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_w, up_w):
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.transport.abort()

    async def _pipe_frames(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                size = await reader.readexactly(4)
                frame = await reader.readexactly(struct.unpack(">i", size)[0])
                writer.write(size + frame.replace(self._needle, self._replacement))
                await writer.drain()
        writer.transport.abort()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def describe_configs(bootstrap: str, kind, names: list[str]) -> dict[str, dict[str, str]]:
    """Each named resource's configuration, as the broker reports it."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(kind, n) for n in names])
    finally:
        await admin.close()
    return {resource[3]: {entry[0]: entry[1] for entry in resource[4]}
            for response in responses for resource in response.resources}


@contextlib.asynccontextmanager
async def scratch_topics(bootstrap: str, names: list[str], partitions: int = 1,
                         **configs: str):
    """Topics created explicitly with the given configs, deleted afterwards."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=1,
                                            topic_configs={k.replace("_", "."): v
                                                           for k, v in configs.items()})
                                   for name in names])
        yield names
        await admin.delete_topics(names)
    finally:
        await admin.close()


async def read_partition(bootstrap: str, topic: str, partition: int = 0,
                         within: float = 20.0) -> list:
    """Every record of one partition, from its start to its end offset of this moment."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    tp = TopicPartition(topic, partition)
    found = []
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        deadline = time.monotonic() + within
        while await consumer.position(tp) < end and time.monotonic() < deadline:
            for records in (await consumer.getmany(tp, timeout_ms=300)).values():
                found.extend(records)
    finally:
        await consumer.stop()
    return found
