"""Dedup entries to a table's store and changelog, produced as whole record batches.

The normalizer remembers every event it wrote out: one changelog record per event. A
``send()`` per record costs ~11 µs of CPU in aiokafka alone (a future, a metadata wait and
the accumulator's bookkeeping each), more than the rest of the dedup; records appended to
one ``BatchBuilder`` per changelog partition and sent with ``send_batch`` cost ~1.7 µs
(``bench/normalizer.py``'s profile, issue 19). Both are aiokafka's public producer API.

The entries are idempotent (an event id and when it was first seen), so a batch resent
after a transient error changes nothing; a batch refused for good only weakens dedup (the
output exists, and every write downstream is idempotent by event id), so it is logged and
its partition's persisted offset is left where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from aiokafka.errors import RecordTooLargeError
from faust.serializers import codecs
from faust.types import TP, EventT

from streams.faust_internals import current_event, set_persisted_offset
from streams.publishing import RETRYABLE, classify_send_error, retry_forever

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
    for good is left out. Transient errors resend the partitions not yet acked, with the
    capped backoff of every other produce.
    """
    latest: dict[int, int] = {}
    pending = dict(records)

    async def attempt() -> None:
        sent = []
        for partition, entries in pending.items():
            for batch, count in fill_batches(producer.create_batch, entries):
                sent.append((partition, count,
                             await producer.send_batch(batch, topic, partition=partition)))
        outcomes = await asyncio.gather(*(future for *_, future in sent), return_exceptions=True)
        error: BaseException | None = None
        failed: set[int] = set()
        for (partition, count, _), outcome in zip(sent, outcomes, strict=True):
            if isinstance(outcome, RETRYABLE):
                reason = classify_send_error(outcome)
                if reason is None:
                    failed.add(partition)
                    error = error or outcome
                else:
                    log.error("changelog batch refused for good (%s): %r", reason, outcome)
                    pending.pop(partition, None)
            elif isinstance(outcome, BaseException):
                raise outcome  # a bug or a cancellation, not the broker
            elif partition not in failed:
                last = outcome.offset + count - 1  # a batch's metadata names its first record
                latest[partition] = max(last, latest.get(partition, -1))
        for partition in list(pending):
            if partition not in failed:
                del pending[partition]
        if error is not None:
            raise error

    if pending:
        await retry_forever(attempt, retryable=RETRYABLE,
                            what=f"changelog of {sum(map(len, records.values()))} entries")
    return latest


async def mark_seen(table: Any, producer: Any,
                    entries: Sequence[tuple[EventT, str, Any]]) -> None:
    """Write (event, key, value) entries to a table's store and changelog; wait for the acks.

    ``table[key] = value`` would queue each changelog message in faust's 100-message
    send_soon buffer, which stalls all consumption while it drains one message at a time;
    produced as batches they cost one round trip, and the offsets are acked after it.
    """
    by_partition: dict[int, Records] = defaultdict(list)
    for event, key, value in entries:
        # The RocksDB store is split by source partition and finds it from the current event.
        with current_event(event):
            table.data[key] = value
        # Encoded as faust's own table writes are, or a restore would rebuild other keys.
        by_partition[event.message.partition].append(
            (codecs.dumps(table.key_serializer, key), codecs.dumps(table.value_serializer, value)))
    _persisted(table, await _send(table, producer, by_partition))


async def forget_seen(table: Any, producer: Any, entries: Sequence[tuple[str, int]]) -> None:
    """Tombstone (key, changelog partition) entries, acked, then drop them locally.

    Outside a stream event faust cannot tell a key's partition, so each tombstone goes to
    the partition recorded with its entry.
    """
    by_partition: dict[int, Records] = defaultdict(list)
    for key, partition in entries:
        by_partition[partition].append((codecs.dumps(table.key_serializer, key), None))
    latest = await _send(table, producer, by_partition)
    for key, _ in entries:
        if key in table.data:
            del table.data[key]
    _persisted(table, latest)


async def _send(table: Any, producer: Any, by_partition: dict[int, Records]) -> dict[TP, int]:
    changelog = table.changelog_topic.get_topic_name()
    latest = await send_batches_confirmed(producer, changelog, by_partition)
    return {TP(changelog, partition): offset for partition, offset in latest.items()}


def _persisted(table: Any, latest: dict[TP, int]) -> None:
    # Recovery replays the changelog from here on: what faust's own send callback records.
    for tp, offset in latest.items():
        set_persisted_offset(table, tp, offset)
