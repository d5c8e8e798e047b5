"""Day-partitioned derived tables, rebuilt only for the days their source changed.

silver.payment_events (from bronze) and each gold mart (from silver.payment_events) is a
``DayMart``: a pure transform from its source's rows to its own, where every output row
belongs to one day (``event_date``) and depends only on the source rows of that day. So a
run reads the source rows of the touched days (``batch.increments``), builds their rows, and
in one commit deletes those days' partitions, adds the new files and records the source
snapshot it read. A full rebuild is the same with every day; it is what the first run does,
and any run that cannot trust its record. Either way the table equals a full rebuild.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, GreaterThanOrEqual, In
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import TimestamptzType

from batch.charts import ChartRenderer, markdown_image
from batch.increments import (
    BUILT_FROM_PROPERTY,
    built_from,
    day_filter,
    plan_refresh,
    to_date,
    touched_days,
)
from batch.lake import write_data_files

DAY_COLUMN = "event_date"
CHART_DAYS = 30
_MART_PROPERTIES = {
    "format-version": "2",
    # A conflicting commit fails rather than being re-applied over the winner's rows; the
    # next run rebuilds from the recorded snapshot, so nothing is lost.
    "commit.retry.num-retries": "0",
}


@dataclass(frozen=True, slots=True)
class DayMart:
    """A table derived day by day from one source table."""

    identifier: tuple[str, str]
    source: tuple[str, str]
    # The source column whose UTC day each source row belongs to (its partition).
    source_day: str
    source_columns: tuple[str, ...]
    build: Callable[[pa.Table], pa.Table]
    chart: ChartRenderer | None = field(default=None)

    @property
    def name(self) -> str:
        return ".".join(self.identifier)


@dataclass(frozen=True, slots=True)
class Refresh:
    """What one run did to a mart."""

    rows_written: int
    days: tuple[str, ...] | None  # ISO days rebuilt; None for a full rebuild
    reason: str
    source_snapshot: str

    def metadata(self) -> dict:
        days = self.days
        return {"rows_written": self.rows_written,
                "rebuild": "full" if days is None else "incremental",
                "days_rebuilt": "all" if days is None else ", ".join(days[:31]) or "none",
                "day_count": -1 if days is None else len(days),
                "why": self.reason, "built_from": self.source_snapshot}


def load_or_none(catalog: Catalog, identifier: tuple[str, str]) -> Table | None:
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        return None


def _arrow_types(schema: pa.Schema) -> list[pa.DataType]:
    # Iceberg reads strings back as large_string; both are the same Iceberg string.
    return [pa.string() if t == pa.large_string() else t for t in schema.types]


def matches(table: Table, expected: pa.Schema) -> bool:
    """The table has the mart's columns and types, and is partitioned by the day alone."""
    schema = table.schema()
    fields = [(type(f.transform), schema.find_field(f.source_id).name)
              for f in table.spec().fields]
    current = schema_to_pyarrow(schema, include_field_ids=False)
    return (current.names == expected.names
            and _arrow_types(current) == _arrow_types(expected)
            and fields == [(IdentityTransform, DAY_COLUMN)])


def create_mart_table(catalog: Catalog, identifier: tuple[str, str], schema: pa.Schema) -> Table:
    """Create (or recreate: a derived table loses nothing) the table, partitioned by day."""
    catalog.create_namespace_if_not_exists(identifier[0])
    if load_or_none(catalog, identifier) is not None:
        catalog.drop_table(identifier)
    txn = catalog.create_table_transaction(identifier, schema=schema,
                                           properties=_MART_PROPERTIES)
    with txn.update_spec() as spec:
        spec.add_identity(DAY_COLUMN)
    return txn.commit_transaction()


def write_days(table: Table, rows: pa.Table, days: frozenset[int] | None, stamp: str) -> None:
    """Replace the given days (None: every day) by ``rows``, and record ``stamp``, at once."""
    replaced = AlwaysTrue() if days is None else In(
        DAY_COLUMN, [to_date(d).isoformat() for d in sorted(days)])
    data_files = write_data_files(table, rows) if rows.num_rows else []
    with table.transaction() as txn, warnings.catch_warnings():
        # A day new to the mart has nothing to delete; PyIceberg warns about that.
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        txn.delete(replaced)
        if data_files:
            with txn.update_snapshot().fast_append() as append:
                for data_file in data_files:
                    append.append_data_file(data_file)
        txn.set_properties({BUILT_FROM_PROPERTY: stamp})


def refresh_mart(catalog: Catalog, mart: DayMart, *, full: bool = False) -> Refresh:
    """Bring ``mart`` up to its source's current snapshot, rebuilding only changed days."""
    source = catalog.load_table(mart.source)
    stamp = built_from(source)
    source_schema = schema_to_pyarrow(source.schema(), include_field_ids=False)
    expected = mart.build(source_schema.empty_table().select(mart.source_columns)).schema
    target = load_or_none(catalog, mart.identifier)
    target_ok = target is not None and matches(target, expected)
    plan = plan_refresh(
        target.properties.get(BUILT_FROM_PROPERTY) if target is not None else None,
        str(source.metadata.table_uuid),
        lambda since: touched_days(source, since, mart.source_day),
        target_matches=target_ok, full=full)
    days = None if plan.days is None else tuple(to_date(d).isoformat()
                                                 for d in sorted(plan.days))
    if plan.days is not None and not plan.days:
        if target.properties.get(BUILT_FROM_PROPERTY) != stamp:
            with target.transaction() as txn:
                txn.set_properties({BUILT_FROM_PROPERTY: stamp})
        return Refresh(0, days, plan.reason, stamp)
    timestamp = isinstance(source.schema().find_field(mart.source_day).field_type,
                           TimestamptzType)
    row_filter = AlwaysTrue() if plan.days is None else day_filter(
        mart.source_day, plan.days, timestamp=timestamp)
    snapshot = source.current_snapshot()
    scan = source.scan(row_filter=row_filter, selected_fields=mart.source_columns,
                       snapshot_id=snapshot.snapshot_id if snapshot else None)
    rows = mart.build(scan.to_arrow())
    if not target_ok:
        target = create_mart_table(catalog, mart.identifier, rows.schema)
    write_days(target, rows, plan.days, stamp)
    return Refresh(rows.num_rows, days, plan.reason, stamp)


def read_recent(catalog: Catalog, mart: DayMart, days: int = CHART_DAYS) -> pa.Table:
    """The mart's rows of its latest ``days`` days (found from its partitions, not its rows)."""
    table = catalog.load_table(mart.identifier)
    latest = max((task.file.partition[0] for task in table.scan().plan_files()), default=None)
    if latest is None:
        return table.scan().to_arrow()
    since = to_date(latest - days + 1).isoformat()
    return table.scan(row_filter=GreaterThanOrEqual(DAY_COLUMN, since)).to_arrow()


def render_chart(catalog: Catalog, mart: DayMart) -> bytes:
    if mart.chart is None:
        raise ValueError(f"{mart.name} has no chart")
    return mart.chart(read_recent(catalog, mart))


def chart_markdown(catalog: Catalog, mart: DayMart) -> str:
    return markdown_image(render_chart(catalog, mart), f"{mart.name}, last {CHART_DAYS} days")


def write_charts(catalog: Catalog, marts: list[DayMart], folder: Path) -> list[Path]:
    """Write each mart's chart to ``folder/<namespace>.<table>.png``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mart in marts:
        if mart.chart is not None:
            path = folder / f"{mart.name}.png"
            path.write_bytes(render_chart(catalog, mart))
            paths.append(path)
    return paths
