"""What a table holds: its live data files, per partition, read from its manifests."""

from __future__ import annotations

from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, GreaterThanOrEqual, LessThan
from pyiceberg.table import FileScanTask, Table
from pyiceberg.transforms import DayTransform

from batch.upkeep.plans import (
    SECONDS_PER_DAY,
    DataFileStat,
    describe_layout,
    files_per_partition,
)

_EPOCH_MICROS_PER_DAY = SECONDS_PER_DAY * 1_000_000


def day_field(table: Table):
    """The table's one day partition field, or None when it is partitioned otherwise."""
    fields = table.spec().fields
    if len(fields) == 1 and isinstance(fields[0].transform, DayTransform):
        return fields[0]
    return None


def day_filter(table: Table, day: int | None) -> BooleanExpression:
    """Rows of one day partition, so that planning reads only that partition's manifests."""
    field = day_field(table)
    if field is None or day is None:
        return AlwaysTrue()
    column = table.schema().find_column_name(field.source_id)
    start = day * _EPOCH_MICROS_PER_DAY
    return And(GreaterThanOrEqual(column, start), LessThan(column, start + _EPOCH_MICROS_PER_DAY))


def scan_tasks(table: Table, day: int | None = None) -> list[FileScanTask]:
    return list(table.scan(row_filter=day_filter(table, day)).plan_files())


def file_stats(table: Table, tasks: list[FileScanTask] | None = None) -> list[DataFileStat]:
    """Each live data file with its partition (as a path), day, size and rows."""
    schema, specs = table.schema(), table.specs()
    is_day = day_field(table) is not None
    stats = []
    for task in scan_tasks(table) if tasks is None else tasks:
        data = task.file
        spec = specs[data.spec_id]
        stats.append(DataFileStat(
            path=data.file_path, partition=spec.partition_to_path(data.partition, schema),
            day=data.partition[0] if is_day and data.spec_id == table.spec().spec_id else None,
            size_bytes=data.file_size_in_bytes, rows=data.record_count))
    return stats


def partition_layout(catalog: Catalog, identifier: tuple[str, str]) -> dict:
    """Data files per partition of one table, with totals: what the bench reports."""
    counts = files_per_partition(file_stats(catalog.load_table(identifier)))
    return {**describe_layout(counts), "files_per_partition": counts}
