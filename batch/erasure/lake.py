"""The lake side of an erasure: row-level deletes in every table that holds the customer,
then those tables' older snapshots expired and the files only they used removed.

Each table is done in turn (``scopes.erasure_order``: a source before what is derived from
it), and a bronze table wholly under its load lock (``batch.upkeep.commits.table_lock``):
no load writes it meanwhile, so a load that read the customer's rows before PostgreSQL
lost them has committed first and is erased here, and no load's uncommitted file is taken
for an orphan. Under that lock: one delete commit (PyIceberg copy-on-write: the files that
held the customer are replaced by files without their rows), expiry of every snapshot but
the current (``upkeep.cleanup.expire_table_snapshots``, the retention set to now), and
removal of every file the table referenced before the delete and references no more,
whatever its age (``upkeep.cleanup.remove_orphan_files`` with ``released``), together with
the older orphans the orphan job would remove. Derived tables have no load lock: a mart run
that read the customer before the erasure may commit them back, so every table is checked
again at the end and erased again (a bounded number of rounds).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, EqualTo, In, Or
from pyiceberg.table import Table

from batch.erasure.audits import Progress
from batch.erasure.scopes import (
    CUSTOMER_COLUMN,
    EVENT_SCOPE_COLUMNS,
    QUARANTINE_TEXT_COLUMNS,
    LakeScope,
    PaymentKey,
    TableKind,
    classify,
    erasure_order,
    events_in_scope,
    payment_keys,
    payments_filter,
    quarantine_in_scope,
)
from batch.loads import ConnectPostgres
from batch.upkeep.cleanup import (
    catalog_tables,
    expire_table_snapshots,
    referenced_files,
    remove_orphan_files,
)
from batch.upkeep.commits import table_lock, with_commit_retries

log = logging.getLogger(__name__)
MAX_ROUNDS = 3
ERASURE_SNAPSHOT_PROPERTIES = {"lake.upkeep": "erasure"}

Identifier = tuple[str, ...]


class ErasureIncompleteError(RuntimeError):
    """Rows of the customer were still in these tables after every round."""

    def __init__(self, tables: dict[str, int]) -> None:
        super().__init__(f"rows of the customer remain after {MAX_ROUNDS} rounds: {tables}")
        self.tables = tables


@dataclass
class TableErasure:
    rows: int = 0
    snapshots_expired: list[int] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)


def name_of(identifier: Identifier) -> str:
    return ".".join(identifier)


def reached_tables(catalog: Catalog) -> list[tuple[Identifier, TableKind]]:
    """Every table of the catalog that can hold the customer, in erasure order."""
    found = []
    for identifier in erasure_order(catalog_tables(catalog)):
        kind = classify(catalog.load_table(identifier).schema().column_names)
        if kind is not TableKind.NONE:
            found.append((identifier, kind))
    return found


def scan(table: Table, row_filter: BooleanExpression, columns: Iterable[str]) -> pa.Table:
    present = [c for c in columns if c in table.schema().column_names]
    return table.scan(row_filter=row_filter, selected_fields=tuple(present)).to_arrow()


def find_scope(catalog: Catalog, tables: list[tuple[Identifier, TableKind]], customer_id: str,
               known: Iterable[PaymentKey] = ()) -> LakeScope:
    """The customer's payments as every events table names them (and ``known``: those
    PostgreSQL deleted), and the events in scope in each, read before any delete."""
    keys = set(known)
    events = [catalog.load_table(i) for i, kind in tables if kind is TableKind.EVENTS]
    for table in events:
        keys |= payment_keys(scan(table, EqualTo(CUSTOMER_COLUMN, customer_id),
                                  EVENT_SCOPE_COLUMNS), customer_id)
    scope = LakeScope(frozenset(keys))
    ids: set[str] = set()
    for table in events:
        ids.update(events_in_scope(scan(table, event_filter(table, customer_id, scope),
                                        EVENT_SCOPE_COLUMNS), customer_id, keys))
    return LakeScope(frozenset(keys), frozenset(ids))


def event_filter(table: Table, customer_id: str, scope: LakeScope) -> BooleanExpression:
    """Rows an events table may hold of the customer: theirs, their payments', or known."""
    expression: BooleanExpression = EqualTo(CUSTOMER_COLUMN, customer_id)
    if {"provider", "payment_id"} <= set(table.schema().column_names):
        expression = Or(expression, payments_filter(scope.payment_keys))
    if scope.event_ids:
        expression = Or(expression, In("event_id", sorted(scope.event_ids)))
    return expression


