"""The replay's I/O on the real Kafka and PostgreSQL: holdings, the window read, the re-drive.

The whole command against the running pipeline (a hole filled exactly, a complete window
left alone) is tests/e2e/test_replay_end_to_end.py.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.dead_letters import source_event_id
from contracts.providers import ORIGIN_HEADER, raw_headers
from orchestration import holdings
from orchestration.holdings import held_event_ids, quarantined_payloads
from orchestration.models import Enrichment, PersistInput, ValidationResult
from orchestration.replay import ReplayError, read_window, redrive
from orchestration.replay_plan import Window, group_records
from tests.builders import make_dead_letter, make_payment_event
from tests.kafka_clients import kafka_kwargs, operator_auth


async def test_held_event_ids_finds_rows_in_either_table(store, pg, unique, monkeypatch):
    stored, letter, lost = (f"evt_replay_{unique}_{name}" for name in ("stored", "letter", "lost"))
    event = make_payment_event(provider_event_id=stored)
    await store.insert_payment_event(PersistInput(event, ValidationResult(), Enrichment()))
    await store.insert_quarantine(make_dead_letter(event_id=f"stripe:{letter}",
                                                   provider_event_id=letter))
    ids = [stored, letter, lost]

    assert await held_event_ids(pg, "stripe", ids) == {stored, letter}
    async with pg.acquire() as conn:  # a connection does as well as a pool
        assert await held_event_ids(conn, "stripe", ids) == {stored, letter}
    assert await held_event_ids(pg, "adyen", ids) == set()  # ids are per provider
    assert await held_event_ids(pg, "stripe", []) == set()
    monkeypatch.setattr(holdings, "BATCH_SIZE", 1)  # batches add up
    assert await held_event_ids(pg, "stripe", ids) == {stored, letter}


async def test_a_letter_naming_no_id_is_found_by_topic_and_payload_digest(store, pg, unique):
    topic = f"test.replay.{unique}"
    raw = f'{{"id": null, "n": "{unique}"}}'.encode()
    digest = hashlib.sha256(raw).hexdigest()
    await store.insert_quarantine(make_dead_letter(
        event_id=source_event_id(topic, 2, 7), source_topic=topic, source_partition=2,
        source_offset=7, payload=raw.decode(), payload_sha256=digest,
        payload_length=len(raw)))
    other = hashlib.sha256(raw + b" ").hexdigest()
    found = await quarantined_payloads(pg, [(topic, digest), (topic, other),
                                            (f"{topic}.other", digest)])
    assert found == {(topic, digest)}
    assert await quarantined_payloads(pg, []) == set()


def _headers(n: int) -> list[tuple[str, bytes]]:
    return raw_headers("stripe", "payment_intent.succeeded", "2026-12-01T10:00:00Z", f"req-{n}")


async def _produce(bootstrap: str, topic: str, records: list[tuple[int, bytes, int]]) -> None:
    """(partition, key, timestamp ms) each, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **kafka_kwargs(), acks="all")
    await producer.start()
    try:
        for n, (partition, key, at_ms) in enumerate(records):
            await producer.send_and_wait(topic, b'{"n": %d}' % n, key=key, partition=partition,
                                         timestamp_ms=at_ms, headers=_headers(n))
    finally:
        await producer.stop()


async def test_read_window_returns_exactly_the_records_stamped_in_it(kafka_bootstrap,
                                                                     scratch_topic):
    t = (int(time.time()) - 600) * 1000
    await _produce(kafka_bootstrap, scratch_topic, [
        (0, b"before", t - 1000), (0, b"first", t), (0, b"late-stamped", t - 5000),
        (0, b"second", t + 500), (0, b"after", t + 2000),
        (1, b"edge", t + 999), (1, b"at-until", t + 1000),
    ])  # partition 2 gets nothing
    window = Window(datetime.fromtimestamp(t / 1000, UTC),
                    datetime.fromtimestamp((t + 1000) / 1000, UTC))

    records = await read_window(kafka_bootstrap, [scratch_topic], window, timeout_s=10,
                                auth=operator_auth())

    assert sorted((r.partition, r.offset, r.key) for r in records) == [
        (0, 1, b"first"), (0, 3, b"second"), (1, 0, b"edge")]
    first = next(r for r in records if r.key == b"first")
    assert first.value == b'{"n": 1}' and list(first.headers) == _headers(1)
    assert first.timestamp_ms == t


async def test_read_window_refuses_a_topic_the_broker_lacks(kafka_bootstrap, unique):
    window = Window(datetime.fromtimestamp(0, UTC), datetime.now(UTC))
    with pytest.raises(ReplayError, match=f"test.never.{unique}"):
        await read_window(kafka_bootstrap, [f"test.never.{unique}"], window, timeout_s=10,
                          auth=operator_auth())


async def test_redrive_copies_each_first_record_with_the_origin_header_throttled(
        kafka_bootstrap, scratch_topic):
    t = int(time.time() * 1000) - 60_000
    await _produce(kafka_bootstrap, scratch_topic, [
        (2, b"evt_a", t), (1, b"evt_b", t + 1), (2, b"evt_a", t + 2), (0, b"evt_c", t + 3)])
    window = Window(datetime.fromtimestamp(t / 1000, UTC),
                    datetime.fromtimestamp((t + 10) / 1000, UTC))
    events, _ = group_records("stripe", await read_window(kafka_bootstrap, [scratch_topic],
                                                          window, timeout_s=10,
                                                          auth=operator_auth()))
    missing = sorted(events.values(), key=lambda c: c.first.timestamp_ms)
    started = time.monotonic()

    done = await redrive(kafka_bootstrap, missing, rate=5, timeout_s=10,
                        auth=operator_auth())

    assert time.monotonic() - started >= 0.4  # three sends at 5/s: the last at 0.4 s
    assert [(d.candidate.provider_event_id, d.partition) for d in done] == [
        ("evt_a", 2), ("evt_b", 1), ("evt_c", 0)]
    copies = await _read_at(kafka_bootstrap, scratch_topic, [(d.partition, d.offset)
                                                            for d in done])
    for d, copy in zip(done, copies, strict=True):
        original = d.candidate.first
        assert (copy.key, copy.value) == (original.key, original.value)
        assert list(copy.headers) == [*original.headers, (ORIGIN_HEADER, b"replay")]


async def _read_at(bootstrap: str, topic: str, coordinates: list[tuple[int, int]]):
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        found = []
        for partition, offset in coordinates:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, offset)
            found.append(await consumer.getone(tp))
        return found
    finally:
        await consumer.stop()
