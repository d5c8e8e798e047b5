"""The record budget on the real broker: the stack carries it, and the gateway's largest
body is stored while one byte more is a 413 (contracts/limits.py)."""

from __future__ import annotations

import orjson
import pytest
from aiokafka.admin.config_resource import ConfigResourceType
from gateway_kafka_support import (
    describe_configs,
    end_offsets,
    read_by_key,
    scratch_topics,
    sign,
)

from contracts.dead_letters import GATEWAY_DLQ_HEADERS
from contracts.limits import MAX_HEADERS_BYTES, MAX_RECORD_BYTES, MAX_VALUE_BYTES, headers_size
from contracts.topics import STRIPE_CHARGE, TOPIC_SPECS, WEBHOOKS_DLQ, TopicSpec
from gateway.records import MAX_EVENT_ID_BYTES, MAX_REQUEST_ID_BYTES
from infra.topics import ensure_topics
from tests.kafka_clients import operator_auth

URL = "/webhooks/stripe"


def padded(event_id: str, event_type: str, size: int) -> bytes:
    """A Stripe event of exactly ``size`` bytes, padded in a field no mapper reads."""
    def body(pad: int) -> bytes:
        return orjson.dumps({"id": event_id, "object": "event", "type": event_type,
                             "created": 1780000000, "padding": "x" * pad,
                             "data": {"object": {"object": "charge", "id": "ch_budget"}}})
    return body(size - len(body(0)))


def headers_for(body: bytes, request_id: str) -> dict[str, str]:
    return {"content-type": "application/json", "stripe-signature": sign(body),
            "x-request-id": request_id}


async def test_the_broker_and_every_topic_carry_the_budget(kafka_bootstrap):
    topics = await describe_configs(kafka_bootstrap, ConfigResourceType.TOPIC,
                                    [spec.name for spec in TOPIC_SPECS])
    assert {name: config["max.message.bytes"] for name, config in topics.items()} == {
        spec.name: str(MAX_RECORD_BYTES) for spec in TOPIC_SPECS}
    (broker,) = (await describe_configs(kafka_bootstrap, ConfigResourceType.BROKER,
                                        ["1"])).values()
    assert broker["message.max.bytes"] == str(MAX_RECORD_BYTES)


async def test_an_existing_topic_converges_and_keeps_its_other_settings(kafka_bootstrap,
                                                                        unique):
    name = f"test.converge.{unique}"
    async with scratch_topics(kafka_bootstrap, [name], max_message_bytes="4096",
                              retention_ms="3600000"):
        assert await ensure_topics(kafka_bootstrap, (TopicSpec(name, 1),),
                                   auth=operator_auth()) == []
        (config,) = (await describe_configs(kafka_bootstrap, ConfigResourceType.TOPIC,
                                            [name])).values()
        assert config["max.message.bytes"] == str(MAX_RECORD_BYTES)
        assert config["retention.ms"] == "3600000"  # incremental: nothing else was reset


async def test_the_largest_body_is_stored_and_one_byte_more_is_a_413(gateway_client,
                                                                     kafka_bootstrap, unique):
    event_id = f"evt_budget_{unique}"
    body = padded(event_id, "charge.succeeded", MAX_VALUE_BYTES)
    request_id = unique.ljust(MAX_REQUEST_ID_BYTES, "r")
    start = await end_offsets(kafka_bootstrap, [STRIPE_CHARGE])
    response = await gateway_client.post(URL, content=body,
                                         headers=headers_for(body, request_id))
    assert response.status_code == 200, response.text
    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    assert record.value == body

    over = padded(f"evt_over_{unique}", "charge.succeeded", MAX_VALUE_BYTES + 1)
    response = await gateway_client.post(URL, content=over,
                                         headers=headers_for(over, request_id))
    assert response.status_code == 413
    assert response.json()["reason"] == "body_too_large"


@pytest.mark.parametrize("event_type", ["customer.created", "customer." + "\u00e9" * 120])
async def test_the_largest_invalid_body_is_a_dead_letter_that_fits(gateway_client,
                                                                   kafka_bootstrap, unique,
                                                                   event_type):
    event_id = f"evt_{unique}_".ljust(MAX_EVENT_ID_BYTES, "e")  # the longest id kept
    body = padded(event_id, event_type, MAX_VALUE_BYTES)
    request_id = unique.ljust(MAX_REQUEST_ID_BYTES, "r")
    start = await end_offsets(kafka_bootstrap, [WEBHOOKS_DLQ])
    response = await gateway_client.post(URL, content=body,
                                         headers=headers_for(body, request_id))
    assert response.json() == {"status": "dead_lettered", "event_id": event_id,
                               "reason": "unknown_event_type"}
    (record,) = await read_by_key(kafka_bootstrap, start, event_id.encode())
    assert record.value == body  # the body exactly as received
    headers = dict(record.headers)
    assert [name for name, _ in record.headers] == list(GATEWAY_DLQ_HEADERS)
    assert headers["reason"] == b"unknown_event_type"
    assert headers["event_id"] == event_id.encode()
    assert headers["request_id"] == request_id.encode()
    assert event_type.encode() in headers["detail"]
    assert headers_size(record.headers) <= MAX_HEADERS_BYTES
