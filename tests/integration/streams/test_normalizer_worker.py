"""A real normalizer worker on the real broker: exact output counts, crash recovery, dedup state."""

from __future__ import annotations

import asyncio
import collections

import orjson
import pytest

from streams.codecs import decode_dead_letter, decode_event

pytestmark = pytest.mark.timeout(280)

TOPIC_OF = {"payment_intent": "payment_intent", "charge": "charge", "charge.dispute": "charge",
            "charge.refund": "refund"}
VALID_KINDS = ["payment_intent.succeeded", "charge.failed", "charge.dispute.created",
               "charge.refund.updated"]


def topic_for(topics, fixture: str) -> str:
    prefix = next(p for p in sorted(TOPIC_OF, key=len, reverse=True) if fixture.startswith(p))
    return getattr(topics, TOPIC_OF[prefix])


async def send_all(producer, items: list[tuple[str, bytes, bytes]]) -> None:
    futures = [await producer.send(topic, value, key=key) for topic, key, value in items]
    await asyncio.gather(*futures)


def build_batch(topics, raw_event, unique: str, n_valid: int):
    valid, invalid = [], []
    for i in range(n_valid):
        name = VALID_KINDS[i % len(VALID_KINDS)]
        key, value = raw_event(name, f"evt_{unique}_{i}")
        valid.append((topic_for(topics, name), key, value))
    for i, bad in enumerate([{"amount": 10.5}, {"currency": "XYZ"}, {"amount": "100"},
                             {"amount": 100_000_001, "currency": "jpy"}]):
        key, value = raw_event("charge.succeeded", f"evt_{unique}_bad{i}", **bad)
        invalid.append((topics.charge, key, value))
    poison = [(topics.payment_intent, b"poison-1", b"\xff\xfe\x00not json"),
              (topics.refund, b"poison-2", b"[1, 2, 3]"),
              (topics.charge, b"poison-3", b"")]
    return valid, invalid, poison


async def test_mixed_batch_gives_exact_counts(pipeline_topics, start_worker, producer, read_all,
                                              raw_event, unique, wait_committed):
    app_id = f"test-norm-{unique}"
    worker = await start_worker("streams.normalizer", app_id)
    valid, invalid, poison = build_batch(pipeline_topics, raw_event, unique, 40)
    duplicates = valid[:10] + invalid[:2]
    await send_all(producer, valid + invalid + poison + duplicates)

    normalized = await read_all(pipeline_topics.normalized, expect=len(valid))
    dead = await read_all(pipeline_topics.dlq, expect=len(invalid) + len(poison))

    assert len(normalized) == len(valid)
    assert {k for k, _ in normalized} == {b"stripe:" + k for _, k, _ in valid}
    events = [decode_event(v) for _, v in normalized]
    assert {e.event_type for e in events} == {"payment.succeeded", "charge.failed",
                                              "dispute.created", "refund.updated"}
    assert len(dead) == len(invalid) + len(poison)
    letters = [decode_dead_letter(v) for _, v in dead]
    codes = collections.Counter(c for letter in letters for c in letter.error_codes)
    assert codes == {"amount.not_integer": 2, "currency.unsupported": 1,
                     "amount.out_of_range": 1, "payload.not_json": 2, "payload.not_object": 1}
    counters = await worker.counters()
    assert sum(c.get("deduplicated", 0) for c in counters.values()) == len(duplicates)
    assert sum(c.get("processed", 0) for c in counters.values()) == (
        len(valid) + len(invalid) + len(poison) + len(duplicates))
    # Offsets do move once outputs are written (manual acks reach the commit).
    await wait_committed(app_id, [pipeline_topics.payment_intent, pipeline_topics.charge,
                                  pipeline_topics.refund])
    metrics = (await worker.get("/metrics")).text
    assert 'streams_agent_events_total{agent="charge",app="normalizer",outcome="deduplicated"}' \
        in metrics


async def test_sigkill_mid_batch_loses_nothing_and_dedup_survives_restart(
        pipeline_topics, start_worker, producer, read_all, raw_event, unique, record_property,
        tmp_path):
    app_id = f"test-norm-kill-{unique}"
    valid, _, _ = build_batch(pipeline_topics, raw_event, unique, 1500)
    await send_all(producer, valid)
    first = await start_worker("streams.normalizer", app_id)
    # Kill once part of the batch is out, so the crash lands mid-stream.
    await read_all(pipeline_topics.normalized, expect=300, quiet=0)
    first.kill()

    second = await start_worker("streams.normalizer", app_id)
    normalized = await read_all(pipeline_topics.normalized, expect=len(valid))
    keys = collections.Counter(k for k, _ in normalized)
    assert set(keys) == {b"stripe:" + k for _, k, _ in valid}, "an event was lost"
    doubled = sum(n - 1 for n in keys.values())
    record_property("duplicates_after_sigkill", doubled)
    print(f"\nduplicates on {len(valid)} events after SIGKILL (at-least-once): {doubled}")

    # Dedup state outlives a restart: re-sent events produce nothing new.
    second.stop()
    third = await start_worker("streams.normalizer", app_id)
    await send_all(producer, valid[:50])
    again = await read_all(pipeline_topics.normalized, expect=len(normalized))
    assert len(again) == len(normalized)
    seen = await third.get(f"/dedup/stripe/{valid[0][1].decode()}")
    assert seen.status_code == 200 and seen.json()["seen"] is True
    counters = await third.counters()
    # At least the re-sent 50; more if the stopped worker's last offsets were uncommitted.
    assert sum(c.get("deduplicated", 0) for c in counters.values()) >= 50
    assert sum(c.get("normalized", 0) for c in counters.values()) == 0
    assert orjson.loads((await third.get("/dedup/size")).content)["size"] == len(valid)
    # ...and it is RocksDB's, on disk: a test process's settings must not reach the worker.
    assert sorted(p.name for p in (tmp_path / "faust" / app_id).rglob("dedup-seen-*.db")) \
        == ["dedup-seen-0.db", "dedup-seen-1.db", "dedup-seen-2.db"]
