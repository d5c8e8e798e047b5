"""Across the real broker: a refused batch is a 413, and it does not break the producer.

aiokafka numbers a batch's records when it first sends it. A batch the broker refuses for
good leaves the idempotent producer's sequence for that partition ahead of the broker's,
and every later write there fails with OutOfOrderSequenceNumber: the gateway must rebuild
its producer, and say so in readiness while it does. A topic with a smaller
max.message.bytes than the gateway's own limit makes the broker refuse a batch.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from gateway_kafka_support import SECRET, read_partition, scratch_topics, sign

from contracts.limits import MAX_RECORD_BYTES
from contracts.topics import STRIPE_CHARGE
from gateway.errors import PayloadTooLargeError, PublishUnavailableError
from gateway.metrics import Metrics
from gateway.publisher import KafkaPublisher, ProducerState
from gateway.settings import GatewaySettings
from tests.kafka_clients import operator_auth

SMALL_TOPIC_LIMIT = 4096


class GatedPublisher(KafkaPublisher):
    """The real publisher, whose replacement producers wait for the test to let them start:
    the window a rebuild takes is then as long as the test needs, not a race."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.built = 0

    def _new_producer(self):
        producer = super()._new_producer()
        self.built += 1
        if self.built > 1:
            start = producer.start

            async def start_when_allowed() -> None:
                await self.gate.wait()
                await start()

            producer.start = start_when_allowed
        return producer


async def wait_ready(publisher: KafkaPublisher, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while await publisher.check_ready() is not None:
        assert time.monotonic() < deadline, "the publisher never became ready"
        await asyncio.sleep(0.1)


async def publish_until_stored(publisher: KafkaPublisher, topic: str, key: bytes,
                               value: bytes, within: float = 30.0) -> list[str]:
    """Retry the way a provider does after a 503; returns the 503 reasons seen."""
    reasons = []
    deadline = time.monotonic() + within
    while True:
        try:
            await publisher.publish(topic, key, value, [])
            return reasons
        except PublishUnavailableError as exc:
            reasons.append(exc.reason)
            assert time.monotonic() < deadline, f"never stored; 503 reasons: {set(reasons)}"
            await asyncio.sleep(0.2)


async def test_a_broker_refusal_does_not_break_later_writes_to_its_partition(kafka_bootstrap,
                                                                            unique):
    prefix = f"test.refusal.{unique}."
    async with scratch_topics(kafka_bootstrap, [prefix + STRIPE_CHARGE],
                              max_message_bytes=str(SMALL_TOPIC_LIMIT)):
        metrics = Metrics()
        publisher = KafkaPublisher(kafka_bootstrap, auth=operator_auth(), publish_timeout=10,
                                   connect_retry=0.2,
                                   ready_cache=0, topic_prefix=prefix, metrics=metrics)
        await publisher.start()
        try:
            await wait_ready(publisher)
            await publisher.publish(STRIPE_CHARGE, b"k1", b"before", [])
            with pytest.raises(PayloadTooLargeError) as refused:
                await publisher.publish(STRIPE_CHARGE, b"k2", b"x" * 2 * SMALL_TOPIC_LIMIT, [])
            assert refused.value.reason == "record_too_large_for_broker"
            # One partition: the next write goes where the refused batch was numbered.
            reasons = await publish_until_stored(publisher, STRIPE_CHARGE, b"k3", b"after")
            assert set(reasons) <= {"kafka_producer_rebuilding"}
            await publish_until_stored(publisher, STRIPE_CHARGE, b"k4", b"later")
        finally:
            await publisher.stop()
        stored = await read_partition(kafka_bootstrap, prefix + STRIPE_CHARGE)
        assert [(r.key, r.value) for r in stored] == [
            (b"k1", b"before"), (b"k3", b"after"), (b"k4", b"later")]
        assert metrics.producer_rebuilds.labels("MessageSizeTooLargeError")._value.get() == 1


async def test_readiness_is_false_while_the_producer_is_rebuilt(kafka_bootstrap, unique):
    import httpx

    from gateway.app import create_app

    prefix = f"test.rebuild.{unique}."
    async with scratch_topics(kafka_bootstrap, [prefix + STRIPE_CHARGE],
                              max_message_bytes=str(SMALL_TOPIC_LIMIT)):
        settings = GatewaySettings(STRIPE_WEBHOOK_SECRET=SECRET, LOG_LEVEL="WARNING",
                                   KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, TOPIC_PREFIX=prefix)
        publisher = GatedPublisher(kafka_bootstrap, auth=operator_auth(), publish_timeout=10,
                                   connect_retry=0.2,
                                   ready_cache=0, topic_prefix=prefix)
        app = create_app(settings, publisher=publisher)
        publisher._metrics = app.state.metrics  # noqa: SLF001 - the app's registry, as in production
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                await wait_ready(publisher)
                big = charge(f"evt_big_{unique}", pad=2 * SMALL_TOPIC_LIMIT)
                response = await client.post("/webhooks/stripe", content=big,
                                             headers=signed(big))
                assert response.status_code == 413, response.text
                assert response.json()["reason"] == "record_too_large_for_broker"

                ready = await client.get("/ready")
                assert (ready.status_code, ready.json()) == (
                    503, {"status": "not_ready", "reason": "kafka_producer_rebuilding"})
                small = charge(f"evt_small_{unique}")
                response = await client.post("/webhooks/stripe", content=small,
                                             headers=signed(small))
                assert (response.status_code, response.json()["reason"]) == (
                    503, "kafka_producer_rebuilding")
                admin = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.state.admin),
                                          base_url="http://gw-admin")
                async with admin:
                    metrics = (await admin.get("/metrics")).text
                assert ('gateway_kafka_producer_state{gateway_kafka_producer_state='
                        '"rebuilding"} 1.0') in metrics
                assert ('gateway_kafka_producer_rebuilds_total{error='
                        '"MessageSizeTooLargeError"} 1.0') in metrics

                publisher.gate.set()
                await wait_ready(publisher)
                assert (await client.get("/ready")).status_code == 200
                response = await client.post("/webhooks/stripe", content=small,
                                             headers=signed(small))
                assert response.status_code == 200, response.text
                assert publisher.state is ProducerState.READY
        stored = await read_partition(kafka_bootstrap, prefix + STRIPE_CHARGE)
        assert [r.key for r in stored] == [f"evt_small_{unique}".encode()]


async def test_a_record_over_the_budget_is_refused_before_it_is_sent(kafka_bootstrap, unique):
    metrics = Metrics()
    publisher = KafkaPublisher(kafka_bootstrap, auth=operator_auth(), publish_timeout=10,
                               ready_cache=0,
                               metrics=metrics)
    await publisher.start()
    try:
        await wait_ready(publisher)
        with pytest.raises(PayloadTooLargeError) as refused:
            await publisher.publish(STRIPE_CHARGE, f"evt_{unique}".encode(),
                                    b"x" * MAX_RECORD_BYTES, [])
        assert refused.value.reason == "record_too_large"
        # Nothing was numbered, so nothing is rebuilt.
        assert publisher.state is ProducerState.READY
        assert await publisher.check_ready() is None
    finally:
        await publisher.stop()


def charge(event_id: str, pad: int = 0) -> bytes:
    import orjson

    return orjson.dumps({"id": event_id, "type": "charge.succeeded", "padding": "x" * pad,
                         "data": {"object": {"object": "charge", "id": "ch_1"}}})


def signed(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "stripe-signature": sign(body)}
