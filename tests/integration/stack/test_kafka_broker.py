"""The real KRaft broker serves what Faust needs: groups, idempotence, transactions."""

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import TOPIC_SPECS
from tests.kafka_clients import kafka_kwargs


async def consume(bootstrap, topic, group, count, **kwargs):
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False, **kwargs,
    )
    await consumer.start()
    got = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(records)
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def test_consumer_group_reads_what_an_idempotent_producer_wrote(kafka_bootstrap,
                                                                      scratch_topic, unique):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap,
                                **kafka_kwargs(), enable_idempotence=True,
                                acks="all")
    await producer.start()
    try:
        for i in range(30):
            await producer.send_and_wait(scratch_topic, f"v{i}".encode(), key=f"k{i}".encode())
    finally:
        await producer.stop()

    records = await consume(kafka_bootstrap, scratch_topic, f"group-{unique}", 30)

    assert sorted(r.value for r in records) == sorted(f"v{i}".encode() for i in range(30))
    assert {r.partition for r in records} == {0, 1, 2}


async def test_transactional_produce_and_commit_is_read_committed(kafka_bootstrap, scratch_topic,
                                                                  unique):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **kafka_kwargs(),
                                transactional_id=f"txn-{unique}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(scratch_topic, b"committed", key=b"a", partition=0)
            await producer.send_offsets_to_transaction(
                {TopicPartition(scratch_topic, 0): 1}, f"group-{unique}"
            )
        await producer.begin_transaction()
        await producer.send_and_wait(scratch_topic, b"aborted", key=b"a", partition=0)
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(scratch_topic, b"after", key=b"a", partition=0)
    finally:
        await producer.stop()

    records = await consume(kafka_bootstrap, scratch_topic, f"reader-{unique}", 2,
                            isolation_level="read_committed")

    assert [r.value for r in records] == [b"committed", b"after"]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(f"group-{unique}")
    finally:
        await admin.close()
    assert offsets[TopicPartition(scratch_topic, 0)].offset == 1


async def test_pipeline_topics_exist_with_their_partition_counts(kafka_bootstrap):
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        described = await admin.describe_topics([s.name for s in TOPIC_SPECS])
    finally:
        await admin.close()
    partitions = {t["topic"]: len(t["partitions"]) for t in described}
    assert partitions == {s.name: s.partitions for s in TOPIC_SPECS}


async def test_broker_does_not_auto_create_topics(kafka_bootstrap, unique):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap,
                                **kafka_kwargs(), request_timeout_ms=3000)
    await producer.start()
    try:
        partitions = await asyncio.wait_for(
            producer.partitions_for(f"test.never.created.{unique}"), 10
        )
    except Exception:  # noqa: BLE001 - a timeout or an error both mean "not created"
        partitions = None
    finally:
        await producer.stop()
    assert not partitions
