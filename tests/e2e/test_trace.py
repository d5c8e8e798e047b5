"""`python -m orchestration.trace` on the running pipeline: one payment's webhooks, sent
through the real gateway (one of them twice, one of them broken), traced stage by stage."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from unittest import mock

import asyncpg
import httpx
import orjson
import pytest

from infra.demo import run_batch_load
from infra.services import demo_environment
from orchestration import trace
from orchestration.trace_report import DEAD_LETTERED, DEDUPLICATED, FOUND, NORMALIZED
from orchestration.tracing.settings import TraceSettings
from streams.simulation.signing import sign_stripe
from tests.builders import make_stripe_webhook

GATEWAY = "http://127.0.0.1:8000/webhooks/stripe"
GOOD = ("payment_intent.created", "payment_intent.processing", "payment_intent.succeeded")


def post(body: bytes, request_id: str) -> None:
    secret = demo_environment()["STRIPE_WEBHOOK_SECRET"].split(",")[0]
    headers = {"content-type": "application/json", "x-request-id": request_id,
               "stripe-signature": sign_stripe(body, secret, int(time.time()))}
    response = httpx.post(GATEWAY, content=body, headers=headers, timeout=30)
    assert response.is_success, response.text


async def wait_for(dsn: str, sql: str, args: list, want: int, within: float = 180) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + within
        while await conn.fetchval(sql, *args) < want:
            assert time.monotonic() < deadline, f"timed out waiting for {want}: {sql} {args}"
            await asyncio.sleep(1)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def sent_payment(pipeline, postgres_dsn):
    """Three good events of one payment (the last one delivered twice) and a broken one."""
    run = uuid.uuid4().hex[:12]
    payment_id = f"pi_trace{run}"
    ids = {name: f"evt_trace{run}_{n}" for n, name in enumerate(GOOD)}
    bad = f"evt_trace{run}_bad"
    requests: dict[str, list[str]] = {}
    for name, event_id in ids.items():
        body = orjson.dumps(make_stripe_webhook(name, event_id, id=payment_id))
        deliveries = 2 if name == "payment_intent.succeeded" else 1
        for n in range(deliveries):
            request_id = f"trace-{run}-{event_id[-1]}-{n}"
            post(body, request_id)
            requests.setdefault(event_id, []).append(request_id)
    broken = make_stripe_webhook("payment_intent.payment_failed", bad, id=payment_id,
                                 amount="forty-two")
    requests[bad] = [f"trace-{run}-bad"]
    post(orjson.dumps(broken), requests[bad][0])
    good_ids = [f"stripe:{e}" for e in ids.values()]
    asyncio.run(wait_for(postgres_dsn, "SELECT count(*) FROM payment_events "
                         "WHERE event_id = ANY($1::text[])", [good_ids], len(good_ids)))
    asyncio.run(wait_for(postgres_dsn, "SELECT count(*) FROM payments WHERE payment_id = $1 "
                         "AND status = 'succeeded'", [payment_id], 1))
    asyncio.run(wait_for(postgres_dsn, "SELECT count(*) FROM payment_events_quarantine "
                         "WHERE event_id = $1", [f"stripe:{bad}"], 1))
    return {"payment_id": payment_id, "ids": ids, "bad": bad, "requests": requests}


def services_environment():
    """The services' own settings (e.g. a generated DSN), for one read only: left in
    os.environ they would reach every later test of the session (the gateway's unit tests
    then saw every provider enabled)."""
    own = {k: v for k, v in demo_environment().items() if k not in os.environ}
    return mock.patch.dict(os.environ, own)


def settings() -> TraceSettings:
    with services_environment():
        return TraceSettings()


def trace_until_completed(query: str, within: float = 60):
    """The trace, once every payment workflow in it has completed (they close just after
    their row is written)."""
    deadline = time.monotonic() + within
    while True:
        result = asyncio.run(trace.trace(query, None, settings()))
        statuses = [w.status for e in result.events for w in e.workflows
                    if w.workflow_type == "PaymentEventWorkflow" and e.event_rows.rows]
        if all(s == "completed" for s in statuses) or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_the_trace_of_a_payment_shows_each_stage(sent_payment):
    result = trace_until_completed(sent_payment["payment_id"])

    assert (result.kind, result.provider) == ("payment", "stripe")
    assert result.payment.lookup.state == FOUND
    (payment,) = result.payment.rows
    assert payment["status"] == "succeeded"
    assert {e.provider_event_id for e in result.events} == set(sent_payment["ids"].values())
    for event in result.events:
        sent = sent_payment["requests"][event.provider_event_id]
        assert event.receipt.lookup.state == FOUND, event.receipt
        assert [c.headers["request_id"] for c in event.receipt.copies] == sent
        assert all(c.headers["received_at"] and c.origin == "webhook"
                   for c in event.receipt.copies)
        assert all(c.topic == "webhooks.stripe.payment_intent" for c in event.receipt.copies)
        want = DEDUPLICATED if len(sent) > 1 else NORMALIZED
        assert event.normalizer.verdict == want, event.normalizer
        assert len(event.normalizer.outputs) == 1
        (workflow,) = event.workflows
        assert (workflow.lookup.state, workflow.status) == (FOUND, "completed")
        assert workflow.workflow_id == f"payment-event:{event.event_id}"
        assert workflow.ui_link.startswith("http://127.0.0.1:8233/namespaces/default/workflows/")
        assert [r["event_id"] for r in event.event_rows.rows] == [event.event_id]
        assert event.quarantine.lookup.state == "not found"
    # The broken event has no payment id column, but its payload names the payment.
    assert [r["event_id"] for r in result.mentions.rows] == [f"stripe:{sent_payment['bad']}"]


def test_the_trace_of_a_broken_event_shows_its_dead_letter_and_review(sent_payment):
    result = asyncio.run(trace.trace(sent_payment["bad"], None, settings()))

    (event,) = result.events
    assert event.event_id == f"stripe:{sent_payment['bad']}"
    assert [c.headers["request_id"] for c in event.receipt.copies] == (
        sent_payment["requests"][sent_payment["bad"]])
    assert event.normalizer.verdict == DEAD_LETTERED
    assert "amount" in event.normalizer.detail
    assert event.normalizer.dead_letters[0].source == event.receipt.copies[0].coordinates
    (row,) = event.quarantine.rows
    assert row["review_status"] == "pending"
    review = [w for w in event.workflows if w.workflow_type == "DLQReviewWorkflow"]
    assert [(w.lookup.state, w.status) for w in review] == [(FOUND, "running")]
    assert event.event_rows.lookup.state == "not found"


def test_the_trace_sees_iceberg_once_loaded(sent_payment):
    run_batch_load()
    result = asyncio.run(trace.trace(sent_payment["payment_id"], None, settings()))
    for event in result.events:
        assert event.lake[0].lookup.state == FOUND, event.lake
    broken = asyncio.run(trace.trace(sent_payment["bad"], None, settings()))
    assert broken.events[0].lake[1].lookup.state == FOUND, broken.events[0].lake


def test_the_command_prints_json(sent_payment, capsys):
    with services_environment():
        assert trace.main([sent_payment["payment_id"], "--json"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    assert data["payment"]["rows"][0]["status"] == "succeeded"
    assert len(data["events"]) == len(GOOD)
