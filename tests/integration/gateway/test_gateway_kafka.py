"""Across the real broker: signed events land on the right topic, faults answer 503."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from conftest import running_gateway
from gateway_kafka_support import (
    KafkaProxy,
    end_offsets,
    free_port,
    read_by_key,
    sign,
    unique_fixture,
)

from contracts.topics import STRIPE_CHARGE, STRIPE_PAYMENT_INTENT, STRIPE_RAW_TOPICS, WEBHOOKS_DLQ

URL = "/webhooks/stripe"


def headers_for(body: bytes, request_id: str | None = None) -> dict[str, str]:
    headers = {"content-type": "application/json", "stripe-signature": sign(body)}
    if request_id:
        headers["x-request-id"] = request_id
    return headers


async def wait_until_ready(client, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while (await client.get("/ready")).status_code != 200:
        assert time.monotonic() < deadline, "gateway never became ready"
        await asyncio.sleep(0.2)


async def post_until_accepted(client, body: bytes, within: float = 45.0):
    """Retry the same webhook the way a provider would, until it is acknowledged."""
    deadline = time.monotonic() + within
    while True:
        response = await client.post(URL, content=body, headers=headers_for(body))
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.3)


@pytest.mark.parametrize(("fixture", "topic"), [("payment_intent.succeeded", STRIPE_PAYMENT_INTENT),
                                                ("charge.dispute.closed", STRIPE_CHARGE)])
async def test_signed_event_lands_on_its_topic(gateway_client, kafka_bootstrap, unique,
                                               fixture, topic):
    await wait_until_ready(gateway_client)
    event_id, body = unique_fixture(fixture)
    start = await end_offsets(kafka_bootstrap, [topic])
    response = await gateway_client.post(URL, content=body,
                                         headers=headers_for(body, f"req-{unique}"))
    assert response.status_code == 200, response.text

    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    assert record.topic == topic
    assert record.value == body
    headers = dict(record.headers)
    assert set(headers) == {"provider", "event_type", "received_at", "request_id"}
    assert headers["provider"] == b"stripe"
    assert headers["event_type"] == fixture.encode()
    assert headers["request_id"] == f"req-{unique}".encode()


async def test_invalid_signature_writes_nothing(gateway_client, kafka_bootstrap):
    await wait_until_ready(gateway_client)
    event_id, body = unique_fixture("charge.succeeded")
    start = await end_offsets(kafka_bootstrap, [*STRIPE_RAW_TOPICS, WEBHOOKS_DLQ])
    headers = {**headers_for(body), "stripe-signature": sign(body, "whsec_wrong")}
    response = await gateway_client.post(URL, content=body, headers=headers)
    assert response.status_code == 400
    assert await read_by_key(kafka_bootstrap, start, event_id.encode(), wait_for=None) == []


async def test_authentic_unroutable_event_is_dead_lettered(gateway_client, kafka_bootstrap,
                                                           unique):
    await wait_until_ready(gateway_client)
    event_id = f"evt_test_dlq_{unique}"
    body = orjson.dumps({"id": event_id, "type": "customer.created",
                         "data": {"object": {"object": "customer"}}})
    start = await end_offsets(kafka_bootstrap, [WEBHOOKS_DLQ])
    response = await gateway_client.post(URL, content=body, headers=headers_for(body))
    assert (response.status_code, response.json()["status"]) == (200, "dead_lettered")
    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    # The body exactly as received; why it was refused travels in the headers.
    assert record.value == body
    headers = dict(record.headers)
    assert (headers["provider"], headers["reason"]) == (b"stripe", b"unknown_event_type")


async def test_gateway_started_during_an_outage_serves_once_kafka_is_back(kafka_bootstrap):
    proxy = KafkaProxy(kafka_bootstrap, free_port())  # not listening yet: Kafka is "down"
    async with running_gateway(f"127.0.0.1:{proxy.port}", PUBLISH_TIMEOUT_SECONDS=2,
                               CONNECT_RETRY_SECONDS=0.2) as client:
        try:
            event_id, body = unique_fixture("charge.succeeded")
            assert (await client.get("/ready")).status_code == 503
            response = await client.post(URL, content=body, headers=headers_for(body))
            assert response.status_code == 503
            assert response.json()["reason"] == "kafka_unavailable"

            start = await end_offsets(kafka_bootstrap, [STRIPE_CHARGE])
            await proxy.open()
            response = await post_until_accepted(client, body)
            assert response.status_code == 200, response.text
            (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
            assert record.value == body
            await wait_until_ready(client)
        finally:
            await proxy.cut()


async def test_broker_cut_mid_life_is_503_then_the_same_request_succeeds(kafka_bootstrap):
    proxy = KafkaProxy(kafka_bootstrap, free_port())
    await proxy.open()
    async with running_gateway(f"127.0.0.1:{proxy.port}", PUBLISH_TIMEOUT_SECONDS=2,
                               CONNECT_RETRY_SECONDS=0.2, READY_CACHE_SECONDS=0) as client:
        try:
            await wait_until_ready(client)
            warm_id, warm = unique_fixture("charge.captured")
            assert (await client.post(URL, content=warm, headers=headers_for(warm))
                    ).status_code == 200

            await proxy.cut()
            event_id, body = unique_fixture("charge.failed")
            start = await end_offsets(kafka_bootstrap, [STRIPE_CHARGE])
            response = await client.post(URL, content=body, headers=headers_for(body))
            assert response.status_code == 503, response.text
            assert response.json()["reason"] in {"kafka_timeout", "kafka_error"}
            assert (await client.get("/ready")).status_code == 503

            await proxy.open()
            response = await post_until_accepted(client, body)
            assert response.status_code == 200, response.text
            # The 503'd attempt may also have landed late; the normalizer dedups by event id.
            records = await read_by_key(kafka_bootstrap, start, event_id.encode())
            assert records and all(r.value == body for r in records)
        finally:
            await proxy.cut()
