"""The trace's PostgreSQL reads: payment_events, payments and quarantine (migrations 001,
011, 012 and 017), read-only. payment_id and provider_event_id have no index: a trace by them
scans payment_events, which is fine for a command a person runs now and then."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS

_EVENT_COLUMNS = (
    "event_id", "provider", "provider_event_id", "payment_id", "event_type", "status",
    "amount_cents", "currency", "validation_status", "validation_errors", "fraud_score",
    "fraud_risk_level", "retry_action", "churn_score", "enrichment_missing",
    "provider_created_at", "processed_at", "ingested_at", "workflow_id")
_PAYMENT_COLUMNS = (*PAYMENT_KEY_COLUMNS, *PAYMENT_STATE_COLUMNS, "created_at", "updated_at")
_QUARANTINE_COLUMNS = (
    "event_id", "provider", "provider_event_id", "review_status", "error_codes", "errors",
    "reviewer", "decision_reason", "source_topic", "source_partition", "source_offset",
    "payload_truncated", "quarantined_at", "reviewed_at")
_PROVIDER = "($2::text IS NULL OR provider = $2)"
_MAX_ROWS = 200

Row = dict[str, Any]


class PostgresReader:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @classmethod
    async def connect(cls, dsn: str, within: float) -> PostgresReader:
        conn = await asyncpg.connect(dsn, timeout=within, command_timeout=within)
        for kind in ("json", "jsonb"):
            await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads,
                                      schema="pg_catalog")
        return cls(conn)

    async def close(self) -> None:
        await asyncio.shield(self._conn.close())

    async def events_named(self, query: str, provider: str | None) -> list[Row]:
        """Rows whose event id, provider event id or payment id is ``query``."""
        return await self._fetch(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM payment_events "
            f"WHERE (event_id = $1 OR provider_event_id = $1 OR payment_id = $1) AND {_PROVIDER} "
            f"ORDER BY provider_created_at, event_id LIMIT {_MAX_ROWS}", query, provider)

    async def events(self, event_id: str) -> list[Row]:
        return await self._fetch(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM payment_events WHERE event_id = $1",
            event_id)

    async def payments(self, payment_id: str, provider: str | None) -> list[Row]:
        return await self._fetch(
            f"SELECT {', '.join(_PAYMENT_COLUMNS)} FROM payments "
            f"WHERE payment_id = $1 AND {_PROVIDER} ORDER BY provider", payment_id, provider)

    async def quarantine(self, event_ids: Sequence[str], provider: str | None = None,
                         provider_event_id: str | None = None) -> list[Row]:
        """Rows under any of ``event_ids``, or for the provider's event id."""
        return await self._fetch(
            f"SELECT {', '.join(_QUARANTINE_COLUMNS)} FROM payment_events_quarantine "
            "WHERE event_id = ANY($1::text[]) OR (provider_event_id = $3 AND "
            f"($2::text IS NULL OR provider = $2)) ORDER BY quarantined_at LIMIT {_MAX_ROWS}",
            list(event_ids), provider, provider_event_id)

    async def quarantine_mentioning(self, text: str, limit: int = 20) -> list[Row]:
        """Quarantined events whose payload excerpt holds ``text`` (a dead letter has no
        payment id column: it could not be read)."""
        return await self._fetch(
            f"SELECT {', '.join(_QUARANTINE_COLUMNS)} FROM payment_events_quarantine "
            "WHERE strpos(original_payload, $1) > 0 ORDER BY quarantined_at LIMIT $2",
            text, limit)

    async def _fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(record) for record in await self._conn.fetch(sql, *args)]
