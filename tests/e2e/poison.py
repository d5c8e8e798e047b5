"""Oversized and permanently failing records, written straight to every consumed topic.

*Oversized*: a value of exactly the record budget (``contracts.limits.MAX_VALUE_BYTES``)
that its consumer must refuse; a dead letter that copies it whole is over the broker's
limit. *Permanently failing*: a record that reads well but whose workflow Temporal refuses
on every attempt (an id over Temporal's 1,000-character limit: INVALID_ARGUMENT). Either
must end in ``payment_events_quarantine`` with a reason, and its partition must move on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, UnknownMemberIdError

from contracts.limits import MAX_RECORD_BYTES, MAX_VALUE_BYTES
from contracts.topics import PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ, RAW_TOPICS, WEBHOOKS_DLQ
from infra.stack_env import admin_dsn
from tests.kafka_clients import kafka_kwargs

CONSUMED_TOPICS = (*RAW_TOPICS, WEBHOOKS_DLQ, PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ)
# Temporal refuses workflow ids longer than 1,000 characters (limit.maxIDLength).
OVERLONG_ID = 1_100


@dataclass(slots=True)
class PoisonRecord:
    kind: str  # "oversized" or "permanent"
    topic: str
    marker: str  # unique text in its id, to find its quarantine row however it got there
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int = -1
    offset: int = -1


def _topic_no(topic: str) -> int:
    return CONSUMED_TOPICS.index(topic) if topic in CONSUMED_TOPICS else len(CONSUMED_TOPICS)


def _pad(document: dict, field: str, size: int) -> bytes:
    """`document` with `field` grown so the whole JSON value is exactly `size` bytes."""
    document[field] = ""
    room = size - len(orjson.dumps(document))
    document[field] = "x" * room
    return orjson.dumps(document)


def _dead_letter(event_id: str, payload: str) -> dict:
    return {"event_id": event_id, "source_topic": "webhooks.stripe.charge",
            "source_partition": 0, "source_offset": 0, "payload": payload,
            "payload_encoding": "utf-8", "failed_at": datetime.now(UTC).isoformat(),
            "errors": [{"code": "amount.invalid", "message": "amount must be an integer",
                        "field": "amount"}], "stage": "validate", "provider": "stripe",
            "provider_event_id": event_id.removeprefix("stripe:")}


def _payment_event(event_id: str) -> dict:
    now = datetime.now(UTC).isoformat()
    return {"event_id": event_id, "provider": "stripe",
            "provider_event_id": event_id.removeprefix("stripe:"),
            "event_type": "payment.succeeded", "payment_id": "pi_poison", "merchant_id": None,
            "customer_id": "cus_poison", "amount_cents": 1000, "currency": "USD",
            "payment_method_type": "card", "card_brand": "visa", "card_last_four": "4242",
            "status": "succeeded", "failure_code": None, "failure_message": None,
            "metadata": {}, "provider_created_at": now, "processed_at": now,
            "schema_version": 1}


def _gateway_headers(event_id: str, reason: str) -> list[tuple[str, bytes]]:
    return [("provider", b"stripe"), ("reason", reason.encode()),
            ("detail", b"written by the fault suite"), ("event_id", event_id.encode()[:512]),
            ("received_at", datetime.now(UTC).isoformat().encode()),
            ("request_id", b"fault-suite")]


def oversized(topic: str, tag: str) -> PoisonRecord:
    marker = f"big{tag}t{_topic_no(topic)}"
    event_id = f"evt_{marker}"
    headers: list[tuple[str, bytes]] = []
    size = MAX_VALUE_BYTES
    if topic == PAYMENTS_NORMALIZED:
        # Not a PaymentEvent (its amount is a megabyte of text): the starter's dead letter.
        doc = _payment_event(f"stripe:{event_id}")
        value = _pad(doc, "amount_cents", size)
    elif topic == PAYMENTS_VALIDATION_DLQ:
        value = _pad(_dead_letter(f"stripe:{event_id}", ""), "payload", size)
    else:
        # A Stripe-shaped event whose amount is a megabyte of text: invalid for every
        # provider's mapper, and the bad value is as big as a record may be.
        doc = {"id": event_id, "object": "event", "type": "charge.succeeded",
               "created": int(time.time()), "data": {"object": {
                   "id": f"ch_{marker}", "object": "charge", "currency": "usd"}}}
        value = _pad(doc, "amount", size)
        if topic == WEBHOOKS_DLQ:
            headers = _gateway_headers(event_id, "payload.invalid")
    return PoisonRecord("oversized", topic, marker, event_id.encode(), value, headers)


def permanent(topic: str, tag: str) -> PoisonRecord:
    marker = f"perm{tag}t{_topic_no(topic)}"
    event_id = f"evt_{marker}_" + "x" * OVERLONG_ID
    headers: list[tuple[str, bytes]] = []
    if topic == PAYMENTS_NORMALIZED:
        value = orjson.dumps(_payment_event(f"stripe:{event_id}"))
    elif topic == PAYMENTS_VALIDATION_DLQ:
        value = orjson.dumps(_dead_letter(f"stripe:{event_id}", '{"amount": "1.5"}'))
    else:
        # Invalid (a float amount), keyed by an over-long id: its dead letter's review
        # workflow id is over Temporal's limit, so the start is refused every time.
        value = orjson.dumps({"id": event_id, "object": "event", "type": "charge.succeeded",
                              "created": int(time.time()), "data": {"object": {
                                  "id": f"ch_{marker}", "object": "charge", "amount": 10.5,
                                  "currency": "usd"}}})
        if topic == WEBHOOKS_DLQ:
            headers = _gateway_headers(event_id, "payload.invalid")
    return PoisonRecord("permanent", topic, marker, event_id.encode(), value, headers)


def poison_records(tag: str, topics: tuple[str, ...] = CONSUMED_TOPICS,
                   kinds: tuple[str, ...] = ("oversized", "permanent")) -> list[PoisonRecord]:
    builders = {"oversized": oversized, "permanent": permanent}
    return [builders[kind](topic, tag) for topic in topics for kind in kinds]


async def write_records(bootstrap: str, records: list[PoisonRecord]) -> None:
    """Write each record as its own batch (acks=all) and note where it landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap,
                                **kafka_kwargs(), acks="all", linger_ms=0,
                                max_request_size=MAX_RECORD_BYTES)
    await producer.start()
    try:
        for record in records:
            meta = await producer.send_and_wait(record.topic, record.value, key=record.key,
                                                headers=record.headers)
            record.partition, record.offset = meta.partition, meta.offset
    finally:
        await producer.stop()


