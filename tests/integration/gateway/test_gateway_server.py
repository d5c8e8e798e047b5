"""`uvicorn gateway.app:app` as a real process: serves over HTTP, refuses bad configuration."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
from gateway_kafka_support import (
    REPO_ROOT,
    SECRET,
    end_offsets,
    free_port,
    read_by_key,
    sign,
    unique_fixture,
)

from contracts.topics import STRIPE_REFUND


def gateway_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "STRIPE_WEBHOOK_SECRET" and not k.startswith("GATEWAY_")}
    return {**env, **extra}


def start_uvicorn(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:app", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_empty_secret_stops_startup_naming_the_setting():
    for value in ("", None):
        env = gateway_env() if value is None else gateway_env(STRIPE_WEBHOOK_SECRET=value)
        proc = start_uvicorn(free_port(), env)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert b"STRIPE_WEBHOOK_SECRET" in stderr


async def test_uvicorn_serves_a_signed_webhook_into_kafka(kafka_bootstrap):
    port = free_port()
    proc = start_uvicorn(port, gateway_env(STRIPE_WEBHOOK_SECRET=f"whsec_old,{SECRET}",
                                           KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read().decode()
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "gateway never became ready"
                await asyncio.sleep(0.2)

            event_id, body = unique_fixture("charge.refund.updated")
            start = await end_offsets(kafka_bootstrap, [STRIPE_REFUND])
            response = await client.post(
                "/webhooks/stripe", content=body,
                headers={"content-type": "application/json", "stripe-signature": sign(body)},
            )
            assert response.status_code == 200, response.text
            assert response.headers["x-request-id"]
            (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
            assert record.value == body
            assert dict(record.headers)["request_id"] == response.headers["x-request-id"].encode()

            metrics = (await client.get("/metrics")).text
            assert 'gateway_webhooks_total{outcome="accepted",provider="stripe"} 1.0' in metrics
            assert "gateway_kafka_publish_duration_seconds_count" in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    # uvicorn re-raises the signal once its graceful shutdown is done.
    assert proc.returncode in (0, -signal.SIGTERM), stderr.decode()
    assert b"gateway stopped" in stderr, stderr.decode()
