"""The body every day-partitioned asset shares: refresh the changed days, then describe it."""

from __future__ import annotations

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue

from batch.charts import CHART_METADATA_KEY
from batch.marts import DayMart, chart_markdown, refresh_mart
from batch.resources import IcebergCatalogResource


def materialize_day_mart(context: AssetExecutionContext, catalog: IcebergCatalogResource,
                         mart: DayMart) -> MaterializeResult:
    lake = catalog.load()
    refresh = refresh_mart(lake, mart)
    context.log.info("%s: %s rows written (%s: %s)", mart.name, refresh.rows_written,
                     refresh.metadata()["rebuild"], refresh.reason)
    snapshot = lake.load_table(mart.identifier).current_snapshot()
    metadata = {"rows": int(snapshot.summary["total-records"]) if snapshot else 0,
                **refresh.metadata()}
    if mart.chart is not None:
        # Shown in the asset page's metadata ("[Show Markdown]"): a PNG as a data: URI.
        metadata[CHART_METADATA_KEY] = MetadataValue.md(chart_markdown(lake, mart))
    return MaterializeResult(metadata=metadata)
