"""`uvicorn gateway.app:app` as a real process: serves over HTTP, refuses bad configuration."""

from __future__ import annotations

import signal

import httpx
from gateway_kafka_support import (
    SECRET,
    end_offsets,
    free_port,
    gateway_env,
    read_by_key,
    sign,
    start_uvicorn,
    unique_fixture,
    wait_ready,
)

from contracts.topics import STRIPE_REFUND

OLD_SECRET = "whsec_test_integration_old_0123456789abcdef"


def test_empty_secret_stops_startup_naming_the_setting():
    for value in ("", None):
        env = gateway_env() if value is None else gateway_env(STRIPE_WEBHOOK_SECRET=value)
        proc = start_uvicorn(free_port(), env)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert b"STRIPE_WEBHOOK_SECRET" in stderr


async def test_uvicorn_serves_a_signed_webhook_into_kafka(kafka_bootstrap):
    port, admin_port = free_port(), free_port()
    proc = start_uvicorn(port, gateway_env(STRIPE_WEBHOOK_SECRET=f"{OLD_SECRET},{SECRET}",
                                           KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
                                           GATEWAY_ADMIN_PORT=str(admin_port)))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_ready(proc, client)

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

            metrics = (await client.get(f"http://127.0.0.1:{admin_port}/metrics")).text
            assert 'gateway_webhooks_total{outcome="accepted",provider="stripe"} 1.0' in metrics
            assert "gateway_kafka_publish_duration_seconds_count" in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    # uvicorn re-raises the signal once its graceful shutdown is done.
    assert proc.returncode in (0, -signal.SIGTERM), stderr.decode()
    assert b"gateway stopped" in stderr, stderr.decode()
