"""Across the real broker: Adyen, Braintree and Square webhooks land keyed on their topics."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import braintree
import orjson
import pytest
from Adyen.util import generate_notification_sig, is_valid_hmac_notification
from conftest import running_gateway
from gateway_kafka_support import end_offsets, read_by_key

from contracts.topics import (
    ADYEN_NOTIFICATION,
    BRAINTREE_NOTIFICATION,
    SQUARE_PAYMENT,
    SQUARE_REFUND,
)
from streams.simulation.signing import ProviderKeys

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"
BT_KEYS = ("pipeline_merchant", ProviderKeys().braintree_public_key,
           ProviderKeys().braintree_private_key)
SQUARE_KEY, SQUARE_URL = "square_integration_key", "https://gateway.test/webhooks/square"
SETTINGS = {
    "PROVIDERS": "stripe,adyen,braintree,square",
    "ADYEN_HMAC_KEY": ADYEN_KEY,
    "ADYEN_BASIC_AUTH_USERNAME": "adyen_user",
    "ADYEN_BASIC_AUTH_PASSWORD": "adyen_password_integration",
    "BRAINTREE_MERCHANT_ID": BT_KEYS[0],
    "BRAINTREE_PUBLIC_KEY": BT_KEYS[1],
    "BRAINTREE_PRIVATE_KEY": BT_KEYS[2],
    "SQUARE_SIGNATURE_KEY": SQUARE_KEY,
    "SQUARE_NOTIFICATION_URL": SQUARE_URL,
}
EXPECTED_HEADERS = {"provider", "event_type", "received_at", "request_id"}


@pytest.fixture(scope="module")
async def providers_client(kafka_bootstrap):
    async with running_gateway(kafka_bootstrap, PUBLISH_TIMEOUT_SECONDS=10, **SETTINGS) as client:
        deadline = time.monotonic() + 30
        while (await client.get("/ready")).status_code != 200:
            assert time.monotonic() < deadline, "gateway never became ready"
            await asyncio.sleep(0.2)
        yield client


def unique_psp() -> str:
    return uuid.uuid4().hex[:16].upper()


async def test_adyen_batch_items_land_one_record_each(providers_client, kafka_bootstrap, unique):
    template = orjson.loads((FIXTURES / "adyen" / "batch.json").read_bytes())
    items = [entry["NotificationRequestItem"] for entry in template["notificationItems"][:2]]
    for item in items:
        item["pspReference"] = unique_psp()
        item["additionalData"]["hmacSignature"] = generate_notification_sig(
            item, ADYEN_KEY).decode()
    forged = {**items[0], "pspReference": unique_psp()}  # keeps the first item's signature
    body = orjson.dumps({"live": "false", "notificationItems": [
        {"NotificationRequestItem": i} for i in (items[0], forged, items[1])]})
    credentials = base64.b64encode(b"adyen_user:adyen_password_integration").decode()
    start = await end_offsets(kafka_bootstrap, [ADYEN_NOTIFICATION])
    response = await providers_client.post(
        "/webhooks/adyen", content=body,
        headers={"content-type": "application/json", "authorization": f"Basic {credentials}",
                 "x-request-id": f"req-{unique}"})
    assert (response.status_code, response.text) == (200, "[accepted]")

    for item in items:
        key = f"{item['pspReference']}:{item['eventCode']}:{item['success']}".encode()
        (record,) = await read_by_key(kafka_bootstrap, start, key)
        assert record.topic == ADYEN_NOTIFICATION
        assert orjson.loads(record.value) == item
        assert is_valid_hmac_notification(orjson.loads(record.value), ADYEN_KEY)
        headers = dict(record.headers)
        assert set(headers) == EXPECTED_HEADERS
        assert (headers["provider"], headers["event_type"]) == (b"adyen", b"AUTHORISATION")
        assert headers["request_id"] == f"req-{unique}".encode()
    forged_key = f"{forged['pspReference']}:AUTHORISATION:true".encode()
    assert await read_by_key(kafka_bootstrap, start, forged_key, wait_for=None) == []


async def test_braintree_notification_lands_with_the_form_body(providers_client,
                                                               kafka_bootstrap, unique):
    gateway = braintree.BraintreeGateway(braintree.Configuration(
        braintree.Environment.Sandbox, *BT_KEYS))
    sample = gateway.webhook_testing.sample_notification("transaction_settled", f"txn_{unique}")
    body = urlencode(sample).encode()
    start = await end_offsets(kafka_bootstrap, [BRAINTREE_NOTIFICATION])
    response = await providers_client.post(
        "/webhooks/braintree", content=body,
        headers={"content-type": "application/x-www-form-urlencoded",
                 "x-request-id": f"req-{unique}"})
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    assert event_id.startswith(f"transaction_settled:txn_{unique}:")

    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    assert (record.topic, record.value) == (BRAINTREE_NOTIFICATION, body)
    headers = dict(record.headers)
    assert set(headers) == EXPECTED_HEADERS
    assert (headers["provider"], headers["event_type"]) == (b"braintree", b"transaction_settled")
    assert headers["request_id"] == f"req-{unique}".encode()


@pytest.mark.parametrize(("name", "topic"), [("payment.updated", SQUARE_PAYMENT),
                                             ("refund.created", SQUARE_REFUND)])
async def test_square_event_lands_on_its_topic(providers_client, kafka_bootstrap, unique, name,
                                               topic):
    template = (FIXTURES / "square" / f"{name}.json").read_bytes()
    event_id = str(uuid.uuid4())
    body = template.replace(orjson.loads(template)["event_id"].encode(), event_id.encode(), 1)
    signature = base64.b64encode(hmac.new(SQUARE_KEY.encode(), SQUARE_URL.encode() + body,
                                          hashlib.sha256).digest()).decode()
    start = await end_offsets(kafka_bootstrap, [topic])
    response = await providers_client.post(
        "/webhooks/square", content=body,
        headers={"content-type": "application/json", "x-square-hmacsha256-signature": signature,
                 "x-request-id": f"req-{unique}"})
    assert response.status_code == 200, response.text

    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    assert (record.topic, record.value) == (topic, body)
    headers = dict(record.headers)
    assert set(headers) == EXPECTED_HEADERS
    assert (headers["provider"], headers["event_type"]) == (b"square", name.encode())
