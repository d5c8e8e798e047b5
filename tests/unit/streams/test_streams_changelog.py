"""The dedup changelog's record batches (streams/changelog.py), on a producer that stands in
for aiokafka's batch API; the real one is exercised by the normalizer's worker tests."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.errors import KafkaTimeoutError, RecordTooLargeError
from faust.types import TP
from faust.types.tuples import RecordMetadata

from streams import changelog


class Batch:
    def __init__(self, room: int) -> None:
        self.room, self.records = room, []

    def append(self, *, key, value, timestamp):
        if len(self.records) >= self.room:
            return None
        self.records.append((key, value))
        return object()


class Producer:
    """Holds `room` records a batch; fails each partition's sends as `failures` says."""

    def __init__(self, room: int = 100, failures: dict[int, list[BaseException]] | None = None):
        self.room, self.failures = room, failures or {}
        self.log: dict[int, list] = {}  # partition -> every record acked there, in order

    def create_batch(self) -> Batch:
        return Batch(self.room)

    async def send_batch(self, batch: Batch, topic: str, *, partition: int):
        future = asyncio.get_running_loop().create_future()
        errors = self.failures.get(partition)
        if errors:
            future.set_exception(errors.pop(0))
            return future
        acked = self.log.setdefault(partition, [])
        first = len(acked)
        acked.extend(batch.records)
        future.set_result(RecordMetadata(topic, partition, TP(topic, partition), first, None, None))
        return future


def records(n: int, prefix: str = "k") -> list[tuple[bytes, bytes]]:
    return [(f"{prefix}{i}".encode(), b"v") for i in range(n)]


def test_batches_fill_to_the_producers_size_and_keep_the_order():
    filled = list(changelog.fill_batches(lambda: Batch(3), records(7)))
    assert [count for _, count in filled] == [3, 3, 1]
    assert [r for batch, _ in filled for r in batch.records] == records(7)


def test_a_record_no_empty_batch_holds_is_too_large():
    with pytest.raises(RecordTooLargeError):
        list(changelog.fill_batches(lambda: Batch(0), records(1)))


async def test_each_partition_reports_its_last_offset_across_batches():
    producer = Producer(room=2)
    latest = await changelog.send_batches_confirmed(producer, "cl", {0: records(5), 2: records(1)})
    assert latest == {0: 4, 2: 0}
    assert producer.log[0] == records(5)


async def test_a_transient_failure_resends_only_the_partitions_not_acked(monkeypatch):
    monkeypatch.setattr("streams.publishing.next_backoff", lambda previous, cap: 0.0)
    producer = Producer(failures={1: [KafkaTimeoutError()]})
    latest = await changelog.send_batches_confirmed(producer, "cl", {0: records(2), 1: records(3)})
    assert latest == {0: 1, 1: 2}
    assert producer.log == {0: records(2), 1: records(3)}  # partition 0 was not sent twice


async def test_a_refused_partition_is_left_out_and_the_rest_is_written():
    producer = Producer(failures={1: [RecordTooLargeError()]})
    latest = await changelog.send_batches_confirmed(producer, "cl", {0: records(2), 1: records(1)})
    assert latest == {0: 1}


async def test_a_record_no_batch_holds_is_refused_not_retried():
    # Once retried forever (the refusal was raised while queueing, outside the classifier).
    latest = await asyncio.wait_for(
        changelog.send_batches_confirmed(Producer(room=0), "cl", {1: records(1)}), 5)
    assert latest == {}


async def test_a_failure_that_is_not_the_brokers_surfaces():
    producer = Producer(failures={0: [RuntimeError("bug")]})
    with pytest.raises(RuntimeError, match="bug"):
        await changelog.send_batches_confirmed(producer, "cl", {0: records(1)})


class Table:
    """A faust table as far as the writer uses it: its changelog's name, persisted offsets."""

    def __init__(self) -> None:
        self.changelog_topic = type("Topic", (), {"get_topic_name": lambda self: "cl"})()
        self.data = self
        self.persisted: list[tuple[TP, int]] = []

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.persisted.append((tp, offset))


class HeldProducer(Producer):
    """Acks each request only when the test releases it, so that writes pile up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[int, int, asyncio.Event]] = []  # partition, records, release

    async def send_batch(self, batch: Batch, topic: str, *, partition: int):
        release = asyncio.Event()
        self.requests.append((partition, len(batch.records), release))
        acked = await super().send_batch(batch, topic, partition=partition)
        future = asyncio.get_running_loop().create_future()

        async def after_release():
            await release.wait()
            future.set_result(acked.result())

        asyncio.get_running_loop().create_task(after_release())
        return future


async def test_what_arrives_while_a_write_is_in_flight_goes_out_together_next():
    producer, table = HeldProducer(), Table()
    writer = changelog.ChangelogWriter(table, lambda: producer)
    first = writer.write({0: records(2, "a")})
    await asyncio.sleep(0)
    second, third = writer.write({0: records(3, "b")}), writer.write({1: records(1, "c")})
    await asyncio.sleep(0.01)
    assert [(p, n) for p, n, _ in producer.requests] == [(0, 2)]  # one write in flight
    producer.requests[0][2].set()
    await first
    assert not second.done()
    await asyncio.sleep(0.01)
    assert sorted((p, n) for p, n, _ in producer.requests[1:]) == [(0, 3), (1, 1)]
    for _, _, release in producer.requests[1:]:
        release.set()
    await asyncio.gather(second, third)
    # faust's persisted offsets follow the writes in order: recovery replays from there.
    assert table.persisted == [(TP("cl", 0), 1), (TP("cl", 0), 4), (TP("cl", 1), 0)]


async def test_nothing_to_write_is_acked_at_once():
    producer = HeldProducer()
    assert changelog.ChangelogWriter(Table(), lambda: producer).write({0: []}).done()
    assert producer.requests == []


async def test_a_bug_in_a_write_reaches_every_batch_waiting_on_it_and_the_next_write_goes_on():
    producer = Producer(failures={0: [RuntimeError("bug")]})
    writer = changelog.ChangelogWriter(Table(), lambda: producer)
    failed = writer.write({0: records(1)})
    with pytest.raises(RuntimeError, match="bug"):
        await failed
    await writer.write({0: records(1, "later")})
    assert producer.log[0] == records(1, "later")


async def test_a_persisted_offset_that_cannot_be_recorded_does_not_fail_the_write():
    class Revoked(Table):
        def set_persisted_offset(self, tp: TP, offset: int) -> None:
            raise RuntimeError("the partition's database is closed")

    producer = Producer()
    await changelog.ChangelogWriter(Revoked(), lambda: producer).write({0: records(1)})
    assert producer.log[0] == records(1)
