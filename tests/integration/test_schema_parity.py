"""The PostgreSQL tables agree with the contracts, field by field: payment_events with the
unified event, payment_events_quarantine with the dead letter (and the bronze table)."""

import dataclasses
import types
import typing
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from batch.schemas import PAYMENT_EVENTS_QUARANTINE
from contracts import DeadLetter, PaymentEvent, ValidationIssue
from orchestration.store import PaymentStore, create_pool
from streams.codecs import build_dead_letter

# How each Python type of the contract is stored.
PG_TYPES = {str: "text", int: {"bigint", "integer"}, datetime: "timestamp with time zone",
            dict: "jsonb"}


def storage_type(annotation) -> tuple[set[str], bool]:
    nullable = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = typing.get_args(annotation)
        nullable = type(None) in args
        annotation = next(a for a in args if a is not type(None))
    base = typing.get_origin(annotation) or annotation
    expected = PG_TYPES[base]
    return ({expected} if isinstance(expected, str) else expected), nullable


async def test_payment_events_columns_match_the_unified_event(postgres_dsn):
    conn = await asyncpg.connect(postgres_dsn)
    try:
        rows = await conn.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'payment_events'")
    finally:
        await conn.close()
    columns = {r["column_name"]: (r["data_type"], r["is_nullable"] == "YES") for r in rows}
    hints = typing.get_type_hints(PaymentEvent)
    for field in dataclasses.fields(PaymentEvent):
        assert field.name in columns, f"payment_events lacks {field.name}"
        expected, nullable = storage_type(hints[field.name])
        data_type, column_nullable = columns[field.name]
        assert data_type in expected, (field.name, data_type, expected)
        assert column_nullable == nullable, (field.name, column_nullable, nullable)


# DeadLetter field -> payment_events_quarantine column, for every field a row keeps.
QUARANTINE_COLUMNS_OF_LETTER = {
    "event_id": "event_id", "provider": "provider", "provider_event_id": "provider_event_id",
    "source_topic": "source_topic", "source_partition": "source_partition",
    "source_offset": "source_offset", "payload": "original_payload",
    "payload_encoding": "payload_encoding", "error_codes": "error_codes", "errors": "errors",
    "payload_sha256": "payload_sha256", "payload_length": "payload_length",
    "payload_truncated": "payload_truncated", "payload_redaction": "payload_redaction",
}
LETTER_PG_TYPES = {str: {"text"}, int: {"bigint", "integer"}, bool: {"boolean"},
                   list: {"ARRAY", "jsonb"}}


async def quarantine_columns(postgres_dsn) -> dict[str, tuple[str, bool]]:
    conn = await asyncpg.connect(postgres_dsn)
    try:
        rows = await conn.fetch(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'payment_events_quarantine'")
    finally:
        await conn.close()
    return {r["column_name"]: (r["data_type"], r["is_nullable"] == "YES") for r in rows}


async def test_quarantine_columns_match_the_dead_letter(postgres_dsn):
    columns = await quarantine_columns(postgres_dsn)
    hints = typing.get_type_hints(DeadLetter)
    for name, column in QUARANTINE_COLUMNS_OF_LETTER.items():
        assert column in columns, f"payment_events_quarantine lacks {column}"
        annotation = hints[name]
        nullable = False
        if isinstance(annotation, types.UnionType):
            nullable = type(None) in typing.get_args(annotation)
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        base = typing.get_origin(annotation) or annotation
        data_type, column_nullable = columns[column]
        assert data_type in LETTER_PG_TYPES[base], (name, data_type)
        assert column_nullable == nullable, (name, column_nullable, nullable)


async def test_every_bronze_quarantine_column_is_read_from_postgres(postgres_dsn):
    columns = await quarantine_columns(postgres_dsn)
    missing = [name for name, _, _ in PAYMENT_EVENTS_QUARANTINE.columns if name not in columns]
    assert missing == []


async def test_a_dead_letter_reaches_its_quarantine_row_field_for_field(postgres_dsn):
    raw = b'{"id": "evt_big", "pad": "' + b"x" * 100_000 + b'"}'
    letter = build_dead_letter(raw, [ValidationIssue("currency.unsupported", "bad", "currency")],
                               topic="webhooks.stripe.charge", partition=1, offset=7,
                               failed_at=datetime.now(UTC), provider="stripe",
                               provider_event_id=f"evt_parity_{uuid4().hex}")
    pool = await create_pool(postgres_dsn, 1, 1)
    try:
        assert await PaymentStore(pool).insert_quarantine(letter) == "pending"
        row = await PaymentStore(pool).get_quarantine(letter.event_id)
        await pool.execute("DELETE FROM payment_events_quarantine WHERE event_id = $1",
                           letter.event_id)
    finally:
        await pool.close()
    for name, column in QUARANTINE_COLUMNS_OF_LETTER.items():
        expected = getattr(letter, name)
        if name == "errors":
            expected = [{"code": i.code, "message": i.message, "field": i.field}
                        for i in expected]
        assert row[column] == expected, name
    assert row["payload_truncated"] and row["payload_length"] == len(raw)
