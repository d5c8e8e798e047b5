"""The data map holds end to end: card and personal data stay on the raw topics only.

Every provider's real fixtures are sent through the running pipeline (gateway, Kafka,
normalizer, starter, Temporal, PostgreSQL), with invalid ones (dead-lettered by the
normalizer), an unroutable one (dead-lettered by the gateway) and poison written straight to
the raw topics, so the DLQs, the review workflows and quarantine all get data; then the batch
load runs. The fixtures' card data, personal data and credentials, as the data map names them
(``tests/fixture_fields.py``), are then searched for in every PostgreSQL table, every Kafka
topic but the raw ``webhooks.*`` ones, every Temporal history and every Iceberg file written
meanwhile (``data_map_scans``). None may be found. The raw topics must still hold them: the
original stays there for ``python -m orchestration.review show``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from temporalio.client import Client

from batch.settings import BatchSettings
from contracts.workflows import DLQ_REVIEW, workflow_id
from infra.demo import run_batch_load
from tests.e2e.data_map_scans import (
    iceberg_texts,
    kafka_texts,
    postgres_texts,
    take_since,
    temporal_texts,
)
from tests.e2e.data_map_traffic import Traffic, build_traffic
from tests.e2e.fixture_runs import run_tag
from tests.e2e.gateway_requests import (
    GATEWAY,
    gateway_keys,
    stripe_secret,
    wait_for_ids,
    wait_for_rows,
)
from tests.fixture_fields import found_in, sensitive_values
from tests.kafka_clients import kafka_kwargs

pytestmark = pytest.mark.timeout(900)


async def send(traffic: Traffic, bootstrap: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for hook in traffic.webhooks:
            response = await client.post(f"{GATEWAY}/{hook.provider}", content=hook.body,
                                         headers=hook.headers)
            assert response.is_success, (hook.event_id, response.status_code, response.text)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        for topic, key, value, _ in traffic.poison:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def wait_for_quarantine(dsn: str, event_ids: set[str], within: float = 180) -> set[str]:
    return await wait_for_ids(dsn, "payment_events_quarantine", event_ids, within)


class Search:
    """Needles found, and how much of each store was read (so that "none found" means the
    scanners read something: a store read empty would prove nothing)."""

    def __init__(self, needles: set[str]) -> None:
        self.needles, self.found, self.read = needles, [], Counter()

    def look(self, where: str, text: str) -> None:
        self.read[where.split()[0]] += 1
        self.found.extend((where, n) for n in self.needles if found_in(n, text))


async def scan(search: Search, since, dsn: str, bootstrap: str, target: str) -> Search:
    async for where, text in postgres_texts(dsn, since):
        search.look(where, text)
    async for where, text in kafka_texts(bootstrap, since):
        search.look(where, text)
    client = await Client.connect(target)
    async for where, text in temporal_texts(client, since):
        search.look(where, text)
    for where, text in iceberg_texts(BatchSettings().warehouse_uri(), since):
        search.look(where, text)
    return search


async def scan_raw(search: Search, since, bootstrap: str) -> Search:
    async for where, text in kafka_texts(bootstrap, since, raw=True):
        search.look(where, text)
    return search


async def terminate_reviews(target: str, event_ids: set[str]) -> None:
    client = await Client.connect(target)
    for event_id in event_ids:  # nothing left waiting for a reviewer on the shared server
        try:
            await client.get_workflow_handle(workflow_id(DLQ_REVIEW, event_id)).terminate(
                "test over")
        except Exception:  # noqa: BLE001, S110 - already closed, or never started
            pass


def test_card_and_personal_data_stay_on_the_raw_topics(pipeline, postgres_dsn, kafka_bootstrap,
                                                       temporal_target):
    traffic = build_traffic(run_tag(0), gateway_keys(), stripe_secret())
    needles = set().union(*(sensitive_values(hook.record) for hook in traffic.webhooks))
    # The kinds the issue names reach the pipeline: expiry, fingerprint, BIN, names, e-mail,
    # addresses, for every provider.
    assert {"03/2030", "ZoVSX2dK5igWt2SB", "555555", "Jenny Rosen", "amitree.apu@gmail.com",
            "San Francisco", "Dan Schulman"} <= needles
    since = asyncio.run(take_since(postgres_dsn, kafka_bootstrap,
                                   datetime.now(UTC) - timedelta(seconds=2)))
    valid = {h.event_id for h in traffic.webhooks if not h.quarantined}
    quarantined = ({h.event_id for h in traffic.webhooks if h.quarantined}
                   | {event_id for *_, event_id in traffic.poison})
    try:
        asyncio.run(send(traffic, kafka_bootstrap))
        rows = asyncio.run(wait_for_rows(postgres_dsn, valid, within=300))
        assert rows == valid, f"no row for {sorted(valid - rows)}"
        held = asyncio.run(wait_for_quarantine(postgres_dsn, quarantined))
        assert held == quarantined, f"not quarantined: {sorted(quarantined - held)}"
        run_batch_load()

        search = asyncio.run(scan(Search(needles), since, postgres_dsn, kafka_bootstrap,
                                  temporal_target))
        raw = asyncio.run(scan_raw(Search(needles), since, kafka_bootstrap))
    finally:
        asyncio.run(terminate_reviews(temporal_target, quarantined))
    # Each store was read: this run's rows, records, histories and lake files.
    assert search.read["postgres"] >= len(valid) + len(quarantined), search.read
    assert search.read["kafka"] >= len(valid) + len(quarantined), search.read
    assert search.read["temporal"] >= len(valid) + len(quarantined), search.read
    assert search.read["iceberg"] > 0, search.read
    assert not search.found, "\n".join(f"{n!r} in {where}" for where, n in search.found[:50])
    # ... and the originals are on the raw topics, where `review show` reads them (Braintree's
    # are there too, inside the form's base64).
    on_raw = {needle for _, needle in raw.found}
    assert {"Jenny Rosen", "ZoVSX2dK5igWt2SB", "03/2030", "540988"} <= on_raw, on_raw
