"""`python -m orchestration.replay` against the running pipeline (normalizer, starter,
Temporal worker, PostgreSQL): a complete window gets nothing re-driven and no new row; a
window with a deliberate hole is filled exactly, once.

The hole is the one the command exists for: events the normalizer and the starter handled
(the dedup table remembers them, the starter signalled their workflow) whose workflow was
terminated before it persisted. Each such workflow is started first on a task queue no
worker polls, so the starter's signal-with-start finds it running and signals it; the test
then terminates it. Records go straight to the raw topic, as the gateway writes them, under
ids unique to the test; the command runs with --id-prefix so that other traffic in the
window is left out of its counts.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaProducer
from temporalio.api.enums.v1 import EventType

from contracts.providers import raw_headers
from contracts.topics import STRIPE_PAYMENT_INTENT
from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration import replay
from orchestration.replay_settings import ReplaySettings
from tests.builders import make_stripe_webhook
from tests.kafka_clients import kafka_kwargs

NORMALIZER = "http://127.0.0.1:6066"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _events(prefix: str, n: int) -> list[dict]:
    return [make_stripe_webhook("payment_intent.succeeded", event_id=f"{prefix}{i}",
                                id=f"pi_{prefix}{i}") for i in range(n)]


async def _produce(bootstrap: str, events: list[dict]) -> None:
    """Each event to the raw topic as the gateway writes it (key = the event id)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all",
                                enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            received = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            await producer.send_and_wait(
                STRIPE_PAYMENT_INTENT, orjson.dumps(event), key=event["id"].encode(),
                headers=raw_headers("stripe", event["type"], received, uuid.uuid4().hex))
    finally:
        await producer.stop()


async def _rows(dsn: str, prefix: str) -> dict[str, list[tuple[int, datetime]]]:
    """provider_event_id -> its payment_events rows (id, ingested_at)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT provider_event_id, id, ingested_at FROM payment_events "
                                "WHERE provider = 'stripe' AND provider_event_id LIKE $1",
                                prefix + "%")
    finally:
        await conn.close()
    found: dict[str, list[tuple[int, datetime]]] = {}
    for r in rows:
        found.setdefault(r["provider_event_id"], []).append((r["id"], r["ingested_at"]))
    return found


async def _wait_for_rows(dsn: str, prefix: str, ids: set[str], within: float = 180) -> dict:
    deadline = time.monotonic() + within
    while True:
        rows = await _rows(dsn, prefix)
        if ids <= set(rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(1)


async def _wait_for_signal(client, wf_id: str, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        history = await client.get_workflow_handle(wf_id).fetch_history()
        if any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
               and e.workflow_execution_signaled_event_attributes.signal_name
               == PAYMENT_EVENT.signal for e in history.events):
            return
        await asyncio.sleep(1)
    raise TimeoutError(f"the starter never signalled {wf_id}")


def _args(since: datetime, until: datetime, prefix: str, *extra: str) -> list[str]:
    return ["--provider", "stripe", "--since", since.isoformat(), "--until", until.isoformat(),
            "--id-prefix", prefix, *extra]


async def _command(argv: list[str], kafka: str, dsn: str) -> tuple[int, str, str]:
    """The command itself, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchestration.replay", *argv, cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka,
             "ORCHESTRATOR_READER_POSTGRES_DSN": dsn})
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def _replay(kafka: str, dsn: str, argv: list[str]) -> replay.ReplayResult:
    settings = ReplaySettings(KAFKA_BOOTSTRAP_SERVERS=kafka, ORCHESTRATOR_READER_POSTGRES_DSN=dsn)
    return await replay.run(replay.parse_args(argv), settings)


