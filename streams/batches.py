"""Micro-batches of payments (issue 19): one PaymentBatchWorkflow for up to
STREAMS_STARTER_BATCH_SIZE normalized events, instead of one PaymentEventWorkflow each.

Temporal's cost is per workflow, not per payment (about 50 ms of CPU for a workflow of one
payment on the bench box, under 5 ms a payment in a workflow of ten), so the starter can
hand the worker a small batch in one signal-with-start. What stays per event:

* offsets: the agent acks every event of a gathering only after this module returned, i.e.
  after Temporal accepted each batch, or after the fallback below finished for each event;
* dead letters: a value that is not a payment (its schema made it a dead letter) starts its
  review alone, exactly as in the per-event mode;
* refusals: a batch Temporal refuses for good is started again event by event, so only the
  event at fault is dead-lettered, under its own coordinates;
* identity: the batch's workflow id is a digest of its sorted event ids
  (contracts.workflows.batch_key), so a redelivery of the same batch reaches the same
  workflow, and the worker writes one row per event id whatever batch carries it.

``plan`` is pure (tested without servers); ``BatchStarts`` does the I/O through the
starter's own WorkflowStarter and per-event path, handed in by streams/starter.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from faust.types import EventT

from contracts.events import PaymentEvent
from contracts.limits import MAX_KEY_BYTES
from contracts.workflows import (
    BATCH_MAX_BYTES,
    PAYMENT_BATCH,
    PAYMENT_EVENT,
    WorkflowTarget,
    batch_key,
    workflow_id,
)
from streams.codecs import encode_event
from streams.metrics import BATCH_EVENTS, BATCHES, AgentCounters
from streams.workflow_starts import StartRefusedError, WorkflowStarter
from telemetry import bind_event_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decoded:
    """One message as the starter decoded it (streams.starter.decode_for_start)."""

    event: EventT
    target: WorkflowTarget
    event_id: str
    arg: Any


@dataclass(slots=True)
class Plan:
    """What to do with one gathering of events; every event is in exactly one list."""

    batches: list[list[Decoded]] = field(default_factory=list)  # one workflow each
    singles: list[Decoded] = field(default_factory=list)  # started alone, as per event
    duplicates: list[Decoded] = field(default_factory=list)  # acked with their first copy


def encoded_size(payment: PaymentEvent) -> int:
    """The bytes of the payment's JSON: what BATCH_MAX_BYTES bounds."""
    return len(encode_event(payment))


def plan(decoded: Iterable[Decoded], max_events: int, max_bytes: int = BATCH_MAX_BYTES,
         size: Callable[[PaymentEvent], int] = encoded_size) -> Plan:
    """Split a gathering into batches of at most ``max_events`` payments and ``max_bytes``.

    Order is kept. A second copy of an event id is dropped (the first is the one a
    per-event start would have started; a later copy would only have signalled it). Alone,
    as in the per-event mode: anything that is not a payment, a payment over ``max_bytes``
    by itself, and one whose id is over the key budget (no producer of ours writes it; its
    per-event start is refused by Temporal and dead-lettered, as it would be without batches).
    """
    result = Plan()
    seen: set[str] = set()
    current: list[Decoded] = []
    current_bytes = 0
    for item in decoded:
        if item.target != PAYMENT_EVENT or len(item.event_id.encode()) > MAX_KEY_BYTES:
            result.singles.append(item)
            continue
        if item.event_id in seen:
            result.duplicates.append(item)
            continue
        seen.add(item.event_id)
        item_bytes = size(item.arg)
        if item_bytes > max_bytes:
            result.singles.append(item)
            continue
        if current and (len(current) >= max_events or current_bytes + item_bytes > max_bytes):
            result.batches.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += item_bytes
    if current:
        result.batches.append(current)
    return result


def batch_start(batch: list[Decoded]) -> tuple[str, list[PaymentEvent]]:
    """The batch's key (its workflow id is ``workflow_id(PAYMENT_BATCH, key)``) and argument:
    the JSON list of its payments, in the order read, as contracts.workflows says."""
    return batch_key(item.event_id for item in batch), [item.arg for item in batch]


StartOne = Callable[[Decoded, str], Awaitable[str]]


class BatchStarts:
    """Starts a gathering of events: batches of payments, the rest one by one.

    ``start_one(decoded, agent)`` is the per-event path (streams.starter.start_decoded):
    signal-with-start of the event's own workflow, a refused payment dead-lettered, a
    refused review parked; it counts the event's outcome.
    """

    def __init__(self, starter: WorkflowStarter, counters: AgentCounters, start_one: StartOne,
                 max_events: int, max_bytes: int = BATCH_MAX_BYTES) -> None:
        self.starter, self.counters, self.start_one = starter, counters, start_one
        self.max_events, self.max_bytes = max_events, max_bytes

    async def start_all(self, decoded: list[Decoded], agent: str) -> None:
        """Return only once every event's outcome is durable: the caller acks them all."""
        self.counters.add(agent, "processed", len(decoded))
        work = plan(decoded, self.max_events, self.max_bytes)
        if work.duplicates:
            self.counters.add(agent, "deduplicated", len(work.duplicates))
        for batch in work.batches:
            await self.start_batch(batch, agent)
        for item in work.singles:
            await self.start_one(item, agent)

    async def start_batch(self, batch: list[Decoded], agent: str) -> str:
        """Signal-with-start one PaymentBatchWorkflow; on a permanent refusal, each of its
        events through the per-event path. Returns the batch's outcome ("refused" then)."""
        key, arg = batch_start(batch)
        wf_id = workflow_id(PAYMENT_BATCH, key)
        ids = [item.event_id for item in batch]
        bind_event_id(None)  # the line names every event id; none is "the" event
        try:
            outcome = await self.starter.signal_with_start(
                PAYMENT_BATCH, key, arg, on_retry=lambda: self.counters.add(agent, "retried"))
        except StartRefusedError as refused:
            BATCHES.labels("refused").inc()
            log.warning("batch start refused (%s): its %d events start one by one", refused,
                        len(batch), extra={"workflow_id": wf_id, "event_count": len(batch),
                                           "event_ids": ids, "reason": refused.reason})
            for item in batch:
                await self.start_one(item, agent)
            return "refused"
        # Each event's outcome is its batch's: the per-event counters still add up to the
        # events read, whichever mode ran.
        self.counters.add(agent, outcome, len(batch))
        BATCHES.labels(outcome).inc()
        BATCH_EVENTS.observe(len(batch))
        log.info("batch workflow %s: %s, %d events", wf_id, outcome, len(batch),
                 extra={"workflow_id": wf_id, "event_count": len(batch), "event_ids": ids})
        return outcome
