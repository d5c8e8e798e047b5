"""Dedup entries to a table's store and changelog, produced as whole record batches.

The normalizer remembers every event it wrote out: one changelog record per event. A
``send()`` per record costs ~11 µs of CPU in aiokafka alone (a future, a metadata wait and
the accumulator's bookkeeping each), more than the rest of the dedup; records appended to
one ``BatchBuilder`` per changelog partition and sent with ``send_batch`` cost ~1.7 µs
(20,000 records on the stack's broker, issue 19's closing note). Both are aiokafka's
public producer API.

The entries are idempotent (an event id and when it was first seen), so a batch resent
after a transient error changes nothing; a batch refused for good only weakens dedup (the
output exists, and every write downstream is idempotent by event id), so it is logged and
its partition's persisted offset is left where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from aiokafka.errors import RecordTooLargeError
from faust.serializers import codecs
from faust.types import TP
from rocksdict import WriteBatch

from streams.dedup import encode_seen
from streams.faust_internals import partition_databases, set_persisted_offset
from streams.publishing import RefusedSend, Send, send_all_confirmed

log = logging.getLogger(__name__)
Records = list[tuple[bytes, bytes | None]]  # (key, value or None for a tombstone)


def fill_batches(create_batch: Callable[[], Any], records: Records) -> Iterator[tuple[Any, int]]:
    """(batch, how many records it holds), each batch filled up to the producer's batch size."""
    batch, count = create_batch(), 0
    for key, value in records:
        if batch.append(key=key, value=value, timestamp=None) is None:
            if count == 0:  # aiokafka refuses a record no empty batch can hold
                raise RecordTooLargeError(f"a changelog record of {len(key)} + "
                                          f"{len(value or b'')} bytes exceeds a batch")
            yield batch, count
            batch, count = create_batch(), 0
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise RecordTooLargeError("a changelog record exceeds an empty batch")
        count += 1
    if count:
        yield batch, count


async def send_batches_confirmed(producer: Any, topic: str,
                                 records: dict[int, Records]) -> dict[int, int]:
    """Produce each partition's records as batches and wait for their acks.

    Returns the last offset written in each partition; a partition whose batch was refused
    for good is left out. The sends go through send_all_confirmed, one a partition: a
    transient error resends the partitions not yet acked, with the capped backoff of every
    other produce, and a refusal is classified as every other produce's is.
    """
    partitions = [partition for partition, entries in records.items() if entries]
    results = await send_all_confirmed(
        [_partition_send(producer, topic, p, records[p]) for p in partitions])
    return {partition: last for partition, last in zip(partitions, results, strict=True)
            if not isinstance(last, RefusedSend)}


def _partition_send(producer: Any, topic: str, partition: int, entries: Records) -> Send:
    """One partition's records, queued as batches when called and acked together; built
    afresh on each call, as a sent builder is closed. Resolves to the last offset written."""

    async def send() -> Awaitable[int]:
        queued = [(count, await producer.send_batch(batch, topic, partition=partition))
                  for batch, count in fill_batches(producer.create_batch, entries)]
        return _last_offset(queued)

    return send


async def _last_offset(queued: list[tuple[int, Awaitable[Any]]]) -> int:
    acked = await asyncio.gather(*(future for _, future in queued))
    # A batch's metadata names its first record.
    return max(meta.offset + count - 1 for (count, _), meta in zip(queued, acked, strict=True))


