"""`python -m orchestration.replay`: find the events of a window the pipeline lost; re-drive them.

    python -m orchestration.replay --provider stripe --since 2026-12-01T10:00:00Z \\
        [--until 2026-12-01T11:00:00Z] [--apply] [--rate 20] [--id-prefix evt_]

Reads the provider's raw topics (``contracts.providers.RAW_TOPICS``) over the window of
Kafka timestamps (--until defaults to now), and lists every event with no row in
payment_events or payment_events_quarantine. A webhook delivered twice is one event. A
dry run by default: it prints what is missing and changes nothing (exit 0).

With --apply each missing event's first record is produced again to its own topic and
partition, with the same key, value and headers plus ``origin: replay``, at most --rate a
second (acks=all, idempotent producer), and every ack is awaited. The normalizer lets a
replay copy past its dedup table (streams/origins.py); the starter starts a new run when
the event's workflow was terminated or failed; payment_events stays unique by event_id.
Events still in flight when the command runs also look missing; re-driving them is safe
(they end as duplicates), but an --until a few minutes back avoids the noise.

Exit status: 0 done, 1 Kafka or PostgreSQL failed, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from tqdm import tqdm

from contracts.kafka_auth import NO_AUTH, KafkaAuth
from contracts.limits import MAX_RECORD_BYTES
from contracts.providers import PROVIDER_NAMES, RAW_TOPICS
from orchestration.holdings import held_event_ids, quarantined_payloads
from orchestration.replay_plan import (
    Candidate,
    OffsetRange,
    RawRecord,
    Redriven,
    ReplayResult,
    Window,
    due_at,
    format_report,
    group_records,
    offset_ranges,
    parse_instant,
    plan_replay,
    replay_headers,
)
from orchestration.replay_settings import ReplaySettings, invalid_settings
from telemetry import exit_after_flush

CLIENT_ID = "payments-replay"
DEFAULT_RATE = 20.0
# Polls that bring nothing before a partition's remaining offsets are taken as gaps
# (compacted or transaction markers) rather than waited for forever.
IDLE_POLLS = 10


class ReplayError(Exception):
    """The replay cannot go on; the message says why."""


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not rate > 0 or rate == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: the rate must be above 0 per second")
    return rate


def parse_args(argv: Sequence[str] | None, now: datetime | None = None) -> argparse.Namespace:
    """The command line, with ``window`` (a Window) built and checked."""
    parser = argparse.ArgumentParser(prog="python -m orchestration.replay",
                                     description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--provider", required=True, choices=PROVIDER_NAMES)
    parser.add_argument("--since", required=True, type=_instant,
                        help="RFC 3339 with an offset, e.g. 2026-12-01T10:00:00Z (inclusive)")
    parser.add_argument("--until", type=_instant, help="exclusive; default: now")
    parser.add_argument("--apply", action="store_true",
                        help="re-drive the missing events (default: only list them)")
    parser.add_argument("--rate", type=_rate, default=DEFAULT_RATE,
                        help=f"re-driven events per second (default {DEFAULT_RATE:g})")
    parser.add_argument("--id-prefix", default="",
                        help="only events whose provider event id starts with this")
    args = parser.parse_args(argv)
    try:
        args.window = Window(args.since, args.until or now or datetime.now(UTC))
    except ValueError as err:
        parser.error(str(err))
    return args


async def read_window(bootstrap: str, topics: Sequence[str], window: Window,
                      timeout_s: float = 30.0, auth: KafkaAuth = NO_AUTH
                      ) -> list[RawRecord]:
    """Every record of the topics whose Kafka timestamp is in the window."""
    timeout_ms = int(timeout_s * 1000)
    partitions = await _partitions(bootstrap, topics, timeout_ms, auth)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id=CLIENT_ID, group_id=None,
                                enable_auto_commit=False, request_timeout_ms=timeout_ms,
                                **auth.client_kwargs())
    await consumer.start()
    try:
        consumer.assign(partitions)
        log_ends = await consumer.end_offsets(partitions)
        starts = await consumer.offsets_for_times({tp: window.since_ms for tp in partitions})
        ends = await consumer.offsets_for_times({tp: window.until_ms for tp in partitions})
        ranges = offset_ranges(
            {(tp.topic, tp.partition): (o.offset if o else None) for tp, o in starts.items()},
            {(tp.topic, tp.partition): (o.offset if o else None) for tp, o in ends.items()},
            {(tp.topic, tp.partition): offset for tp, offset in log_ends.items()})
        return await _read_ranges(consumer, partitions, ranges, window)
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: Sequence[str],
                      timeout_ms: int, auth: KafkaAuth) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                                request_timeout_ms=timeout_ms, **auth.client_kwargs())
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    found = {t["topic"]: t for t in described if not t["error_code"] and t["partitions"]}
    absent = [t for t in topics if t not in found]
    if absent:
        raise ReplayError(f"raw topic(s) not found on the broker: {', '.join(absent)}")
    return [TopicPartition(topic, p["partition"]) for topic in topics
            for p in sorted(found[topic]["partitions"], key=lambda p: p["partition"])]


async def _read_ranges(consumer: AIOKafkaConsumer, partitions: list[TopicPartition],
                       ranges: list[OffsetRange], window: Window) -> list[RawRecord]:
    remaining = {TopicPartition(r.topic, r.partition): r for r in ranges}
    read_to = {tp: r.start for tp, r in remaining.items()}  # next offset to account for
    consumer.pause(*[tp for tp in partitions if tp not in remaining])
    for tp, r in remaining.items():
        consumer.seek(tp, r.start)
    records: list[RawRecord] = []
    idle = 0
    with tqdm(total=sum(r.size for r in ranges), unit="rec", desc="reading",
              file=sys.stderr, disable=None) as bar:
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000)
            idle = 0 if any(fetched.values()) else idle + 1
            for tp, messages in fetched.items():
                end = remaining[tp].end if tp in remaining else -1
                for m in messages:
                    if m.offset >= end:
                        break
                    if window.holds(m.timestamp):
                        records.append(RawRecord(m.topic, m.partition, m.offset, m.timestamp,
                                                 m.key, m.value, tuple(m.headers or ())))
            for tp in list(remaining):
                end = remaining[tp].end
                position = min(await consumer.position(tp), end)
                if idle >= IDLE_POLLS and position < end:
                    # Nothing more comes below the end: offsets left by compaction or
                    # transaction markers, not records; said, in case it was a slow broker.
                    print(f"replay: {tp.topic}/{tp.partition}: nothing after offset "
                          f"{position - 1} below {end}; taken as gaps", file=sys.stderr)
                    position = end
                bar.update(position - read_to[tp])
                read_to[tp] = position
                if position >= end:
                    consumer.pause(tp)
                    del remaining[tp]
    return records


async def find_holdings(dsn: str, provider: str, events: dict[str, Candidate]
                        ) -> tuple[set[str], set[tuple[str, str]]]:
    """Held provider event ids, and the copies' payloads held by letters naming no id."""
    conn = await asyncpg.connect(dsn, timeout=30, server_settings={
        "application_name": CLIENT_ID, "default_transaction_read_only": "on"})
    try:
        held = await held_event_ids(conn, provider, list(events))
        payloads = [r.payload for c in events.values()
                    if c.provider_event_id not in held for r in c.copies]
        return held, await quarantined_payloads(conn, payloads)
    finally:
        await conn.close()


