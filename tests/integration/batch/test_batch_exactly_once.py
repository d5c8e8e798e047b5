"""PostgreSQL -> Iceberg bronze loads: every row version exactly once, across real servers."""

from __future__ import annotations

import pyiceberg.table
import pytest
from batch_lake import insert_events, make_event_row

import batch.loads
from batch.lake import read_watermark
from batch.schemas import PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE


def test_rows_committing_out_of_order_land_exactly_once(lake):
    lake.add_events([make_event_row("stripe:early")])
    held = lake.connect()
    try:
        # The held row has a lower id and an older timestamp than the rows committed after it.
        insert_events(held, [make_event_row("stripe:late",
                                            provider_created_at="2025-12-31T00:00:00Z")])
        lake.add_events([make_event_row(f"stripe:after_{i}") for i in range(3)])
        assert lake.materialize().success
        assert "stripe:late" not in lake.event_id_counts()
        held.commit()
    finally:
        held.close()
    lake.load_until_caught_up()
    lake.load_until_caught_up()
    assert lake.event_id_counts() == {
        "stripe:early": 1, "stripe:late": 1, "stripe:after_0": 1, "stripe:after_1": 1,
        "stripe:after_2": 1,
    }


def test_a_failed_iceberg_commit_marks_nothing_and_a_rerun_loads_all_once(lake, monkeypatch):
    lake.add_events([make_event_row(f"stripe:f_{i}") for i in range(5)])
    original = pyiceberg.table.Transaction.commit_transaction

    def fail_commit(self):
        raise RuntimeError("injected: Iceberg commit failed")

    monkeypatch.setattr(pyiceberg.table.Transaction, "commit_transaction", fail_commit)
    result = lake.materialize(raise_on_error=False)
    assert not result.success
    table = lake.catalog.load().load_table(PAYMENT_EVENTS.identifier)
    assert read_watermark(table) == 0
    assert table.scan().to_arrow().num_rows == 0

    monkeypatch.setattr(pyiceberg.table.Transaction, "commit_transaction", original)
    lake.load_until_caught_up()
    assert lake.event_id_counts() == {f"stripe:f_{i}": 1 for i in range(5)}


def test_a_crash_right_after_the_iceberg_commit_duplicates_nothing(lake, monkeypatch):
    lake.add_events([make_event_row(f"stripe:c_{i}") for i in range(3)])
    original = batch.loads.commit_load

    def commit_then_crash(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("injected: process died after the Iceberg commit")

    monkeypatch.setattr(batch.loads, "commit_load", commit_then_crash)
    assert not lake.materialize(raise_on_error=False).success
    monkeypatch.setattr(batch.loads, "commit_load", original)
    lake.load_until_caught_up()
    assert lake.event_id_counts() == {f"stripe:c_{i}": 1 for i in range(3)}


def test_a_quarantine_review_decision_after_loading_reaches_iceberg(lake):
    lake.execute(
        "INSERT INTO payment_events_quarantine (event_id, source_topic, source_partition, "
        "source_offset, original_payload, error_codes, errors) "
        "VALUES ('stripe:q1', 'webhooks.stripe.charge', 0, 7, '{}', ARRAY['bad_currency'], "
        "'[{\"code\": \"bad_currency\"}]')")
    lake.load_until_caught_up()
    lake.execute("UPDATE payment_events_quarantine SET review_status = 'approved', "
                 "reviewer = 'alice', reviewed_at = now() WHERE event_id = 'stripe:q1'")
    lake.load_until_caught_up()
    rows = lake.read(PAYMENT_EVENTS_QUARANTINE.identifier).to_pylist()
    assert len(rows) == 1
    assert (rows[0]["review_status"], rows[0]["reviewer"]) == ("approved", "alice")
    assert rows[0]["error_codes"] == ["bad_currency"]


def test_an_event_enriched_after_loading_is_replaced_not_doubled(lake):
    lake.add_events([make_event_row("stripe:e1", fraud_risk_level=None),
                     make_event_row("stripe:e2")])
    lake.load_until_caught_up()
    lake.execute("UPDATE payment_events SET fraud_risk_level = 'high' "
                 "WHERE event_id = 'stripe:e1'")
    lake.load_until_caught_up()
    rows = {r["event_id"]: r for r in lake.read(PAYMENT_EVENTS.identifier).to_pylist()}
    assert sorted(rows) == ["stripe:e1", "stripe:e2"]
    assert rows["stripe:e1"]["fraud_risk_level"] == "high"


@pytest.mark.parametrize("spec", [PAYMENT_EVENTS, PAYMENT_EVENTS_QUARANTINE],
                         ids=lambda s: s.name)
def test_bronze_columns_agree_with_postgres(lake, spec):
    conn = lake.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT column_name, data_type, is_nullable "
                        "FROM information_schema.columns WHERE table_name = %s", (spec.pg_table,))
            pg = {name: (kind, nullable == "YES") for name, kind, nullable in cur.fetchall()}
    finally:
        conn.close()
    compatible = {
        "string": {"text", "jsonb"}, "long": {"bigint", "integer"}, "int": {"integer"},
        "double": {"double precision"}, "timestamptz": {"timestamp with time zone"},
        "list<string>": {"ARRAY"},
    }
    for field in spec.schema.fields:
        assert field.name in pg, f"{field.name} missing in PostgreSQL"
        pg_type, pg_nullable = pg[field.name]
        assert pg_type in compatible[str(field.field_type)], field.name
        # A column PostgreSQL may leave null must be optional in Iceberg.
        assert not (pg_nullable and field.required), field.name
