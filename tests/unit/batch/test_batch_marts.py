"""Day marts rebuild only the days their source changed and always equal a full rebuild
(a real PyIceberg SQL catalog on SQLite; the PostgreSQL catalog is tests/integration/batch)."""

from __future__ import annotations

import pyarrow as pa
from batch_bronze_rows import load_bronze, make_bronze_row, sqlite_catalog

from batch.assets import DAY_MARTS, SILVER_PAYMENT_EVENTS_MART
from batch.increments import BUILT_FROM_PROPERTY
from batch.marts import DAY_COLUMN, matches, refresh_mart
from batch.schemas import PAYMENT_EVENTS
from batch.transforms import build_silver_payment_events


def three_days() -> list[dict]:
    rows = []
    for day in (1, 2, 3):
        for i in range(6):
            failed = i % 3 == 0
            rows.append(make_bronze_row(
                f"d{day}_{i}", day, currency=("USD", "EUR")[i % 2],
                event_type="payment.failed" if failed else "payment.succeeded",
                failure_code="card_declined" if failed else None,
                fraud_risk_level=("low", "high", None)[i % 3], provider=("stripe", "adyen")[i % 2]))
    return rows


def files_by_day(catalog, identifier) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for task in catalog.load_table(identifier).scan().plan_files():
        found.setdefault(task.file.partition[0], set()).add(task.file.file_path)
    return found


def sorted_rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: [str(v) for v in r.values()])


def full_rebuild(catalog, mart) -> pa.Table:
    """The mart computed from scratch: silver from all of bronze, gold from that silver."""
    bronze = catalog.load_table(PAYMENT_EVENTS.identifier).scan().to_arrow()
    silver = build_silver_payment_events(bronze)
    return silver if mart is SILVER_PAYMENT_EVENTS_MART else mart.build(silver)


def test_a_load_touching_one_day_rebuilds_that_day_only(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, three_days())
    first = [refresh_mart(catalog, mart) for mart in DAY_MARTS]
    assert all(r.days is None for r in first)  # new tables: built whole
    before = {mart.name: files_by_day(catalog, mart.identifier) for mart in DAY_MARTS}

    # Day 2 gets a new event, and one of its events is updated (replaced in bronze).
    load_bronze(catalog, [make_bronze_row("d2_new", 2, currency="JPY", amount_cents=50),
                          make_bronze_row("d2_1", 2, currency="EUR", fraud_risk_level="medium")],
                replace=("d2_1",))
    second = [refresh_mart(catalog, mart) for mart in DAY_MARTS]
    assert [r.days for r in second] == [("2026-01-02",)] * len(DAY_MARTS)

    for mart in DAY_MARTS:
        after = files_by_day(catalog, mart.identifier)
        untouched = {day: files for day, files in before[mart.name].items()
                     if day != min(before[mart.name]) + 1}
        assert {day: after[day] for day in untouched} == untouched, mart.name
        assert after[min(after) + 1].isdisjoint(before[mart.name][min(after) + 1]), mart.name
        table = catalog.load_table(mart.identifier).scan().to_arrow()
        assert sorted_rows(table) == sorted_rows(full_rebuild(catalog, mart)), mart.name


def test_a_run_with_nothing_new_commits_nothing(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, three_days())
    for mart in DAY_MARTS:
        refresh_mart(catalog, mart)
    snapshots = {m.name: catalog.load_table(m.identifier).current_snapshot() for m in DAY_MARTS}
    results = [refresh_mart(catalog, mart) for mart in DAY_MARTS]
    assert [(r.days, r.rows_written) for r in results] == [((), 0)] * len(DAY_MARTS)
    assert {m.name: catalog.load_table(m.identifier).current_snapshot()
            for m in DAY_MARTS} == snapshots


def test_a_mart_of_the_old_unpartitioned_layout_is_rebuilt_whole(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, three_days())
    refresh_mart(catalog, SILVER_PAYMENT_EVENTS_MART)
    daily = DAY_MARTS[1]
    old = daily.build(full_rebuild(catalog, SILVER_PAYMENT_EVENTS_MART))
    catalog.create_namespace_if_not_exists("gold")
    catalog.create_table(daily.identifier, schema=old.schema).append(old)  # as before: no spec

    result = refresh_mart(catalog, daily)
    assert result.days is None and "partitioning" in result.reason
    table = catalog.load_table(daily.identifier)
    assert matches(table, old.schema)
    assert table.spec().fields[0].name == DAY_COLUMN
    assert table.properties[BUILT_FROM_PROPERTY] == result.source_snapshot
    assert sorted_rows(table.scan().to_arrow()) == sorted_rows(old)


def test_a_full_rebuild_when_asked_gives_the_same_rows(tmp_path):
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, three_days())
    for mart in DAY_MARTS:
        refresh_mart(catalog, mart)
    load_bronze(catalog, [make_bronze_row("d3_new", 3)])
    incremental = {}
    for mart in DAY_MARTS:
        refresh_mart(catalog, mart)
        incremental[mart.name] = sorted_rows(catalog.load_table(mart.identifier).scan().to_arrow())
    for mart in DAY_MARTS:
        assert refresh_mart(catalog, mart, full=True).days is None
        rebuilt = sorted_rows(catalog.load_table(mart.identifier).scan().to_arrow())
        assert rebuilt == incremental[mart.name], mart.name
