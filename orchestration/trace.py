"""`python -m orchestration.trace <payment_id|event_id> [--provider P] [--json]`: where is
this payment?

Prints one section per stage of each event's journey: the gateway's receipt (every raw copy,
with its request id, received_at and coordinates), what the normalizer did with it, its
workflows, its payment_events and quarantine rows, the payment's current state, and whether
Iceberg has it yet. Each section says found, not found, or unreachable (why): every source
is read under its own timeout, so a partial outage shows in its section and the rest of the
trace still prints. Exit status 0 when anything was found, 1 when nothing was, 2 on bad
configuration. Settings: orchestration/tracing/settings.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import asyncpg
import orjson
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from contracts.dead_letters import source_event_id
from contracts.providers import PROVIDER_NAMES, RAW_TOPICS, Provider
from contracts.storage import LAKE_PAYMENT_EVENTS, LAKE_QUARANTINE
from contracts.topics import PAYMENTS_NORMALIZED, PAYMENTS_VALIDATION_DLQ, WEBHOOKS_DLQ
from contracts.workflows import DLQ_REVIEW, PAYMENT_BATCH, PAYMENT_EVENT
from orchestration.trace_render import render_text, to_json
from orchestration.trace_report import (
    FOUND,
    UNREACHABLE,
    EventTrace,
    Lookup,
    NormalizerOutcome,
    PaymentTrace,
    Receipt,
    Rows,
    found,
    judge_normalizer,
    not_found,
    unreachable,
)
from orchestration.trace_resolve import EventRef, batch_keys, resolve
from orchestration.tracing import kafka
from orchestration.tracing.lake import LakeReader
from orchestration.tracing.postgres import PostgresReader
from orchestration.tracing.settings import TraceSettings
from orchestration.tracing.temporal import TemporalReader
from telemetry import exit_after_flush

_SOURCE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, KafkaError, OSError,
                  TimeoutError)


def _why(err: BaseException) -> str:
    text, name = str(err), type(err).__name__
    return text if text.startswith(name) else f"{name}: {text}" if text else name


class Sources:
    """Every reader, each either open or with the reason it could not be opened."""

    def __init__(self, settings: TraceSettings) -> None:
        self.settings = settings
        self.pg: PostgresReader | None = None
        self.pg_error = "not opened"
        self.kafka: kafka.KafkaReader | None = None
        self.kafka_error = "not opened"
        self.temporal: TemporalReader
        self.lake: LakeReader

    async def open(self) -> None:
        """Open every reader at once: a source that is down costs its timeout only once."""
        s = self.settings
        timeout = s.TRACE_TIMEOUT_SECONDS
        _, _, self.temporal, self.lake = await asyncio.gather(
            self._open_postgres(), self._open_kafka(),
            TemporalReader.connect(s.TEMPORAL_TARGET, s.TEMPORAL_NAMESPACE, s.TEMPORAL_UI_URL,
                                   timeout),
            LakeReader.connect(s.ICEBERG_CATALOG_NAME, s.catalog_properties(), timeout))

    async def _open_postgres(self) -> None:
        try:
            self.pg = await PostgresReader.connect(self.settings.POSTGRES_DSN,
                                                   self.settings.TRACE_TIMEOUT_SECONDS)
        except (*_SOURCE_ERRORS, asyncpg.ClientConfigurationError) as err:
            self.pg_error = f"PostgreSQL: {_why(err)}"

    async def _open_kafka(self) -> None:
        s = self.settings
        reader = kafka.KafkaReader(s.KAFKA_BOOTSTRAP_SERVERS, s.TRACE_TIMEOUT_SECONDS,
                                   s.TRACE_SCAN_MAX_RECORDS, s.kafka_auth())
        try:
            await reader.start()
            self.kafka = reader
        except _SOURCE_ERRORS as err:
            self.kafka_error = f"Kafka {s.KAFKA_BOOTSTRAP_SERVERS}: {_why(err)}"
            await reader.stop()

    async def close(self) -> None:
        if self.pg is not None:
            with contextlib.suppress(*_SOURCE_ERRORS):  # only read: nothing to lose
                await self.pg.close()
        if self.kafka is not None:
            await self.kafka.stop()

    async def rows(self, read: Callable[[PostgresReader], Awaitable[list[dict]]]
                   ) -> tuple[list[dict], Lookup]:
        """Rows from PostgreSQL with the lookup they amount to."""
        if self.pg is None:
            return [], unreachable(self.pg_error)
        try:
            rows = await read(self.pg)
        except _SOURCE_ERRORS as err:
            return [], unreachable(f"PostgreSQL: {_why(err)}")
        return rows, found() if rows else not_found()


async def trace(query: str, provider: str | None, settings: TraceSettings) -> PaymentTrace:
    sources = Sources(settings)
    await sources.open()
    try:
        return await _trace(query, provider, sources)
    finally:
        await sources.close()


async def _trace(query: str, provider: str | None, sources: Sources) -> PaymentTrace:
    named, named_lookup = await sources.rows(lambda pg: pg.events_named(query, provider))
    payments, payment_lookup = await sources.rows(lambda pg: pg.payments(query, provider))
    quarantined: list[dict] = []
    if not named and not payments:
        quarantined, _ = await sources.rows(
            lambda pg: pg.quarantine([query], provider, query))
    what = resolve(query, provider, named, payments, quarantined)
    mentions = Rows(not_found())
    payments_all = payments
    if what.kind == "payment":
        payments = [p for p in payments if p["provider"] == what.provider]
        rows, lookup = await sources.rows(lambda pg: pg.quarantine_mentioning(query))
        mentions = Rows(lookup, tuple(rows))
    elif what.payment_id:
        payments, payment_lookup = await sources.rows(
            lambda pg: pg.payments(what.payment_id, what.provider))
    else:
        payment_lookup = (named_lookup if named_lookup.state != FOUND
                          else not_found("the event names no payment"))
    events = [await _trace_event(ref, sources) for ref in what.refs]
    if not (named or payments or quarantined) and len(events) > 1:
        # An id no row names was searched under every provider: keep those that found it.
        events = [e for e in events if e.receipt.copies or e.receipt.refused] or events[:1]
    note = None
    owners = sorted({p["provider"] for p in payments_all} - {what.provider})
    if what.kind == "payment" and owners:
        note = f"{', '.join(owners)} also has a payment {query}: pass --provider to trace it"
    if not (named or payments or quarantined):
        known = named_lookup.state != UNREACHABLE
        note = ("PostgreSQL knows no payment or event by this id" if known
                else "PostgreSQL could not be read") + "; searched the raw topics as an event id"
    return PaymentTrace(query, what.kind, what.provider, what.payment_id,
                        Rows(payment_lookup, tuple(payments)), tuple(events), mentions, note)


async def _trace_event(ref: EventRef, sources: Sources) -> EventTrace:
    rows, rows_lookup = await sources.rows(lambda pg: pg.events(ref.event_id))
    since = None
    if rows:
        created: datetime = rows[0]["provider_created_at"]
        since = created - timedelta(seconds=sources.settings.TRACE_CLOCK_SKEW_SECONDS)
    receipt, normalizer = await _kafka_stages(ref, since, sources)
    letter_ids = [letter.event_id for letter in normalizer.dead_letters]
    copy_ids = [source_event_id(c.topic, c.partition, c.offset) for c in receipt.copies]
    q_rows, q_lookup = await sources.rows(lambda pg: pg.quarantine(
        [ref.event_id, *letter_ids, *copy_ids], ref.provider, ref.provider_event_id))
    review_ids = list(dict.fromkeys([*letter_ids, *(r["event_id"] for r in q_rows)]))
    workflows = [await sources.temporal.describe(PAYMENT_EVENT, ref.event_id)]
    # A row the batched mode wrote names its PaymentBatchWorkflow (payment-batch:<key>).
    workflows += [await sources.temporal.describe(PAYMENT_BATCH, k) for k in batch_keys(rows)]
    workflows += [await sources.temporal.describe(DLQ_REVIEW, i) for i in review_ids]
    lake = [await sources.lake.holds(LAKE_PAYMENT_EVENTS, [ref.event_id], _known(rows_lookup)),
            await sources.lake.holds(LAKE_QUARANTINE, [r["event_id"] for r in q_rows] or
                                     [ref.event_id], _known(q_lookup))]
    return EventTrace(ref.event_id, ref.provider, ref.provider_event_id, receipt, normalizer,
                      tuple(workflows), Rows(rows_lookup, tuple(rows)),
                      Rows(q_lookup, tuple(q_rows)), tuple(lake))


def _known(lookup: Lookup) -> bool | None:
    """Whether PostgreSQL holds the rows (None: it could not be read)."""
    return None if lookup.state == UNREACHABLE else lookup.state == FOUND


async def _kafka_stages(ref: EventRef, since: datetime | None,
                        sources: Sources) -> tuple[Receipt, NormalizerOutcome]:
    reader = sources.kafka
    if reader is None:
        gone = unreachable(sources.kafka_error)
        return Receipt(gone), NormalizerOutcome(gone, "unknown", "Kafka could not be read")
    receipt, copies = await _receipt(reader, ref, since)
    skew = timedelta(seconds=sources.settings.TRACE_CLOCK_SKEW_SECONDS)
    stamps = [c.timestamp for c in receipt.copies if c.timestamp is not None]
    out_since = min(stamps) - skew if stamps else since
    letter_keys = [ref.event_id, *(source_event_id(c.topic, c.partition, c.offset)
                                   for c in receipt.copies)]
    try:
        outputs = await reader.find([PAYMENTS_NORMALIZED], [ref.event_id.encode()], out_since)
        letters = await reader.find([PAYMENTS_VALIDATION_DLQ],
                                    [k.encode() for k in letter_keys], out_since)
    except _SOURCE_ERRORS as err:
        return receipt, NormalizerOutcome(unreachable(f"Kafka: {_why(err)}"), "unknown")
    dead = tuple(kafka.dead_letter_copy(r) for r in letters.records)
    verdict, detail = judge_normalizer(copies, len(outputs.records), dead, len(receipt.refused))
    lookup = found() if outputs.records or dead else not_found(_missing(outputs, letters))
    return receipt, NormalizerOutcome(lookup, verdict, detail,
                                      tuple(kafka.raw_copy(r) for r in outputs.records), dead,
                                      outputs.scans + letters.scans)


async def _receipt(reader: kafka.KafkaReader, ref: EventRef,
                   since: datetime | None) -> tuple[Receipt, int | None]:
    if ref.provider not in PROVIDER_NAMES or ref.provider_event_id is None:
        return Receipt(not_found("no provider event id to search the raw topics by")), None
    key = ref.provider_event_id.encode()
    try:
        raw = await reader.find(RAW_TOPICS[Provider(ref.provider)], [key], since)
        refused = await reader.find([WEBHOOKS_DLQ], [key], since)
    except _SOURCE_ERRORS as err:
        return Receipt(unreachable(f"Kafka: {_why(err)}")), None
    copies = tuple(kafka.raw_copy(r) for r in raw.records)
    refusals = tuple(kafka.refused_copy(r) for r in refused.records)
    if copies or refusals:
        lookup = found(f"{len(copies)} raw cop{'y' if len(copies) == 1 else 'ies'}"
                       + (f", {len(refusals)} refused" if refusals else ""))
    else:
        lookup = not_found(_missing(raw, refused))
    return Receipt(lookup, copies, refusals, raw.scans + refused.scans), len(copies)


def _missing(*results: kafka.Found) -> str:
    topics = [t for r in results for t in r.missing_topics]
    partial = any(not s.complete for r in results for s in r.scans)
    why = "no record under its key in the partitions searched"
    if partial:
        why += " (the search stopped early: older records were not read)"
    return why + (f"; no such topic: {', '.join(topics)}" if topics else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m orchestration.trace",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("id", help="a payment id (pi_..., a pspReference, ...), a provider "
                        "event id (evt_...) or a unified event id (stripe:evt_...)")
    parser.add_argument("--provider", choices=PROVIDER_NAMES)
    parser.add_argument("--json", action="store_true", help="print the trace as JSON")
    args = parser.parse_args(argv)
    if not args.id.strip():
        parser.error("the id is empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # aiokafka logs each failed connection attempt; the trace reports the outcome itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        settings = TraceSettings()
    except ValidationError as err:
        names = ", ".join(str(e["loc"][0]) for e in err.errors())
        print(f"trace: invalid setting {names}: {err}", file=sys.stderr)
        return 2
    result = asyncio.run(trace(args.id.strip(), args.provider, settings))
    if args.json:
        sys.stdout.write(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
    else:
        print(render_text(result))
    anything = result.payment.rows or any(
        e.receipt.copies or e.event_rows.rows or e.quarantine.rows for e in result.events)
    return 0 if anything else 1


if __name__ == "__main__":
    exit_after_flush(main())
