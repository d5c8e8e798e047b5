"""Injected outages: inference down then back, down for good, PostgreSQL down then back."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from conftest import count_rows, fetch_row

from contracts.workflows import PAYMENT_EVENT, workflow_id
from orchestration.models import PaymentEventResult
from tests.builders import make_payment_event

pytestmark = pytest.mark.timeout(120)


async def start_event(client, task_queue, event):
    return await client.start_workflow(
        PAYMENT_EVENT.workflow, event, id=workflow_id(PAYMENT_EVENT, event.event_id),
        task_queue=task_queue, result_type=PaymentEventResult,
        start_signal=PAYMENT_EVENT.signal, start_signal_args=[event],
    )


async def test_inference_down_then_back_is_retried_to_a_score(
        temporal_client, start_worker, make_proxy, inference_url, pg):
    target = urlsplit(inference_url)
    proxy = await make_proxy(target.hostname, target.port)
    proxy.cut()
    queue = await start_worker(INFERENCE_URL=proxy.url())
    event = make_payment_event()
    handle = await start_event(temporal_client, queue, event)
    await asyncio.wait_for(proxy.attempted.wait(), 20)
    # The starter redelivers while the workflow is still retrying: counted, not re-run.
    await start_event(temporal_client, queue, event)
    await asyncio.sleep(2)
    proxy.restore()

    result = await handle.result()

    assert proxy.attempts >= 2
    assert result.fraud_score is not None and result.enrichment_missing == {}
    assert result.deliveries == 2
    assert await count_rows(pg, event.event_id) == 1


async def test_inference_down_for_good_persists_without_the_score(
        temporal_client, start_worker, make_proxy, inference_url, pg):
    target = urlsplit(inference_url)
    proxy = await make_proxy(target.hostname, target.port)
    proxy.cut()
    queue = await start_worker(INFERENCE_URL=proxy.url())
    event = make_payment_event()

    result = await (await start_event(temporal_client, queue, event)).result()

    row = await fetch_row(pg, event.event_id)
    assert row["fraud_score"] is None and row["fraud_model_version"] is None
    assert row["enrichment_missing"]["fraud"].startswith("inference unavailable after 5 attempts")
    assert result.enrichment_missing == row["enrichment_missing"]
    assert proxy.attempts == 5


async def test_postgres_down_then_back_is_retried_to_one_row(
        temporal_client, start_worker, make_proxy, role_dsn, pg):
    worker_dsn = role_dsn("worker")
    target = urlsplit(worker_dsn)
    proxy = await make_proxy(target.hostname, target.port)
    dsn = worker_dsn.replace(f":{target.port}/", f":{proxy.port}/")
    queue = await start_worker(POSTGRES_DSN=dsn, POSTGRES_POOL_MIN=1)
    proxy.cut()
    attempts_before = proxy.attempts
    event = make_payment_event()
    handle = await start_event(temporal_client, queue, event)
    await asyncio.wait_for(proxy.wait_attempts(attempts_before + 2), 30)
    assert await count_rows(pg, event.event_id) == 0
    proxy.restore()

    result = await handle.result()

    assert result.outcome == "inserted"
    assert await count_rows(pg, event.event_id) == 1
