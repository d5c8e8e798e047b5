"""The normalizer agents through test_context(): one output per input, duplicates dropped."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from faust.events import Event
from faust.types import Message
from streams_agent_helpers import put_all as put_records

from contracts.redaction import redact_payload
from streams import normalizer
from streams.codecs import decode_dead_letter, decode_event

PI_TOPIC = normalizer.settings.TOPIC_PAYMENT_INTENT
NORMALIZED = normalizer.settings.TOPIC_NORMALIZED
DLQ = normalizer.settings.TOPIC_VALIDATION_DLQ


async def put_all(agent, values: list[bytes]) -> None:
    await put_records(agent, [(b"k", value) for value in values], partition=1)


@pytest.fixture(autouse=True)
def clean_dedup():
    normalizer.dedup_table.data.clear()
    yield
    normalizer.dedup_table.data.clear()


async def test_valid_event_goes_to_normalized_and_is_marked_seen(sent, stripe_event):
    payload = stripe_event("payment_intent.succeeded")
    await put_all(normalizer.agents["payment_intent"], [orjson.dumps(payload)])

    [(key, raw)] = sent.on(NORMALIZED)
    assert key == f"stripe:{payload['id']}"
    assert decode_event(raw).payment_id == payload["data"]["object"]["id"]
    assert sent.on(DLQ) == []
    assert key in normalizer.dedup_table


async def test_duplicate_is_dropped_and_counted(sent, stripe_event):
    raw = orjson.dumps(stripe_event("charge.succeeded"))
    before = normalizer.counters.get("charge", "deduplicated")
    await put_all(normalizer.agents["charge"], [raw, raw, raw])
    assert len(sent.on(NORMALIZED)) == 1
    assert normalizer.counters.get("charge", "deduplicated") - before == 2


@pytest.mark.parametrize(
    ("value", "code"),
    [(b"\x00\xffnot json", "payload.not_json"), (b"[1]", "payload.not_object"),
     (b"", "payload.not_json")],
)
async def test_unkeyed_poison_bytes_go_to_the_dlq_keyed_by_coordinates(sent, value, code):
    await put_records(normalizer.agents["refund"], [(None, value)], partition=1)
    [(key, raw_letter)] = sent.on(DLQ)
    letter = decode_dead_letter(raw_letter)
    assert key == letter.event_id == f"dlq:{normalizer.settings.TOPIC_REFUND}:1:0"
    assert letter.error_codes == [code]
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        normalizer.settings.TOPIC_REFUND, 1, 0)
    assert sent.on(NORMALIZED) == []


async def test_an_unreadable_body_is_filed_under_its_key_so_a_retry_is_recognised(sent):
    # The gateway keyed both records by the provider's event id: one event, one dead letter.
    key = b"evt_unreadable_1"
    before = normalizer.counters.get("refund", "deduplicated")
    await put_records(normalizer.agents["refund"],
                      [(key, b"\xff\xfe not json"), (key, b"\xff\xfe not json")], partition=1)
    [(out_key, raw_letter)] = sent.on(DLQ)
    letter = decode_dead_letter(raw_letter)
    assert out_key == letter.event_id == "stripe:evt_unreadable_1"
    assert (letter.provider, letter.provider_event_id) == ("stripe", "evt_unreadable_1")
    assert (letter.source_partition, letter.source_offset) == (1, 0)
    assert normalizer.counters.get("refund", "deduplicated") - before == 1


async def test_a_readable_body_without_a_usable_id_keeps_its_coordinates(sent):
    # Different bodies can share a bogus id ("null"): only an unreadable body is filed
    # under its key, so these two stay two dead letters, one quarantine row each.
    bodies = [orjson.dumps({"id": "null", "object": "event", "type": t}) for t in ("a", "b")]
    await put_records(normalizer.agents["refund"], [(b"null", body) for body in bodies],
                      partition=1)
    keys = [key for key, _ in sent.on(DLQ)]
    assert keys == ["dlq:webhooks.stripe.refund:1:0", "dlq:webhooks.stripe.refund:1:1"] or (
        len(set(keys)) == 2 and all(k.startswith("dlq:") for k in keys)), keys


async def test_invalid_event_goes_to_the_dlq_with_its_reason_and_redacted_payload(
        sent, stripe_event):
    payload = stripe_event("payment_intent.succeeded", amount=10.5, currency="XYZ")
    raw = orjson.dumps(payload)
    await put_all(normalizer.agents["payment_intent"], [raw, raw])
    [(key, raw_letter)] = sent.on(DLQ)
    letter = decode_dead_letter(raw_letter)
    assert key == letter.event_id == f"stripe:{payload['id']}"
    assert letter.error_codes == ["amount.not_integer", "currency.unsupported"]
    # The fixture's card expiry and fingerprint are masked; the digest is the original's.
    assert letter.payload == redact_payload(raw).text and letter.payload_encoding == "utf-8"
    assert letter.payload_redaction == "redacted" and b'"fingerprint"' in raw
    assert '"fingerprint":"[masked]"' in letter.payload
    assert letter.payload_sha256 == hashlib.sha256(raw).hexdigest()
    assert letter.source_topic == PI_TOPIC


async def test_unexpected_mapping_bug_dead_letters_instead_of_crashing(sent, monkeypatch,
                                                                       stripe_event):
    def broken(key, raw, now):
        raise KeyError("bug")

    monkeypatch.setitem(normalizer.mappers, "stripe", broken)
    await put_all(normalizer.agents["charge"], [orjson.dumps(stripe_event("charge.failed"))])
    [(_, raw_letter)] = sent.on(DLQ)
    letter = decode_dead_letter(raw_letter)
    assert (letter.stage, letter.error_codes) == ("normalize", ["normalize.internal_error"])


async def test_mixed_batch_gives_exact_counts(sent, stripe_event):
    valid = [orjson.dumps(stripe_event("payment_intent.created")) for _ in range(5)]
    invalid = [orjson.dumps(stripe_event("payment_intent.created", amount="12")) for _ in range(2)]
    batch = valid + valid[:2] + invalid + [b"\xff"]
    await put_all(normalizer.agents["payment_intent"], batch)
    assert len(sent.on(NORMALIZED)) == 5
    assert len(sent.on(DLQ)) == 3


async def test_purge_forgets_expired_ids_and_writes_tombstones(sent):
    now = 10_000_000.0
    retention = normalizer.settings.DEDUP_RETENTION_SECONDS
    normalizer.dedup_table.data["stripe:old"] = [now - retention - 1, 2]
    normalizer.dedup_table.data["stripe:new"] = [now - 60, 0]
    assert await normalizer.purge_dedup(now) == 1
    changelog = normalizer.dedup_table.changelog_topic.get_topic_name()
    assert [(t, k, v, p) for t, k, v, p in sent.sent] == [(changelog, b'"stripe:old"', None, 2)]
    assert "stripe:old" not in normalizer.dedup_table.data
    assert "stripe:new" in normalizer.dedup_table.data


async def test_purge_caps_the_table_in_slices(sent, monkeypatch):
    monkeypatch.setattr(normalizer.settings, "DEDUP_PURGE_SLICE", 7)
    monkeypatch.setattr(normalizer.settings, "DEDUP_MAX_ENTRIES", 20)
    now = 10_000_000.0
    for i in range(50):  # one per 10-second bucket, all within the retention
        normalizer.dedup_table.data[f"stripe:e{i}"] = [now - 1000 + 10 * i, 0]
    assert await normalizer.purge_dedup(now) == 30
    assert sorted(normalizer.dedup_table.data) == sorted(f"stripe:e{i}" for i in range(30, 50))


def raw_events(values: list[bytes], partition: int = 2) -> list[Event]:
    return [Event(normalizer.app, b"k", value, None,
                  Message(PI_TOPIC, partition, offset, 0.0, 0, None, b"k", value, None))
            for offset, value in enumerate(values)]


async def test_a_batch_emits_a_repeated_id_once_and_marks_it_after_the_output(sent, stripe_event):
    payload = stripe_event("payment_intent.succeeded")
    raw, other = orjson.dumps(payload), orjson.dumps(stripe_event("payment_intent.created"))
    await normalizer.normalize_batch(raw_events([raw, other, raw]), "batch_test")

    changelog = normalizer.dedup_table.changelog_topic.get_topic_name()
    topics = [topic for topic, *_ in sent.sent]
    # Both outputs are acked before any dedup entry goes to the changelog.
    assert topics == [NORMALIZED, NORMALIZED, changelog, changelog]
    assert [key for key, _ in sent.on(NORMALIZED)][0] == f"stripe:{payload['id']}"
    [(_, _, seen, partition), _] = [s for s in sent.sent if s[0] == changelog]
    assert partition == 2 and orjson.loads(seen)[1] == 2
    assert normalizer.counters.get("batch_test", "deduplicated") == 1


async def test_no_dedup_entry_when_the_output_fails(sent, monkeypatch, stripe_event):
    async def broken(*args, **kwargs):
        raise RuntimeError("not the broker")

    monkeypatch.setattr(normalizer.app.producer, "send", broken)
    with pytest.raises(RuntimeError):
        await normalizer.normalize_batch(
            raw_events([orjson.dumps(stripe_event("charge.succeeded"))]), "batch_test")
    assert len(normalizer.dedup_table.data) == 0
