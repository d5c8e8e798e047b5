"""The whole lakehouse job on real servers: marts per currency, checks that pass and fail."""

from __future__ import annotations

import duckdb
import pyarrow.compute as pc
from batch_lake import make_event_row
from dagster import RunRequest, SkipReason, build_sensor_context, materialize

from batch.assets import DAILY_PAYMENTS, LAKE_ASSETS
from batch.checks import (
    LAKE_CHECKS,
    daily_payments_sum_back_to_bronze,
    payment_events_have_unique_event_ids,
    payment_events_match_postgres_row_count,
)
from batch.schemas import PAYMENT_EVENTS
from batch.sensors import postgres_new_rows_sensor

ROWS = [
    make_event_row("stripe:u1", amount_cents=1500, currency="USD"),
    make_event_row("stripe:u2", amount_cents=2500, currency="USD"),
    make_event_row("stripe:u3", amount_cents=700, currency="USD",
                   event_type="payment.failed", status="failed", failure_code="card_declined"),
    make_event_row("adyen:j1", provider="adyen", amount_cents=1200, currency="JPY",
                   fraud_risk_level="high"),
    make_event_row("stripe:x1", amount_cents=999, currency="EUR", validation_status="invalid"),
]


def check_results(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_the_job_builds_per_currency_marts_and_every_check_passes(lake):
    lake.add_events(ROWS)
    lake.load_until_caught_up()
    result = materialize([*LAKE_ASSETS, *LAKE_CHECKS], resources=lake.resources)
    assert result.success
    assert check_results(result) == {c.check_key.name: True for c in LAKE_CHECKS}

    # Readable by DuckDB straight from the Arrow the catalog hands out.
    con = duckdb.connect()
    con.register("daily", lake.read(DAILY_PAYMENTS))
    by_currency = con.sql(
        "SELECT currency, sum(event_count) AS n, sum(succeeded_amount_minor) AS ok, "
        "sum(failed_amount_minor) AS failed FROM daily GROUP BY currency ORDER BY currency"
    ).fetchall()
    assert by_currency == [("JPY", 1, 1200, 0), ("USD", 3, 4000, 700)]
    rates = lake.read(("gold", "failure_rates")).to_pylist()
    assert [(r["provider"], r["failure_code"], r["failures"], r["attempts"]) for r in rates] == [
        ("stripe", "card_declined", 1, 3)]
    risk = lake.read(("gold", "fraud_risk_distribution"))
    assert dict(zip(risk.column("fraud_risk_level").to_pylist(),
                    risk.column("event_count").to_pylist(), strict=True)) == {"high": 1, "low": 3}


def test_the_checks_fail_on_a_duplicate_and_on_a_mart_that_does_not_sum_back(lake):
    lake.add_events(ROWS)
    lake.load_until_caught_up()
    assert materialize(LAKE_ASSETS, resources=lake.resources).success
    catalog = lake.catalog.load()

    bronze = catalog.load_table(PAYMENT_EVENTS.identifier)
    first = bronze.scan().to_arrow().slice(0, 1)
    bronze.append(first)
    assert not payment_events_have_unique_event_ids(catalog=lake.catalog).passed
    assert not payment_events_match_postgres_row_count(
        catalog=lake.catalog, postgres=lake.postgres).passed

    mart = catalog.load_table(DAILY_PAYMENTS)
    rows = mart.scan().to_arrow()
    amounts = rows.column("succeeded_amount_minor")
    index = rows.schema.get_field_index("succeeded_amount_minor")
    mart.overwrite(rows.set_column(index, rows.field(index), pc.add(amounts, 1)))
    verdict = daily_payments_sum_back_to_bronze(catalog=lake.catalog)
    assert not verdict.passed
    assert set(verdict.metadata["mismatched_currencies"].value) == {"JPY", "USD"}


def test_the_sensor_requests_a_run_only_while_rows_are_pending(lake):
    lake.add_events(ROWS[:2])
    lake.load_until_caught_up()
    with build_sensor_context(resources=lake.resources) as context:
        assert isinstance(postgres_new_rows_sensor(context), SkipReason)
    lake.add_events(ROWS[2:3])
    request = None
    for _ in range(60):
        with build_sensor_context(resources=lake.resources) as context:
            request = postgres_new_rows_sensor(context)
        if isinstance(request, RunRequest):
            break
    assert isinstance(request, RunRequest)
    assert request.run_key


def test_an_empty_lake_builds_empty_marts_and_passes_its_checks(lake):
    result = materialize([*LAKE_ASSETS, *LAKE_CHECKS], resources=lake.resources)
    assert result.success
    assert all(check_results(result).values())
    assert lake.read(DAILY_PAYMENTS).num_rows == 0