async def test_a_complete_window_gets_nothing_re_driven(pipeline, kafka_bootstrap, postgres_dsn):
    prefix = f"evt_replay_full_{uuid.uuid4().hex[:10]}_"
    events = _events(prefix, 3)
    since = datetime.now(UTC) - timedelta(seconds=1)
    await _produce(kafka_bootstrap, [*events, events[0]])  # one webhook redelivered
    ids = {e["id"] for e in events}
    before = await _wait_for_rows(postgres_dsn, prefix, ids)
    assert set(before) == ids
    until = datetime.now(UTC) + timedelta(seconds=1)

    result = await _replay(kafka_bootstrap, postgres_dsn,
                           _args(since, until, prefix, "--apply", "--rate", "50"))

    plan = result.plan
    assert (plan.scanned, plan.events, plan.redeliveries, plan.held) == (4, 3, 1, 3)
    assert plan.missing == [] and result.redriven == []
    await asyncio.sleep(5)  # anything re-driven by mistake would have landed by now
    assert await _rows(postgres_dsn, prefix) == before


async def test_a_window_with_a_hole_is_filled_exactly(pipeline, kafka_bootstrap, postgres_dsn,
                                                      temporal_client):
    prefix = f"evt_replay_hole_{uuid.uuid4().hex[:10]}_"
    events = _events(prefix, 5)
    holes = events[:2]
    dead_queue = f"replay-hole-{uuid.uuid4().hex[:8]}"
    hole_workflows = [workflow_id(PAYMENT_EVENT, f"stripe:{e['id']}") for e in holes]
    for wf_id, event in zip(hole_workflows, holes, strict=True):
        await temporal_client.start_workflow(PAYMENT_EVENT.workflow, {"event_id": event["id"]},
                                             id=wf_id, task_queue=dead_queue)
    since = datetime.now(UTC) - timedelta(seconds=1)
    await _produce(kafka_bootstrap, [*events, holes[0]])  # a hole's webhook redelivered
    for wf_id in hole_workflows:
        await _wait_for_signal(temporal_client, wf_id)
        await temporal_client.get_workflow_handle(wf_id).terminate("replay test: a lost run")
    complete = {e["id"] for e in events[2:]}
    before = await _wait_for_rows(postgres_dsn, prefix, complete)
    assert set(before) == complete  # the holes have no row
    async with httpx.AsyncClient(base_url=NORMALIZER, timeout=10) as web:
        for event in holes:  # and dedup remembers them: a plain resend would be dropped
            seen = await web.get(f"/dedup/stripe/{event['id']}")
            assert seen.status_code == 200 and seen.json()["seen"], seen.text
    until = datetime.now(UTC) + timedelta(seconds=1)
    hole_ids = sorted(f"stripe:{e['id']}" for e in holes)

    code, out, err = await _command(_args(since, until, prefix), kafka_bootstrap, postgres_dsn)
    assert code == 0, err
    assert sorted(line.split()[0] for line in out.splitlines()
                  if line.startswith("stripe:")) == hole_ids
    assert "held 3, missing 2" in out and "re-driven 0" in out
    assert await _rows(postgres_dsn, prefix) == before  # a dry run changes nothing

    result = await _replay(kafka_bootstrap, postgres_dsn,
                           _args(since, until, prefix, "--apply", "--rate", "10"))

    assert (result.plan.scanned, result.plan.events) == (6, 5)
    assert sorted(d.candidate.event_id for d in result.redriven) == hole_ids
    after = await _wait_for_rows(postgres_dsn, prefix, {e["id"] for e in events})
    assert {k: len(v) for k, v in after.items()} == {e["id"]: 1 for e in events}
    assert {k: after[k] for k in complete} == before  # the rows that were there are untouched

    again = await _replay(kafka_bootstrap, postgres_dsn,
                          _args(since, datetime.now(UTC) + timedelta(seconds=1), prefix,
                                "--apply"))
    assert again.plan.missing == [] and again.redriven == []
    assert again.plan.events == 5  # the replay copies are in this window too: one event each
    await asyncio.sleep(5)
    assert await _rows(postgres_dsn, prefix) == after
