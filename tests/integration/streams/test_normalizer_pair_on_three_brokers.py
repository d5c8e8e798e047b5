"""The short version of `make test-scale`, inside `make test`: two normalizers share the raw
topics of a private three-broker cluster, and one is killed with -9 while records flow.

Every record reaches payments.normalized (none lost), each at most twice (at-least-once:
downstream writes are idempotent by event_id, and `make test-scale` checks the stored rows),
and the group commits every raw partition to its end (none stalled) once the survivor alone
serves them.
"""

from __future__ import annotations

import asyncio
import collections

import pytest

from tests.private_kafka import PRIVATE_BOOTSTRAP

pytestmark = pytest.mark.timeout(420)
FLOW, RATE = 600, 60  # records, records per second: the kill lands mid-flow


@pytest.fixture
def kafka_bootstrap(private_cluster) -> str:
    """Every client fixture of this folder (topics, producer, reader, offsets) on the
    private three-broker cluster instead of the shared broker."""
    run, _ = private_cluster
    up = run("up")
    assert up.returncode == 0, up.stdout + up.stderr
    return PRIVATE_BOOTSTRAP


@pytest.fixture
def topic_replicas() -> int:
    return 3


async def flow(producer, items: list[tuple[str, bytes, bytes]]) -> None:
    for i in range(0, len(items), RATE // 10):
        futures = [await producer.send(t, v, key=k) for t, k, v in items[i:i + RATE // 10]]
        await asyncio.gather(*futures)
        await asyncio.sleep(0.1)


async def test_one_of_two_normalizers_killed_on_three_brokers_loses_and_stalls_nothing(
        pipeline_topics, start_worker, producer, read_all, raw_event, unique, tmp_path,
        wait_committed, record_property):
    app_id = f"test-pair-{unique}"
    env = {"KAFKA_BOOTSTRAP_SERVERS": PRIVATE_BOOTSTRAP,
           "STREAMS_TOPIC_REPLICATION_FACTOR": "3", "STREAMS_TABLE_STANDBY_REPLICAS": "1"}
    first = await start_worker("streams.normalizer", app_id,
                               {**env, "STREAMS_DATA_DIR": str(tmp_path / "one")})
    second = await start_worker("streams.normalizer", app_id,
                                {**env, "STREAMS_DATA_DIR": str(tmp_path / "two")})
    raws = [pipeline_topics.payment_intent, pipeline_topics.charge]
    items = [(raws[i % 2], *raw_event("payment_intent.succeeded" if i % 2 == 0
                                      else "charge.failed", f"evt_{unique}_{i}"))
             for i in range(FLOW)]

    sending = asyncio.create_task(flow(producer, items))
    await read_all(pipeline_topics.normalized, expect=FLOW // 4, quiet=0)
    second.kill()
    await sending

    normalized = await read_all(pipeline_topics.normalized, expect=FLOW, within=240)
    keys = collections.Counter(k for k, _ in normalized)
    assert set(keys) == {b"stripe:" + k for _, k, _ in items}, "an event was lost"
    assert max(keys.values()) <= 2
    record_property("duplicates_after_kill", sum(n - 1 for n in keys.values()))
    await wait_committed(app_id, raws, within=120)
    assert first.proc.poll() is None, first.tail()
