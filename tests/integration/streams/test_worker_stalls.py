"""Stalls are visible on the real stack: lag in the metrics, the partition named by /ready."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.codecs import encode_event
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(240)
STALL = "3"  # seconds without a commit, with lag, before a partition counts as stalled


async def wait_for_stall(worker, within: float = 120) -> dict:
    deadline = time.monotonic() + within
    body: dict = {}
    while time.monotonic() < deadline:
        response = await worker.get("/ready")
        body = response.json()
        if body.get("stalled_partitions"):
            assert response.status_code == 503
            return body
        await asyncio.sleep(0.5)
    raise AssertionError(f"no stall reported: {body}\n{worker.tail()}")


def gauge(metrics: str, name: str, topic: str, partition: int) -> float | None:
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("topic") == topic \
                    and sample.labels.get("partition") == str(partition):
                return sample.value
    return None


async def test_a_starter_that_cannot_reach_temporal_is_not_ready_naming_the_partition(
        pipeline_topics, start_worker, producer, unique):
    event = make_payment_event(provider_event_id=f"evt_{unique}")
    meta = await producer.send_and_wait(pipeline_topics.normalized, encode_event(event),
                                        key=event.event_id.encode())
    stuck = await start_worker("streams.starter", f"test-starter-stall-{unique}", {
        "STREAMS_TEMPORAL_TARGET": "127.0.0.1:1",  # nothing listens: no start ever succeeds
        "STREAMS_STARTER_RETRY_MAX_SECONDS": "1", "STREAMS_STALL_SECONDS": STALL,
    }, ready_path="/health")

    body = await wait_for_stall(stuck)
    name = f"{pipeline_topics.normalized}:{meta.partition}"
    assert body["stalled_partitions"] == [name]
    assert body["partitions"][name]["lag"] == 1
    metrics = (await stuck.get("/metrics")).text
    labels = (pipeline_topics.normalized, meta.partition)
    assert gauge(metrics, "streams_consumer_lag", *labels) == 1
    assert gauge(metrics, "streams_partition_stalled", *labels) == 1
    assert gauge(metrics, "streams_oldest_unacked_age_seconds", *labels) > 0


async def test_a_normalizer_whose_output_is_blocked_is_not_ready_naming_the_partition(
        pipeline_topics, start_worker, producer, raw_event, unique):
    key, value = raw_event("payment_intent.succeeded", f"evt_{unique}_blocked")
    meta = await producer.send_and_wait(pipeline_topics.payment_intent, value, key=key,
                                        partition=1)
    blocked = await start_worker("streams.normalizer", f"test-norm-stall-{unique}", {
        # Never created (the broker does not auto-create): every produce waits on metadata.
        "STREAMS_TOPIC_NORMALIZED": f"test.streams.{unique}.absent",
        "STREAMS_STALL_SECONDS": STALL,
    }, ready_path="/health")

    body = await wait_for_stall(blocked)
    name = f"{pipeline_topics.payment_intent}:{meta.partition}"
    assert body["stalled_partitions"] == [name]
    metrics = (await blocked.get("/metrics")).text
    assert gauge(metrics, "streams_consumer_lag", pipeline_topics.payment_intent, 1) == 1
    # Its batch never finishes, and a graceful stop waits for it: nothing to wait for here.
    blocked.kill()


async def test_a_healthy_idle_normalizer_stays_ready(pipeline_topics, start_worker, producer,
                                                     raw_event, read_all, unique,
                                                     wait_committed):
    app_id = f"test-norm-idle-{unique}"
    worker = await start_worker("streams.normalizer", app_id, {"STREAMS_STALL_SECONDS": STALL})
    for i in range(5):
        key, value = raw_event("charge.succeeded", f"evt_{unique}_{i}")
        await producer.send_and_wait(pipeline_topics.charge, value, key=key)
    await read_all(pipeline_topics.normalized, expect=5, quiet=0)
    await wait_committed(app_id, [pipeline_topics.charge])

    # Idle for several stall windows: no lag, so never stalled, however long it waits.
    for _ in range(4 * int(STALL)):
        response = await worker.get("/ready")
        body = response.json()
        assert response.status_code == 200, body
        assert body["stalled_partitions"] == []
        assert all(p["lag"] == 0 for p in body["partitions"].values()), body["partitions"]
        await asyncio.sleep(1)
    metrics = (await worker.get("/metrics")).text
    assert all(gauge(metrics, "streams_consumer_lag", pipeline_topics.charge, p) == 0
               for p in range(3))
