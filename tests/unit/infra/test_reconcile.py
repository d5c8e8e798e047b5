from dataclasses import replace

from infra.reconcile import RunCounts, reconcile

BALANCED = RunCounts(
    sent=110, accepted=108, rejected=2, errors=0, unique_valid=96, duplicates=5, invalid=9,
    deduplicated=5, dead_lettered=7, rows_by_completed_workflows=96, pg_rows=96, quarantine_rows=7,
    iceberg_rows=96,
)


def test_a_balanced_run_reconciles():
    result = reconcile(BALANCED)
    assert result.ok, result.problems
    assert result.report["lost"] == 0
    assert set(result.report) >= {"sent", "accepted", "rejected", "duplicates", "dead_lettered",
                                  "rows_by_completed_workflows", "pg_rows", "quarantine_rows",
                                  "iceberg_rows", "lost"}


def test_a_missing_row_is_lost():
    result = reconcile(replace(BALANCED, pg_rows=95, iceberg_rows=95))
    assert result.report["lost"] == 1
    assert not result.ok


def test_a_missing_quarantine_row_is_lost():
    assert reconcile(replace(BALANCED, quarantine_rows=6)).report["lost"] == 1


def test_iceberg_behind_postgres_fails():
    assert not reconcile(replace(BALANCED, iceberg_rows=90)).ok


def test_transport_errors_fail_the_run():
    result = reconcile(replace(BALANCED, accepted=107, errors=1))
    assert any("no answer" in p for p in result.problems)


def test_more_rows_than_events_is_doubling():
    assert reconcile(replace(BALANCED, pg_rows=97, iceberg_rows=97)).report["doubled"] == 1
