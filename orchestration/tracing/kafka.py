"""Finding an event's records on Kafka: its raw copies, the gateway's refusals, and what the
normalizer wrote for it (payments.normalized, payments.validation.dlq).

Every topic here is keyed by an id of the event, and every producer of them (the gateway's
aiokafka producer, the normalizer's faust producer) leaves the partition to aiokafka's
default partitioner: murmur2 of the key, as the Java client. So only the one partition a key
hashes to is read, from a time before the event can have arrived, for at most a bounded
number of records and a bounded time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from contracts.dead_letters import read_gateway_dead_letter_headers
from contracts.kafka_auth import NO_AUTH, KafkaAuth
from orchestration.trace_report import DeadLetterCopy, KafkaCopy, Scan, raw_header_text

_POLL_MS = 500


def partition_for(key: bytes, partitions: Iterable[int]) -> int:
    """The partition the producers' default partitioner sends ``key`` to (aiokafka passes
    it the topic's partition ids, 0..n-1, in order)."""
    return DefaultPartitioner()(key, sorted(partitions), [])


@dataclass(frozen=True, slots=True)
class Found:
    records: tuple[ConsumerRecord, ...]
    scans: tuple[Scan, ...]
    missing_topics: tuple[str, ...] = ()


class KafkaReader:
    """One consumer without a group (nothing is committed), read partition by partition."""

    def __init__(self, bootstrap: str, timeout: float, max_records: int,
                 auth: KafkaAuth = NO_AUTH) -> None:
        self._bootstrap = bootstrap
        self._auth = auth
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                          enable_auto_commit=False,
                                          client_id="payments-trace",
                                          request_timeout_ms=int(timeout * 1000),
                                          **auth.client_kwargs())
        self._timeout = timeout
        self._max_records = max_records
        self._partitions: dict[str, int] = {}

    async def start(self) -> None:
        """Connect, and learn how many partitions each topic has.

        From the admin client's metadata: the consumer's own cluster view holds only the
        topics it has been assigned, so it cannot say where a key goes before reading. Every
        topic is described, not ours by name: naming one asks a broker that auto-creates
        topics to create it."""
        await asyncio.wait_for(self._consumer.start(), self._timeout)
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap,
                                    client_id="payments-trace",
                                    request_timeout_ms=int(self._timeout * 1000),
                                    **self._auth.client_kwargs())
        try:
            await asyncio.wait_for(admin.start(), self._timeout)
            described = await asyncio.wait_for(admin.describe_topics(None), self._timeout)
        finally:
            with contextlib.suppress(Exception):  # as above: only metadata was read
                await admin.close()
        self._partitions = {t["topic"]: len(t["partitions"] or ()) for t in described}

    async def stop(self) -> None:
        # A read-only consumer has nothing to flush or commit, and one never assigned a
        # partition can trip over aiokafka's coordinator task when stopped
        # (tests/integration/gateway/gateway_kafka_support.py): a failed stop loses nothing.
        with contextlib.suppress(Exception):
            await self._consumer.stop()

    async def find(self, topics: Sequence[str], keys: Sequence[bytes],
                   since: datetime | None) -> Found:
        """The records under any of ``keys`` in ``topics``, reading from ``since``."""
        targets: set[TopicPartition] = set()
        missing = []
        for topic in topics:
            count = self._partitions.get(topic, 0)
            if not count:
                missing.append(topic)
                continue
            targets.update(TopicPartition(topic, partition_for(key, range(count)))
                           for key in keys)
        if not targets:
            return Found((), (), tuple(missing))
        records, scans = await asyncio.wait_for(
            self._scan(sorted(targets), frozenset(keys), since), self._timeout * 2)
        return Found(tuple(records), tuple(scans), tuple(missing))

    async def _scan(self, tps: list[TopicPartition], keys: frozenset[bytes],
                    since: datetime | None) -> tuple[list[ConsumerRecord], list[Scan]]:
        consumer = self._consumer
        consumer.assign(tps)
        begins = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        starts = {tp: max(begins[tp], ends[tp] - self._max_records) for tp in tps}
        if since is not None:
            at = await consumer.offsets_for_times(
                {tp: int(since.timestamp() * 1000) for tp in tps})
            # None: no record is that recent, so there is nothing to read.
            starts = {tp: ends[tp] if at[tp] is None else max(begins[tp], at[tp].offset)
                      for tp in tps}
        for tp in tps:
            consumer.seek(tp, starts[tp])
        stop_at = {tp: min(ends[tp], starts[tp] + self._max_records) for tp in tps}
        pending = {tp for tp in tps if starts[tp] < stop_at[tp]}
        deadline = asyncio.get_running_loop().time() + self._timeout
        matches: list[ConsumerRecord] = []
        while pending and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(*pending, timeout_ms=_POLL_MS)
            for tp, records in batch.items():
                matches += [r for r in records if r.offset < stop_at[tp] and r.key in keys]
            for tp in list(pending):
                if await consumer.position(tp) >= stop_at[tp]:
                    pending.discard(tp)
        scans = [Scan(tp.topic, tp.partition, starts[tp], ends[tp],
                      complete=tp not in pending and stop_at[tp] == ends[tp]) for tp in tps]
        matches.sort(key=lambda r: (r.timestamp, r.topic, r.partition, r.offset))
        return matches, scans


def record_time(record: ConsumerRecord) -> datetime | None:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp >= 0 else None


def raw_copy(record: ConsumerRecord) -> KafkaCopy:
    return KafkaCopy(record.topic, record.partition, record.offset, record_time(record),
                     raw_header_text(record.headers or ()))


def refused_copy(record: ConsumerRecord) -> KafkaCopy:
    return KafkaCopy(record.topic, record.partition, record.offset, record_time(record),
                     read_gateway_dead_letter_headers(record.headers))


def dead_letter_copy(record: ConsumerRecord) -> DeadLetterCopy:
    """A payments.validation.dlq record read as contracts.dead_letters.DeadLetter's JSON
    (streams/records.py writes it); a value that is not is shown as unreadable."""
    copy = KafkaCopy(record.topic, record.partition, record.offset, record_time(record))
    try:
        letter = orjson.loads(record.value or b"")
        errors = letter.get("errors") or []
        return DeadLetterCopy(
            copy, str(letter.get("event_id")), str(letter.get("stage", "validate")),
            tuple(str(e.get("code")) for e in errors),
            tuple(str(e.get("message")) for e in errors),
            f"{letter.get('source_topic')}:{letter.get('source_partition')}:"
            f"{letter.get('source_offset')}")
    except (orjson.JSONDecodeError, AttributeError, TypeError) as err:
        key = (record.key or b"").decode("utf-8", "replace")
        return DeadLetterCopy(copy, key, "?", ("unreadable",), (repr(err),), "?")
