"""Marts on the real PostgreSQL SQL catalog: a load touching one day rewrites only that
day's rows of silver.payment_events and of each gold mart, the marts equal a full rebuild,
and each gold materialization carries its chart."""

from __future__ import annotations

import base64

import pyarrow as pa
from batch_lake import make_event_row
from dagster import MarkdownMetadataValue, materialize

from batch.assets import (
    DAY_MARTS,
    GOLD_MARTS,
    LAKE_ASSETS,
    SILVER_PAYMENT_EVENTS_MART,
    daily_payments,
    failure_rates,
    fraud_risk_distribution,
    silver_payment_events,
)
from batch.checks import daily_payments_sum_back_to_bronze
from batch.schemas import PAYMENT_EVENTS
from batch.transforms import build_silver_payment_events

DAY_MART_ASSETS = [silver_payment_events, daily_payments, failure_rates, fraud_risk_distribution]
DAYS = ("2026-01-01", "2026-01-02", "2026-01-03")


def events_on(day: str, prefix: str, count: int = 4) -> list[dict]:
    return [make_event_row(
        f"stripe:{prefix}_{i}", provider_created_at=f"{day}T{8 + i:02d}:00:00Z",
        currency=("USD", "EUR")[i % 2], fraud_risk_level=("low", "high")[i % 2],
        **({"event_type": "payment.failed", "status": "failed", "failure_code": "card_declined"}
           if i % 3 == 0 else {}))
        for i in range(count)]


def files_by_day(lake, identifier) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for task in lake.catalog.load().load_table(identifier).scan().plan_files():
        found.setdefault(task.file.partition[0], set()).add(task.file.file_path)
    return found


def sorted_rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda r: [str(v) for v in r.values()])


def full_rebuild(lake, mart) -> pa.Table:
    silver = build_silver_payment_events(lake.read(PAYMENT_EVENTS.identifier))
    return silver if mart is SILVER_PAYMENT_EVENTS_MART else mart.build(silver)


def metadata_by_asset(result) -> dict[tuple[str, ...], dict]:
    return {tuple(e.asset_key.path): e.materialization.metadata
            for e in result.get_asset_materialization_events()}


def test_a_second_load_touching_one_day_rewrites_only_that_days_mart_rows(lake):
    for n, day in enumerate(DAYS):
        lake.add_events(events_on(day, f"first{n}"))
    lake.load_until_caught_up()
    assert materialize(LAKE_ASSETS, resources=lake.resources).success
    before = {mart.name: files_by_day(lake, mart.identifier) for mart in DAY_MARTS}
    assert all(len(days) == 3 for days in before.values()), before

    # The second load: two new events on 2026-01-02 and an update of one already loaded.
    lake.add_events(events_on(DAYS[1], "second", count=2))
    lake.execute("UPDATE payment_events SET fraud_risk_level = 'medium', currency = 'JPY' "
                 "WHERE event_id = 'stripe:first1_1'")
    lake.load_until_caught_up()
    result = materialize(DAY_MART_ASSETS, resources=lake.resources)
    assert result.success

    metadata = metadata_by_asset(result)
    for mart in DAY_MARTS:
        assert metadata[mart.identifier]["rebuild"].value == "incremental", mart.name
        assert metadata[mart.identifier]["days_rebuilt"].value == DAYS[1], mart.name
        after = files_by_day(lake, mart.identifier)
        first, touched, last = sorted(before[mart.name])
        # The other days' files are the very same files; the touched day's are all new.
        assert after[first] == before[mart.name][first], mart.name
        assert after[last] == before[mart.name][last], mart.name
        assert after[touched].isdisjoint(before[mart.name][touched]), mart.name
        assert sorted_rows(lake.read(mart.identifier)) == sorted_rows(full_rebuild(lake, mart)), (
            mart.name)
    assert daily_payments_sum_back_to_bronze(catalog=lake.catalog).passed


def test_each_gold_materialization_carries_its_chart_as_a_png(lake):
    for n, day in enumerate(DAYS):
        lake.add_events(events_on(day, f"c{n}"))
    lake.load_until_caught_up()
    result = materialize(LAKE_ASSETS, resources=lake.resources)
    assert result.success
    metadata = metadata_by_asset(result)
    for mart in GOLD_MARTS:
        chart = metadata[mart.identifier]["chart"]
        assert isinstance(chart, MarkdownMetadataValue), mart.name
        assert chart.md_str.startswith(f"![{mart.name}"), mart.name
        png = base64.b64decode(chart.md_str.split("base64,", 1)[1].rstrip(")"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), mart.name
    assert "chart" not in metadata[SILVER_PAYMENT_EVENTS_MART.identifier]
