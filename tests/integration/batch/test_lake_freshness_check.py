"""The freshness check against a real PostgreSQL and Iceberg catalog."""

from __future__ import annotations

from batch_lake import make_event_row
from dagster import AssetSelection, materialize

from batch.assets import payment_events
from batch.freshness import check_freshness, payment_events_are_fresh
from batch.schemas import PAYMENT_EVENTS


def test_bronze_is_late_while_an_old_row_waits_and_fresh_once_loaded(lake):
    assert check_freshness(lake.catalog, lake.postgres, PAYMENT_EVENTS, 120).passed
    lake.add_events([make_event_row("stripe:waiting"), make_event_row("stripe:recent")])
    # As if the loads had stopped ten minutes ago: the row has waited since it arrived.
    lake.execute("UPDATE payment_events SET ingested_at = now() - interval '10 minutes' "
                 "WHERE event_id = 'stripe:waiting'")
    late = check_freshness(lake.catalog, lake.postgres, PAYMENT_EVENTS, 120)
    assert not late.passed
    assert late.metadata["rows_not_in_bronze"].value == 2
    assert 590 <= late.metadata["lag_seconds"].value <= 900

    lake.load_until_caught_up()
    fresh = check_freshness(lake.catalog, lake.postgres, PAYMENT_EVENTS, 120)
    assert fresh.passed and fresh.metadata["lag_seconds"].value == 0
    assert fresh.metadata["rows_not_in_bronze"].value == 0


def test_the_check_runs_in_dagster_after_a_load(lake):
    lake.add_events([make_event_row("stripe:checked")])
    result = materialize([payment_events, payment_events_are_fresh], resources=lake.resources)
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == "payment_events_are_fresh"
    assert evaluation.passed


def test_the_check_alone_as_its_schedule_runs_it_fails_while_loads_are_stopped(lake):
    """lake_freshness_job runs the check without a load: a stalled loader shows."""
    lake.add_events([make_event_row("stripe:stuck")])
    lake.execute("UPDATE payment_events SET ingested_at = now() - interval '1 hour' "
                 "WHERE event_id = 'stripe:stuck'")
    result = materialize([payment_events, payment_events_are_fresh], resources=lake.resources,
                         selection=AssetSelection.checks(payment_events_are_fresh))
    assert result.success  # a failed check is a verdict, not a failed run
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["rows_not_in_bronze"].value == 1
    assert lake.event_id_counts() == {}  # the check loaded nothing
