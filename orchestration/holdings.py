"""Which events the pipeline holds: a row in payment_events or payment_events_quarantine.

Read-only, batched (``= ANY($1)`` on the tables' unique ``event_id`` indexes). Used by the
replay command and by reconciliation with a provider: an event that is held needs nothing;
one that is not was lost somewhere between the raw topic and PostgreSQL.

Both tables key a row by the unified event_id, ``contracts.events.make_event_id(provider,
provider_event_id)``. A dead letter whose payload named no usable id is filed under its raw
record's coordinates instead (``contracts.dead_letters.source_event_id``), with no
provider_event_id; ``quarantined_payloads`` finds it by its topic and the sha256 of the
record's whole value, which the letter keeps (``payload_sha256``), so that a copy of the
same record at other coordinates (a replay's) is recognised as the same event.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from contracts.events import make_event_id

__all__ = ["BATCH_SIZE", "held_event_ids", "quarantined_payloads"]

# Ids per query: thousands of short text values stay well under a statement's limits.
BATCH_SIZE = 5_000

_HELD = """
SELECT event_id FROM payment_events WHERE event_id = ANY($1::text[])
UNION
SELECT event_id FROM payment_events_quarantine WHERE event_id = ANY($1::text[])
"""
# No index serves this: it scans quarantine, which stays small, and is asked only about
# events no id found.
_ANONYMOUS_LETTERS = """
SELECT DISTINCT source_topic, payload_sha256 FROM payment_events_quarantine
WHERE provider_event_id IS NULL AND payload_sha256 = ANY($1::text[])
"""

Connection = asyncpg.Connection | asyncpg.Pool


async def held_event_ids(conn_or_pool: Connection, provider: str,
                         event_ids: Sequence[str]) -> set[str]:
    """The provider event ids (``evt_…``, the raw topics' keys) among ``event_ids`` that
    have a row in payment_events or in quarantine, as given."""
    by_unified = {make_event_id(provider, e): e for e in event_ids}
    found = await _existing(conn_or_pool, _HELD, list(by_unified))
    return {by_unified[unified] for unified in found}


async def quarantined_payloads(conn_or_pool: Connection,
                               payloads: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (topic, sha256 hex of a record's value) among ``payloads`` that a dead letter
    naming no event id holds: a record of that topic with exactly those bytes."""
    wanted = set(payloads)
    digests = sorted({digest for _, digest in wanted})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(digests), BATCH_SIZE):
        rows = await conn_or_pool.fetch(_ANONYMOUS_LETTERS, digests[start:start + BATCH_SIZE])
        found.update((row["source_topic"], row["payload_sha256"]) for row in rows)
    return found & wanted


async def _existing(conn_or_pool: Connection, query: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), BATCH_SIZE):
        rows = await conn_or_pool.fetch(query, ids[start:start + BATCH_SIZE])
        found.update(row["event_id"] for row in rows)
    return found
