"""Which days a load touched, read from Iceberg's snapshot log, and the plan made from them."""

from __future__ import annotations

from datetime import date

import pytest
from batch_bronze_rows import load_bronze, make_bronze_row, sqlite_catalog

from batch.increments import (
    built_from,
    day_filter,
    day_ranges,
    plan_refresh,
    to_date,
    to_day,
    touched_days,
)
from batch.schemas import PAYMENT_EVENTS

DAY = {n: to_day(date(2026, 1, n)) for n in range(1, 8)}


def test_day_numbers_are_days_since_the_epoch():
    assert to_day(date(1970, 1, 2)) == 1
    assert to_date(DAY[3]) == date(2026, 1, 3)


def test_consecutive_days_merge_into_one_range():
    assert day_ranges([DAY[5], DAY[1], DAY[2], DAY[3], DAY[5]]) == [
        (date(2026, 1, 1), date(2026, 1, 4)), (date(2026, 1, 5), date(2026, 1, 6))]
    assert day_ranges([]) == []


def test_a_load_touches_the_days_of_its_rows_and_of_the_rows_it_replaces(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, [make_bronze_row("a", 1), make_bronze_row("b", 2)])
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    first = bronze.current_snapshot().snapshot_id
    assert touched_days(bronze, None, "provider_created_at") == {DAY[1], DAY[2]}
    assert touched_days(bronze, first, "provider_created_at") == frozenset()

    # "a" (day 1) is updated in PostgreSQL and replaced; "c" is new, on day 4.
    load_bronze(catalog, [make_bronze_row("a", 1, fraud_risk_level="high"),
                          make_bronze_row("c", 4)], replace=("a",))
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    assert touched_days(bronze, first, "provider_created_at") == {DAY[1], DAY[4]}


def test_the_days_are_unknown_when_the_log_does_not_reach_the_snapshot(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, [make_bronze_row("a", 1)])
    first = catalog.load_table(PAYMENT_EVENTS.identifier).current_snapshot().snapshot_id
    load_bronze(catalog, [make_bronze_row("b", 2)])
    load_bronze(catalog, [make_bronze_row("c", 3)])
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    assert touched_days(bronze, 12345, "provider_created_at") is None  # not of this table
    # Expiring the snapshots before the current one loses what happened since ``first``.
    older = [s.snapshot_id for s in bronze.snapshots()
             if s.snapshot_id != bronze.current_snapshot().snapshot_id]
    bronze.maintenance.expire_snapshots().by_ids(older).commit()
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    assert touched_days(bronze, first, "provider_created_at") is None


def test_a_table_not_partitioned_by_the_day_column_gives_no_answer(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, [make_bronze_row("a", 1)])
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    assert touched_days(bronze, None, "processed_at") is None


TWO = frozenset({DAY[2]})


@pytest.mark.parametrize(("recorded", "matches", "full", "touched", "days", "why"), [
    ("u@1", True, False, TWO, TWO, "1 day(s) changed"),
    ("u@1", True, False, frozenset(), frozenset(), "nothing changed"),
    ("u@1", True, True, TWO, None, "full rebuild was asked for"),
    ("u@1", False, False, TWO, None, "columns or partitioning changed"),
    (None, True, False, TWO, None, "records no source snapshot"),
    ("other@1", True, False, TWO, None, "source table was recreated"),
    ("u@1", True, False, None, None, "no longer all there"),
], ids=["touched", "unchanged", "asked", "new_or_changed_table", "no_record", "recreated_source",
        "expired"])
def test_the_plan_rebuilds_touched_days_or_everything(recorded, matches, full, touched, days,
                                                      why):
    plan = plan_refresh(recorded, "u", lambda since: touched, target_matches=matches, full=full)
    assert plan.days == days
    assert plan.full is (days is None)
    assert why in plan.reason


def test_the_plan_reads_the_recorded_snapshot_id():
    asked = []
    plan_refresh("u@42", "u", lambda since: asked.append(since) or frozenset(),
                 target_matches=True)
    plan_refresh("u@none", "u", lambda since: asked.append(since) or frozenset(),
                 target_matches=True)
    assert asked == [42, None]


def test_the_day_filter_selects_whole_utc_days(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    rows = [make_bronze_row(f"d{n}", n) for n in range(1, 7)]
    rows.append(make_bronze_row("late", 3, provider_created_at=to_datetime("2026-01-03T23:59:59")))
    rows.append(make_bronze_row("early", 4, provider_created_at=to_datetime("2026-01-04T00:00:00")))
    load_bronze(catalog, rows)
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    stamp = built_from(bronze)
    assert stamp.endswith(f"@{bronze.current_snapshot().snapshot_id}")
    expression = day_filter("provider_created_at", [DAY[2], DAY[3], DAY[6]], timestamp=True)
    ids = bronze.scan(row_filter=expression, selected_fields=("event_id",)).to_arrow()
    assert sorted(ids.column("event_id").to_pylist()) == ["d2", "d3", "d6", "late"]


def to_datetime(text: str):
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)