async def redrive(bootstrap: str, missing: Sequence[Candidate], rate: float,
                  timeout_s: float = 30.0, auth: KafkaAuth = NO_AUTH) -> list[Redriven]:
    """Produce each missing event's first record again, throttled, and wait for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=CLIENT_ID, acks="all",
                                enable_idempotence=True, max_request_size=MAX_RECORD_BYTES,
                                request_timeout_ms=int(timeout_s * 1000),
                                **auth.client_kwargs())
    await producer.start()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        acks = []
        with tqdm(total=len(missing), unit="evt", desc="re-driving", file=sys.stderr,
                  disable=None) as bar:
            for index, candidate in enumerate(missing):
                delay = started + due_at(index, rate) - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                record = candidate.first
                ack = await producer.send(record.topic, record.value, key=record.key,
                                          partition=record.partition,
                                          headers=replay_headers(record.headers))
                ack.add_done_callback(lambda _: bar.update(1))
                acks.append(ack)
            metadata = await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return [Redriven(c, m.partition, m.offset) for c, m in zip(missing, metadata, strict=True)]


async def run(args: argparse.Namespace, settings: ReplaySettings) -> ReplayResult:
    """Read the window, find what is missing, and (with --apply) re-drive it."""
    timeout = settings.KAFKA_REQUEST_TIMEOUT_SECONDS
    records = await read_window(settings.KAFKA_BOOTSTRAP_SERVERS, RAW_TOPICS[args.provider],
                                args.window, timeout, settings.kafka_auth())
    events, unkeyed = group_records(args.provider, records)
    if args.id_prefix:
        events = {k: c for k, c in events.items() if k.startswith(args.id_prefix)}
        unkeyed = []
    held, held_payloads = await find_holdings(settings.POSTGRES_DSN, args.provider, events)
    result = ReplayResult(plan_replay(events, unkeyed, held, held_payloads))
    if args.apply and result.plan.missing:
        result.redriven = await redrive(settings.KAFKA_BOOTSTRAP_SERVERS, result.plan.missing,
                                        args.rate, timeout, settings.kafka_auth())
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = ReplaySettings()
    except ValidationError as err:
        print(f"replay: invalid configuration: {invalid_settings(err)}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(run(args, settings))
    except ReplayError as err:
        print(f"replay: {err}", file=sys.stderr)
        return 1
    except (KafkaError, asyncpg.PostgresError, OSError, TimeoutError) as err:
        print(f"replay: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(format_report(args.provider, args.window, args.id_prefix, args.apply, result))
    return 0


if __name__ == "__main__":
    exit_after_flush(main())
