"""The normalizer worker: raw provider webhooks -> payments.normalized or payments.validation.dlq.

Run: ``faust -A streams.normalizer worker -l info`` (web on 127.0.0.1:6066). One agent per
raw topic of each provider in STREAMS_NORMALIZER_PROVIDERS (default: all four).
Values are consumed as raw bytes and parsed here, so a poison message reaches the DLQ
instead of crashing the agent in faust's decoder. Events are worked in batches: every
output of a batch is produced and acked by the broker before its events are marked seen
and before their offsets can be committed.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial

import faust
from faust.streams import _current_event  # no public setter; batches need one per event
from faust.types import EventT, Message, StreamT

from contracts.dead_letters import ValidationIssue
from contracts.events import PaymentEvent
from contracts.providers import Provider
from streams import views
from streams.codecs import (
    build_dead_letter,
    dead_letter_from_error,
    encode_dead_letter,
    encode_event,
)
from streams.dedup import decode_seen, encode_seen, select_expired
from streams.logs import use_json_logs
from streams.metrics import DEDUP_ENTRIES, DEDUP_PURGED, AgentCounters
from streams.providers.adyen import map_adyen_record
from streams.providers.braintree import map_braintree_record
from streams.providers.square import map_square_record
from streams.providers.stripe import map_stripe_bytes
from streams.publishing import Send, mark_seen, send_all_confirmed, work_in_batches
from streams.rules import InvalidEventError
from streams.settings import StreamsSettings
from telemetry import bind_event_id

log = logging.getLogger(__name__)
settings = StreamsSettings()

app = faust.App(settings.NORMALIZER_APP_ID,
                **settings.normalizer_app_options(settings.NORMALIZER_APP_ID))

raw_topics = {
    name: app.topic(name, key_type=bytes, value_type=bytes,
                    key_serializer="raw", value_serializer="raw")
    for name in settings.raw_topics
}
# Outputs are JSON bytes from streams.codecs (the starter decodes with it), produced
# straight to app.producer: faust's Topic.send costs more per message than the mapping.
NORMALIZED, DLQ = settings.TOPIC_NORMALIZED, settings.TOPIC_VALIDATION_DLQ

# event_id -> [first_seen_epoch, changelog partition]; partitioned like the raw topics.
dedup_table = app.Table(
    "dedup-seen", key_type=str,
    partitions=settings.TOPIC_PARTITIONS,
)
counters = AgentCounters("normalizer")
# Ids being produced right now, so concurrent actors don't both emit one redelivery.
_in_flight: set[str] = set()
# (Kafka key, value, processed_at) -> PaymentEvent, or InvalidEventError.
Mapper = Callable[[bytes | None, bytes, datetime], PaymentEvent]


def map_stripe_record(key: bytes | None, raw: bytes, processed_at: datetime) -> PaymentEvent:
    # A Stripe body names its own id; the key is the same id, so it is not needed.
    return map_stripe_bytes(raw, processed_at)


def build_output(message: Message, provider: str, mapper: Mapper,
                 now: datetime) -> tuple[str, str, bytes]:
    """The one (key, topic, value) a raw message becomes: the normalized event or a dead letter."""
    raw = message.value if isinstance(message.value, bytes) else bytes(message.value or b"")
    key_bytes = message.key if isinstance(message.key, bytes) or message.key is None \
        else str(message.key).encode()
    try:
        payment = mapper(key_bytes, raw, now)
        return payment.event_id, NORMALIZED, encode_event(payment)
    except InvalidEventError as exc:
        letter = dead_letter_from_error(raw, exc, topic=message.topic, partition=message.partition,
                                        offset=message.offset, failed_at=now)
    except Exception as exc:  # noqa: BLE001 - a mapping bug must dead-letter, not kill the agent
        log.exception("normalize failed unexpectedly at %s:%s:%s",
                      message.topic, message.partition, message.offset)
        issue = ValidationIssue("normalize.internal_error", repr(exc))
        letter = build_dead_letter(raw, [issue], topic=message.topic, partition=message.partition,
                                   offset=message.offset, failed_at=now, stage="normalize",
                                   provider=provider)
    return letter.event_id, DLQ, encode_dead_letter(letter)


async def normalize_batch(events: Sequence[EventT], agent: str,
                          provider: str = Provider.STRIPE.value,
                          mapper: Mapper = map_stripe_record) -> None:
    """Turn each raw message into exactly one output (or none for a duplicate), all acked."""
    now = datetime.now(UTC)
    tally: Counter[str] = Counter(processed=len(events))
    claimed: set[str] = set()  # ids this batch will emit: a repeat inside the batch is a duplicate
    outputs: list[tuple[EventT, str, str, bytes]] = []
    for event in events:
        key, topic, value = build_output(event.message, provider, mapper, now)
        # The store is split by source partition and finds it from the current event.
        token = _current_event.set(weakref.ref(event))
        try:
            duplicate = key in claimed or key in _in_flight or key in dedup_table
        finally:
            _current_event.reset(token)
        if duplicate:
            tally["deduplicated"] += 1
            _log_outcome(key, logging.INFO, "duplicate dropped")
            continue
        claimed.add(key)
        outputs.append((event, key, topic, value))

    _in_flight.update(claimed)
    try:
        await send_all_confirmed([produce(topic, key.encode(), value)
                                  for _, key, topic, value in outputs])
        # Marked only after the acks: a crash in between re-emits (absorbed downstream)
        # rather than remembering an event that was never written.
        seen_at = time.time()
        await mark_seen(dedup_table, produce, [
            (event, key, encode_seen(seen_at, event.message.partition))
            for event, key, _, _ in outputs])
    finally:
        _in_flight.difference_update(claimed)

    for _, key, topic, _ in outputs:
        if topic == NORMALIZED:
            tally["normalized"] += 1
            _log_outcome(key, logging.DEBUG, "normalized")
        else:
            tally["dead_lettered"] += 1
            _log_outcome(key, logging.WARNING, "dead_lettered")
    for outcome, n in tally.items():
        counters.add(agent, outcome, n)


def produce(topic: str, key: bytes, value: bytes, partition: int | None = None) -> Send:
    """One message for send_all_confirmed: queued when called, acked when awaited twice."""
    return partial(app.producer.send, topic, key, value, partition, None, None)


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
_concurrency = settings.NORMALIZER_CONCURRENCY

if "stripe" in _providers:

    @app.agent(raw_topics[settings.TOPIC_PAYMENT_INTENT], name="normalize-payment-intent",
               concurrency=_concurrency)
    async def normalize_payment_intents(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.stripe.payment_intent."""
        await _normalize_stream(stream, "payment_intent")

    @app.agent(raw_topics[settings.TOPIC_CHARGE], name="normalize-charge",
               concurrency=_concurrency)
    async def normalize_charges(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.stripe.charge (charges and disputes)."""
        await _normalize_stream(stream, "charge")

    @app.agent(raw_topics[settings.TOPIC_REFUND], name="normalize-refund",
               concurrency=_concurrency)
    async def normalize_refunds(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.stripe.refund."""
        await _normalize_stream(stream, "refund")

if "adyen" in _providers:

    @app.agent(raw_topics[settings.TOPIC_ADYEN], name="normalize-adyen",
               concurrency=_concurrency)
    async def normalize_adyen(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.adyen.notification (one NotificationRequestItem each)."""
        await _normalize_stream(stream, "adyen", Provider.ADYEN.value, map_adyen_record)

if "braintree" in _providers:

    @app.agent(raw_topics[settings.TOPIC_BRAINTREE], name="normalize-braintree",
               concurrency=_concurrency)
    async def normalize_braintree(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.braintree.notification (signed form bodies)."""
        await _normalize_stream(stream, "braintree", Provider.BRAINTREE.value,
                                map_braintree_record)

if "square" in _providers:

    @app.agent(raw_topics[settings.TOPIC_SQUARE_PAYMENT], name="normalize-square-payment",
               concurrency=_concurrency)
    async def normalize_square_payments(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.square.payment."""
        await _normalize_stream(stream, "square_payment", Provider.SQUARE.value,
                                map_square_record)

    @app.agent(raw_topics[settings.TOPIC_SQUARE_REFUND], name="normalize-square-refund",
               concurrency=_concurrency)
    async def normalize_square_refunds(stream: StreamT[bytes]) -> None:
        """Normalize webhooks.square.refund."""
        await _normalize_stream(stream, "square_refund", Provider.SQUARE.value,
                                map_square_record)


def purge_dedup(now: float) -> int:
    """Forget ids past the retention; tombstones keep the changelog (and restores) small."""
    entries = (decode_seen(k, v) for k, v in list(dedup_table.data.items()))
    expired, kept = select_expired(
        (e for e in entries if e is not None), now=now,
        retention_seconds=settings.DEDUP_RETENTION_SECONDS,
        max_entries=settings.DEDUP_MAX_ENTRIES,
    )
    for entry in expired:
        # Outside a stream event faust can't infer the partition, so write the tombstone
        # to the one recorded with the entry, then drop it from the local store.
        dedup_table.send_changelog(entry.partition, entry.event_id, None, value_serializer="raw")
        del dedup_table.data[entry.event_id]
    DEDUP_ENTRIES.set(kept)
    DEDUP_PURGED.inc(len(expired))
    return len(expired)


@app.timer(interval=settings.DEDUP_PURGE_INTERVAL_SECONDS)
async def purge_dedup_timer() -> None:
    """Purge expired dedup ids periodically."""
    purged = purge_dedup(time.time())
    if purged:
        log.info("purged %d expired dedup ids", purged)


@app.task
async def configure_logs() -> None:
    """Switch to JSON logs once faust's worker has set up its own logging."""
    use_json_logs("streams.normalizer", settings.LOG_LEVEL)


views.register_health(app, counters, check_ready=views.consumer_ready)
views.register_dedup(app, dedup_table)
