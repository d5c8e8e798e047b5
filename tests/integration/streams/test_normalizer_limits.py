"""Records the broker will never take, on the real broker: dead-lettered, the offset moves on."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.limits import DEAD_LETTER_MAX_BYTES
from streams.codecs import decode_dead_letter, decode_event
from tests.kafka_clients import kafka_kwargs

pytestmark = pytest.mark.timeout(240)


def oversized_invalid_stripe_event(evt_id: str, size: int = 600_000) -> bytes:
    """A Stripe-shaped event whose currency is a long run of quotes: 2 bytes each in the body,
    4 once the body is JSON-escaped into a dead letter and 2 more in a repr'd message."""
    return orjson.dumps({
        "id": evt_id, "object": "event", "type": "charge.succeeded", "created": 1767225600,
        "livemode": False, "api_version": "2024-06-20",
        "data": {"object": {"id": f"ch_{evt_id}", "object": "charge", "amount": 100,
                            "currency": '"' * (size // 2), "status": "succeeded"}}})


async def test_a_600_kb_invalid_event_fits_its_dead_letter_and_the_partition_moves_on(
        pipeline_topics, start_worker, producer, read_all, raw_event, unique, wait_committed):
    evt_id = f"evt_{unique}_big"
    big = oversized_invalid_stripe_event(evt_id)
    assert len(big) > 600_000
    key, after = raw_event("charge.succeeded", f"evt_{unique}_after")
    # Same partition: the valid event behind it is only normalized if the partition moves on.
    await producer.send_and_wait(pipeline_topics.charge, big, key=evt_id.encode(), partition=0)
    await producer.send_and_wait(pipeline_topics.charge, after, key=key, partition=0)
    app_id = f"test-norm-big-{unique}"
    await start_worker("streams.normalizer", app_id)

    dead = await read_all(pipeline_topics.dlq, expect=1, within=90)
    normalized = await read_all(pipeline_topics.normalized, expect=1, within=60)
    assert len(dead) == 1, "the oversized dead letter was never written"
    [(dlq_key, value)] = dead
    assert len(value) <= DEAD_LETTER_MAX_BYTES
    letter = decode_dead_letter(value)
    assert dlq_key.decode() == letter.event_id == f"stripe:{evt_id}"
    assert letter.error_codes == ["currency.unsupported"]
    assert (letter.payload_truncated, letter.payload_length, letter.payload_sha256) == (
        True, len(big), hashlib.sha256(big).hexdigest())
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        pipeline_topics.charge, 0, 0)
    assert [decode_event(v).provider_event_id for _, v in normalized] == [
        f"evt_{unique}_after"]
    await wait_committed(app_id, [pipeline_topics.charge])


async def test_a_normalized_event_the_broker_refuses_is_dead_lettered_with_its_reason(
        pipeline_topics, start_worker, producer, read_all, raw_event, unique, wait_committed,
        kafka_bootstrap):
    # The normalized topic takes no record of this size: the broker refuses every batch.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, pipeline_topics.normalized,
            configs={"max.message.bytes": "200"})])
    finally:
        await admin.close()
    sent = [raw_event("payment_intent.succeeded", f"evt_{unique}_{i}") for i in range(3)]
    for key, value in sent:
        await producer.send_and_wait(pipeline_topics.payment_intent, value, key=key)
    app_id = f"test-norm-refused-{unique}"
    await start_worker("streams.normalizer", app_id)

    dead = await read_all(pipeline_topics.dlq, expect=len(sent), within=90)
    letters = [decode_dead_letter(v) for _, v in dead]
    assert sorted(dl.event_id for dl in letters) == sorted(f"stripe:{k.decode()}"
                                                           for k, _ in sent)
    assert {(tuple(dl.error_codes), dl.stage) for dl in letters} == {
        (("output.too_large",), "publish")}
    assert await read_all(pipeline_topics.normalized, expect=0, within=5) == []
    await wait_committed(app_id, [pipeline_topics.payment_intent])
