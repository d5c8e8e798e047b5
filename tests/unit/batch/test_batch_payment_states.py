"""silver.payments is the store's own fold over bronze, and its comparison with PostgreSQL.

The pin: for every fixture lifecycle of all four providers, the row the lake folds from
bronze-shaped rows equals the row orchestration.payment_state writes to PostgreSQL, event by
event through merge_state, as the store does.
"""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from batch.loads import arrow_schema
from batch.payment_states import (
    FOLDED_COLUMNS,
    MAX_KEYS_REPORTED,
    SILVER_PAYMENT_COLUMNS,
    SILVER_PAYMENTS_SCHEMA,
    build_silver_payments,
    compare_payments,
)
from batch.schemas import PAYMENT_EVENTS
from contracts.payment_state import apply, from_json, to_json
from contracts.storage import PAYMENT_KEY_COLUMNS, PAYMENT_STATE_COLUMNS
from orchestration.payment_state import _values as stored_values  # the writer's own values
from tests.builders import make_payment_event
from tests.lifecycles import lifecycles

LIFECYCLES = lifecycles()
AT = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


def bronze_of(events) -> pa.Table:
    """Events as bronze holds them: the unified columns, jsonb as JSON text, Iceberg's types."""
    schema = pa.schema([arrow_schema(PAYMENT_EVENTS).field(name) for name in FOLDED_COLUMNS])
    rows = [{**dataclasses.asdict(e), "metadata": json.dumps(e.metadata)} for e in events]
    return pa.Table.from_pylist(rows, schema=schema)


def stored_row(events) -> dict:
    """The payments row as orchestration.payment_state leaves it, one event at a time."""
    state = None
    for event in events:
        # The store reads merge_state back from the row before each merge.
        before = None if state is None else from_json(state.provider, state.payment_id,
                                                      to_json(state))
        state = apply(before, event)
    return dict(zip(PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS, stored_values(state)[:-1],
                    strict=True))


def test_silver_has_the_columns_postgres_readers_query_in_its_order():
    assert SILVER_PAYMENTS_SCHEMA.names == list(SILVER_PAYMENT_COLUMNS)
    assert SILVER_PAYMENT_COLUMNS == PAYMENT_KEY_COLUMNS + PAYMENT_STATE_COLUMNS


def test_the_lake_fold_equals_the_stored_row_for_every_fixture_lifecycle():
    assert {name.split(":", 1)[0] for name in LIFECYCLES} == {
        "stripe", "adyen", "braintree", "square"}
    expected = sorted((stored_row(events) for events in LIFECYCLES.values()),
                      key=lambda r: (r["provider"], r["payment_id"]))
    every_event = [e for events in LIFECYCLES.values() for e in events]
    for seed in range(3):
        # All payments in one bronze table, in a scan order unlike the events' own.
        shuffled = random.Random(seed).sample(every_event, len(every_event))
        silver = build_silver_payments(bronze_of(shuffled))
        assert silver.schema == SILVER_PAYMENTS_SCHEMA
        assert silver.to_pylist() == expected


def test_events_without_a_payment_make_no_row_and_invalid_ones_count_as_the_store_counts():
    events = [make_payment_event(event_id="stripe:e1", payment_id=None),
              make_payment_event(event_id="stripe:e2", payment_id=""),
              make_payment_event(event_id="stripe:e3", payment_id="pi_1", currency="usd")]
    rows = build_silver_payments(bronze_of(events)).to_pylist()
    # A lower-case currency is invalid, yet the store merged it: so does the lake.
    assert [(r["payment_id"], r["currency"]) for r in rows] == [("pi_1", "usd")]
    assert build_silver_payments(bronze_of([])).num_rows == 0


def silver_row(payment_id: str, **overrides) -> dict:
    row = {"provider": "stripe", "payment_id": payment_id, "status": "succeeded",
           "currency": "USD", "amount": 1000, "amount_captured": 1000, "amount_refunded": 0,
           "amount_disputed": 0, "last_event_id": f"stripe:evt_{payment_id}",
           "last_event_at": AT}
    return row | overrides


def lake_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SILVER_PAYMENTS_SCHEMA)


def postgres_table(rows: list[dict], uncovered: tuple[str, ...] = ()) -> pa.Table:
    flagged = [r | {"covered": r["payment_id"] not in uncovered} for r in rows]
    return pa.Table.from_pylist(flagged, schema=SILVER_PAYMENTS_SCHEMA.append(
        pa.field("covered", pa.bool_())))


def test_equal_tables_agree():
    rows = [silver_row("pi_1"), silver_row("pi_2", amount=None, status="unknown")]
    verdict = compare_payments(lake_table(rows), postgres_table(rows))
    assert verdict.agree
    assert (verdict.compared, verdict.skipped) == (2, 0)


@pytest.mark.parametrize(("column", "value"), [
    ("status", "failed"), ("amount", None), ("amount_refunded", 5), ("currency", "EUR"),
    ("last_event_id", "stripe:evt_other"), ("last_event_at", datetime(2026, 1, 3, tzinfo=UTC)),
])
def test_a_differing_column_names_the_key_and_the_column(column, value):
    lake = lake_table([silver_row("pi_1"), silver_row("pi_2")])
    verdict = compare_payments(lake, postgres_table([silver_row("pi_1"),
                                                     silver_row("pi_2", **{column: value})]))
    assert not verdict.agree
    assert verdict.differing == {"stripe:pi_2": [column]}
    assert verdict.metadata()["differing_keys"] == ["stripe:pi_2"]


def test_rows_the_watermark_does_not_cover_are_skipped_on_both_sides():
    lake = lake_table([silver_row("pi_1"), silver_row("pi_2", status="processing")])
    postgres = postgres_table([silver_row("pi_1"), silver_row("pi_2"), silver_row("pi_3")],
                              uncovered=("pi_2", "pi_3"))
    verdict = compare_payments(lake, postgres)
    assert verdict.agree
    assert (verdict.compared, verdict.skipped) == (1, 2)


def test_a_payment_on_one_side_only_is_a_difference():
    verdict = compare_payments(lake_table([silver_row("pi_1"), silver_row("pi_9")]),
                               postgres_table([silver_row("pi_1"), silver_row("pi_2")]))
    assert not verdict.agree
    assert (verdict.only_in_postgres, verdict.only_in_iceberg) == (["stripe:pi_2"],
                                                                    ["stripe:pi_9"])


def test_the_metadata_names_a_bounded_list_of_keys_but_counts_them_all():
    ids = [f"pi_{i:03d}" for i in range(MAX_KEYS_REPORTED + 15)]
    verdict = compare_payments(lake_table([silver_row(i) for i in ids]),
                               postgres_table([silver_row(i, amount=1) for i in ids]))
    metadata = verdict.metadata()
    assert metadata["differing"] == len(ids)
    assert metadata["differing_keys"] == [f"stripe:{i}" for i in ids[:MAX_KEYS_REPORTED]]
    assert len(metadata["differing_columns"]) == MAX_KEYS_REPORTED
