"""Reconciliation on the running pipeline: an event Stripe lists (stripe-mock serving a real
fixture) that no webhook brought is found, fed exactly once, and a webhook for it that
arrives later, through the gateway or straight onto the raw topic, is a duplicate."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from contracts.providers import raw_headers, stripe_raw_topic
from contracts.workflows import PAYMENT_EVENT, workflow_id
from infra.demo import normalizer_counters
from infra.services import demo_environment
from orchestration.reconciliation.stripe import render_stripe_json
from streams.simulation.signing import sign_stripe
from tests.kafka_clients import kafka_kwargs
from tests.stripe_mock import API_KEY, StripeMock, write_event_fixtures

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT.parent / "shared" / "fixtures" / "stripe" / "charge.succeeded.json"
GATEWAY = "http://127.0.0.1:8000/webhooks/stripe"
ROWS = """SELECT (SELECT count(*) FROM payment_events WHERE event_id = $1)
               + (SELECT count(*) FROM payment_events_quarantine WHERE event_id = $1)"""


def reconcile_cli(env: dict[str, str], window: tuple[datetime, datetime],
                  *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.reconcile", "--provider", "stripe",
         "--since", window[0].isoformat(), "--until", window[1].isoformat(), *extra],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def row_count(dsn: str, event_id: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(ROWS, event_id)
    finally:
        await conn.close()


async def wait_for_rows(dsn: str, event_id: str, within: float = 120) -> int:
    deadline = time.monotonic() + within
    while True:
        count = await row_count(dsn, event_id)
        if count or time.monotonic() > deadline:
            return count
        await asyncio.sleep(1)


async def wait_for_duplicates(before: int, more: int, within: float = 90) -> int:
    deadline = time.monotonic() + within
    while True:
        seen = normalizer_counters().get("deduplicated", 0) - before
        if seen >= more or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(1)


async def test_a_missing_event_is_fed_exactly_once(pipeline, postgres_dsn, kafka_bootstrap,
                                                   temporal_client, tmp_path):
    suffix = uuid.uuid4().hex[:16]
    event = json.loads(FIXTURE.read_bytes())
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    event["id"], event["created"] = f"evt_reconcile_{suffix}", int(created.timestamp())
    event["data"]["object"]["id"] = f"ch_reconcile_{suffix}"
    unified_id = f"stripe:{event['id']}"
    mock = StripeMock(tmp_path / "stripe-mock.log",
                      write_event_fixtures(tmp_path / "fixtures.json", event)).start()
    env = {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": mock.api_base,
           "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "ORCHESTRATOR_READER_POSTGRES_DSN": postgres_dsn}
    window = (created - timedelta(minutes=5), created + timedelta(minutes=5))
    try:
        dry = reconcile_cli(env, window)
        assert event["id"] in dry and "missing (dry run" in dry, dry
        assert await row_count(postgres_dsn, unified_id) == 0  # a dry run feeds nothing

        applied = reconcile_cli(env, window, "--apply")
        assert "fed 1," in applied, applied
        assert await wait_for_rows(postgres_dsn, unified_id) == 1

        again = reconcile_cli(env, window, "--apply")
        assert "held 1, fed 0," in again, again
    finally:
        mock.stop()

    # Stripe's webhook for the same event arrives late, then a copy straight onto the raw
    # topic without the origin header: both are duplicates of the reconciled record.
    before = normalizer_counters().get("deduplicated", 0)
    body = render_stripe_json(event)
    secret = demo_environment()["STRIPE_WEBHOOK_SECRET"].split(",")[0]
    timestamp = int(time.time())
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(GATEWAY, content=body, headers={
            "stripe-signature": sign_stripe(body, secret, timestamp),
            "content-type": "application/json"})
    assert response.is_success, response.text
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        received_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        await producer.send_and_wait(
            stripe_raw_topic(event["type"]), body, key=event["id"].encode(),
            headers=raw_headers("stripe", event["type"], received_at, f"test-{suffix}"))
    finally:
        await producer.stop()

    assert await wait_for_duplicates(before, 2) >= 2
    await asyncio.sleep(5)  # anything that slipped past dedup would reach PostgreSQL by now
    assert await row_count(postgres_dsn, unified_id) == 1
    runs = [wf async for wf in temporal_client.list_workflows(
        f"WorkflowId = '{workflow_id(PAYMENT_EVENT, unified_id)}'")]
    assert len(runs) == 1, runs
