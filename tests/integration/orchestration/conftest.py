"""Fixtures for orchestration tests: real inference (uvicorn), TCP proxies, in-process workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from contracts.workflows import DLQ_REVIEW, STATUS_QUERY, workflow_id
from orchestration.metrics import Metrics
from orchestration.models import DLQReviewResult, DLQReviewStatus
from orchestration.settings import OrchestratorSettings
from orchestration.store import PaymentStore, create_pool
from orchestration.worker import build_worker, create_http_client

REPO_ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
# Who the review CLI says is reviewing when these tests run it: the account running them.
OS_USER = pwd.getpwuid(os.getuid()).pw_name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http_ok(url: str, process: subprocess.Popen | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@pytest.fixture(scope="session")
def inference_url(tmp_path_factory) -> str:
    """The real inference app, served by uvicorn in a subprocess."""
    port = free_port()
    log = (tmp_path_factory.mktemp("inference") / "uvicorn.log").open("wb")
    process = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "inference.app:app", "--host", "127.0.0.1", "--port",
         str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(f"{url}/ready", process)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


class TcpProxy:
    """A TCP relay a test can cut (existing links dropped, new ones closed) and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.open = True
        self.attempts = 0
        self.attempted = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self.open = False
        for writer in list(self._writers):
            writer.close()

    def restore(self) -> None:
        self.open = True

    async def wait_attempts(self, count: int) -> None:
        """Until at least `count` connections have been tried in all."""
        while self.attempts < count:
            self.attempted.clear()
            await self.attempted.wait()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        self.attempted.set()
        if not self.open:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


@pytest.fixture
async def make_proxy() -> AsyncIterator[Callable]:
    proxies: list[TcpProxy] = []

    async def make(host: str, port: int) -> TcpProxy:
        proxy = await TcpProxy(host, port).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.close()


@pytest.fixture(scope="session")
async def pg(postgres_dsn) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(postgres_dsn, 1, 3)
    yield pool
    await pool.close()


@pytest.fixture
def store(pg) -> PaymentStore:
    return PaymentStore(pg)


@pytest.fixture
async def start_worker(temporal_client, role_dsn, inference_url, unique):
    """Start an in-process worker on a unique task queue; returns its task queue. It signs in
    as the worker role (payments_worker), so its grants are what these tests exercise."""
    stack = contextlib.AsyncExitStack()

    async def start(**overrides) -> str:
        values = {"TASK_QUEUE": f"test-orch-{unique}", "POSTGRES_DSN": role_dsn("worker"),
                  "INFERENCE_URL": inference_url, "POSTGRES_POOL_MIN": 0, **overrides}
        settings = OrchestratorSettings(**values)
        pool = await create_pool(settings.POSTGRES_DSN, settings.POSTGRES_POOL_MIN,
                                 settings.POSTGRES_POOL_MAX)
        stack.push_async_callback(pool.close)
        http = create_http_client(settings)
        stack.push_async_callback(http.close)
        worker = build_worker(temporal_client, settings, PaymentStore(pool), http, Metrics())
        await stack.enter_async_context(worker)
        return settings.TASK_QUEUE

    yield start
    await stack.aclose()


async def fetch_row(pool: asyncpg.Pool, event_id: str) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM payment_events WHERE event_id = $1", event_id)
    return None if row is None else dict(row)


async def count_rows(pool: asyncpg.Pool, event_id: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM payment_events WHERE event_id = $1",
                               event_id)


@pytest.fixture
def worker_env(role_dsn, temporal_target) -> dict[str, str]:
    """Environment for a `python -m orchestration.worker` subprocess (the worker role)."""
    return {**os.environ, "ORCHESTRATOR_TEMPORAL_TARGET": temporal_target,
            "ORCHESTRATOR_POSTGRES_DSN": role_dsn("worker")}


async def start_review(client, task_queue, letter):
    """Start the review the way the Faust starter does: signal-with-start."""
    handle = await client.start_workflow(
        DLQ_REVIEW.workflow, letter, id=workflow_id(DLQ_REVIEW, letter.event_id),
        task_queue=task_queue, result_type=DLQReviewResult, start_signal=DLQ_REVIEW.signal,
        start_signal_args=[letter],
    )
    for _ in range(100):
        status = await handle.query(STATUS_QUERY, result_type=DLQReviewStatus)
        if status.review_status == "pending":
            return handle
        await asyncio.sleep(0.1)
    raise TimeoutError("quarantine row never written")


def review_cli(reviewer_dsn, temporal_target, *args, **env) -> subprocess.CompletedProcess:
    """The review CLI as a reviewer runs it, signed in as the reviewer role
    (payments_reviewer); ``env`` adds variables (USER=... to spoof). It holds the payload
    codec's key (tests/conftest.py put the stack's in this environment)."""
    from encryption import SETTING_NAMES

    codec = {name: os.environ[name] for name in SETTING_NAMES}
    env = {"ORCHESTRATOR_REVIEW_POSTGRES_DSN": reviewer_dsn,
           "ORCHESTRATOR_TEMPORAL_TARGET": temporal_target, "PATH": "/usr/bin:/bin", **codec,
           **env}
    return subprocess.run([PYTHON, "-m", "orchestration.review", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=90)
