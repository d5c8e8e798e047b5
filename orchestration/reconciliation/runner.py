"""One reconciliation run: list a window, ask what the pipeline holds, feed what it lacks.

The I/O around ``compare``: the source (the provider's API), ``held`` (which provider event
ids have a row in payment_events or quarantine; injected, so the command binds it to
PostgreSQL and tests to anything) and the feeder (Kafka). Listed events are handled in
batches, so a long window never sits in memory whole.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import AIOKafkaProducer

from contracts.kafka_auth import NO_AUTH, KafkaAuth
from contracts.limits import MAX_RECORD_BYTES
from orchestration.reconciliation.compare import (
    RawRecord,
    classify,
    compare,
    raw_record,
    reconciliation_request_id,
)
from orchestration.reconciliation.events import ProviderEvent, ProviderEventSource, Window

__all__ = ["Feeder", "Held", "KafkaFeeder", "MissingEvent", "Report", "reconcile"]

# Provider event ids -> the subset the pipeline holds.
Held = Callable[[Sequence[str]], Awaitable[set[str]]]


class Feeder(Protocol):
    async def feed(self, records: Sequence[RawRecord]) -> None:
        """Write every record; return only once each is acknowledged, else raise."""


@dataclass(frozen=True, slots=True)
class MissingEvent:
    event_id: str
    event_type: str
    created: datetime
    topic: str


@dataclass(slots=True)
class Report:
    run_id: str
    applied: bool
    listed: int = 0
    held: int = 0
    fed: int = 0
    unroutable: int = 0
    outside_window: int = 0
    missing: list[MissingEvent] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)  # event ids


class KafkaFeeder:
    """Writes raw records as the gateway does: acks=all, idempotent, all acks awaited."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    @staticmethod
    def producer(bootstrap_servers: str, auth: KafkaAuth = NO_AUTH) -> AIOKafkaProducer:
        # As the operator principal: only it and the gateway may write raw topics.
        return AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all",
                                enable_idempotence=True, max_request_size=MAX_RECORD_BYTES,
                                client_id="orchestration-reconcile", **auth.client_kwargs())

    async def feed(self, records: Sequence[RawRecord]) -> None:
        # send() queues; gathering the futures waits for every broker acknowledgement, and
        # the first failure raises, so a run never reports an unacknowledged record as fed.
        pending = [await self._producer.send(r.topic, r.value, key=r.key, headers=r.headers)
                   for r in records]
        await asyncio.gather(*pending)


async def reconcile(source: ProviderEventSource, window: Window, held: Held,
                    feeder: Feeder | None, batch_size: int = 500) -> Report:
    """List the window, compare, and feed the missing events when ``feeder`` is given."""
    run_id = uuid.uuid4().hex
    report = Report(run_id, applied=feeder is not None)
    async for batch in _batches(source.list_events(window), batch_size):
        await _reconcile_batch(batch, window, held, feeder, report)
    return report


async def _reconcile_batch(batch: list[ProviderEvent], window: Window, held: Held,
                           feeder: Feeder | None, report: Report) -> None:
    candidates = [e.event_id for e in classify(batch, window).missing]
    held_ids = await held(candidates) if candidates else set()
    result = compare(batch, window, held_ids)
    report.listed += len(batch)
    report.held += len(result.held)
    report.unroutable += len(result.unroutable)
    report.outside_window += len(result.outside_window)
    report.too_large += [e.event_id for e in result.too_large]
    received_at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    records = [raw_record(e, received_at, reconciliation_request_id(report.run_id))
               for e in result.missing]
    report.missing += [MissingEvent(e.event_id, e.event_type, e.created, r.topic)
                       for e, r in zip(result.missing, records, strict=True)]
    if feeder is not None and records:
        await feeder.feed(records)
        report.fed += len(records)


async def _batches(events: AsyncIterator[ProviderEvent],
                   size: int) -> AsyncIterator[list[ProviderEvent]]:
    batch: list[ProviderEvent] = []
    async for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
