"""What an erasure reaches: pure functions over table shapes and rows, no I/O.

A table is reached by its columns, so a table added later is reached without an edit here:
- *events* (``customer_id`` and ``event_id``: bronze and silver ``payment_events``): the
  customer's rows, and every row naming one of the customer's payments (a refund or dispute
  event often carries no customer), so that what is left still folds into ``payments``; a
  table without ``payment_id`` (silver) loses the events found so in the others too;
- *payments* (``provider`` and ``payment_id``, no customer: ``silver.payments``): the rows
  of the customer's payments;
- *quarantine* (``original_payload``): dead letters whose redacted payload, or a reviewer's
  corrected event, names the customer (the data map keeps customer references in copies);
- any other table (the gold marts: aggregates) holds no customer and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysFalse, And, BooleanExpression, EqualTo, In, Or

from contracts.erasure import customer_sha256
from contracts.redaction import readable_texts

CUSTOMER_COLUMN = "customer_id"
# Rows of events tables read to find the customer's payments and events.
EVENT_SCOPE_COLUMNS = ("event_id", "provider", "payment_id", CUSTOMER_COLUMN)
QUARANTINE_TEXT_COLUMNS = ("original_payload", "corrected_event")
# Namespaces in the order they are erased: a derived table after its source, so a mart
# rebuilt meanwhile reads a source that no longer holds the customer.
NAMESPACE_ORDER = ("bronze", "silver", "gold")
# Characters that continue an id: a match must not be a piece of a longer id (cus_1 in cus_12).
_ID_CHAR = r"[\w-]"

PaymentKey = tuple[str, str]  # (provider, payment_id)


class TableKind(StrEnum):
    EVENTS = "events"
    PAYMENTS = "payments"
    QUARANTINE = "quarantine"
    NONE = "none"


def classify(columns: Iterable[str]) -> TableKind:
    """Which rows of a table with these columns an erasure reaches."""
    names = set(columns)
    if {"event_id", "original_payload"} <= names:
        return TableKind.QUARANTINE
    if {"event_id", CUSTOMER_COLUMN} <= names:
        return TableKind.EVENTS
    if {"provider", "payment_id"} <= names and not names & {CUSTOMER_COLUMN, "event_id"}:
        return TableKind.PAYMENTS
    return TableKind.NONE


def erasure_order(identifiers: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Bronze, then silver, then gold, then any other namespace; by name within each."""
    def rank(identifier: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        namespace = identifier[0]
        known = namespace in NAMESPACE_ORDER
        return (NAMESPACE_ORDER.index(namespace) if known else len(NAMESPACE_ORDER), identifier)
    return sorted(identifiers, key=rank)


def payment_keys(rows: pa.Table, customer_id: str) -> set[PaymentKey]:
    """The (provider, payment_id) of the customer's events that name a payment."""
    if not {"provider", "payment_id"} <= set(rows.column_names):
        return set()
    own = rows.filter(pc.equal(rows.column(CUSTOMER_COLUMN), customer_id))
    return {(provider, payment_id) for provider, payment_id in zip(
        own.column("provider").to_pylist(), own.column("payment_id").to_pylist(), strict=True)
        if provider is not None and payment_id is not None}


def events_in_scope(rows: pa.Table, customer_id: str, keys: set[PaymentKey],
                    known: frozenset[str] = frozenset()) -> list[str]:
    """Event ids of the rows that are the customer's, name one of ``keys``, or are ``known``
    (found in another events table). A column the rows lack reads as null."""
    def column(name: str) -> list:
        if name in rows.column_names:
            return rows.column(name).to_pylist()
        return [None] * rows.num_rows

    found = set()
    for event_id, provider, payment_id, customer in zip(
            *(column(c) for c in EVENT_SCOPE_COLUMNS), strict=True):
        if customer == customer_id or (provider, payment_id) in keys or event_id in known:
            found.add(event_id)
    return sorted(found)


def payments_filter(keys: Iterable[PaymentKey]) -> BooleanExpression:
    """Rows of any of ``keys``: one In per provider (payment ids are unique per provider)."""
    by_provider: dict[str, set[str]] = {}
    for provider, payment_id in keys:
        by_provider.setdefault(provider, set()).add(payment_id)
    expression: BooleanExpression = AlwaysFalse()
    for provider, ids in sorted(by_provider.items()):
        expression = Or(expression, And(EqualTo("provider", provider),
                                        In("payment_id", sorted(ids))))
    return expression


def customer_pattern(customer_id: str) -> re.Pattern[str]:
    """The id as a whole token: not preceded or followed by a character an id continues with."""
    return re.compile(rf"(?<!{_ID_CHAR}){re.escape(customer_id)}(?!{_ID_CHAR})")


def names_customer(text: str | None, pattern: re.Pattern[str]) -> bool:
    """Whether the text, or a base64 document inside it (Braintree's), names the customer."""
    if not text:
        return False
    return any(pattern.search(part) for part in readable_texts(text))


def quarantine_in_scope(rows: pa.Table, customer_id: str,
                        columns: Sequence[str] = QUARANTINE_TEXT_COLUMNS) -> list[str]:
    """Event ids of the quarantine rows any of whose ``columns`` names the customer."""
    pattern = customer_pattern(customer_id)
    present = [c for c in columns if c in rows.column_names]
    texts = [rows.column(c).to_pylist() for c in present]
    ids = rows.column("event_id").to_pylist()
    return sorted({event_id for event_id, *values in zip(ids, *texts, strict=True)
                   if any(names_customer(value, pattern) for value in values)})


def drop_erased(rows: pa.Table, erased: frozenset[str],
                column: str = CUSTOMER_COLUMN) -> pa.Table:
    """``rows`` without those whose ``column`` hashes into ``erased`` (sha256 hex digests).

    Each distinct id is hashed once, so a load of many rows of few customers stays cheap;
    with nothing erased the rows are returned as they are.
    """
    if not erased or column not in rows.column_names or rows.num_rows == 0:
        return rows
    values = rows.column(column)
    hits = [v for v in pc.unique(values).to_pylist()
            if v is not None and customer_sha256(v) in erased]
    if not hits:
        return rows
    return rows.filter(pc.invert(pc.fill_null(pc.is_in(values, pa.array(hits)), False)))


@dataclass(frozen=True, slots=True)
class LakeScope:
    """What the lake's tables hold of one customer, found before anything is deleted."""

    payment_keys: frozenset[PaymentKey]
    event_ids: frozenset[str] = frozenset()

    def filter_for(self, kind: TableKind, event_ids: Sequence[str] = ()) -> BooleanExpression:
        if kind is TableKind.PAYMENTS:
            return payments_filter(self.payment_keys)
        return In("event_id", sorted(event_ids)) if event_ids else AlwaysFalse()
