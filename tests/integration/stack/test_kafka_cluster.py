"""`STACK_KAFKA_BROKERS=3 make up` makes a real three-node KRaft cluster whose every topic
keeps three replicas and needs two in sync, and which keeps taking acks=all writes, with
no acknowledged record lost, when the leader of a topic's partition is killed with -9.

A private cluster on other ports and in its own state folder, so the stack the rest of the
suite uses is never disturbed.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts.kafka_auth import kafka_auth
from contracts.topics import PAYMENTS_NORMALIZED, TOPIC_SPECS
from infra.servers import is_port_open
from infra.stack_env import read
from tests.private_kafka import PRIVATE_BOOTSTRAP, PRIVATE_PORT

BOOTSTRAP = PRIVATE_BOOTSTRAP


@pytest.fixture
def cluster(private_cluster):
    return private_cluster


# The private cluster's own operator sign-in (its own .stack/env), once it is up.
_SIGN_IN: dict = {}


def kafka_kwargs() -> dict:
    return _SIGN_IN


async def describe(admin: AIOKafkaAdminClient, topic: str) -> list[dict]:
    [found] = await admin.describe_topics([topic])
    return found["partitions"]


async def topic_config(admin: AIOKafkaAdminClient, topic: str, name: str) -> str:
    [response] = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, {name: None})])
    return {entry[0]: entry[1] for entry in response.resources[0][4]}[name]


async def produce(values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, **kafka_kwargs(), acks="all",
                                enable_idempotence=True, request_timeout_ms=60_000)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(PAYMENTS_NORMALIZED, value, partition=0)
    finally:
        await producer.stop()


async def read_partition_zero() -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP,
                                **kafka_kwargs(), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(PAYMENTS_NORMALIZED, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        values = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=2_000)
            values += [record.value for record in batch.get(tp, [])]
        return values
    finally:
        await consumer.stop()


def test_three_brokers_replicate_every_topic_and_survive_a_killed_leader(cluster):
    run, state = cluster
    up = run("up")
    assert up.returncode == 0, up.stdout + up.stderr
    _SIGN_IN.update(kafka_auth(read(state / "env")).client_kwargs())

    async def replicas() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **kafka_kwargs())
        await admin.start()
        try:
            for spec in TOPIC_SPECS:
                for part in await describe(admin, spec.name):
                    assert len(part["replicas"]) == 3, (spec.name, part)
                assert await topic_config(admin, spec.name, "min.insync.replicas") == "2"
            await produce([b"warm-up"])  # the offsets topic is created on first use
            assert len((await describe(admin, PAYMENTS_NORMALIZED))[0]["isr"]) == 3
        finally:
            await admin.close()

    asyncio.run(replicas())
    status = run("status")
    assert status.returncode == 0, status.stderr
    assert "kafka-3" in status.stdout
    assert f"{PAYMENTS_NORMALIZED} 0: leader" in status.stdout

    async def leader_of_partition_zero() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **kafka_kwargs())
        await admin.start()
        try:
            return (await describe(admin, PAYMENTS_NORMALIZED))[0]["leader"]
        finally:
            await admin.close()

    leader = asyncio.run(leader_of_partition_zero())
    name = "kafka" if leader == 1 else f"kafka-{leader}"
    os.kill(int((state / "pids" / f"{name}.pid").read_text()), signal.SIGKILL)
    sent = [f"after-kill-{n}".encode() for n in range(50)]
    asyncio.run(produce(sent))  # two of three in sync is enough for acks=all

    assert asyncio.run(leader_of_partition_zero()) != leader
    assert asyncio.run(read_partition_zero()) == [b"warm-up", *sent]
    assert not is_port_open(PRIVATE_PORT + leader - 1)
