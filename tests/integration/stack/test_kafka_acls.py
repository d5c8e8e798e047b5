"""The broker signs every client in (SASL/SCRAM-SHA-512) and lets each principal do only what
its ACLs grant (infra/kafka_principals.py): the raw topics take writes from the gateway and
the operator only, payments.normalized from the normalizer only, and a client without a
sign-in, or with a wrong password, is not let in at all.

A private broker made by the stack's own `up kafka` (so its credentials and ACLs are the ones
every stack gets), on other ports and in its own state folder, so the stack the rest of the
suite uses is never disturbed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from contracts.kafka_auth import KafkaAuth, kafka_auth
from contracts.topics import PAYMENTS_NORMALIZED, STRIPE_CHARGE
from infra.kafka_principals import GATEWAY, NORMALIZER, OPERATOR, REVIEWER, STARTER
from infra.servers import STATE_DIR
from infra.stack_env import read

PORT, CONTROLLER = 19592, 19692
BOOTSTRAP = f"127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def broker():
    """`python -m infra.stack up kafka` on private ports; yields its .stack/env lines."""
    state = STATE_DIR / f"test-kafka-acls-{os.getpid()}"
    env = {**os.environ, "STACK_KAFKA_BROKERS": "1", "KAFKA_PORT": str(PORT),
           "KAFKA_CONTROLLER_PORT": str(CONTROLLER), "STACK_DIR": str(state),
           "KAFKA_LIB_DIR": os.environ.get("KAFKA_LIB_DIR", str(STATE_DIR / "kafka" / "lib")),
           "KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m"}

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "infra.stack", command, "kafka"], env=env,
                              capture_output=True, text=True, timeout=300)

    try:
        started = run("up")
        assert started.returncode == 0, started.stdout + started.stderr
        assert "every principal's credential and ACLs set" in started.stdout
        yield read(state / "env")
    finally:
        run("down")
        shutil.rmtree(state, ignore_errors=True)


def sign_in(values: dict[str, str], who) -> KafkaAuth:
    return kafka_auth(values, who.prefix)


async def produce(auth: KafkaAuth, topic: str) -> int:
    """One acks=all, idempotent write (as the gateway's); its offset, or the broker's refusal."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True,
                                request_timeout_ms=10_000, **auth.client_kwargs())
    try:
        await asyncio.wait_for(producer.start(), 30)
        return (await asyncio.wait_for(producer.send_and_wait(topic, b"probe"), 30)).offset
    finally:
        await producer.stop()


async def test_only_the_gateway_and_the_operator_write_the_raw_topics(broker):
    await produce(sign_in(broker, GATEWAY), STRIPE_CHARGE)
    await produce(sign_in(broker, OPERATOR), STRIPE_CHARGE)  # replay's and reconcile's writes
    for who in (NORMALIZER, STARTER):
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(sign_in(broker, who), STRIPE_CHARGE)


async def test_only_the_normalizer_and_the_operator_write_payments_normalized(broker):
    await produce(sign_in(broker, NORMALIZER), PAYMENTS_NORMALIZED)
    await produce(sign_in(broker, OPERATOR), PAYMENTS_NORMALIZED)
    for who in (GATEWAY, STARTER):
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(sign_in(broker, who), PAYMENTS_NORMALIZED)


async def test_the_reviewer_reads_but_never_writes(broker):
    await produce(sign_in(broker, GATEWAY), STRIPE_CHARGE)
    reviewer = sign_in(broker, REVIEWER)
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=None,
                                enable_auto_commit=False, **reviewer.client_kwargs())
    await consumer.start()
    try:
        partitions = [TopicPartition(STRIPE_CHARGE, p) for p in range(3)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        assert sum(ends.values()) >= 1
    finally:
        await consumer.stop()
    # Not even the idempotent producer's id: it holds no Write anywhere.
    with pytest.raises((ClusterAuthorizationFailedError, TopicAuthorizationFailedError)):
        await produce(reviewer, STRIPE_CHARGE)


async def test_a_client_without_a_sign_in_or_with_a_wrong_password_is_not_let_in(broker):
    with pytest.raises(KafkaConnectionError):
        await produce(KafkaAuth(), STRIPE_CHARGE)
    wrong = replace(sign_in(broker, GATEWAY), password="not-the-gateway-password-at-all")
    with pytest.raises(KafkaConnectionError):
        await produce(wrong, STRIPE_CHARGE)


async def test_rotating_a_password_lets_the_new_one_in_and_the_old_one_no_more(broker):
    from infra.kafka_acls import apply_principals, broker_auth

    old = sign_in(broker, GATEWAY)
    rotated = {**broker, GATEWAY.password_setting: "a-brand-new-gateway-password-0123"}
    await apply_principals(BOOTSTRAP, broker_auth(broker), rotated)
    try:
        await produce(sign_in(rotated, GATEWAY), STRIPE_CHARGE)
        with pytest.raises(KafkaConnectionError):
            await produce(old, STRIPE_CHARGE)
    finally:
        await apply_principals(BOOTSTRAP, broker_auth(broker), broker)
