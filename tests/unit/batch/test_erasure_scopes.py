"""The pure parts of an erasure: which tables and rows it reaches, the digest filter the
load applies, the audit record (never the id) and the orphan rule it adds to upkeep's."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch.erasure.audits import (
    AUDIT_COLUMNS,
    InvalidOperatorError,
    Operator,
    Progress,
    build_record,
    check_holds_no_id,
    record_values,
    resolve_operator,
)
from batch.erasure.scopes import (
    TableKind,
    classify,
    customer_pattern,
    drop_erased,
    erasure_order,
    events_in_scope,
    names_customer,
    payment_keys,
    quarantine_in_scope,
)
from batch.upkeep.plans import find_orphans
from contracts.erasure import InvalidCustomerIdError, check_customer_id, customer_sha256

MIGRATION = Path(__file__).resolve().parents[3] / "batch" / "migrations" / "016_erasure.sql"


def test_the_digest_is_the_hex_sha256_of_the_utf8_id():
    assert customer_sha256("cus_1") == hashlib.sha256(b"cus_1").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", customer_sha256("Zoë"))


@pytest.mark.parametrize("bad", ["", "   ", " cus_1", "cus_1\n", "cus\x001", "c" * 256])
def test_an_id_that_cannot_be_one_is_refused_without_quoting_it(bad):
    with pytest.raises(InvalidCustomerIdError) as caught:
        check_customer_id(bad)
    assert bad.strip() == "" or bad.strip() not in str(caught.value)


@pytest.mark.parametrize(("columns", "kind"), [
    (("event_id", "provider", "payment_id", "customer_id", "amount_cents"), TableKind.EVENTS),
    (("event_id", "event_date", "customer_id", "outcome"), TableKind.EVENTS),
    (("event_id", "original_payload", "corrected_event"), TableKind.QUARANTINE),
    (("provider", "payment_id", "status", "merge_state"), TableKind.PAYMENTS),
    (("event_date", "merchant_id", "currency", "event_count"), TableKind.NONE),
    (("provider", "outcome", "failed_count"), TableKind.NONE),
])
def test_tables_are_reached_by_their_columns(columns, kind):
    assert classify(columns) is kind


def test_sources_are_erased_before_what_is_derived_from_them():
    tables = [("gold", "a"), ("silver", "payments"), ("other", "x"), ("bronze", "q"),
              ("bronze", "p"), ("silver", "payment_events")]
    assert erasure_order(tables) == [("bronze", "p"), ("bronze", "q"),
                                     ("silver", "payment_events"), ("silver", "payments"),
                                     ("gold", "a"), ("other", "x")]


def test_the_customers_payments_take_their_customerless_events_with_them():
    rows = pa.table({
        "event_id": ["e1", "e2", "e3", "e4", "e5"],
        "provider": ["stripe", "stripe", "stripe", "adyen", "stripe"],
        "payment_id": ["pi_1", None, "pi_1", "pi_1", "pi_2"],
        "customer_id": ["cus_A", "cus_A", None, None, "cus_B"],
    })
    keys = payment_keys(rows, "cus_A")
    assert keys == {("stripe", "pi_1")}
    # e4 names pi_1 of another provider: another payment.
    assert events_in_scope(rows, "cus_A", keys) == ["e1", "e2", "e3"]
    # A table without payment ids (silver) finds the same through the ids found elsewhere.
    silver = rows.drop_columns(["provider", "payment_id"])
    assert payment_keys(silver, "cus_A") == set()
    assert events_in_scope(silver, "cus_A", set(), frozenset({"e3"})) == ["e1", "e2", "e3"]


@pytest.mark.parametrize(("text", "named"), [
    ('{"customer": "cus_1"}', True),
    ("<customer><id>cus_1</id></customer>", True),
    ("customer=cus_1&x=1", True),
    ('{"customer": "cus_12"}', False),
    ('{"customer": "xcus_1"}', False),
    ('{"customer": "cus_1-2"}', False),
    ("", False),
    (None, False),
])
def test_a_payload_names_the_customer_only_as_a_whole_token(text, named):
    assert names_customer(text, customer_pattern("cus_1")) is named


def test_a_base64_document_in_a_form_is_read_too():
    xml = "<notification><customer><id>cus_bt_7</id></customer></notification>"
    form = urlencode({"bt_signature": "abc|def",
                      "bt_payload": base64.b64encode(xml.encode()).decode()})
    assert "cus_bt_7" not in form
    assert names_customer(form, customer_pattern("cus_bt_7"))


def test_quarantine_rows_are_found_by_payload_or_correction():
    rows = pa.table({
        "event_id": ["q1", "q2", "q3"],
        "original_payload": ['{"customer": "cus_1"}', '{"customer": "cus_2"}', "[masked]"],
        "corrected_event": [None, None, '{"customer_id": "cus_1"}'],
    })
    assert quarantine_in_scope(rows, "cus_1") == ["q1", "q3"]


def test_the_load_leaves_out_rows_whose_customer_hashes_into_the_erased_set():
    rows = pa.table({"event_id": ["a", "b", "c", "d"],
                     "customer_id": ["cus_1", None, "cus_2", "cus_1"]})
    kept = drop_erased(rows, frozenset({customer_sha256("cus_1")}))
    assert kept.column("event_id").to_pylist() == ["b", "c"]
    assert drop_erased(rows, frozenset()) is rows
    assert drop_erased(rows, frozenset({customer_sha256("nobody")})) is rows
    assert drop_erased(rows.drop_columns(["customer_id"]), frozenset({"x"})).num_rows == 4


@given(st.lists(st.sampled_from(["cus_1", "cus_2", "cus_3", None]), max_size=30),
       st.sets(st.sampled_from(["cus_1", "cus_2", "cus_3"])))
def test_drop_erased_keeps_exactly_the_rows_of_customers_not_erased(customers, erased):
    rows = pa.table({"customer_id": pa.array(customers, pa.string())})
    kept = drop_erased(rows, frozenset(customer_sha256(c) for c in erased))
    assert kept.column("customer_id").to_pylist() == [c for c in customers if c not in erased]


def test_the_operator_is_the_os_account_or_a_checked_configured_name():
    assert resolve_operator(None, "alice") == Operator("alice", "os_user")
    assert resolve_operator("dpo-job", "alice") == Operator("dpo-job", "configured")
    with pytest.raises(InvalidOperatorError, match="ERASURE_IDENTITY"):
        resolve_operator("alice; DROP TABLE", "alice")


def record(error=None):
    progress = Progress({"payment_events": 3}, {"bronze.payment_events": 3},
                        {"bronze.payment_events": [3, 1]},
                        {"bronze.payment_events": ["file:///w/b.parquet"]})
    started = datetime(2026, 1, 2, tzinfo=UTC)
    return build_record(customer_sha256("cus_1"), Operator("alice", "os_user"), progress,
                        started, started + timedelta(seconds=2), error)


def test_the_audit_columns_are_the_migrations_in_order():
    sql = MIGRATION.read_text()
    body = sql.split("CREATE TABLE erasure_audit (", 1)[1].split(");", 1)[0]
    declared = [m for m in re.findall(r"^\s{4}(\w+)\s", body, re.MULTILINE)
                if m not in ("id", "recorded_at", "CHECK")]
    assert tuple(declared) == AUDIT_COLUMNS


def test_the_audit_names_the_customer_by_digest_and_a_failure_by_class_only():
    done = record()
    assert done.outcome == "completed" and done.error is None
    assert done.snapshots_expired == {"bronze.payment_events": [1, 3]}
    failed = record(ValueError("EqualTo(customer_id, 'cus_1')"))
    assert failed.outcome == "failed" and failed.error == "builtins.ValueError"
    for values in (record_values(done), record_values(failed)):
        assert not any("cus_1" in str(v) for v in values)
        check_holds_no_id(done, "cus_1")


def test_an_audit_that_would_hold_the_id_is_refused():
    leaky = record()
    leaky.files_removed["bronze.payment_events"].append("file:///w/cus_1.parquet")
    with pytest.raises(ValueError, match="would hold the customer id"):
        check_holds_no_id(leaky, "cus_1")


def test_files_the_erasure_released_go_at_any_age_and_other_young_files_stay():
    now = datetime(2026, 1, 5, tzinfo=UTC)
    listed = [("/w/old.parquet", now - timedelta(days=4)),
              ("/w/released.parquet", now),
              ("/w/young.parquet", now),
              ("/w/live.parquet", now - timedelta(days=9))]
    orphans = find_orphans(listed, ["file:///w/live.parquet"], now - timedelta(days=3),
                           released=["file:///w/released.parquet", "file:///w/live.parquet"])
    assert orphans == ["/w/old.parquet", "/w/released.parquet"]