def rows_to_erase(table: Table, kind: TableKind, customer_id: str,
                  scope: LakeScope) -> tuple[BooleanExpression, int]:
    """The delete filter for the customer's rows in ``table``, and how many rows it takes."""
    if kind is TableKind.PAYMENTS:
        expression = scope.filter_for(kind)
        return expression, scan(table, expression, ("provider", "payment_id")).num_rows
    if kind is TableKind.EVENTS:
        rows = scan(table, event_filter(table, customer_id, scope), EVENT_SCOPE_COLUMNS)
        ids = events_in_scope(rows, customer_id, scope.payment_keys, scope.event_ids)
    else:  # quarantine: only Python reads a payload, so every row's text is read
        rows = scan(table, AlwaysTrue(), ("event_id", *QUARANTINE_TEXT_COLUMNS))
        ids = quarantine_in_scope(rows, customer_id)
    return scope.filter_for(kind, ids), len(ids)


def erase_table(catalog: Catalog, identifier: Identifier, kind: TableKind, customer_id: str,
                scope: LakeScope, lock: ConnectPostgres | None, orphans_older_than: datetime,
                dry_run: bool = False) -> TableErasure:
    """Delete the customer's rows, expire every older snapshot, remove the freed files."""
    with table_lock(lock, identifier):
        table = catalog.load_table(identifier)
        expression, count = rows_to_erase(table, kind, customer_id, scope)
        if dry_run:
            return TableErasure(rows=count)
        released = referenced_files(table)
        if count:
            def attempt() -> None:
                catalog.load_table(identifier).delete(
                    expression, snapshot_properties=ERASURE_SNAPSHOT_PROPERTIES)
            with_commit_retries(attempt, f"erasure in {name_of(identifier)}")
        before = {s.snapshot_id for s in catalog.load_table(identifier).metadata.snapshots}
        # The lock is held already (a second holder would wait on it forever): none here.
        expire_table_snapshots(catalog, identifier, datetime.now(UTC), None)
        after = {s.snapshot_id for s in catalog.load_table(identifier).metadata.snapshots}
        removed = remove_orphan_files(catalog, identifier, orphans_older_than, released)
    return TableErasure(count, sorted(before - after), removed.removed)


def count_remaining(catalog: Catalog, identifier: Identifier, kind: TableKind,
                    customer_id: str, scope: LakeScope) -> int:
    return rows_to_erase(catalog.load_table(identifier), kind, customer_id, scope)[1]


def erase_lake(catalog: Catalog, customer_id: str, known: Iterable[PaymentKey],
               lock: ConnectPostgres | None, orphans_older_than: datetime, progress: Progress,
               dry_run: bool = False) -> None:
    """Erase the customer from every table, recording each step in ``progress``."""
    tables = reached_tables(catalog)
    scope = find_scope(catalog, tables, customer_id, known)
    remaining: dict[str, int] = {}
    for _ in range(MAX_ROUNDS):
        for identifier, kind in tables:
            name = name_of(identifier)
            done = erase_table(catalog, identifier, kind, customer_id, scope, lock,
                               orphans_older_than, dry_run)
            progress.lake_rows[name] = progress.lake_rows.get(name, 0) + done.rows
            progress.snapshots_expired.setdefault(name, []).extend(done.snapshots_expired)
            progress.files_removed.setdefault(name, []).extend(done.files_removed)
        if dry_run:
            return
        remaining = {name_of(identifier): left for identifier, kind in tables
                     if (left := count_remaining(catalog, identifier, kind, customer_id, scope))}
        if not remaining:
            return
        log.warning("a concurrent write brought the customer's rows back into %s; again",
                    sorted(remaining))
    raise ErasureIncompleteError(remaining)
