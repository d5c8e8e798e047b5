"""The gold marts' charts: PNG bytes from mart rows, and attached to each gold asset's
materialization (Dagster in process, on a SQLite-backed PyIceberg catalog)."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime, timedelta

import pytest
from batch_bronze_rows import bronze_table, load_bronze, make_bronze_row, sqlite_catalog
from dagster import MarkdownMetadataValue, materialize
from PIL import Image

from batch.assets import GOLD_MARTS, LAKE_ASSETS
from batch.charts import markdown_image
from batch.marts import write_charts
from batch.resources import PyIcebergCatalogResource
from batch.transforms import build_silver_payment_events

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
START = datetime(2026, 1, 1, 12, tzinfo=UTC)


def month_of_silver():
    rows = []
    for i in range(400):
        failed = i % 7 == 0
        rows.append(make_bronze_row(
            f"e{i}", provider_created_at=START + timedelta(days=i % 40),
            currency=("USD", "EUR", "JPY", "GBP", "CAD", "AUD", "CHF", "SEK")[i % 8],
            provider=("stripe", "adyen", "square")[i % 3],
            event_type="payment.failed" if failed else "payment.succeeded",
            failure_code="card_declined" if failed else None,
            fraud_risk_level=("low", "medium", "high", None)[i % 4]))
    return build_silver_payment_events(bronze_table(rows))


def assert_png(data: bytes) -> Image.Image:
    assert data.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("mart", GOLD_MARTS, ids=lambda m: m.name)
def test_each_chart_is_a_small_png_with_rows_and_without(mart):
    image = assert_png(mart.chart(mart.build(month_of_silver())))
    assert image.size == (560, 240)
    empty = mart.build(month_of_silver().slice(0, 0))
    assert assert_png(mart.chart(empty)).size == (560, 240)
    # It is stored with every materialization: keep it small.
    assert len(mart.chart(mart.build(month_of_silver()))) < 40_000


def test_the_markdown_carries_the_png_as_a_data_uri():
    png = GOLD_MARTS[0].chart(GOLD_MARTS[0].build(month_of_silver()))
    text = markdown_image(png, "gold.daily_payments")
    assert text.startswith("![gold.daily_payments](data:image/png;base64,")
    assert base64.b64decode(text.split("base64,", 1)[1].rstrip(")")) == png


def test_each_gold_asset_attaches_its_chart_and_the_demo_writes_the_same(tmp_path):
    catalog = PyIcebergCatalogResource(name="lakehouse", catalog_type="sql",
                                       uri=f"sqlite:///{tmp_path}/catalog.db",
                                       warehouse=(tmp_path / "warehouse").as_uri())
    load_bronze(sqlite_catalog(tmp_path), [make_bronze_row(f"e{i}", 1 + i % 3) for i in range(9)])
    silver_and_gold = [a for a in LAKE_ASSETS if a.key.path[0] in ("silver", "gold")]
    result = materialize(silver_and_gold, resources={"catalog": catalog})
    assert result.success
    metadata = {tuple(e.asset_key.path): e.materialization.metadata
                for e in result.get_asset_materialization_events()}
    for mart in GOLD_MARTS:
        chart = metadata[mart.identifier]["chart"]
        assert isinstance(chart, MarkdownMetadataValue)
        assert_png(base64.b64decode(chart.md_str.split("base64,", 1)[1].rstrip(")")))
        assert metadata[mart.identifier]["rebuild"].value == "full"
    assert "chart" not in metadata[("silver", "payment_events")]

    paths = write_charts(sqlite_catalog(tmp_path), GOLD_MARTS, tmp_path / "charts")
    assert [p.name for p in paths] == [f"{m.name}.png" for m in GOLD_MARTS]
    for path in paths:
        assert_png(path.read_bytes())
