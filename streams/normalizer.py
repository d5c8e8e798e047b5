"""The normalizer worker: raw provider webhooks -> payments.normalized or payments.validation.dlq.

Run: ``faust -A streams.normalizer worker -l info`` (web on 127.0.0.1:6066). One agent per
raw topic of each provider in STREAMS_NORMALIZER_PROVIDERS (default: all four).
Values are consumed as raw bytes and parsed here, so a poison message reaches the DLQ
instead of crashing the agent in faust's decoder. Each output is produced and acked by
the broker before the event is marked seen and before its offset can be committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import faust
from faust.types import EventT, StreamT

from contracts.dead_letters import ValidationIssue
from contracts.events import PaymentEvent, Provider
from streams import views
from streams.adyen_mapping import map_adyen_record
from streams.braintree_mapping import map_braintree_record
from streams.codecs import build_dead_letter, dead_letter_from_error, encode_dead_letter
from streams.dedup import decode_seen, encode_seen, select_expired
from streams.logs import use_json_logs
from streams.mapping import map_stripe_bytes
from streams.metrics import DEDUP_ENTRIES, DEDUP_PURGED, AgentCounters
from streams.publishing import send_confirmed
from streams.records import NormalizedEvent, to_record
from streams.rules import InvalidEventError
from streams.settings import StreamsSettings
from streams.square_mapping import map_square_record
from telemetry import bind_event_id

log = logging.getLogger(__name__)
settings = StreamsSettings()

app = faust.App(
    settings.NORMALIZER_APP_ID,
    broker=settings.broker_url(),
    store=settings.STORE,
    datadir=str(settings.app_datadir(settings.NORMALIZER_APP_ID)),
    topic_partitions=settings.TOPIC_PARTITIONS,
    # Our topics are created by infra; faust only declares its own changelog topic.
    topic_disable_leader=True,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=settings.BROKER_SESSION_TIMEOUT_SECONDS,
    producer_acks=-1,
    producer_linger=settings.PRODUCER_LINGER_SECONDS,
    web_port=settings.WEB_PORT or 6066,
    web_bind=settings.WEB_HOST,
    web_host=settings.WEB_HOST,
    web_router_enabled=False,
    web_tables_enabled=False,
)

raw_topics = {
    name: app.topic(name, key_type=bytes, value_type=bytes,
                    key_serializer="raw", value_serializer="raw")
    for name in settings.raw_topics
}
normalized_topic = app.topic(settings.TOPIC_NORMALIZED, key_type=str,
                             value_type=NormalizedEvent, key_serializer="raw")
dlq_topic = app.topic(settings.TOPIC_VALIDATION_DLQ, key_type=str, value_type=bytes,
                      key_serializer="raw", value_serializer="raw")

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


async def normalize_message(event: EventT, agent: str, provider: str = Provider.STRIPE.value,
                            mapper: Mapper = map_stripe_record) -> None:
    """Turn one raw message into exactly one output (or none for a duplicate)."""
    message = event.message
    raw = message.value if isinstance(message.value, bytes) else bytes(message.value or b"")
    key_bytes = message.key if isinstance(message.key, bytes) or message.key is None \
        else str(message.key).encode()
    now = datetime.now(UTC)
    counters.add(agent, "processed")
    try:
        payment = mapper(key_bytes, raw, now)
        key, topic, value = payment.event_id, normalized_topic, to_record(payment)
    except InvalidEventError as exc:
        letter = dead_letter_from_error(raw, exc, topic=message.topic, partition=message.partition,
                                        offset=message.offset, failed_at=now)
        key, topic, value = letter.event_id, dlq_topic, encode_dead_letter(letter)
    except Exception as exc:  # noqa: BLE001 - a mapping bug must dead-letter, not kill the agent
        log.exception("normalize failed unexpectedly at %s:%s:%s",
                      message.topic, message.partition, message.offset)
        issue = ValidationIssue("normalize.internal_error", repr(exc))
        letter = build_dead_letter(raw, [issue], topic=message.topic, partition=message.partition,
                                   offset=message.offset, failed_at=now, stage="normalize",
                                   provider=provider)
        key, topic, value = letter.event_id, dlq_topic, encode_dead_letter(letter)

    bind_event_id(key)
    try:
        if key in _in_flight or key in dedup_table:
            counters.add(agent, "deduplicated")
            log.info("duplicate dropped")
            return
        _in_flight.add(key)
        try:
            await send_confirmed(topic, key=key, value=value)
            # Marked only after the ack: a crash in between re-emits (absorbed downstream)
            # rather than remembering an event that was never written.
            dedup_table[key] = encode_seen(time.time(), message.partition)
        finally:
            _in_flight.discard(key)
        outcome = "normalized" if topic is normalized_topic else "dead_lettered"
        counters.add(agent, outcome)
        log.log(logging.INFO if outcome == "normalized" else logging.WARNING, outcome)
    finally:
        bind_event_id(None)


async def _normalize_stream(stream: StreamT[bytes], agent: str,
                            provider: str = Provider.STRIPE.value,
                            mapper: Mapper = map_stripe_record) -> None:
    # Manual acks: faust acks an event in a `finally` even when the body raised or was
    # cancelled, which would let its offset be committed without an output.
    manual = stream.noack()
    async for event in manual.events():
        await normalize_message(event, agent, provider, mapper)
        await manual.ack(event)


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
