"""The batched mode's pure part: which payments share a PaymentBatchWorkflow, and its id."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.events import PaymentEvent
from contracts.limits import MAX_KEY_BYTES
from contracts.workflows import (
    BATCH_MAX_EVENTS,
    DLQ_REVIEW,
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    batch_key,
    workflow_id,
)
from streams.batches import Decoded, batch_start, encoded_size, plan
from streams.codecs import encode_event
from streams.settings import StreamsSettings
from tests.builders import make_payment_event


def pay(name: str, **overrides) -> Decoded:
    event = make_payment_event(provider_event_id=f"evt_{name}", **overrides)
    return Decoded(object(), PAYMENT_EVENT, event.event_id, event)


def review(name: str) -> Decoded:
    return Decoded(object(), DLQ_REVIEW, f"dlq:t:0:{name}", object())


def ids(items: list[Decoded]) -> list[str]:
    return [item.event_id for item in items]


def test_a_gathering_splits_into_batches_of_at_most_max_events_in_order():
    items = [pay(str(i)) for i in range(7)]
    work = plan(items, max_events=3)
    assert [ids(b) for b in work.batches] == [ids(items[:3]), ids(items[3:6]), ids(items[6:])]
    assert (work.singles, work.duplicates) == ([], [])


def test_a_batch_closes_before_it_would_pass_max_bytes():
    items = [pay(str(i)) for i in range(5)]
    size = encoded_size(items[0].arg)
    work = plan(items, max_events=100, max_bytes=2 * size + size // 2)
    assert [len(b) for b in work.batches] == [2, 2, 1]
    assert sum(encoded_size(i.arg) for i in work.batches[0]) <= 2 * size + size // 2


def test_the_size_counted_is_the_events_json():
    event = make_payment_event()
    assert encoded_size(event) == len(encode_event(event))


def test_a_payment_over_max_bytes_by_itself_starts_alone_and_the_others_still_batch():
    small = [pay("a"), pay("b")]
    big = pay("big", metadata={"note": "x" * 4000})
    work = plan([small[0], big, small[1]], max_events=10, max_bytes=2000)
    assert [ids(b) for b in work.batches] == [ids(small)]
    assert work.singles == [big]


def test_what_is_not_a_payment_goes_the_per_event_way():
    letter, payment = review("1"), pay("p")
    work = plan([letter, payment], max_events=10)
    assert work.singles == [letter]
    assert [ids(b) for b in work.batches] == [[payment.event_id]]


def test_an_id_over_the_key_budget_starts_alone_so_its_refusal_is_dead_lettered_as_today():
    long = pay("x" * MAX_KEY_BYTES)
    work = plan([long, pay("ok")], max_events=10)
    assert work.singles == [long]
    assert len(work.batches) == 1


def test_a_second_copy_of_an_event_id_is_dropped_the_first_kept():
    first = pay("dup")
    second = Decoded(object(), PAYMENT_EVENT, first.event_id,
                     make_payment_event(provider_event_id="evt_dup", amount_cents=1))
    other = pay("other")
    work = plan([first, other, second], max_events=10)
    assert [[i.arg for i in b] for b in work.batches] == [[first.arg, other.arg]]
    assert work.duplicates == [second]


# Each item: (event id from a small pool, so some repeat; its size; a payment or not).
ITEMS = st.lists(st.tuples(st.integers(0, 15), st.integers(1, 600), st.booleans()), max_size=60)


@given(ITEMS, st.integers(1, 12), st.integers(100, 2000))
def test_every_event_lands_in_exactly_one_place_and_every_batch_keeps_the_bounds(
        items, max_events, max_bytes):
    decoded = [Decoded(object(), PAYMENT_EVENT if is_payment else DLQ_REVIEW, f"e{n}", size)
               for n, size, is_payment in items]
    work = plan(decoded, max_events, max_bytes, size=lambda size: size)

    batched = [item for batch in work.batches for item in batch]
    placed = batched + work.singles + work.duplicates
    assert sorted(map(id, placed)) == sorted(map(id, decoded))
    for batch in work.batches:
        assert 1 <= len(batch) <= max_events
        assert sum(item.arg for item in batch) <= max_bytes
    dropped = set(map(id, work.duplicates))
    alone = set(map(id, work.singles))
    payments_kept = [i for i in decoded if i.target == PAYMENT_EVENT and id(i) not in dropped]
    assert ids(batched) == [i.event_id for i in payments_kept if id(i) not in alone]
    assert len(set(ids(payments_kept))) == len(payments_kept)  # each event id once
    assert all(i.arg > max_bytes for i in work.singles if i.target == PAYMENT_EVENT)


def test_a_batch_is_addressed_by_its_sorted_ids_and_carries_its_events_in_order():
    batch = [pay("b"), pay("a"), pay("c")]
    key, arg = batch_start(batch)
    assert key == batch_key(ids(batch)) == batch_start(list(reversed(batch)))[0]
    assert arg == [item.arg for item in batch]
    wf_id = workflow_id(PAYMENT_BATCH, key)
    assert wf_id.startswith("payment-batch:") and len(wf_id) == len("payment-batch:") + 32
    assert batch_start(batch[:2])[0] != key


def test_batching_is_off_by_default(monkeypatch):
    monkeypatch.delenv("STREAMS_STARTER_BATCH_SIZE", raising=False)
    monkeypatch.delenv("STREAMS_STARTER_BATCH_WINDOW_SECONDS", raising=False)
    settings = StreamsSettings()
    assert (settings.STARTER_BATCH_SIZE, settings.STARTER_BATCH_WINDOW_SECONDS) == (1, 0.5)


@pytest.mark.parametrize(("size", "actors", "expected"), [
    ("1", None, 16),  # per event: one actor per start in flight
    ("25", None, 1),  # batched: one gatherer fills the batches, whatever the concurrency
    ("25", "3", 3),
    ("1", "3", 16),  # the batched mode's actors do not touch the per-event mode
])
def test_the_batched_mode_gathers_with_its_own_actors(monkeypatch, size, actors, expected):
    monkeypatch.delenv("STREAMS_STARTER_CONCURRENCY", raising=False)
    monkeypatch.setenv("STREAMS_STARTER_BATCH_SIZE", size)
    if actors is None:
        monkeypatch.delenv("STREAMS_STARTER_BATCH_ACTORS", raising=False)
    else:
        monkeypatch.setenv("STREAMS_STARTER_BATCH_ACTORS", actors)
    assert StreamsSettings().normalized_actors == expected


@pytest.mark.parametrize(("name", "value"), [
    ("STREAMS_STARTER_BATCH_SIZE", "0"), ("STREAMS_STARTER_BATCH_SIZE", str(BATCH_MAX_EVENTS + 1)),
    ("STREAMS_STARTER_BATCH_WINDOW_SECONDS", "0"),
    ("STREAMS_STARTER_BATCH_WINDOW_SECONDS", "60"),
    ("STREAMS_STARTER_BATCH_WINDOW_SECONDS", "nan"),
    ("STREAMS_STARTER_BATCH_ACTORS", "0"),
])
def test_a_bad_batch_setting_stops_startup_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name):
        StreamsSettings()


def test_the_largest_batch_size_is_accepted(monkeypatch):
    monkeypatch.setenv("STREAMS_STARTER_BATCH_SIZE", str(BATCH_MAX_EVENTS))
    monkeypatch.setenv("STREAMS_STARTER_BATCH_WINDOW_SECONDS", "5")
    assert StreamsSettings().STARTER_BATCH_SIZE == BATCH_MAX_EVENTS


async def test_a_batch_crosses_temporals_data_converter_intact():
    from temporalio.converter import DataConverter

    batch = [pay("c1").arg, pay("c2", metadata={"k": "v"}).arg]
    payloads = await DataConverter.default.encode([batch])
    assert await DataConverter.default.decode(payloads, [list[PaymentEvent]]) == [batch]
