"""The seams for faust's and temporalio's private names: a pinned upgrade that removes one fails
here, by name."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from streams import faust_internals, temporal_internals

PRIVATE_SYMBOLS = faust_internals.PRIVATE_SYMBOLS + temporal_internals.PRIVATE_SYMBOLS
SEAMS = {"faust_internals.py", "temporal_internals.py"}

STREAMS = Path(__file__).resolve().parents[3] / "streams"


def _owner(path: str):
    module, _, attr = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize(("owner", "name"), PRIVATE_SYMBOLS,
                         ids=[f"{o}.{n}" for o, n in PRIVATE_SYMBOLS])
def test_each_private_symbol_still_exists(owner, name):
    target = _owner(owner)
    # Instance attributes are set in __init__ and only show in its source.
    present = hasattr(target, name) or (
        inspect.isclass(target) and f"self.{name}" in inspect.getsource(target.__init__))
    assert present, f"{owner}.{name} is gone: its seam in streams/ needs work"


def test_no_other_streams_module_uses_a_private_library_name():
    private = {name for _, name in PRIVATE_SYMBOLS}
    offenders = []
    for path in STREAMS.rglob("*.py"):
        if path.name in SEAMS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "attr", None) or getattr(node, "name", None)
            if isinstance(node, ast.alias):
                name = node.name
            if name in private:
                offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert not offenders, offenders


def test_a_trusted_record_is_the_record_its_init_builds():
    from datetime import UTC, datetime

    from streams.faust_internals import trusted_record
    from streams.records import DeadLetterRecord, IssueRecord

    values = dict(event_id="dlq:t:0:1", source_topic="t", source_partition=0, source_offset=1,
                  payload="p", payload_encoding="utf-8", failed_at=datetime.now(UTC),
                  stage="validate", provider=None, provider_event_id=None, error_codes=["a"],
                  payload_sha256="0" * 64, payload_length=1, payload_truncated=False,
                  payload_redaction="redacted")
    built = DeadLetterRecord(**values, errors=[IssueRecord(code="a", message="m")])
    trusted = trusted_record(DeadLetterRecord, {
        **values, "errors": [trusted_record(IssueRecord, {"code": "a", "message": "m",
                                                          "field": None})]})
    assert trusted == built
    assert trusted.asdict() == built.asdict()
    assert trusted.dumps() == built.dumps()
    assert trusted.errors[0].field is None


def test_every_consuming_worker_uses_the_consumer_that_seeks_uncommitted_partitions():
    """The normalizer, the starter and the faust floor re-read what a rebalance dropped
    (tests/integration/streams/test_rebalance_seek.py shows the seek on the real broker)."""
    from bench import faust_floor
    from streams import normalizer, starter

    for module in (normalizer, starter, faust_floor):
        transport = module.app.transport
        assert transport.Consumer is faust_internals._Consumer, module.__name__
        thread = transport.Consumer._new_consumer_thread
        assert thread.__qualname__.startswith("_Consumer."), module.__name__


@pytest.fixture
def consumer():
    """The normalizer app's consumer object (nothing started, no broker needed)."""
    from streams import normalizer

    return normalizer.app.consumer


def _acked(consumer, tp, committed, offsets, start=None):
    consumer._committed_offset[tp] = committed
    consumer._acked[tp] = list(offsets)
    consumer._acked_index[tp] = set(offsets)
    if start is not None:
        consumer.starts[tp] = start


def test_a_commit_never_passes_a_single_unacked_record_at_the_head(consumer):
    """faust-streaming#606: with offset 5 still being retried, faust alone commits 7."""
    from faust.types import TP

    tp = TP("webhooks.stripe.charge", 0)
    _acked(consumer, tp, 5, [6])
    assert consumer._new_offset(tp) is None
    consumer._acked[tp].append(5)
    consumer._acked_index[tp].add(5)
    assert consumer._new_offset(tp) == 7


def test_with_nothing_committed_the_head_is_the_partition_beginning(consumer):
    from faust.types import TP

    tp = TP("webhooks.stripe.charge", 1)
    _acked(consumer, tp, None, [1, 2], start=0)
    assert consumer._new_offset(tp) is None
    _acked(consumer, tp, None, [0, 1, 2], start=0)
    assert consumer._new_offset(tp) == 3


def test_offsets_known_to_hold_no_record_count_as_done(consumer):
    from faust.types import TP

    tp = TP("webhooks.stripe.charge", 2)
    _acked(consumer, tp, 5, [8, 9])
    consumer._gap[tp].addi(5, 8)
    assert consumer._new_offset(tp) == 10


@pytest.mark.parametrize(("acked", "head", "done"), [
    ([], 3, True), ([4], None, True), ([3, 4], 3, True), ([4], 3, False), ([5], 3, False),
    ([2, 4], 3, True),
])
def test_head_is_done(acked, head, done):
    from intervaltree import IntervalTree

    assert faust_internals.head_is_done(acked, IntervalTree(), head) is done


@pytest.mark.parametrize(("head", "read", "in_flight", "passed"), [
    (236, 249, [], True),        # make test-scale's stall: read past, nothing holds 236
    (236, 249, [236, 240], False),  # a stream still works on the head: its ack will come
    (236, 236, [], False),       # just sought to the head (faust's read offset = committed)
    (236, 230, [], False), (236, None, [], False), (None, 249, [], False),
])
def test_head_was_passed(head, read, in_flight, passed):
    assert faust_internals.head_was_passed(head, read, in_flight) is passed


async def test_a_head_the_fetcher_passed_is_read_again(consumer, monkeypatch):
    """The stall make test-scale found: the head's record skipped as already read, so
    nothing would ever acknowledge it; the consumer seeks the partition back to the head."""
    import asyncio

    from faust.types import TP

    tp = TP("webhooks.stripe.charge", 0)
    _acked(consumer, tp, 236, [248, 249])
    consumer._read_offset[tp] = 249
    sought = []

    async def seek(partition, offset):
        sought.append((partition, offset))

    monkeypatch.setattr(consumer, "seek", seek)
    monkeypatch.setattr(consumer, "assignment", lambda: {tp})
    assert consumer._new_offset(tp) is None
    assert consumer._new_offset(tp) is None  # one seek at a time
    await asyncio.gather(*consumer._rereads)
    assert sought == [(tp, 236)]
    assert tp not in consumer.rereading
