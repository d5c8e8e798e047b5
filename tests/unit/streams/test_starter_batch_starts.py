"""The batched mode's starts and acks, with Temporal's answers faked (no servers)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from faust.types import TP
from faust.types.tuples import RecordMetadata
from prometheus_client import REGISTRY
from temporalio.service import RPCStatusCode

from contracts.workflows import (
    DLQ_REVIEW,
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    batch_key,
    workflow_id,
)
from streams import starter
from streams.codecs import decode_dead_letter, encode_event
from streams.workflow_starts import StartRefusedError
from tests.builders import make_payment_event
from tests.unit.streams.streams_agent_helpers import starter_event

BATCH = 10


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    headers: list = field(default_factory=list)


def on_normalized(value: bytes, offset: int):
    return starter_event(Message(starter.settings.TOPIC_NORMALIZED, 1, offset, value))


@pytest.fixture
def batched(monkeypatch):
    """The batched mode, as STREAMS_STARTER_BATCH_SIZE=10 sets it at import."""
    monkeypatch.setattr(starter.settings, "STARTER_BATCH_SIZE", BATCH)
    monkeypatch.setattr(starter.batch_starts, "max_events", BATCH)


@pytest.fixture
def temporal(monkeypatch, batched):
    """Records every signal-with-start; `refuse` holds workflow ids Temporal refuses for good.
    The producer is faked too: a refused payment's dead letter is recorded in `sent`."""

    fake = SimpleNamespace(calls=[], refuse=set(), sent=[])

    async def signal_with_start(target, event_id, arg, on_retry=None):
        fake.calls.append((target, event_id, arg))
        wf_id = workflow_id(target, event_id)
        if wf_id in fake.refuse:
            raise StartRefusedError(wf_id, RPCStatusCode.INVALID_ARGUMENT, "refused in the test")
        return "started"

    async def send(topic, key, value, partition, timestamp, headers, **_):
        fake.sent.append((topic, key, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(RecordMetadata(topic, 0, TP(topic, 0), len(fake.sent), None, None))
        return done

    monkeypatch.setattr(starter.starter, "signal_with_start", signal_with_start)
    monkeypatch.setattr(starter.app.producer, "send", send)
    return fake


def counted(agent: str) -> dict[str, int]:
    return dict(starter.counters.snapshot().get(agent, {}))


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in after
            if after.get(k, 0) != before.get(k, 0)}


async def test_payments_go_as_one_batch_and_a_dead_letter_alone(temporal):
    payments = [make_payment_event(provider_event_id=f"evt_b{i}") for i in range(3)]
    events = [on_normalized(encode_event(p), i) for i, p in enumerate(payments)]
    events.insert(1, on_normalized(b"\xffgarbage", 9))
    events.append(on_normalized(encode_event(payments[0]), 10))  # a redelivered copy
    before = counted("batch-test")

    await starter.start_messages(events, "batch-test")

    [(target, key, arg), (review, letter_id, _)] = temporal.calls
    assert (target, key) == (PAYMENT_BATCH, batch_key(p.event_id for p in payments))
    assert arg == payments
    assert (review, letter_id) == (DLQ_REVIEW, f"dlq:{starter.settings.TOPIC_NORMALIZED}:1:9")
    # Per event, as in the per-event mode: every event read is processed, each has an outcome.
    assert delta(before, counted("batch-test")) == {"processed": 5, "started": 4,
                                                    "deduplicated": 1}


async def test_a_refused_batch_starts_its_events_one_by_one_only_the_faulty_one_dead_lettered(
        temporal):
    payments = [make_payment_event(provider_event_id=f"evt_r{i}") for i in range(3)]
    events = [on_normalized(encode_event(p), 20 + i) for i, p in enumerate(payments)]
    batch_id = workflow_id(PAYMENT_BATCH, batch_key(p.event_id for p in payments))
    temporal.refuse |= {batch_id, workflow_id(PAYMENT_EVENT, payments[1].event_id)}
    labels = {"outcome": "refused"}
    refused_before = REGISTRY.get_sample_value("streams_starter_batches_total", labels) or 0
    before = counted("refusal-test")

    await starter.start_messages(events, "refusal-test")

    assert [(t, i) for t, i, _ in temporal.calls] == [
        (PAYMENT_BATCH, batch_key(p.event_id for p in payments)),
        *((PAYMENT_EVENT, p.event_id) for p in payments)]
    [(topic, key, value)] = temporal.sent
    letter = decode_dead_letter(value)
    assert (topic, key) == (starter.settings.TOPIC_VALIDATION_DLQ, payments[1].event_id.encode())
    assert (letter.stage, letter.error_codes) == ("start", ["start.invalid_argument"])
    assert (letter.source_partition, letter.source_offset) == (1, 21)
    assert delta(before, counted("refusal-test")) == {"processed": 3, "started": 2,
                                                      "dead_lettered": 1}
    assert REGISTRY.get_sample_value("streams_starter_batches_total", labels) == (
        refused_before + 1)


async def test_an_accepted_batch_is_counted_and_logged_once_with_its_ids(temporal, caplog):
    payments = [make_payment_event(provider_event_id=f"evt_l{i}") for i in range(2)]
    events_before = REGISTRY.get_sample_value("streams_starter_batch_events_sum") or 0
    caplog.set_level("INFO", logger="streams.batches")

    await starter.start_messages(
        [on_normalized(encode_event(p), i) for i, p in enumerate(payments)], "log-test")

    [line] = [r for r in caplog.records if r.name == "streams.batches"]
    wf_id = workflow_id(PAYMENT_BATCH, batch_key(p.event_id for p in payments))
    assert (line.workflow_id, line.event_count) == (wf_id, 2)
    assert line.event_ids == [p.event_id for p in payments]
    assert REGISTRY.get_sample_value("streams_starter_batch_events_sum") == events_before + 2


def record(value: bytes, offset: int):
    # test_context() feeds a plain channel, which decodes nothing: the topic's schema does
    # what the worker's topic does with the bytes.
    topic = starter.normalized_topic
    return topic.schema.loads_value(starter.app, Message(topic.get_topic_name(), 1, offset, value))


async def test_the_agent_acks_a_gathering_only_after_temporal_accepted_its_batch(monkeypatch,
                                                                                 batched):
    # Long enough that the four puts land in one gathering on a loaded machine (0.05 s once
    # split them in two while the fault suite ran).
    monkeypatch.setattr(starter.settings, "STARTER_BATCH_WINDOW_SECONDS", 0.5)
    payments = [make_payment_event(provider_event_id=f"evt_a{i}") for i in range(4)]
    put: list = []
    calls: list[tuple] = []
    release = asyncio.Event()

    async def signal_with_start(target, event_id, arg, on_retry=None):
        calls.append((target, event_id, arg, [e.message.acked for e in put]))
        await release.wait()  # Temporal has not answered yet
        return "started"

    monkeypatch.setattr(starter.starter, "signal_with_start", signal_with_start)
    async with asyncio.timeout(10), starter.start_payment_workflows.test_context() as ctx:
        for i, p in enumerate(payments):
            put.append(await ctx.put(record(encode_event(p), i),
                                     key=b"k", partition=1))
        while not calls:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        assert not any(e.message.acked for e in put)  # waiting on Temporal: nothing acked
        release.set()
        while not all(e.message.acked for e in put):  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.005)
    [(target, key, arg, acked_then)] = calls
    assert (target, key) == (PAYMENT_BATCH, batch_key(p.event_id for p in payments))
    assert arg == payments and not any(acked_then)