class SeenStore:
    """The dedup table's entries by encoded key, for a batch that knows each event's partition.

    On RocksDB each partition's database is read and written directly, a ``WriteBatch`` a
    partition: faust's store would find the partition from the current event and encode
    the key and value again on every call, ~20 µs an event against ~3 (measured in process
    on RocksDB, issue 19's closing note). Keys and
    values are encoded by the table's own serializers, the bytes faust's store, its restore
    from the changelog and the web views read. The memory store (unit tests) goes through
    the table's mapping.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self._databases = partition_databases(table)
        # What faust's codecs.dumps does per call, the codec looked up by name once here.
        self.key = _encoder(table.key_serializer)
        self.value = _encoder(table.value_serializer)

    def contains(self, partition: int, event_id: str, key: bytes) -> bool:
        if self._databases is None:
            return event_id in self.table.data
        return self._databases(partition).get(key) is not None

    def put(self, partition: int, entries: Sequence[tuple[str, bytes]], value: Any,
            encoded: bytes) -> None:
        """Remember each (event id, key) of one partition with the same value."""
        if self._databases is None:
            for event_id, _ in entries:
                self.table.data[event_id] = value
            return
        batch = WriteBatch(raw_mode=True)
        for _, key in entries:
            batch.put(key, encoded)
        self._databases(partition).write(batch)


def _encoder(serializer: Any) -> Callable[[Any], bytes]:
    # faust's codecs.dumps(serializer, value), with get_codec (a name or a codec) done once.
    return codecs.get_codec(serializer).dumps if serializer else lambda value: value


def mark_seen(store: SeenStore, writer: ChangelogWriter, seen_at: float,
              entries: Sequence[tuple[int, str, bytes]]) -> asyncio.Future[None]:
    """Remember (partition, event id, key) entries as first seen at ``seen_at``: in the
    store at once, then in the changelog. Returns the changelog's ack, which the events'
    own acks must wait for.

    ``table[key] = value`` would queue each changelog message in faust's 100-message
    send_soon buffer, which stalls all consumption while it drains one message at a time.
    """
    by_partition: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
    for partition, event_id, key in entries:
        by_partition[partition].append((event_id, key))
    records: dict[int, Records] = {}
    for partition, keyed in by_partition.items():
        # The value names the changelog partition, which the purge writes tombstones to.
        value = encode_seen(seen_at, partition)
        encoded = store.value(value)
        store.put(partition, keyed, value, encoded)
        records[partition] = [(key, encoded) for _, key in keyed]
    return writer.write(records)


async def forget_seen(store: SeenStore, writer: ChangelogWriter,
                      entries: Sequence[tuple[str, int]]) -> None:
    """Tombstone (event id, changelog partition) entries, acked, then drop them locally.

    Outside a stream event faust cannot tell a key's partition, so each tombstone goes to
    the partition recorded with its entry.
    """
    by_partition: dict[int, Records] = defaultdict(list)
    for event_id, partition in entries:
        by_partition[partition].append((store.key(event_id), None))
    await writer.write(by_partition)
    for event_id, _ in entries:
        if event_id in store.table.data:
            del store.table.data[event_id]


class ChangelogWriter:
    """A table's changelog records, written one request at a time for every actor: whatever
    is handed in while a write is in flight goes out together in the next.

    Each batch waiting for a changelog request of its own cost ~30 µs an event on the broker
    (batches of ~35-50 events: a request, a record batch a partition and their acks for a
    handful of records each; issue 19's closing note). Each batch still waits for its own
    records' ack before its events are acked, as before: only the requests are shared.
    Each write sets faust's persisted offsets, in order, as one write is in flight at a time.
    """

    def __init__(self, table: Any, producer: Callable[[], Any]) -> None:
        self.table, self._producer = table, producer
        self._pending: dict[int, Records] = defaultdict(list)
        self._waiting: list[asyncio.Future[None]] = []
        self._writing: asyncio.Task[None] | None = None

    def write(self, records: dict[int, Records]) -> asyncio.Future[None]:
        """Queue records by partition; the future resolves once they are acked (or raises
        what a bug raised: a refusal for good is logged and resolves it)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if not any(records.values()):  # e.g. a batch of duplicates only
            done.set_result(None)
            return done
        for partition, entries in records.items():
            self._pending[partition].extend(entries)
        self._waiting.append(done)
        if self._writing is None or self._writing.done() or self._writing.get_loop() is not loop:
            self._writing = loop.create_task(self._drain())
        return done

    async def _drain(self) -> None:
        while self._waiting:
            records, waiting = self._pending, self._waiting
            self._pending, self._waiting = defaultdict(list), []
            try:
                _persisted(self.table, await _send(self.table, self._producer(), records))
            except BaseException as exc:  # noqa: BLE001 - handed to every writer waiting on it
                for future in waiting:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise  # cancelled (the worker is stopping): nothing more is written
                continue
            for future in waiting:
                if not future.done():
                    future.set_result(None)


async def _send(table: Any, producer: Any, by_partition: dict[int, Records]) -> dict[TP, int]:
    changelog = table.changelog_topic.get_topic_name()
    latest = await send_batches_confirmed(producer, changelog, by_partition)
    return {TP(changelog, partition): offset for partition, offset in latest.items()}


def _persisted(table: Any, latest: dict[TP, int]) -> None:
    # Recovery replays the changelog from here on: what faust's own send callback records.
    for tp, offset in latest.items():
        try:
            set_persisted_offset(table, tp, offset)
        except Exception:  # noqa: BLE001 - only shortens a replay; never worth the agent
            # e.g. a rebalance revoked the partition while its write was in flight, and its
            # database is being reopened elsewhere: recovery then replays a little more.
            log.warning("persisted offset of %s not recorded", tp, exc_info=True)
