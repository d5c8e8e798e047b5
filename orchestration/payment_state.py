"""Keeps the ``payments`` row of an event's payment: the I/O around contracts.payment_state.

Called by the store inside the transaction that inserted the event's ``payment_events`` row,
and only when that row is new, so a duplicate changes nothing and the two tables commit or
roll back together. The row is locked (SELECT ... FOR UPDATE) while the pure fold merges the
event in, so two events of one payment applied at once serialize; since the fold is
order-independent, either order leaves the same row.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from contracts import PaymentEvent
from contracts.payment_state import PaymentState, apply, from_json, to_json
from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS

_WRITTEN = PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS + ("merge_state",)
_LOCK = "SELECT merge_state FROM payments WHERE provider = $1 AND payment_id = $2 FOR UPDATE"
# The first event of a payment inserts; DO NOTHING when another transaction inserted it
# first (it waits for that one to commit), and the caller then locks and merges instead.
_INSERT = (
    f"INSERT INTO payments ({', '.join(_WRITTEN)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_WRITTEN) + 1))}) "
    "ON CONFLICT (provider, payment_id) DO NOTHING RETURNING 1"
)
_UPDATE = (
    "UPDATE payments SET "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(_WRITTEN[2:], start=3))
    + ", updated_at = now() WHERE provider = $1 AND payment_id = $2"
)
_SELECT = (f"SELECT {', '.join(PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS)}, merge_state "
           "FROM payments WHERE provider = $1 AND payment_id = $2")


def _values(state: PaymentState) -> list[Any]:
    return [getattr(state, name) for name in PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS] + [
        to_json(state)]


async def merge_payment_event(conn: asyncpg.Connection, event: PaymentEvent) -> PaymentState | None:
    """Merge a newly stored event into its payment's row; call inside the insert's transaction.

    An event without a payment_id belongs to no payment and changes nothing.
    """
    if not event.payment_id:
        return None
    key = (event.provider, event.payment_id)
    row = await conn.fetchrow(_LOCK, *key)
    if row is None:
        state = apply(None, event)
        if await conn.fetchval(_INSERT, *_values(state)) is not None:
            return state
        row = await conn.fetchrow(_LOCK, *key)
    state = apply(from_json(*key, row["merge_state"]), event)
    await conn.execute(_UPDATE, *_values(state))
    return state


async def load_payment_state(conn: asyncpg.Connection | asyncpg.Pool, provider: str,
                             payment_id: str) -> dict[str, Any] | None:
    """The payments row as stored (columns and merge_state), or None."""
    row = await conn.fetchrow(_SELECT, provider, payment_id)
    return None if row is None else dict(row)
