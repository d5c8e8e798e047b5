"""silver.payments: each payment's current state, and whether PostgreSQL's ``payments`` agrees.

Pure: Arrow tables in, Arrow tables or a verdict out; nothing is read or written here.

The state is folded from bronze's events by ``contracts.payment_state.apply``, the very fold
the store runs in PostgreSQL (orchestration.payment_state), never a second implementation.
The store merges every new ``payment_events`` row that names a payment, valid or not, so the
fold takes the same rows. The fold is order-independent, so the lake's scan order is fine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import pyarrow as pa

from contracts.events import PAYMENT_EVENT_FIELDS, PaymentEvent
from contracts.payment_state import PaymentState, apply
from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS

# The columns of silver.payments: those of PostgreSQL's payments that readers query, in its
# order (merge_state is the writer's lattice; the stamps say when PostgreSQL wrote, not what).
SILVER_PAYMENT_COLUMNS = PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS
_TYPES: dict[str, tuple[pa.DataType, bool]] = {
    "provider": (pa.string(), False),
    "payment_id": (pa.string(), False),
    "status": (pa.string(), False),
    "currency": (pa.string(), False),
    "amount": (pa.int64(), True),  # NULL until a payment event names it, as in PostgreSQL
    "amount_captured": (pa.int64(), False),
    "amount_refunded": (pa.int64(), False),
    "amount_disputed": (pa.int64(), False),
    "last_event_id": (pa.string(), False),
    "last_event_at": (pa.timestamp("us", tz="UTC"), False),
}
SILVER_PAYMENTS_SCHEMA = pa.schema(
    [pa.field(name, *_TYPES[name]) for name in SILVER_PAYMENT_COLUMNS])
# The bronze columns the fold reads: the unified event, nothing the workflow added.
FOLDED_COLUMNS = PAYMENT_EVENT_FIELDS
# How many differing keys a verdict names; the counts are always complete.
MAX_KEYS_REPORTED = 20


def column_values(column: pa.ChunkedArray) -> list[Any]:
    """A column as Python values; a UTC timestamp as an aware datetime in UTC.

    Arrow builds a zone-aware datetime by looking its zone up for every value, three times
    the cost of the rest of a row; naive values given UTC here are the same instants.
    """
    kind = column.type
    if pa.types.is_timestamp(kind) and kind.tz in ("UTC", "+00:00"):
        return [None if v is None else v.replace(tzinfo=UTC)
                for v in column.cast(pa.timestamp(kind.unit)).to_pylist()]
    return column.to_pylist()


def events_from_table(bronze: pa.Table) -> Iterator[PaymentEvent]:
    """Bronze rows (their unified columns) as events, skipping those that name no payment."""
    columns = [column_values(bronze.column(name)) for name in PAYMENT_EVENT_FIELDS]
    for values in zip(*columns, strict=True):
        row = dict(zip(PAYMENT_EVENT_FIELDS, values, strict=True))
        if not row["payment_id"]:
            continue  # the store merges these into no payment either
        # jsonb is JSON text in the lake; its keys (refund_id, dispute_id) pick entries.
        row["metadata"] = json.loads(row["metadata"] or "{}")
        yield PaymentEvent(**row)


def fold_payment_states(events: Iterable[PaymentEvent]) -> list[PaymentState]:
    """Each payment's state after all its events, by (provider, payment_id)."""
    states: dict[tuple[str, str], PaymentState] = {}
    for event in events:
        key = (event.provider, event.payment_id)
        states[key] = apply(states.get(key), event)
    return [states[key] for key in sorted(states)]


def states_to_table(states: Iterable[PaymentState]) -> pa.Table:
    rows = [{name: getattr(s, name) for name in SILVER_PAYMENT_COLUMNS} for s in states]
    return pa.Table.from_pylist(rows, schema=SILVER_PAYMENTS_SCHEMA)


def build_silver_payments(bronze: pa.Table) -> pa.Table:
    """One row per (provider, payment_id): its current state, folded from bronze's events."""
    return states_to_table(fold_payment_states(events_from_table(bronze)))


@dataclass(frozen=True, slots=True)
class PaymentsComparison:
    """How silver.payments and PostgreSQL's payments compare, over the rows both can know."""

    compared: int  # PostgreSQL rows the lake's watermark covers
    skipped: int  # PostgreSQL rows written (or with events) after it: they cannot agree yet
    differing: dict[str, list[str]] = field(default_factory=dict)  # key -> differing columns
    only_in_postgres: list[str] = field(default_factory=list)
    only_in_iceberg: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not (self.differing or self.only_in_postgres or self.only_in_iceberg)

    def metadata(self) -> dict[str, Any]:
        """Counts in full, keys bounded (MAX_KEYS_REPORTED of each kind)."""
        differing = sorted(self.differing)[:MAX_KEYS_REPORTED]
        return {
            "compared": self.compared, "skipped_not_yet_covered": self.skipped,
            "differing": len(self.differing), "only_in_postgres": len(self.only_in_postgres),
            "only_in_iceberg": len(self.only_in_iceberg),
            "differing_keys": differing,
            "differing_columns": {key: self.differing[key] for key in differing},
            "only_in_postgres_keys": self.only_in_postgres[:MAX_KEYS_REPORTED],
            "only_in_iceberg_keys": self.only_in_iceberg[:MAX_KEYS_REPORTED],
        }


def payment_key(row: dict[str, Any]) -> str:
    return f"{row['provider']}:{row['payment_id']}"


def compare_payments(lake: pa.Table, postgres: pa.Table) -> PaymentsComparison:
    """Compare silver.payments with PostgreSQL's rows, each flagged ``covered`` or not.

    A covered PostgreSQL row was last written below the watermark silver was built at, and
    none of its payment's events changed since, so silver must hold it exactly. An uncovered
    one is skipped, and so is its key on the lake's side (silver holds an older state of it).
    A lake row with no PostgreSQL row at all is a difference: its events are in PostgreSQL,
    and the store writes the payment in the same transaction as each of them.
    """
    lake_rows = {payment_key(r): r for r in lake.select(list(SILVER_PAYMENT_COLUMNS)).to_pylist()}
    compared = skipped = 0
    differing: dict[str, list[str]] = {}
    only_in_postgres: list[str] = []
    for row in postgres.to_pylist():
        key = payment_key(row)
        ours = lake_rows.pop(key, None)
        if not row["covered"]:
            skipped += 1
            continue
        compared += 1
        if ours is None:
            only_in_postgres.append(key)
            continue
        columns = [name for name in PAYMENT_STATE_COLUMNS if ours[name] != row[name]]
        if columns:
            differing[key] = columns
    return PaymentsComparison(compared, skipped, differing, sorted(only_in_postgres),
                              sorted(lake_rows))
