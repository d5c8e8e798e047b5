"""The Adyen, Braintree and Square agents through test_context(): outputs, DLQ keys, dedup."""

from __future__ import annotations

import pytest
from streams_agent_helpers import put_all as put_records
from streams_provider_fixtures import (
    adyen_items,
    adyen_kafka,
    braintree_kafka,
    braintree_transaction,
    square_event,
    square_kafka,
)

from streams import normalizer
from streams.codecs import decode_dead_letter, decode_event

NORMALIZED = normalizer.settings.TOPIC_NORMALIZED
DLQ = normalizer.settings.TOPIC_VALIDATION_DLQ


def square_refund() -> tuple[bytes, bytes]:
    return square_kafka(square_event("square/refund.created.json"))


CASES = {
    "adyen": (lambda: normalizer.agents["adyen"], lambda: adyen_kafka(
        adyen_items("adyen/batch.json")[0]), normalizer.settings.TOPIC_ADYEN),
    "braintree": (lambda: normalizer.agents["braintree"], braintree_kafka,
                  normalizer.settings.TOPIC_BRAINTREE),
    "square_payment": (lambda: normalizer.agents["square_payment"],
                       lambda: square_kafka(square_event()),
                       normalizer.settings.TOPIC_SQUARE_PAYMENT),
    "square_refund": (lambda: normalizer.agents["square_refund"], square_refund,
                      normalizer.settings.TOPIC_SQUARE_REFUND),
}


async def put_all(agent, records: list[tuple[bytes | None, bytes]]) -> None:
    await put_records(agent, records, partition=2)


@pytest.fixture(autouse=True)
def clean_dedup():
    normalizer.dedup_table.data.clear()
    yield
    normalizer.dedup_table.data.clear()


@pytest.mark.parametrize("agent", sorted(CASES))
async def test_one_output_per_event_and_duplicates_dropped(sent, agent):
    get_agent, build, _ = CASES[agent]
    key, value = build()
    provider = agent.split("_")[0]
    before = normalizer.counters.get(agent, "deduplicated")
    await put_all(get_agent(), [(key, value), (key, value)])

    [(out_key, raw)] = sent.on(NORMALIZED)
    record = decode_event(raw)
    assert out_key == f"{provider}:{key.decode()}" == record.event_id
    assert record.provider == provider and record.provider_event_id == key.decode()
    assert sent.on(DLQ) == []
    assert out_key in normalizer.dedup_table
    assert normalizer.counters.get(agent, "deduplicated") - before == 1


@pytest.mark.parametrize("agent", sorted(CASES))
async def test_invalid_and_poison_records_are_dead_lettered(sent, agent):
    get_agent, _, topic = CASES[agent]
    provider = agent.split("_")[0]
    await put_all(get_agent(), [(b"bad-1", b"\xff\x00 not an event"), (None, b"{}")])

    (key1, raw1), (key2, raw2) = sent.on(DLQ)
    first, second = decode_dead_letter(raw1), decode_dead_letter(raw2)
    # Keyed by the unified id when the record had a key, else by its coordinates.
    assert key1 == first.event_id == f"{provider}:bad-1"
    assert (first.provider, first.provider_event_id, first.source_topic) == (
        provider, "bad-1", topic)
    assert key2 == second.event_id == f"dlq:{topic}:2:1"
    assert second.error_codes == ["key.missing"] and second.provider == provider
    assert sent.on(NORMALIZED) == []


async def test_a_braintree_amount_with_too_many_decimals_is_dead_lettered(sent):
    key, form = braintree_kafka(subject=braintree_transaction(amount="10.005"))
    await put_all(normalizer.agents["braintree"], [(key, form)])
    [(dlq_key, raw)] = sent.on(DLQ)
    letter = decode_dead_letter(raw)
    assert dlq_key == f"braintree:{key.decode()}"
    assert letter.error_codes == ["amount.not_minor_unit"]
    assert letter.payload.encode() == form


async def test_a_mapping_bug_dead_letters_under_the_agents_provider(sent, monkeypatch):
    def broken(key, raw, now):
        raise KeyError("bug")

    monkeypatch.setitem(normalizer.mappers, "square", broken)
    await put_all(normalizer.agents["square_payment"], [square_kafka(square_event())])
    [(_, raw)] = sent.on(DLQ)
    letter = decode_dead_letter(raw)
    assert (letter.stage, letter.error_codes, letter.provider) == (
        "normalize", ["normalize.internal_error"], "square")

