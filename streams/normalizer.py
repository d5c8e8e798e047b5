"""The normalizer worker: raw provider webhooks -> payments.normalized or payments.validation.dlq.

Run: ``faust -A streams.normalizer worker -l info`` (web on 127.0.0.1:6066). One agent per
raw topic of each provider in STREAMS_NORMALIZER_PROVIDERS (default: all four).
Raw values are consumed as bytes and parsed here (the raw topics carry the provider's body
as received), so a poison message reaches the DLQ instead of crashing the agent in faust's
decoder; the outputs are Records (``NormalizedEvent``, ``DeadLetterRecord``). Events are
worked in batches: every output of a batch is produced and acked by the broker before its
events are marked seen and before their offsets can be committed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import faust
from faust.stores.memory import Store as MemoryStore
from faust.types import EventT, StreamT

from contracts.dead_letters import ValidationIssue
from contracts.providers import Provider
from streams import outputs, views
from streams.changelog import ChangelogWriter, SeenStore, forget_seen, mark_seen
from streams.dedup import SeenEntry, SeenHistogram, decode_seen, purge_in_slices
from streams.faust_internals import App, kafka_producer
from streams.logs import use_json_logs
from streams.metrics import DEDUP_ENTRIES, DEDUP_PURGED, AgentCounters
from streams.origins import is_duplicate, is_replay
from streams.providers import PROVIDER_STREAMS, Mapper, ProviderStreams, RawTopic
from streams.providers.stripe import map_stripe_record
from streams.publishing import Send, refused, send_all_confirmed, work_in_batches
from streams.records import DeadLetterRecord, NormalizedEvent
from streams.settings import StreamsSettings
from telemetry import bind_event_id

log = logging.getLogger(__name__)
settings = StreamsSettings()

app = App(settings.NORMALIZER_APP_ID,
          **settings.normalizer_app_options(settings.NORMALIZER_APP_ID))

raw_topics = {
    name: app.topic(name, key_type=bytes, value_type=bytes,
                    key_serializer="raw", value_serializer="raw")
    for name in settings.raw_topics
}
# The outputs carry Records (streams/records.py), as the starter reads them. Each value is
# encoded once by its Record (streams/outputs.py) and produced straight to app.producer, in
# batches: faust's Topic.send costs more per message than the mapping.
normalized_topic = app.topic(settings.TOPIC_NORMALIZED, key_type=bytes, key_serializer="raw",
                             value_type=NormalizedEvent)
dlq_topic = app.topic(settings.TOPIC_VALIDATION_DLQ, key_type=bytes, key_serializer="raw",
                      value_type=DeadLetterRecord)
NORMALIZED, DLQ = normalized_topic.get_topic_name(), dlq_topic.get_topic_name()
TOPICS = outputs.OutputTopics(NORMALIZED, DLQ)

# event_id -> [first_seen_epoch, changelog partition]; partitioned like the raw topics.
dedup_table = app.Table(
    "dedup-seen", key_type=str,
    partitions=settings.TOPIC_PARTITIONS,
)
# One changelog request in flight for every actor: records handed in meanwhile go out
# together in the next (streams/changelog.py). The producer is looked up per write, so
# that a test can stand one in.
changelog_writer = ChangelogWriter(dedup_table, lambda: batch_producer())
counters = AgentCounters("normalizer")
# Ids being produced right now, so concurrent actors don't both emit one redelivery.
_in_flight: set[str] = set()


async def normalize_batch(events: Sequence[EventT], agent: str,
                          provider: str = Provider.STRIPE.value,
                          mapper: Mapper = map_stripe_record) -> None:
    """Turn each raw message into exactly one output (or none for a duplicate), all acked."""
    now = datetime.now(UTC)
    tally: Counter[str] = Counter(processed=len(events))
    claimed: set[str] = set()  # ids this batch will emit: a repeat inside the batch is a duplicate
    batch: list[tuple[EventT, outputs.Output]] = []
    seen = SeenStore(dedup_table)
    encoded: dict[str, bytes] = {}  # event id -> its table key, encoded once
    for event in events:
        output = outputs.build_output(event.message, provider, mapper, now, TOPICS)
        # A replay copy passes the table, which may remember a lost first copy (origins.py).
        replay = is_replay(event.message.headers)
        key, partition = output.key, event.message.partition
        # The table is split by source partition, as the raw topics are.
        encoded[key] = stored = seen.key(key)
        duplicate = is_duplicate(
            key, replay=replay, claimed=claimed, in_flight=_in_flight,
            remembered=lambda k, p=partition, b=stored: seen.contains(p, k, b))
        if duplicate:
            tally["deduplicated"] += 1
            _log_outcome(key, logging.INFO, "duplicate dropped")
            continue
        if replay:
            tally["replayed"] += 1
        claimed.add(key)
        batch.append((event, output))

    _in_flight.update(claimed)
    try:
        tally["refused"] = await _produce_outputs(batch, provider, now)
        # Marked only after the acks: a crash in between re-emits (absorbed downstream)
        # rather than remembering an event that was never written.
        await mark_seen(seen, changelog_writer, time.time(), [
            (event.message.partition, output.key,
             encoded.get(output.key) or seen.key(output.key))  # a dead letter's own id
            for event, output in batch])
    finally:
        _in_flight.difference_update(claimed)

    for _, output in batch:
        if output.topic == NORMALIZED:
            tally["normalized"] += 1
            _log_outcome(output.key, logging.DEBUG, "normalized")
        else:
            tally["dead_lettered"] += 1
            _log_outcome(output.key, logging.WARNING, "dead_lettered")
    for outcome, n in tally.items():
        if n:
            counters.add(agent, outcome, n)


async def _produce_outputs(batch: list[tuple[EventT, outputs.Output]], provider: str,
                           now: datetime) -> int:
    """Produce every output; one the broker refuses for good is replaced by a dead letter.

    Returns how many were replaced. Raises OutputRefusedError when a dead letter itself is
    refused: then no output can stand for the event, and its offset must not move.
    """
    results = await send_all_confirmed([produce(o.topic, o.key.encode(), o.value)
                                        for _, o in batch])
    replaced: list[int] = []
    for index, refusal in refused(results):
        event, output = batch[index]
        message = event.message
        if output.topic == DLQ:
            raise outputs.OutputRefusedError(message.topic, message.partition, message.offset,
                                             refusal.reason)
        issue = ValidationIssue(refusal.reason, f"{output.topic} refused the normalized event "
                                f"({len(output.value)} bytes): {refusal.error!r}")
        batch[index] = (event, outputs.dead_letter_output(
            message, provider, output.provider_event_id, issue, now, TOPICS))
        replaced.append(index)
    if replaced:
        await _produce_outputs([batch[i] for i in replaced], provider, now)
    return len(replaced)


def produce(topic: str, key: bytes, value: bytes, partition: int | None = None) -> Send:
    """One message for send_all_confirmed: queued when called, acked when awaited twice."""
    return partial(app.producer.send, topic, key, value, partition, None, None)


def batch_producer() -> Any:
    """The producer the dedup changelog is written through, a record batch at a time."""
    return kafka_producer(app)


def _log_outcome(event_id: str, level: int, outcome: str) -> None:
    # Per-event INFO lines would cost more than the normalizing; normalized is DEBUG.
    if log.isEnabledFor(level):
        bind_event_id(event_id)
        try:
            log.log(level, outcome)
        finally:
            bind_event_id(None)


async def _normalize_stream(stream: StreamT[bytes], agent: str,
                            provider: str = Provider.STRIPE.value,
                            mapper: Mapper = map_stripe_record) -> None:
    await work_in_batches(stream, partial(normalize_batch, agent=agent, provider=provider,
                                          mapper=mapper),
                          settings.NORMALIZER_BATCH_MAX, settings.NORMALIZER_BATCH_WITHIN_SECONDS)


_providers = settings.normalizer_providers
# provider -> its mapper, read when an agent starts (so a test can put a broken one in)
mappers: dict[str, Mapper] = {p.provider: p.mapper for p in PROVIDER_STREAMS}
_concurrency = settings.NORMALIZER_CONCURRENCY


def _declare_agent(provider: ProviderStreams, raw: RawTopic) -> faust.types.AgentT:
    """One agent per raw topic, from the one provider table (streams/providers/__init__.py)."""
    topic = getattr(settings, raw.setting)

    async def normalize(stream: StreamT[bytes]) -> None:
        name = provider.provider
        await _normalize_stream(stream, raw.agent, name, mappers[name])

    normalize.__name__ = normalize.__qualname__ = f"normalize_{raw.agent}"
    normalize.__doc__ = f"Normalize {topic} ({provider.provider})."
    return app.agent(raw_topics[topic], name=raw.agent_name, concurrency=_concurrency)(normalize)


# agent label (payment_intent, charge, ..., square_refund) -> its faust agent
agents = {raw.agent: _declare_agent(provider, raw)
          for provider in PROVIDER_STREAMS if provider.provider in _providers
          for raw in provider.raw_topics}


async def purge_dedup(now: float) -> int:
    """Forget ids past the retention, then the oldest beyond the cap, a slice at a time.

    Tombstones keep the changelog (and restores) small. Each slice is read, tombstoned and
    acked, then the loop is yielded to, so the purge never holds the event loop for long.
    """
    cutoff = now - settings.DEDUP_RETENTION_SECONDS
    generation = app.consumer_generation_id

    def assignment_unchanged() -> bool:
        # A rebalance moves partitions (and their stores) away: start over next time.
        return not app.rebalancing and app.consumer_generation_id == generation

    kept = SeenHistogram()
    purged = await purge_in_slices(_stored_entries(), expired=lambda e: e.seen_at < cutoff,
                                   forget=_forget, slice_size=settings.DEDUP_PURGE_SLICE,
                                   histogram=kept, keep_going=assignment_unchanged)
    size = kept.total
    cap_cutoff = kept.cap_cutoff(settings.DEDUP_MAX_ENTRIES)
    if cap_cutoff is not None and assignment_unchanged():
        # A cap below the retention weakens dedup, but unbounded state kills the worker.
        capped = await purge_in_slices(_stored_entries(),
                                       expired=lambda e: e.seen_at < cap_cutoff,
                                       forget=_forget, slice_size=settings.DEDUP_PURGE_SLICE,
                                       keep_going=assignment_unchanged)
        purged, size = purged + capped, size - capped
    DEDUP_ENTRIES.set(size)
    DEDUP_PURGED.inc(purged)
    return purged


def _stored_entries() -> Iterator[SeenEntry]:
    data = dedup_table.data
    # A RocksDB iterator reads a snapshot, so writes between slices are safe; a dict's
    # iterator would fail on them, so the memory store (tests) is copied first.
    items = list(data.items()) if isinstance(data, MemoryStore) else data.items()
    for key, value in items:
        entry = decode_seen(key, value)
        if entry is not None:
            yield entry


async def _forget(entries: list[SeenEntry]) -> None:
    await forget_seen(SeenStore(dedup_table), changelog_writer,
                      [(e.event_id, e.partition) for e in entries])


@app.timer(interval=settings.DEDUP_PURGE_INTERVAL_SECONDS)
async def purge_dedup_timer() -> None:
    """Purge expired dedup ids periodically."""
    purged = await purge_dedup(time.time())
    if purged:
        log.info("purged %d expired dedup ids", purged)


@app.task
async def configure_logs() -> None:
    """Switch to JSON logs once faust's worker has set up its own logging."""
    use_json_logs("streams.normalizer", settings.LOG_LEVEL)


views.register_health(app, counters, check_ready=views.consumer_ready)
views.register_dedup(app, dedup_table)
