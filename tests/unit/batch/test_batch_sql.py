"""`python -m batch.sql`: SQL over the lakehouse through PyIceberg and DuckDB, no download."""

from __future__ import annotations

import csv
import io

import pytest
from batch_bronze_rows import load_bronze, make_bronze_row, sqlite_catalog

from batch.assets import DAY_MARTS
from batch.marts import refresh_mart
from batch.sql import find_named_tables, main, run_query

TABLES = [("bronze", "payment_events"), ("gold", "daily_payments"),
          ("silver", "payment_events"), ("silver", "payments")]


def test_tables_are_found_by_qualified_name_or_by_a_name_no_other_namespace_has():
    sql = ("select * from gold.daily_payments d join SILVER.PAYMENT_EVENTS s using (event_date) "
           "where s.event_id in (select event_id from payments)")
    assert find_named_tables(sql, TABLES) == {
        "gold.daily_payments": ("gold", "daily_payments"),
        "silver.payment_events": ("silver", "payment_events"),
        "payments": ("silver", "payments"),
    }
    # payment_events alone is ambiguous; a longer name that contains a table's is not it.
    assert find_named_tables("select * from payment_events, my_daily_payments_x", TABLES) == {}
    assert find_named_tables("select * from daily_payments", TABLES) == {
        "daily_payments": ("gold", "daily_payments")}


@pytest.fixture
def lake(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCH_CATALOG_TYPE", "sql")
    monkeypatch.setenv("BATCH_CATALOG_URI", f"sqlite:///{tmp_path}/catalog.db")
    monkeypatch.setenv("BATCH_WAREHOUSE", (tmp_path / "warehouse").as_uri())
    catalog = sqlite_catalog(tmp_path)
    load_bronze(catalog, [make_bronze_row("a", 1, currency="USD"),
                          make_bronze_row("b", 1, currency="JPY", amount_cents=500),
                          make_bronze_row("c", 2, currency="USD", amount_cents=250)])
    for mart in DAY_MARTS:
        refresh_mart(catalog, mart)
    return catalog


def test_a_query_reads_tables_of_two_layers(lake):
    result = run_query(lake, """
        SELECT d.currency, sum(d.event_count) AS mart_events,
               (SELECT count(*) FROM bronze.payment_events b WHERE b.currency = d.currency)
                   AS bronze_events
        FROM gold.daily_payments d GROUP BY d.currency ORDER BY d.currency""")
    assert result.to_pylist() == [{"currency": "JPY", "mart_events": 1, "bronze_events": 1},
                                  {"currency": "USD", "mart_events": 2, "bronze_events": 2}]


def test_the_command_prints_a_table_or_csv(lake, capsys):
    sql = "SELECT event_date, currency, event_count FROM daily_payments ORDER BY 1, 2"
    assert main([sql]) == 0
    shown = capsys.readouterr().out
    assert "2026-01-01" in shown and "JPY" in shown and "(3 rows)" in shown
    assert main(["--csv", sql]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["event_date"], r["currency"], r["event_count"]) for r in rows] == [
        ("2026-01-01", "JPY", "1"), ("2026-01-01", "USD", "1"), ("2026-01-02", "USD", "1")]


def test_an_unknown_table_is_a_clear_error_naming_the_tables(lake, capsys):
    assert main(["SELECT * FROM gold.nope"]) == 2
    error = capsys.readouterr().err
    assert "gold.nope" in error and "gold.daily_payments" in error
