"""The record budget end to end (contracts/limits.py): the largest body the running gateway
accepts becomes a row in payment_events, one byte more is a 413, and the largest
authentic-but-invalid body is a webhooks.dlq record that fits."""

import asyncio
import time
import uuid

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.dead_letters import GATEWAY_DLQ_HEADERS
from contracts.limits import MAX_VALUE_BYTES
from contracts.topics import WEBHOOKS_DLQ
from infra.services import demo_environment
from infra.stack_env import admin_dsn
from streams.simulation.generator import SimulatorMix, generate_events
from streams.simulation.signing import sign_stripe
from tests.kafka_clients import kafka_kwargs

GATEWAY = "http://127.0.0.1:8000/webhooks/stripe"


def padded_event(event_id: str, size: int, event_type: str | None = None) -> bytes:
    """A valid simulated Stripe event of exactly ``size`` bytes, padded in a top-level field
    that no mapper reads, so the normalized event (and its row) stays small."""
    (generated,) = generate_events(1, seed=7, mix=SimulatorMix(0, 0, 0),
                                   start_ts=int(time.time()))
    event = {**orjson.loads(generated.body), "id": event_id, "padding": ""}
    if event_type is not None:
        event["type"] = event_type
    body = orjson.dumps(event)
    event["padding"] = "x" * (size - len(body))
    return orjson.dumps(event)


def post(body: bytes) -> httpx.Response:
    secret = demo_environment()["STRIPE_WEBHOOK_SECRET"].split(",")[0]
    headers = {"content-type": "application/json",
               "stripe-signature": sign_stripe(body, secret, int(time.time()))}
    return httpx.post(GATEWAY, content=body, headers=headers, timeout=30)


async def wait_for_row(event_id: str, within: float) -> int:
    conn = await asyncpg.connect(admin_dsn())
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            rows = await conn.fetchval(
                "SELECT count(*) FROM payment_events WHERE provider_event_id = $1", event_id)
            if rows:
                return rows
            await asyncio.sleep(1)
        return 0
    finally:
        await conn.close()


async def dlq_end(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(WEBHOOKS_DLQ, 0)
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def read_dlq(bootstrap: str, start: int, key: bytes) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    tp = TopicPartition(WEBHOOKS_DLQ, 0)
    consumer.assign([tp])
    consumer.seek(tp, start)
    found = []
    try:
        end = (await consumer.end_offsets([tp]))[tp]
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=2000)).values():
                found.extend(r for r in records if r.key == key)
    finally:
        await consumer.stop()
    return found


def test_the_largest_body_is_processed_end_to_end_and_one_byte_more_is_a_413(pipeline):
    event_id = f"evt_budget_{uuid.uuid4().hex}"
    body = padded_event(event_id, MAX_VALUE_BYTES)
    assert len(body) == MAX_VALUE_BYTES
    response = post(body)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "accepted", "event_id": event_id}
    assert asyncio.run(wait_for_row(event_id, within=180)) == 1

    over = padded_event(f"evt_over_{uuid.uuid4().hex}", MAX_VALUE_BYTES + 1)
    response = post(over)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["reason"] == "body_too_large"


def test_the_largest_invalid_body_is_a_dead_letter_that_fits(pipeline, kafka_bootstrap):
    event_id = f"evt_budget_dlq_{uuid.uuid4().hex}"
    body = padded_event(event_id, MAX_VALUE_BYTES, event_type="customer.created")
    start = asyncio.run(dlq_end(kafka_bootstrap))
    response = post(body)
    assert response.json() == {"status": "dead_lettered", "event_id": event_id,
                               "reason": "unknown_event_type"}
    (record,) = asyncio.run(read_dlq(kafka_bootstrap, start, event_id.encode()))
    assert record.value == body
    assert [name for name, _ in record.headers] == list(GATEWAY_DLQ_HEADERS)
