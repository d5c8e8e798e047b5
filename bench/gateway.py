"""Gateway throughput: signed Stripe webhooks/s and latency, against the same server's bare 200.

One uvicorn process (uvloop, httptools, no access log) serves ``POST /webhooks/stripe``
(verify, validate, acks=all publish to the real broker) and, with GATEWAY_BENCH_ENDPOINT,
two bare answers on the same app and middleware stack:

- ``POST /bench/bare``: a 200 from the raw-ASGI intake, which skips FastAPI's router as
  the webhook path does. This is the baseline of record: the webhook path is exactly this
  answer plus verification, validation and the acks=all publish, so the ratio says what
  that work costs. It doubles as the load generator's capacity check (it must go well
  above the webhooks). The goal is the issue's ratio (≥ 0.45×) applied to it.
- ``POST /bench/bare-route``: a FastAPI route returning 200, the framework's bare
  endpoint, reported as context (the earlier baseline, ~8,400 req/s here).

Requests are pre-built and pre-signed; the load generator (bench/gateway_load.py) runs in
its own process and its CPU share is reported. The machine is shared, so rates swing from
run to run; the server's own CPU per request (read from /proc for uvicorn and its
workers) moves far less and is reported beside them.

Run: python -m bench.gateway [--connections N] [--duration S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from functools import partial
from pathlib import Path

from bench import results
from bench.cpu import process_tree_cpu
from bench.gateway_stripe import signed_requests

STAGE = "gateway"
entry = partial(results.entry, STAGE)
REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_bench_gateway_0123456789abcdefghij"
TARGET_RPS = 3500
TARGET_P99_MS = 20.0
TARGET_RATIO = 0.45


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def bench_topics():
    """Private copies of the gateway's topics, so bench events never feed the pipeline."""
    from contracts.kafka_auth import kafka_auth
    from contracts.topics import TOPIC_SPECS, TopicSpec
    from infra.services import operator_environment
    from infra.topics import delete_topics, ensure_topics

    prefix = f"bench.{uuid.uuid4().hex[:8]}."
    specs = tuple(TopicSpec(prefix + s.name, s.partitions) for s in TOPIC_SPECS)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    auth = kafka_auth(operator_environment())
    asyncio.run(ensure_topics(bootstrap, specs, auth=auth))
    try:
        yield prefix
    finally:
        asyncio.run(delete_topics(bootstrap, [s.name for s in specs], auth=auth))


def start_server(port: int, workers: int, log_path: Path, topic_prefix: str) -> subprocess.Popen:
    # No admin surface: with --workers N each worker would try to bind the admin port, and
    # the bench reads no metrics from it.
    from infra.kafka_principals import GATEWAY
    from infra.services import operator_environment

    # Its topics are the bench's own (prefixed): the gateway signs in as the operator.
    env = {**os.environ, **operator_environment(GATEWAY), "STRIPE_WEBHOOK_SECRET": SECRET,
           "GATEWAY_BENCH_ENDPOINT": "true",
           "GATEWAY_TOPIC_PREFIX": topic_prefix, "GATEWAY_ADMIN_PORT": "0",
           "KAFKA_BOOTSTRAP_SERVERS": os.environ.get("KAFKA_BOOTSTRAP_SERVERS",
                                                     "127.0.0.1:9092")}
    command = [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
               "--http", "httptools", "--no-access-log"]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as reply:
                if reply.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gateway never became ready")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def drive(port: int, requests: list[bytes], connections: int, warmup: float,
          duration: float, server_pid: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as handle:
        pickle.dump(requests, handle)
    try:
        cpu_before = process_tree_cpu(server_pid)
        out = subprocess.run(
            [sys.executable, "-m", "bench.gateway_load", str(port), handle.name,
             str(connections), str(warmup), str(duration)],
            cwd=REPO_ROOT, capture_output=True, check=True, timeout=warmup + duration + 60,
        ).stdout
        cpu = process_tree_cpu(server_pid) - cpu_before
    finally:
        os.unlink(handle.name)
    result = json.loads(out)
    result["server_cpu_us"] = cpu / max(1, result["total_requests"]) * 1e6
    return result


def bare_requests(path: str) -> list[bytes]:
    return [f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\n\r\n{}".encode()]


def measure(workers: int, connections: int, duration: float, log_path: Path,
            topic_prefix: str) -> dict:
    port = free_port()
    proc = start_server(port, workers, log_path, topic_prefix)
    try:
        bare = drive(port, bare_requests("/bench/bare"), connections, 1.0, duration, proc.pid)
        route = drive(port, bare_requests("/bench/bare-route"), connections, 1.0, duration,
                      proc.pid)
        run_id = uuid.uuid4().hex[:8]
        # Signed just before use: the timestamps must stay inside the 300 s tolerance.
        webhooks = drive(port, signed_requests(SECRET, run_id, 4000), connections, 1.0,
                         duration, proc.pid)
    finally:
        stop_server(proc)
    return {"bare": bare, "route": route, "webhooks": webhooks}


def run(connections: int = 16, duration: float = 10.0) -> list[dict]:
    """One and two uvicorn workers; each webhook figure beside that server's bare endpoint."""
    log_path = REPO_ROOT / ".stack" / "bench-gateway.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    entries: list[dict] = []
    for workers in (1, 2):
        with bench_topics() as prefix:
            result = measure(workers, connections, duration, log_path, prefix)
        bare, route, hooks = result["bare"], result["route"], result["webhooks"]
        for name, run_result in result.items():
            failed = sum(n for status, n in run_result["statuses"].items() if status != "200")
            if failed:
                raise RuntimeError(f"{failed} {name} requests failed: {run_result['statuses']}")
        one = workers == 1
        entries += [
            entry(f"webhooks_per_s_{workers}w", hooks["rps"], "req/s", bare["rps"],
                  f">= {TARGET_RPS} and >= {TARGET_RATIO}x raw-ASGI bare" if one
                  else "report",
                  {"min_value": TARGET_RPS, "min_ratio": TARGET_RATIO} if one else None),
            entry(f"webhooks_per_s_vs_fastapi_bare_route_{workers}w", hooks["rps"], "req/s",
                  route["rps"], "context", None),
            entry(f"webhook_p50_ms_{workers}w", hooks["p50_ms"], "ms", route["p50_ms"],
                  "report", None),
            entry(f"webhook_p99_ms_{workers}w", hooks["p99_ms"], "ms", route["p99_ms"],
                  f"<= {TARGET_P99_MS}" if one else "report",
                  {"max_value": TARGET_P99_MS} if one else None),
            entry(f"server_cpu_us_per_request_{workers}w", hooks["server_cpu_us"], "us",
                  route["server_cpu_us"], "report", None),
            entry(f"server_cpu_us_per_raw_asgi_bare_{workers}w", bare["server_cpu_us"], "us",
                  None, "context", None),
            # Beside the raw bare run, the fastest the generator was driven in this run.
            entry(f"load_generator_cpu_share_{workers}w", hooks["generator_cpu"], "cores",
                  bare["generator_cpu"], "report", None),
        ]
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    from bench.__main__ import to_markdown

    print(to_markdown(run(args.connections, args.duration)))


if __name__ == "__main__":
    main()
