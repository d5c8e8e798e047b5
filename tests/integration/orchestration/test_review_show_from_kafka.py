"""`python -m orchestration.review show`: quarantine keeps the payload redacted, and the CLI
reads the original from its raw-topic coordinates on the real broker, checked by sha256."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from conftest import PYTHON, REPO_ROOT

from contracts.dead_letters import ValidationIssue
from streams.codecs import build_dead_letter
from tests.kafka_clients import kafka_kwargs

pytestmark = pytest.mark.timeout(90)

BODY = (b'{"id": "evt_show", "type": "charge.succeeded", "data": {"object": {"billing_details": '
        b'{"name": "Jenny Rosen", "email": "jenny.rosen@example.com"}, "amount": "20.00"}}}')


def review_cli(reviewer_dsn, kafka_bootstrap, *args) -> subprocess.CompletedProcess:
    """`show` as a reviewer runs it: the reviewer's role, no Temporal key needed. Its Kafka
    sign-in (REVIEWER_KAFKA_SASL_*) is the one tests/conftest.py gives every tool, the
    operator's: the record is on a scratch topic, outside the reviewer principal's ACLs."""
    from infra.kafka_principals import REVIEWER

    env = {"ORCHESTRATOR_REVIEW_POSTGRES_DSN": reviewer_dsn,
           "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PATH": "/usr/bin:/bin",
           **{name: os.environ[name] for name in REVIEWER.settings if name in os.environ}}
    return subprocess.run([PYTHON, "-m", "orchestration.review", *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


async def test_show_reads_the_original_that_quarantine_keeps_redacted(
        scratch_topic, kafka_bootstrap, store, pg, role_dsn, unique, tmp_path):
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(scratch_topic, BODY, key=b"evt_show",
                                            headers=[("provider", b"stripe")], partition=1)
    finally:
        await producer.stop()
    letter = build_dead_letter(BODY, [ValidationIssue("amount.not_integer", "a string")],
                               topic=scratch_topic, partition=meta.partition, offset=meta.offset,
                               failed_at=datetime.now(UTC), provider="stripe",
                               provider_event_id=f"evt_show_{unique}")
    await store.insert_quarantine(letter)
    try:
        row = await store.get_quarantine(letter.event_id)
        assert "Jenny Rosen" not in row["original_payload"]
        assert row["payload_redaction"] == "redacted"

        shown = review_cli(role_dsn("reviewer"), kafka_bootstrap, "show", letter.event_id)
        assert shown.returncode == 0, shown.stderr
        assert "sha256" in shown.stdout and "matches the quarantine row" in shown.stdout
        assert BODY.decode() in shown.stdout and "header provider: stripe" in shown.stdout

        saved = tmp_path / "original.bin"
        written = review_cli(role_dsn("reviewer"), kafka_bootstrap, "show", letter.event_id,
                             "--output", str(saved))
        assert written.returncode == 0, written.stderr
        assert saved.read_bytes() == BODY
    finally:
        await pg.execute("DELETE FROM payment_events_quarantine WHERE event_id = $1",
                         letter.event_id)


async def test_show_says_when_the_topic_no_longer_has_the_original(
        scratch_topic, kafka_bootstrap, store, pg, role_dsn, unique):
    letter = build_dead_letter(BODY, [ValidationIssue("amount.not_integer", "a string")],
                               topic=scratch_topic, partition=0, offset=5,
                               failed_at=datetime.now(UTC), provider="stripe",
                               provider_event_id=f"evt_gone_{unique}")
    await store.insert_quarantine(letter)
    try:
        shown = review_cli(role_dsn("reviewer"), kafka_bootstrap, "show", letter.event_id)
    finally:
        await pg.execute("DELETE FROM payment_events_quarantine WHERE event_id = $1",
                         letter.event_id)
    assert shown.returncode == 1
    assert "cannot be read" in shown.stderr and "redacted excerpt" in shown.stderr
