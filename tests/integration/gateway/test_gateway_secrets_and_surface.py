"""`uvicorn gateway.app:app` as a real process: the admin surface is off the webhook port
and on loopback only; a weak key stops startup; an old and a new Adyen HMAC key both verify
into Kafka while the key is rotated, and no other key does."""

from __future__ import annotations

import base64
import copy
import secrets
import signal
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from Adyen.util import generate_notification_sig
from gateway_kafka_support import (
    SECRET,
    end_offsets,
    free_port,
    gateway_env,
    read_by_key,
    start_uvicorn,
    wait_ready,
)

from contracts.providers import adyen_key
from contracts.topics import ADYEN_NOTIFICATION

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
ADMIN_PATHS = ("/docs", "/redoc", "/openapi.json", "/metrics")
OLD_KEY, NEW_KEY, OTHER_KEY = (secrets.token_hex(32).upper() for _ in range(3))
ADYEN_USER, ADYEN_PASSWORD = "adyen_rotation_user", secrets.token_urlsafe(18)


def stop(proc) -> bytes:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    return stderr


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on ``port`` (Linux /proc)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


async def test_docs_and_metrics_are_served_on_the_loopback_admin_port_only(kafka_bootstrap):
    port, admin_port = free_port(), free_port()
    proc = start_uvicorn(port, gateway_env(STRIPE_WEBHOOK_SECRET=SECRET,
                                           KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
                                           GATEWAY_ADMIN_PORT=str(admin_port)))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_ready(proc, client)
            for path in ADMIN_PATHS:
                response = await client.get(path)
                assert (response.status_code, response.json()["reason"]) == (404, "not_found")
                admin = await client.get(f"http://127.0.0.1:{admin_port}{path}")
                assert admin.status_code == 200, path
            schema = (await client.get(f"http://127.0.0.1:{admin_port}/openapi.json")).json()
            assert "/webhooks/{provider}" in schema["paths"]
            metrics = (await client.get(f"http://127.0.0.1:{admin_port}/metrics")).text
            assert "gateway_kafka_producer_state" in metrics
            # Probes stay where orchestrators look: the webhook port.
            assert (await client.get("/health")).status_code == 200
        # 127.0.0.1 in /proc/net/tcp's little-endian hex; nothing on 0.0.0.0 or [::].
        assert listening_addresses(admin_port) == {"0100007F"}
    finally:
        stderr = stop(proc)
    assert b"gateway stopped" in stderr, stderr.decode()
    assert listening_addresses(admin_port) == set()


def test_a_short_adyen_hmac_key_stops_startup_naming_the_setting_and_rule():
    proc = start_uvicorn(free_port(), gateway_env(
        STRIPE_WEBHOOK_SECRET=SECRET, GATEWAY_PROVIDERS="stripe,adyen", ADYEN_HMAC_KEY="00",
        ADYEN_BASIC_AUTH_USERNAME=ADYEN_USER, ADYEN_BASIC_AUTH_PASSWORD=ADYEN_PASSWORD,
        GATEWAY_ADMIN_PORT=str(free_port())))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert b"ADYEN_HMAC_KEY must be at least 64 characters" in stderr, stderr.decode()


def signed_item(key: str) -> dict:
    body = orjson.loads((FIXTURES / "adyen" / "authorisation.json").read_bytes())
    item = copy.deepcopy(body["notificationItems"][0]["NotificationRequestItem"])
    item["pspReference"] = uuid.uuid4().hex[:16].upper()
    item.pop("additionalData", None)
    item["additionalData"] = {"hmacSignature": generate_notification_sig(item, key).decode()}
    return item


@pytest.fixture(scope="module")
async def rotating_gateway(kafka_bootstrap):
    """A real gateway listing the old and the new Adyen HMAC key, as during a rotation."""
    port = free_port()
    proc = start_uvicorn(port, gateway_env(
        STRIPE_WEBHOOK_SECRET=SECRET, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        GATEWAY_PROVIDERS="adyen", ADYEN_HMAC_KEY=f"{OLD_KEY},{NEW_KEY}",
        ADYEN_BASIC_AUTH_USERNAME=ADYEN_USER, ADYEN_BASIC_AUTH_PASSWORD=ADYEN_PASSWORD,
        GATEWAY_ADMIN_PORT=str(free_port())))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_ready(proc, client)
            yield client
    finally:
        stop(proc)


async def post_item(client: httpx.AsyncClient, item: dict) -> httpx.Response:
    auth = base64.b64encode(f"{ADYEN_USER}:{ADYEN_PASSWORD}".encode()).decode()
    body = orjson.dumps({"live": "false", "notificationItems": [
        {"NotificationRequestItem": item}]})
    return await client.post("/webhooks/adyen", content=body, headers={
        "content-type": "application/json", "authorization": f"Basic {auth}"})


@pytest.mark.parametrize("key_name", ["old", "new"])
async def test_an_old_and_a_new_adyen_key_both_verify_into_kafka(rotating_gateway,
                                                                 kafka_bootstrap, key_name):
    item = signed_item({"old": OLD_KEY, "new": NEW_KEY}[key_name])
    start = await end_offsets(kafka_bootstrap, [ADYEN_NOTIFICATION])
    response = await post_item(rotating_gateway, item)
    assert (response.status_code, response.text) == (200, "[accepted]")
    key = adyen_key(item["pspReference"], item["eventCode"], item["success"]).encode()
    (record,) = await read_by_key(kafka_bootstrap, start, key)
    assert orjson.loads(record.value) == item


async def test_a_key_not_listed_is_refused_and_nothing_is_written(rotating_gateway,
                                                                  kafka_bootstrap):
    item = signed_item(OTHER_KEY)
    start = await end_offsets(kafka_bootstrap, [ADYEN_NOTIFICATION])
    response = await post_item(rotating_gateway, item)
    assert (response.status_code, response.json()["reason"]) == (400, "signature_mismatch")
    assert OTHER_KEY not in response.text
    key = adyen_key(item["pspReference"], item["eventCode"], item["success"]).encode()
    assert await read_by_key(kafka_bootstrap, start, key, wait_for=None) == []
