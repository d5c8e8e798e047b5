"""The one seam for faust's and aiokafka's private names: nothing else in streams/ uses them.

Each is used because faust has no public way to do the thing, and each is pinned by
``tests/unit/streams/test_faust_internals.py``, which names the symbol that a faust upgrade
removed. pyproject.toml bounds faust-streaming below 0.16 for the same reason.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.stores.rocksdb import Store as RocksDBStore
from faust.streams import _current_event
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, EventT

log = logging.getLogger(__name__)

# (module or class, attribute) for every private name used below; the seam test checks them.
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("faust.streams", "_current_event"),
    ("faust.transport.drivers.aiokafka.Producer", "_ensure_producer"),
    ("faust.transport.consumer.Consumer", "_committed_offset"),
    ("faust.app.router.Router", "_route_req"),
    ("faust.app.base.App", "_new_transport"),
    ("faust.transport.drivers.aiokafka.Consumer", "_new_consumer_thread"),
    ("faust.transport.drivers.aiokafka.AIOKafkaConsumerThread", "_ensure_consumer"),
    ("faust.transport.consumer.Consumer", "_new_offset"),
    ("faust.transport.consumer.Consumer", "_acked"),
    ("faust.transport.consumer.Consumer", "_gap"),
    ("faust.stores.rocksdb.Store", "_db_for_partition"),
)


async def seek_to_committed_or_beginning(
        consumer: AIOKafkaConsumer) -> tuple[dict, dict[TP, int]]:
    """Seek every assigned partition to its committed offset, and one with nothing committed
    (or 0) to its beginning; return the committed offsets, as aiokafka's seek_to_committed
    does, and the beginning offset of each partition sent there.

    faust drops the rest of a fetched batch when a rebalance starts or its flow stops, and
    relies on this seek to read those records again. aiokafka's own seek_to_committed moves
    only partitions whose committed offset is above 0, so on a partition nobody had committed
    yet the dropped records were skipped: the consumer went on after them, and its next commit
    passed them with no output (one acknowledged webhook lost in make test-scale). The
    beginning is what consumer_auto_offset_reset="earliest" means for such a partition.
    """
    committed = await consumer.seek_to_committed()
    fresh = [tp for tp, offset in committed.items() if not offset or offset <= 0]
    if not fresh:
        return committed, {}
    await consumer.seek_to_beginning(*fresh)
    starts = await consumer.beginning_offsets(fresh)
    return committed, {TP(tp.topic, tp.partition): offset for tp, offset in starts.items()}


def head_is_done(acked: list[int], gap: Any, head: int | None) -> bool:
    """Whether the offset after the committed one (`head`) was acknowledged, or is known to
    hold no record (faust's gap tree): only then may a commit move past it.

    faust's own check lets a commit pass exactly one unacknowledged record at the head, and
    none at all while nothing is committed (faust-streaming#606); with concurrency > 1 a
    record still being retried is passed by its neighbours' acks, and a crash then loses it.
    A head with no record at all (retention, a transaction marker) now holds the commit, and
    the stall watch shows it: none of our producers writes transactionally.
    """
    if head is None or not acked:
        return True
    return min(acked) <= head or gap.overlaps_point(head)


def head_was_passed(head: int | None, read_offset: int | None,
                    in_flight: Iterable[int]) -> bool:
    """Whether the fetcher read past an unacknowledged head that no stream holds: then no
    acknowledgement will ever come for it.

    Seen in make test-scale: after a rebalance re-assigned a worker its own partitions,
    records fetched before the seek to committed were still delivered after it, moving
    faust's read offset past the head; the head's records, read again, were skipped as
    already read, and the commit waited for them for good (faust's own check does too,
    as the "has not committed" stalls of faust-streaming #523 and #532 report).
    """
    if head is None or read_offset is None or read_offset <= head:
        return False
    return head not in in_flight


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    async def seek_to_committed(self) -> dict:
        committed, starts = await self.call_thread(seek_to_committed_or_beginning,
                                                   self._ensure_consumer())
        self.consumer.starts.update(starts)
        return committed


class _Consumer(faust_aiokafka.Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # partition -> its beginning offset, for partitions with nothing committed
        self.starts: dict[TP, int] = {}
        # partition -> the head offset a commit was last held at (logged once per head)
        self.held: dict[TP, int] = {}
        self.rereading: set[TP] = set()  # partitions being sought back to their head
        self._rereads: set[asyncio.Future] = set()  # keeps the seek tasks alive

    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self.starts.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: TP) -> int | None:
        committed = self._committed_offset[tp]
        head = committed if committed is not None else self.starts.get(tp)
        acked = self._acked[tp]
        if not head_is_done(acked, self._gap[tp], head):
            self._on_held(tp, head, acked)
            return None
        return super()._new_offset(tp)

    def _on_held(self, tp: TP, head: int, acked: list[int]) -> None:
        """A commit waits for the head record. If the fetcher already read past it and no
        stream holds it, nothing will ever acknowledge it: read the partition again from the
        head (duplicates are dropped by event id downstream) rather than stall for good."""
        # Lazy: the unacknowledged messages are walked only once the fetcher passed the head.
        in_flight = (m.offset for m in list(self._unacked_messages) if m.tp == tp)
        read = self._read_offset.get(tp)
        if self.held.get(tp) != head:
            self.held[tp] = head
            log.info("commit held: head not acknowledged yet", extra={
                "partition": f"{tp.topic}[{tp.partition}]", "head": head,
                "first_acked": min(acked), "read_offset": read})
        if tp in self.rereading or not head_was_passed(head, read, in_flight):
            return
        log.warning("commit held by a head the fetcher passed: reading it again", extra={
            "partition": f"{tp.topic}[{tp.partition}]", "head": head, "read_offset": read})
        self.rereading.add(tp)
        task = asyncio.ensure_future(self._reread(tp, head))  # called from commit(): a loop runs
        self._rereads.add(task)
        task.add_done_callback(self._rereads.discard)

    async def _reread(self, tp: TP, head: int) -> None:
        try:
            if tp in self.assignment():
                await self.seek(tp, head)
        finally:
            self.rereading.discard(tp)


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class App(faust.App):
    """faust.App whose Kafka consumer re-reads what a rebalance dropped, even on a partition
    with nothing committed yet (see seek_to_committed_or_beginning). Every worker of ours
    that consumes uses it."""

    def _new_transport(self) -> _Transport:
        return _Transport(self.conf.broker_consumer, self)


@contextmanager
def current_event(event: EventT) -> Iterator[None]:
    """Make ``event`` faust's current event: a RocksDB table finds its partition from it.

    faust sets it only per event of an ``async for``; a batch needs it per event, and faust
    has no public setter.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def broker_client(app: faust.App) -> Any:
    """The running aiokafka client of the app's producer (for a metadata round trip)."""
    return kafka_producer(app).client


def kafka_producer(app: faust.App) -> Any:
    """The app's running aiokafka producer, whose public batch API (create_batch,
    send_batch) faust's Producer does not pass on."""
    return app.producer._ensure_producer()


def committed_offsets(app: faust.App) -> dict[TP, int | None]:
    """What faust last committed, or found committed when the partition was assigned; faust
    keeps no public view of it. None means nothing past offset 0 was committed."""
    return dict(app.consumer._committed_offset)


async def forward_request(app: faust.App, destination: Any, web: Any, request: Any) -> Any:
    """Answer ``request`` with the reply of the worker at ``destination`` (raises faust's
    SameNode when that is this worker). faust's table_route does this only for a partition
    it computes itself from the table's key serializer; there is no public forwarder."""
    return await app.router._route_req(destination, web, request)


def partition_databases(table: Any) -> Callable[[int], Any] | None:
    """partition -> the table's open RocksDB database of that partition (a rocksdict
    ``Rdict`` in raw mode, keys and values as faust encodes them), or None when the table
    is not on RocksDB. faust's store finds the partition from the current event, checks
    and encodes per call; a batch that already knows both reads and writes directly."""
    store = table.data
    return store._db_for_partition if isinstance(store, RocksDBStore) else None


def set_persisted_offset(table: Any, tp: TP, offset: int) -> None:
    """Record a changelog offset as faust's own send callback would, so that recovery replays
    only what comes after it (used when changelog records are produced in a batch)."""
    table.data.set_persisted_offset(tp, offset)


def trusted_record(cls: type[faust.Record], values: dict[str, Any]) -> Any:
    """A Record holding ``values`` (every field, already of its type) without its __init__.

    faust's generated __init__ checks and converts each field, several times the cost of
    encoding the record; values taken from a contract dataclass need neither. A Record keeps
    its fields in the instance __dict__, and ``__evaluated_fields__`` names the fields its
    lazy coercion has already run on (all of them, here). ``test_faust_internals.py`` checks
    the result against a record built through __init__.
    """
    record = object.__new__(cls)
    record.__dict__.update(values)
    record.__dict__["__evaluated_fields__"] = set(values)
    return record