async def quarantine_rows(records: list[PoisonRecord]) -> dict[str, list[str]]:
    """marker -> the error codes of its quarantine row(s), found by source coordinates, by
    the id of the record's own coordinates (a dead letter whose id is too long for a
    workflow is reviewed under them), or by the id that carries the marker (a record may
    be dead-lettered one stage later)."""
    conn = await asyncpg.connect(admin_dsn(), timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT c.marker, q.error_codes FROM unnest($1::text[], $2::text[], $3::int[], "
            "$4::bigint[]) AS c(marker, t, p, o) JOIN payment_events_quarantine q ON "
            "(q.source_topic = c.t AND q.source_partition = c.p AND q.source_offset = c.o) "
            "OR q.event_id = 'dlq:' || c.t || ':' || c.p || ':' || c.o "
            "OR q.event_id LIKE '%' || c.marker || '%'",
            [r.marker for r in records], [r.topic for r in records],
            [r.partition for r in records], [r.offset for r in records])
    finally:
        await conn.close()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["marker"], []).extend(row["error_codes"] or [])
    return found


# Which group reads which topic, to release a partition a poison record stalled.
CONSUMER_OF = {**{t: ("normalizer", "payments-normalizer") for t in RAW_TOPICS},
               PAYMENTS_NORMALIZED: ("starter", "payments-starter"),
               PAYMENTS_VALIDATION_DLQ: ("starter", "payments-starter")}


async def _stuck_partitions(bootstrap: str, records: list[PoisonRecord]
                            ) -> dict[tuple[str, str, TopicPartition], int]:
    """(service, group, partition) -> the offset to move to, for partitions stuck at one of
    the poison records (committed within the poison's offsets there)."""
    spans: dict[tuple[str, str, TopicPartition], tuple[int, int]] = {}
    for r in records:
        if r.topic in CONSUMER_OF and r.offset >= 0:
            key = (*CONSUMER_OF[r.topic], TopicPartition(r.topic, r.partition))
            low, high = spans.get(key, (r.offset, r.offset))
            spans[key] = (min(low, r.offset), max(high, r.offset))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_kwargs())
    await admin.start()
    try:
        stuck = {}
        for group in {g for _, g, _ in spans}:
            committed = await admin.list_consumer_group_offsets(group)
            for (service, g, tp), (low, high) in spans.items():
                meta = committed.get(tp)
                if g == group and meta is not None and low <= meta.offset <= high:
                    stuck[(service, g, tp)] = high + 1
        return stuck
    finally:
        await admin.close()


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    # Only an empty group takes a commit from outside: the caller stopped its service, but
    # a member that could not leave cleanly stays until its session times out (20 s).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **kafka_kwargs(), group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        for attempt in range(30):
            try:
                await consumer.commit(offsets)
                return
            except (CommitFailedError, UnknownMemberIdError):
                if attempt == 29:
                    raise
                await asyncio.sleep(2)
    finally:
        await consumer.stop()


def release_stuck(bootstrap: str, records: list[PoisonRecord], stop, start) -> list[str]:
    """Hygiene for the shared stack: a consumer a poison record stalled (a product bug the
    test reports) would stay stalled for every later run, so its group is moved past it."""
    stuck = asyncio.run(_stuck_partitions(bootstrap, records))
    services = sorted({service for service, _, _ in stuck})
    for service in services:
        stop(service)
    try:
        for group in {g for _, g, _ in stuck}:
            asyncio.run(_commit(bootstrap, group, {tp: offset for (_, g, tp), offset
                                                   in stuck.items() if g == group}))
    finally:
        for service in services:
            start(service)
    return [f"{g}:{tp.topic}[{tp.partition}]->{offset}" for (_, g, tp), offset in stuck.items()]
