"""The seek faust relies on after a rebalance, on the real broker.

faust drops the rest of a fetched batch when a rebalance starts or its flow stops, then seeks
every partition back to its committed offset to read those records again. aiokafka's
seek_to_committed leaves a partition with nothing committed where it is, so the dropped
records were skipped and the next commit passed them: one acknowledged webhook lost in the
first make test-scale run. streams.faust_internals.seek_to_committed_or_beginning is the seek
our workers' consumer uses instead.
"""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.faust_internals import seek_to_committed_or_beginning
from tests.kafka_clients import kafka_kwargs


async def _fill(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        for i in range(count):
            await producer.send_and_wait(topic, f"v{i}".encode(), partition=0)
    finally:
        await producer.stop()


async def _read(consumer: AIOKafkaConsumer, tp: TopicPartition, count: int) -> list[int]:
    """Fetch ``count`` records of ``tp`` (as faust's fetcher does before it drops a batch)."""
    offsets: list[int] = []
    async with asyncio.timeout(30):
        while len(offsets) < count:
            batch = await consumer.getmany(tp, timeout_ms=500)
            offsets.extend(r.offset for r in batch.get(tp, []))
    return offsets


async def _consumer(bootstrap: str, topic: str, group: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                **kafka_kwargs(), group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    return consumer


async def test_a_partition_nobody_committed_is_read_again_from_its_beginning(
        kafka_bootstrap, scratch_topic, unique):
    await _fill(kafka_bootstrap, scratch_topic, 3)
    tp = TopicPartition(scratch_topic, 0)
    consumer = await _consumer(kafka_bootstrap, scratch_topic, f"test-seek-{unique}")
    try:
        assert await _read(consumer, tp, 3) == [0, 1, 2]   # fetched, then dropped by faust

        committed = await consumer.seek_to_committed()
        assert committed[tp] is None
        # What aiokafka alone does: the position stays after the dropped records.
        assert await consumer.position(tp) == 3

        committed, starts = await seek_to_committed_or_beginning(consumer)
        assert committed[tp] is None and starts[tp] == 0
        assert await consumer.position(tp) == 0
        assert await _read(consumer, tp, 3) == [0, 1, 2]
    finally:
        await consumer.stop()


async def test_a_committed_partition_still_goes_back_to_its_committed_offset(
        kafka_bootstrap, scratch_topic, unique):
    await _fill(kafka_bootstrap, scratch_topic, 4)
    tp = TopicPartition(scratch_topic, 0)
    consumer = await _consumer(kafka_bootstrap, scratch_topic, f"test-seek-{unique}")
    try:
        await _read(consumer, tp, 4)
        await consumer.commit({tp: 2})

        committed, starts = await seek_to_committed_or_beginning(consumer)
        assert committed[tp] == 2 and tp not in starts
        assert await consumer.position(tp) == 2
        assert await _read(consumer, tp, 2) == [2, 3]
    finally:
        await consumer.stop()
