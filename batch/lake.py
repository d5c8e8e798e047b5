"""The Iceberg side: creating tables, reading the load watermark, committing a load."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import In
from pyiceberg.io.pyarrow import pyarrow_to_schema, write_file
from pyiceberg.manifest import DataFile
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
from pyiceberg.table import Table, WriteTask
from pyiceberg.types import StringType

from batch.schemas import JSON_TEXT, BronzeTable

# The xid below which every PostgreSQL row version is in this table. It is a table
# property written in the same Iceberg commit as the rows, so the two move together.
WATERMARK_PROPERTY = "lake.loaded-below-xid"

_BRONZE_PROPERTIES = {
    "format-version": "2",
    # PyIceberg re-applies a conflicting commit on top of the winner by default; for a
    # load that would commit a stale watermark beside a second copy of the rows.
    "commit.retry.num-retries": "0",
}


def ensure_bronze_table(catalog: Catalog, spec: BronzeTable) -> Table:
    catalog.create_namespace_if_not_exists(spec.identifier[0])
    table = catalog.create_table_if_not_exists(
        spec.identifier, schema=spec.schema, partition_spec=spec.partition_spec,
        properties=_BRONZE_PROPERTIES,
    )
    return add_missing_columns(table, spec)


def add_missing_columns(table: Table, spec: BronzeTable) -> Table:
    """Add the spec's columns a table made by an older version lacks, as optional columns
    at the end (Iceberg gives them new ids; rows written before read them as null). The
    loader writes the spec's columns, so a table without them could not take its files."""
    present = set(table.schema().column_names)
    missing = [(name, kind) for name, kind, _ in spec.columns if name not in present]
    if not missing:
        return table
    with table.update_schema() as update:
        for name, kind in missing:
            update.add_column(name, StringType() if kind == JSON_TEXT else kind)
    return table


def read_watermark(table: Table) -> int:
    return int(table.properties.get(WATERMARK_PROPERTY, "0"))


def write_data_files(table: Table, rows: pa.Table) -> list[DataFile]:
    """Write Parquet files for ``rows``, one per partition present, without committing them.

    Each partition's rows go to PyIceberg's writer as one task (written in its thread
    pool). Rows that arrive in partition order, as events do, are passed as zero-copy
    slices; otherwise one sort of the partition keys groups them, and gathering the rows
    by it (a copy of every column) is the costliest step after the Parquet encoding.
    PyIceberg's own append would filter the whole batch once per partition instead.
    """
    metadata = table.metadata
    schema, spec = metadata.schema(), metadata.spec()
    (field,) = spec.fields  # one field, a day
    source = schema.find_field(field.source_id)
    transform = field.transform.pyarrow_transform(source.field_type)
    keys = transform(rows.column(source.name)).combine_chunks()
    order = None if in_order(keys) else pc.sort_indices(keys)
    runs = pc.run_end_encode(keys if order is None else pc.take(keys, order))
    task_schema = pyarrow_to_schema(rows.schema, name_mapping=schema.name_mapping,
                                    format_version=metadata.format_version)
    write_uuid, counter = uuid.uuid4(), itertools.count(0)

    def tasks() -> Iterator[WriteTask]:
        start = 0
        for end, value in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            group = (rows.slice(start, end - start) if order is None
                     else rows.take(order.slice(start, end - start)))
            key = PartitionKey(field_values=[PartitionFieldValue(field=field, value=value)],
                               partition_spec=spec, schema=schema)
            yield WriteTask(write_uuid=write_uuid, task_id=next(counter), schema=task_schema,
                            record_batches=group.to_batches(), partition_key=key)
            start = end

    return list(write_file(table.io, metadata, tasks()))


def in_order(keys: pa.Array) -> bool:
    """True when no key is null and none is smaller than the one before it."""
    if keys.null_count or len(keys) < 2:
        return keys.null_count == 0
    return pc.all(pc.less_equal(keys.slice(0, len(keys) - 1), keys.slice(1))).as_py()


def commit_load(table: Table, data_files: list[DataFile], replace_keys: list[str],
                watermark: int) -> None:
    """Replace, append and advance the watermark in one Iceberg commit: all or nothing.

    Files of a commit that fails stay unreferenced in the warehouse; readers never see them.
    """
    properties = {WATERMARK_PROPERTY: str(watermark)}
    with table.transaction() as txn:
        if replace_keys:
            txn.delete(In("event_id", replace_keys))
        with txn.update_snapshot(snapshot_properties=properties).fast_append() as append:
            for data_file in data_files:
                append.append_data_file(data_file)
        txn.set_properties(properties)


def replace_mart(catalog: Catalog, identifier: tuple[str, str], rows: pa.Table,
                 properties: dict[str, str] | None = None) -> Table:
    """Rewrite a derived table whole, with ``properties``, in one commit.

    Marts are small and rebuilt from bronze each run. One whose columns changed (silver.payments
    held events before it held payments) is dropped and created anew: it is derived, so
    nothing is lost, and an overwrite could not change its shape.
    """
    catalog.create_namespace_if_not_exists(identifier[0])
    table = catalog.create_table_if_not_exists(identifier, schema=rows.schema)
    if table.schema().column_names != rows.column_names:
        catalog.drop_table(identifier)
        table = catalog.create_table(identifier, schema=rows.schema)
    with table.transaction() as txn:
        txn.overwrite(rows)
        if properties:
            txn.set_properties(properties)
    return table


def read_table(catalog: Catalog, identifier: tuple[str, str]) -> pa.Table:
    return catalog.load_table(identifier).scan().to_arrow()
