"""The PostgreSQL tables and the unified event agree, field by field."""

import dataclasses
import types
import typing
from datetime import datetime

import asyncpg

from contracts import PaymentEvent

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
