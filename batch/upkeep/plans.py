"""Pure planning for lake upkeep: what to compact, how big to write, what is an orphan.

Compaction rewrites, in one cold day partition, every *small* file (under half the target
size) once there are at least two of them. It writes full target-sized files and one
remainder, so after a rewrite a partition holds at most one small file and planning it
again finds nothing: a re-run is a no-op until new small files arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

SECONDS_PER_DAY = 86_400
SMALL_FILE_SHARE = 0.5
MIN_SMALL_FILES = 2


@dataclass(frozen=True, slots=True)
class DataFileStat:
    """One live data file of a table, as its manifest describes it."""

    path: str
    partition: str  # the partition as a path, e.g. provider_created_at_day=2026-01-02
    day: int | None  # days since 1970-01-01 of a day partition; None for any other
    size_bytes: int
    rows: int


@dataclass(frozen=True, slots=True)
class PartitionRewrite:
    """The small files of one cold partition, to be rewritten together in one commit."""

    partition: str
    day: int
    paths: tuple[str, ...]
    size_bytes: int
    rows: int


def is_cold(day: int, cutoff: datetime) -> bool:
    """Whether day partition ``day`` ended (at the next UTC midnight) by ``cutoff``."""
    return (day + 1) * SECONDS_PER_DAY <= cutoff.timestamp()


def is_small(size_bytes: int, target_bytes: int) -> bool:
    return size_bytes < target_bytes * SMALL_FILE_SHARE


def plan_compaction(files: Iterable[DataFileStat], cutoff: datetime,
                    target_bytes: int) -> list[PartitionRewrite]:
    """The cold partitions with at least two small files, oldest first."""
    if target_bytes <= 0:
        raise ValueError(f"target_bytes must be positive, not {target_bytes}")
    small: dict[tuple[int, str], list[DataFileStat]] = {}
    for stat in files:
        if stat.day is not None and is_cold(stat.day, cutoff) and is_small(stat.size_bytes,
                                                                           target_bytes):
            small.setdefault((stat.day, stat.partition), []).append(stat)
    return [
        PartitionRewrite(partition, day, tuple(sorted(f.path for f in group)),
                         sum(f.size_bytes for f in group), sum(f.rows for f in group))
        for (day, partition), group in sorted(small.items())
        if len(group) >= MIN_SMALL_FILES
    ]


def rows_per_file(sample_rows: int, sample_bytes: int, target_bytes: int) -> int:
    """Rows that make a file of about ``target_bytes``, from a sample encoded as Parquet."""
    if sample_rows <= 0 or sample_bytes <= 0:
        raise ValueError("the sample must have rows and bytes")
    return max(1, target_bytes * sample_rows // sample_bytes)


def read_groups(paths_and_sizes: Iterable[tuple[str, int]], group_bytes: int) -> list[list[str]]:
    """Consecutive input files of about ``group_bytes`` together, read one group at a time
    so that a large partition never sits in memory whole."""
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path, file_bytes in paths_and_sizes:
        if current and size + file_bytes > group_bytes:
            groups.append(current)
            current, size = [], 0
        current.append(path)
        size += file_bytes
    if current:
        groups.append(current)
    return groups


def files_per_partition(files: Iterable[DataFileStat]) -> dict[str, int]:
    return dict(sorted(Counter(f.partition for f in files).items()))


def describe_layout(counts: dict[str, int]) -> dict[str, float]:
    """Partitions, files, and files per partition (max and mean) of one table."""
    files = sum(counts.values())
    return {"partitions": len(counts), "data_files": files,
            "max_files_per_partition": max(counts.values(), default=0),
            "mean_files_per_partition": round(files / len(counts), 2) if counts else 0.0}


def storage_key(uri: str) -> str:
    """A file's location without its scheme, as a listing of the warehouse names it:
    ``file:///w/a.parquet`` -> ``/w/a.parquet``, ``s3://bucket/a`` -> ``bucket/a``."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return parsed.path
    return parsed.netloc + parsed.path


def find_orphans(listed: Iterable[tuple[str, datetime]], referenced: Iterable[str],
                 older_than: datetime, released: Iterable[str] = ()) -> list[str]:
    """Listed files that no reference names and that were last written before ``older_than``.

    ``listed`` pairs each file's storage key with its modification time; ``referenced``
    holds URIs. A young file may belong to a commit still in progress, so it stays, unless
    it is one of ``released`` (URIs once referenced, so no commit in progress writes them:
    an erasure's, whose files must go now).
    """
    keep = {storage_key(uri) for uri in referenced}
    gone = {storage_key(uri) for uri in released}
    return sorted(path for path, modified in listed
                  if storage_key(path) not in keep
                  and (modified < older_than or storage_key(path) in gone))


def snapshots_to_expire(snapshots: Iterable[tuple[int, int]], protected: set[int],
                        older_than_ms: int) -> list[int]:
    """Ids of the (id, timestamp_ms) snapshots older than the cut-off and not a ref's head."""
    return sorted(sid for sid, timestamp_ms in snapshots
                  if timestamp_ms < older_than_ms and sid not in protected)
