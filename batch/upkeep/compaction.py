"""Compaction: the small files of cold day partitions, rewritten into target-sized files.

One partition at a time: its small files are read (a group of about the target size at
a time) and written back as full files of about the target size and one remainder; then
one commit swaps exactly the files read for the files written. That commit is built on a
freshly loaded table and names each file it removes: if a load replaced a row in one of
them meanwhile (so the file is gone), PyIceberg refuses the commit (ValidationException),
the new files are deleted and the partition is planned again. Rows are never lost or
doubled: the commit removes only files whose every row it rewrote, and writes nothing else.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.manifest import DataFile
from pyiceberg.table import FileScanTask, Table

from batch.lake import write_data_files
from batch.loads import ConnectPostgres
from batch.upkeep.commits import table_lock, with_commit_retries
from batch.upkeep.files import file_stats, scan_tasks
from batch.upkeep.plans import (
    PartitionRewrite,
    files_per_partition,
    plan_compaction,
    read_groups,
    rows_per_file,
)

log = logging.getLogger(__name__)

# Rows encoded to learn how many bytes a row takes in Parquet once compacted.
SAMPLE_ROWS = 20_000
# Plans of one partition before giving up on it for this run (each lost to a load).
MAX_REPLANS = 5
_CODEC = "write.parquet.compression-codec"


@dataclass
class CompactionResult:
    table: str
    partitions_rewritten: int = 0
    files_removed: int = 0
    files_added: int = 0
    rows_rewritten: int = 0
    replans: int = 0
    files_before: dict[str, int] = field(default_factory=dict)
    files_after: dict[str, int] = field(default_factory=dict)


def estimate_rows_per_file(table: Table, sample: pa.Table, target_bytes: int) -> int:
    """Encode a sample as the table's Parquet would be, and scale it to the target."""
    buffer = io.BytesIO()
    pq.write_table(sample, buffer, compression=table.properties.get(_CODEC, "zstd"))
    return rows_per_file(sample.num_rows, buffer.tell(), target_bytes)


def rewrite_files(table: Table, tasks: list[FileScanTask], target_bytes: int) -> list[DataFile]:
    """Write the rows of ``tasks`` as files of about ``target_bytes`` (uncommitted)."""
    reader = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue())
    by_path = {task.file.file_path: task for task in tasks}
    written: list[DataFile] = []
    buffer: pa.Table | None = None
    per_file: int | None = None
    try:
        for group in read_groups(((t.file.file_path, t.file.file_size_in_bytes) for t in tasks),
                                 target_bytes):
            for batch in reader.to_record_batches([by_path[path] for path in group]):
                part = pa.Table.from_batches([batch])
                buffer = part if buffer is None else pa.concat_tables(
                    [buffer, part], promote_options="permissive")
                if per_file is None and buffer.num_rows >= SAMPLE_ROWS:
                    per_file = estimate_rows_per_file(table, buffer.slice(0, SAMPLE_ROWS),
                                                      target_bytes)
                while per_file is not None and buffer.num_rows >= per_file:
                    written += write_data_files(table, buffer.slice(0, per_file))
                    buffer = buffer.slice(per_file)
        if buffer is not None and buffer.num_rows:
            per_file = per_file or estimate_rows_per_file(table, buffer, target_bytes)
            for start in range(0, buffer.num_rows, per_file):
                written += write_data_files(table, buffer.slice(start, per_file))
    except BaseException:
        discard(table, written)
        raise
    return written


def discard(table: Table, files: list[DataFile]) -> None:
    """Delete files no commit references (any left over are the orphan job's)."""
    for data_file in files:
        try:
            table.io.delete(data_file.file_path)
        except OSError:
            log.warning("could not delete unreferenced %s", data_file.file_path, exc_info=True)


def swap_files(catalog: Catalog, identifier: tuple[str, str], connect: ConnectPostgres | None,
               day: int, removed: list[DataFile], added: list[DataFile]) -> None:
    """One commit on the current table: drop ``removed``, add ``added``.

    Raises ValidationException when a file to drop is gone or has gained row deletes
    (PyIceberg writes none, but another engine could): its rows are no longer the ones
    that were rewritten.
    """
    def attempt() -> None:
        with table_lock(connect, identifier):
            table = catalog.load_table(identifier)
            live = {task.file.file_path: task for task in scan_tasks(table, day)}
            if any(f.file_path not in live or live[f.file_path].delete_files for f in removed):
                raise ValidationException("a file to compact was replaced or has row deletes")
            with table.transaction() as txn:
                properties = {"lake.upkeep": "compaction"}
                with txn.update_snapshot(snapshot_properties=properties).overwrite() as swap:
                    for data_file in removed:
                        swap.delete_data_file(data_file)
                    for data_file in added:
                        swap.append_data_file(data_file)

    with_commit_retries(attempt, f"compaction of {'.'.join(identifier)}")


def candidates(table: Table, day: int | None = None) -> list[FileScanTask]:
    """Live data files without row deletes (a rewrite of those would need the deletes too)."""
    return [task for task in scan_tasks(table, day) if not task.delete_files]


def compact_partition(catalog: Catalog, identifier: tuple[str, str], plan: PartitionRewrite,
                      cutoff: datetime, target_bytes: int, connect: ConnectPostgres | None,
                      result: CompactionResult) -> None:
    for _ in range(MAX_REPLANS):
        table = catalog.load_table(identifier)
        tasks = [t for t in candidates(table, plan.day) if t.file.file_path in set(plan.paths)]
        if len(tasks) == len(plan.paths):
            added = rewrite_files(table, tasks, target_bytes)
            try:
                swap_files(catalog, identifier, connect, plan.day, [t.file for t in tasks], added)
            except (ValidationException, CommitFailedException) as exc:
                # Neither landed, so no snapshot references the new files. (After any other
                # error the commit may have landed: the files stay, for the orphan job.)
                discard(table, added)
                if isinstance(exc, CommitFailedException):
                    raise
            else:
                result.partitions_rewritten += 1
                result.files_removed += len(tasks)
                result.files_added += len(added)
                result.rows_rewritten += sum(t.file.record_count for t in tasks)
                return
        result.replans += 1
        table = catalog.load_table(identifier)
        fresh = plan_compaction(file_stats(table, candidates(table, plan.day)), cutoff,
                                target_bytes)
        plan = next((p for p in fresh if p.partition == plan.partition), None)
        if plan is None:
            return  # compacted by another run, or no longer two small files
    log.warning("%s: gave up on %s after %s plans", ".".join(identifier), plan.partition,
                MAX_REPLANS)


def compact_table(catalog: Catalog, identifier: tuple[str, str], cutoff: datetime,
                  target_bytes: int, connect: ConnectPostgres | None = None) -> CompactionResult:
    """Compact every cold partition of a day-partitioned table that has small files.

    ``cutoff``: partitions whose day ended by then are cold. ``connect`` opens a
    PostgreSQL connection for the load lock of bronze tables (batch.upkeep.commits).
    """
    result = CompactionResult(".".join(identifier))
    table = catalog.load_table(identifier)
    result.files_before = files_per_partition(file_stats(table))
    for plan in plan_compaction(file_stats(table, candidates(table)), cutoff, target_bytes):
        compact_partition(catalog, identifier, plan, cutoff, target_bytes, connect, result)
    result.files_after = files_per_partition(file_stats(catalog.load_table(identifier)))
    return result
