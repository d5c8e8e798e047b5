"""contracts.storage names the columns the migrations create and the lake mirrors, in order.

The migrations are read as text (no server): every CREATE TABLE's column list and every
ALTER TABLE ... ADD COLUMN, in file order, give each table's columns as PostgreSQL ends up
with them. tests/integration/test_schema_parity.py checks the types on a real server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE
from contracts.events import PAYMENT_EVENT_FIELDS
from contracts.lifecycle import PaymentStatus
from contracts.payment_state import PaymentState
from contracts.storage import (
    ENRICHMENT_COLUMNS,
    LAKE_OMITS_PAYMENT_EVENTS,
    LAKE_OMITS_QUARANTINE,
    PAYMENT_COLUMNS,
    PAYMENT_KEY_COLUMNS,
    PAYMENT_STATE_COLUMNS,
    QUARANTINE_COLUMNS,
    ROW_STAMP_COLUMNS,
    WRITER_COLUMNS,
)
from infra.migrate import MIGRATION_DIRS, load_migrations

# Columns no writer or lake schema lists: the identity key, and the batch loader's
# transaction stamps (migration 010), which triggers set.
BOOKKEEPING = ("id", "lake_xid", "lake_created_xid")
_CONSTRAINTS = {"primary", "unique", "check", "constraint", "foreign", "exclude"}


def sql_statements(text: str) -> list[str]:
    """The statements of a migration, without comments and dollar-quoted bodies."""
    text = re.sub(r"\$\$.*?\$\$", "''", text, flags=re.S)
    text = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in text.split(";") if s.strip()]


def top_level_items(body: str) -> list[str]:
    """Split a column list at the commas outside parentheses."""
    items, depth, current = [], 0, []
    for char in body:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    return [i.strip() for i in [*items, "".join(current)] if i.strip()]


def migrated_columns(*directories: Path) -> dict[str, list[str]]:
    """Table -> its columns in creation order, after every owner's migrations, in order."""
    tables: dict[str, list[str]] = {}
    for migration in load_migrations(directories or MIGRATION_DIRS):
        for statement in sql_statements(migration.sql):
            created = re.match(r"CREATE TABLE (\w+)\s*\((.*)\)\s*$", statement, re.S | re.I)
            if created:
                tables[created[1]] = [item.split()[0] for item in top_level_items(created[2])
                                      if item.split()[0].lower() not in _CONSTRAINTS]
            altered = re.match(r"ALTER TABLE (\w+)\s+(.*)$", statement, re.S | re.I)
            if altered:
                tables[altered[1]] += re.findall(r"\bADD COLUMN\s+(\w+)", altered[2], re.I)
    return tables


def test_the_parser_reads_create_and_alter(tmp_path):
    (tmp_path / "001_a.sql").write_text(
        "-- t (x, y)\nCREATE TABLE t (\n  id bigint PRIMARY KEY,\n"
        "  n numeric(10, 2) CHECK (n > 0),\n  UNIQUE (n)\n);\n"
        "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN; END $$;")
    (tmp_path / "002_b.sql").write_text("ALTER TABLE t ADD COLUMN a int, ADD COLUMN b text;\n"
                                        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;")
    assert migrated_columns(tmp_path) == {"t": ["id", "n", "a", "b"]}


@pytest.fixture(scope="module")
def tables() -> dict[str, list[str]]:
    return migrated_columns()


def test_payment_events_are_the_event_the_enrichment_and_the_stamps(tables):
    columns = [c for c in tables["payment_events"] if c not in BOOKKEEPING]
    assert sorted(columns) == sorted(PAYMENT_EVENT_FIELDS + ENRICHMENT_COLUMNS
                                     + ROW_STAMP_COLUMNS + WRITER_COLUMNS)
    assert len(columns) == len(set(columns))
    event_fields = set(PAYMENT_EVENT_FIELDS)
    assert tuple(c for c in columns if c not in event_fields) == (
        ENRICHMENT_COLUMNS + ROW_STAMP_COLUMNS + WRITER_COLUMNS)


def test_the_quarantine_columns_are_the_contracts_in_table_order(tables):
    columns = tuple(c for c in tables["payment_events_quarantine"] if c not in BOOKKEEPING)
    assert columns == QUARANTINE_COLUMNS


def test_the_bronze_tables_hold_the_contracts_columns_in_its_order():
    names = [name for name, _, _ in PAYMENT_EVENTS.columns]
    assert names == [*PAYMENT_EVENT_FIELDS, *ENRICHMENT_COLUMNS, *ROW_STAMP_COLUMNS]
    # The writer's workflow id stays in PostgreSQL (contracts.storage): a lake schema
    # change, for every reader, if it ever moves.
    assert LAKE_OMITS_PAYMENT_EVENTS == WRITER_COLUMNS == ("workflow_id",)
    assert not set(LAKE_OMITS_PAYMENT_EVENTS) & set(names)
    lake = tuple(name for name, _, _ in PAYMENT_EVENTS_QUARANTINE.columns)
    assert lake == tuple(c for c in QUARANTINE_COLUMNS if c not in LAKE_OMITS_QUARANTINE)


def test_the_lake_leaves_out_exactly_the_payload_length_and_truncation():
    # Changing this is a lake schema change (a new bronze column for every reader). Since
    # issue 15 the lake keeps the original's sha256 and how the excerpt was redacted.
    assert LAKE_OMITS_QUARANTINE == ("payload_length", "payload_truncated")
    assert set(LAKE_OMITS_QUARANTINE) <= set(QUARANTINE_COLUMNS)
    lake = {name for name, _, _ in PAYMENT_EVENTS_QUARANTINE.columns}
    assert {"original_payload", "payload_sha256", "payload_redaction"} <= lake



def test_the_payments_columns_are_the_contracts_in_table_order(tables):
    assert tuple(tables["payments"]) == PAYMENT_COLUMNS


def test_the_payment_state_holds_the_payments_columns_first_and_in_order():
    names = [f for f in PaymentState.__dataclass_fields__]
    columns = PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS
    assert tuple(names[:len(columns)]) == columns


def test_the_payments_status_check_lists_every_payment_status():
    [sql] = [m.sql for m in load_migrations() if m.name == "payments"]
    listed = re.search(r"status\s+text\s+NOT NULL CHECK \(status IN \((.*?)\)\)", sql, re.S)
    assert listed is not None
    assert set(re.findall(r"'(\w+)'", listed[1])) == {s.value for s in PaymentStatus}
