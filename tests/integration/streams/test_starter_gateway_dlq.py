"""webhooks.dlq reaches quarantine: the starter, the real review workflow and PostgreSQL.

Records are written as the gateway writes them (the refused body as the value, the reason
in headers), including a provider retry of the same event and records that lack headers;
each event gets exactly one payment_events_quarantine row.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from contracts.workflows import DLQ_REVIEW, workflow_id
from orchestration.metrics import Metrics
from orchestration.settings import OrchestratorSettings
from orchestration.store import PaymentStore, create_pool
from orchestration.worker import build_worker, create_http_client

pytestmark = pytest.mark.timeout(240)


def headers(**values: str | None) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in values.items() if value is not None]


def gateway_headers(event_id: str | None, reason: str, detail: str | None = "why",
                    request_id: str = "req") -> list[tuple[str, bytes]]:
    return headers(provider="stripe", reason=reason, detail=detail, event_id=event_id,
                   received_at="2026-02-28T10:00:00Z", request_id=request_id)


@pytest.fixture
async def pool(postgres_dsn):
    pool = await create_pool(postgres_dsn, 0, 2)
    yield pool
    await pool.close()


@pytest.fixture
async def review_queue(temporal_client, postgres_dsn, pool, unique):
    """The real orchestration worker (DLQReviewWorkflow and its activities) on a new queue."""
    settings = OrchestratorSettings(TASK_QUEUE=f"test-starter-gw-{unique}",
                                    POSTGRES_DSN=postgres_dsn, POSTGRES_POOL_MIN=0)
    http = create_http_client(settings)
    try:
        async with build_worker(temporal_client, settings, PaymentStore(pool), http, Metrics()):
            yield settings.TASK_QUEUE
    finally:
        await http.close()


async def quarantined(pool: asyncpg.Pool, topic: str) -> dict[str, dict]:
    rows = await pool.fetch("SELECT * FROM payment_events_quarantine WHERE source_topic = $1",
                            topic)
    return {row["event_id"]: dict(row) for row in rows}


async def test_gateway_dead_letters_land_in_quarantine_once_per_event(
        pipeline_topics, start_worker, producer, temporal_client, review_queue, pool, unique):
    topic = pipeline_topics.webhooks_dlq
    body = b'{"id": "evt_%s_a", "type": "payment_intent.unheard_of"}' % unique.encode()
    records = [
        (f"evt_{unique}_a", body, gateway_headers(f"evt_{unique}_a", "event_type.unknown")),
        # The provider retried the same event: a second record, the same review.
        (f"evt_{unique}_a", body, gateway_headers(f"evt_{unique}_a", "event_type.unknown")),
        # No headers at all, a body that is not even UTF-8.
        (f"request:{unique}-b", b"\xff\xfenot utf-8", []),
        # An unreadable body: the gateway knew no event id and keyed it by request.
        (f"request:{unique}-c", b"{not json", gateway_headers(None, "payload.not_json")),
        (f"evt_{unique}_d", b"{}", gateway_headers(f"evt_{unique}_d", "event.missing_id",
                                                   detail=None)),
    ]
    for key, value, hdrs in records:
        await producer.send_and_wait(topic, value, key=key.encode(), headers=hdrs, partition=0)
    worker = await start_worker("streams.starter", f"test-starter-gw-{unique}",
                                {"STREAMS_TEMPORAL_TASK_QUEUE": review_queue})
    expected = {f"stripe:evt_{unique}_a", f"dlq:{topic}:0:2", f"dlq:{topic}:0:3",
                f"stripe:evt_{unique}_d"}
    deadline = time.monotonic() + 120
    rows: dict[str, dict] = {}
    while time.monotonic() < deadline:
        rows = await quarantined(pool, topic)
        counters = (await worker.counters()).get("gateway_dead_letter", {})
        if set(rows) == expected and counters.get("processed") == len(records):
            break
        await asyncio.sleep(0.5)
    try:
        assert set(rows) == expected, rows.keys()
        assert counters == {"processed": 5, "started": 4, "signalled": 1}
        first = rows[f"stripe:evt_{unique}_a"]
        assert (first["provider"], first["provider_event_id"]) == ("stripe", f"evt_{unique}_a")
        # Both copies are worked concurrently: whichever start Temporal took first is kept.
        assert (first["source_partition"], first["source_offset"]) in ((0, 0), (0, 1))
        assert first["error_codes"] == ["event_type.unknown"]
        assert first["errors"][0]["message"] == "why"
        assert first["original_payload"] == body.decode()
        headerless = rows[f"dlq:{topic}:0:2"]
        assert headerless["error_codes"] == ["gateway.reason_missing"]
        assert headerless["payload_encoding"] == "base64"
        assert rows[f"dlq:{topic}:0:3"]["error_codes"] == ["payload.not_json"]
        assert rows[f"stripe:evt_{unique}_d"]["errors"][0]["message"].startswith(
            "gateway dead letter without a detail header")
        assert all(row["review_status"] == "pending" for row in rows.values())
    finally:
        for event_id in expected:  # nothing left running on the shared server
            handle = temporal_client.get_workflow_handle(workflow_id(DLQ_REVIEW, event_id))
            try:
                await handle.terminate("test over")
            except Exception:  # noqa: BLE001, S110 - never started: nothing to stop
                pass
