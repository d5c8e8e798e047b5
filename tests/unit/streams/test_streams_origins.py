"""A replay copy passes the dedup table, and nothing else: the rule, then the agent."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from streams_agent_helpers import settled_count

from contracts.providers import ORIGIN_HEADER, Origin
from streams import normalizer
from streams.origins import is_duplicate, is_replay, record_origin

NORMALIZED = normalizer.settings.TOPIC_NORMALIZED
REPLAY = [(ORIGIN_HEADER, b"replay")]


@pytest.mark.parametrize(("headers", "origin"), [
    (None, None), ([], None), ([("provider", b"stripe")], None),
    ([("provider", b"stripe"), ("origin", b"replay")], "replay"),
    ({"origin": b"reconciliation"}, "reconciliation"), ({"origin": "replay"}, "replay"),
    ([("origin", b"\xff")], None),
])
def test_record_origin_reads_the_header_in_any_shape_faust_gives(headers, origin):
    assert record_origin(headers) == origin


def test_only_replay_is_a_replay():
    assert is_replay([(ORIGIN_HEADER, Origin.REPLAY.value.encode())])
    assert not is_replay([(ORIGIN_HEADER, Origin.RECONCILIATION.value.encode())])
    assert not is_replay(None)


def _asked(remembered: bool):
    calls: list[str] = []

    def ask(key: str) -> bool:
        calls.append(key)
        return remembered
    return ask, calls


def test_a_webhook_the_table_remembers_is_a_duplicate():
    ask, calls = _asked(True)
    assert is_duplicate("stripe:evt_1", replay=False, claimed=set(), in_flight=set(),
                        remembered=ask)
    assert calls == ["stripe:evt_1"]


def test_a_replay_copy_is_not_dropped_by_the_table_which_is_not_even_asked():
    ask, calls = _asked(True)
    assert not is_duplicate("stripe:evt_1", replay=True, claimed=set(), in_flight=set(),
                            remembered=ask)
    assert calls == []


@pytest.mark.parametrize("replay", [True, False])
def test_a_copy_claimed_in_the_batch_or_in_flight_is_a_duplicate_even_for_replay(replay):
    ask, _ = _asked(False)
    assert is_duplicate("k", replay=replay, claimed={"k"}, in_flight=set(), remembered=ask)
    assert is_duplicate("k", replay=replay, claimed=set(), in_flight={"k"}, remembered=ask)


@pytest.fixture(autouse=True)
def clean_dedup():
    normalizer.dedup_table.data.clear()
    yield
    normalizer.dedup_table.data.clear()


async def _put(agent, records: list[tuple[bytes, bytes, list | None]]) -> None:
    before = settled_count()
    async with agent.test_context() as ctx:
        for key, value, headers in records:
            await ctx.put(value, key=key, partition=1, headers=headers)
        async with asyncio.timeout(10):
            while settled_count() - before < len(records):  # noqa: ASYNC110 - no event to await
                await asyncio.sleep(0.005)


async def test_a_replay_copy_of_a_remembered_event_is_normalized_again_and_counted(
        sent, stripe_event):
    payload = stripe_event("payment_intent.succeeded")
    raw, key = orjson.dumps(payload), payload["id"].encode()
    agent = normalizer.agents["payment_intent"]
    await _put(agent, [(key, raw, None)])
    assert f"stripe:{payload['id']}" in normalizer.dedup_table
    replayed = normalizer.counters.get("payment_intent", "replayed")
    deduplicated = normalizer.counters.get("payment_intent", "deduplicated")

    await _put(agent, [(key, raw, [("provider", b"stripe"), *REPLAY])])

    assert [k for k, _ in sent.on(NORMALIZED)] == [f"stripe:{payload['id']}"] * 2
    assert normalizer.counters.get("payment_intent", "replayed") - replayed == 1
    assert normalizer.counters.get("payment_intent", "deduplicated") == deduplicated
    assert f"stripe:{payload['id']}" in normalizer.dedup_table  # still marked seen


async def test_two_replay_copies_in_one_batch_collapse_to_one(sent, stripe_event):
    payload = stripe_event("charge.succeeded")
    raw, key = orjson.dumps(payload), payload["id"].encode()
    await _put(normalizer.agents["charge"], [(key, raw, REPLAY), (key, raw, REPLAY)])
    assert len(sent.on(NORMALIZED)) == 1
    assert f"stripe:{payload['id']}" in normalizer.dedup_table


async def test_a_webhook_after_a_replay_copy_is_a_duplicate(sent, stripe_event):
    payload = stripe_event("charge.succeeded")
    raw, key = orjson.dumps(payload), payload["id"].encode()
    agent = normalizer.agents["charge"]
    await _put(agent, [(key, raw, REPLAY)])
    await _put(agent, [(key, raw, None)])
    assert len(sent.on(NORMALIZED)) == 1
