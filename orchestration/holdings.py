"""Which events the pipeline holds: a row in payment_events or payment_events_quarantine.

Read-only, batched (``= ANY($1)`` on the tables' unique ``event_id`` indexes). Used by the
replay command and by reconciliation with a provider: an event that is held needs nothing;
one that is not was lost somewhere between the raw topic and PostgreSQL.

Both tables key a row by the unified event_id, ``contracts.events.make_event_id(provider,
provider_event_id)``; a dead letter whose payload named no usable id is filed under its
raw record's coordinates instead (``contracts.dead_letters.source_event_id``), which
``quarantined_coordinates`` looks up.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from contracts.dead_letters import source_event_id
from contracts.events import make_event_id

__all__ = ["BATCH_SIZE", "held_event_ids", "quarantined_coordinates"]

# Ids per query: thousands of short text values stay well under a statement's limits.
BATCH_SIZE = 5_000

_HELD = """
SELECT event_id FROM payment_events WHERE event_id = ANY($1::text[])
UNION
SELECT event_id FROM payment_events_quarantine WHERE event_id = ANY($1::text[])
"""
_QUARANTINED = "SELECT event_id FROM payment_events_quarantine WHERE event_id = ANY($1::text[])"

Connection = asyncpg.Connection | asyncpg.Pool


async def held_event_ids(conn_or_pool: Connection, provider: str,
                         event_ids: Sequence[str]) -> set[str]:
    """The provider event ids (``evt_…``, the raw topics' keys) among ``event_ids`` that
    have a row in payment_events or in quarantine, as given."""
    by_unified = {make_event_id(provider, e): e for e in event_ids}
    found = await _existing(conn_or_pool, _HELD, list(by_unified))
    return {by_unified[unified] for unified in found}


async def quarantined_coordinates(conn_or_pool: Connection,
                                  coordinates: Sequence[tuple[str, int, int]]
                                  ) -> set[tuple[str, int, int]]:
    """The (topic, partition, offset) among ``coordinates`` whose record is in quarantine
    under its coordinates (a dead letter that named no usable event id)."""
    by_id = {source_event_id(*c): c for c in coordinates}
    found = await _existing(conn_or_pool, _QUARANTINED, list(by_id))
    return {by_id[event_id] for event_id in found}


async def _existing(conn_or_pool: Connection, query: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), BATCH_SIZE):
        rows = await conn_or_pool.fetch(query, ids[start:start + BATCH_SIZE])
        found.update(row["event_id"] for row in rows)
    return found
