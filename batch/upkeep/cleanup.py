"""Snapshot expiry and orphan-file removal, for every table of the catalog.

Expiry drops old snapshots from the table's metadata through PyIceberg's maintenance API
(``table.maintenance.expire_snapshots()``); it deletes no file. The files only expired
snapshots used are then orphans, like the files of a failed commit, and orphan removal
deletes every file under the table's location that no remaining snapshot or metadata
file references, once it is older than a safety margin: a file younger than that may
belong to a commit still in progress (a load writes its files before it commits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyarrow import fs as pafs
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.table import Table

from batch.loads import ConnectPostgres
from batch.upkeep.commits import table_lock, with_commit_retries
from batch.upkeep.plans import find_orphans, snapshots_to_expire


def catalog_tables(catalog: Catalog) -> list[tuple[str, ...]]:
    """Every table of every namespace of the catalog."""
    return sorted(tuple(identifier) for namespace in catalog.list_namespaces()
                  for identifier in catalog.list_tables(namespace))


def protected_snapshots(table: Table) -> set[int]:
    """Heads of branches and tags: PyIceberg never expires those."""
    return {ref.snapshot_id for ref in table.metadata.refs.values()}


def expire_table_snapshots(catalog: Catalog, identifier: tuple[str, ...], older_than: datetime,
                           connect: ConnectPostgres | None = None) -> int:
    """Expire the table's snapshots older than ``older_than``; how many were expired.

    Nothing to expire commits nothing, so a re-run writes no new metadata.
    """
    cutoff_ms = int(older_than.timestamp() * 1000)

    def attempt() -> int:
        with table_lock(connect, identifier):
            table = catalog.load_table(identifier)
            expired = snapshots_to_expire(
                ((s.snapshot_id, s.timestamp_ms) for s in table.metadata.snapshots),
                protected_snapshots(table), cutoff_ms)
            if expired:
                table.maintenance.expire_snapshots().older_than(older_than).commit()
            return len(expired)

    return with_commit_retries(attempt, f"snapshot expiry of {'.'.join(identifier)}")


def referenced_files(table: Table) -> set[str]:
    """Every file the table's metadata reaches: metadata files (the current one and its
    log), statistics, and each snapshot's manifest list, manifests and live data files."""
    metadata = table.metadata
    found = {table.metadata_location, *(entry.metadata_file for entry in metadata.metadata_log)}
    found |= {stats.statistics_path for stats in metadata.statistics}
    found |= {stats.statistics_path for stats in metadata.partition_statistics}
    seen_manifests: set[str] = set()
    for snapshot in metadata.snapshots:
        found.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            found.add(manifest.manifest_path)
            # Entries deleted by this snapshot were live in its parent: if the parent is
            # still kept, its own manifests name them; if it is expired, nothing reads them.
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                found.add(entry.data_file.file_path)
    return found


def table_filesystem(table: Table) -> tuple[pafs.FileSystem, str]:
    """The file system under the table's location and the location's path in it, configured
    as the table's own FileIO is (an S3 endpoint and keys from the catalog's properties)."""
    if isinstance(table.io, PyArrowFileIO):
        scheme, netloc, path = table.io.parse_location(table.location())
        return table.io.fs_by_scheme(scheme, netloc), path
    return pafs.FileSystem.from_uri(table.location())


def list_files(table: Table) -> Iterator[tuple[str, datetime]]:
    """(storage key, modification time) of every file under a table's location."""
    filesystem, root = table_filesystem(table)
    selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
    for info in filesystem.get_file_info(selector):
        if info.type == pafs.FileType.File:
            modified = info.mtime
            yield info.path, (modified if modified.tzinfo else modified.replace(tzinfo=UTC))


@dataclass
class OrphanResult:
    table: str
    listed: int = 0
    removed: list[str] = field(default_factory=list)


def remove_orphan_files(catalog: Catalog, identifier: tuple[str, ...],
                        older_than: datetime, released: Iterable[str] = ()) -> OrphanResult:
    """Delete the table's files that nothing references and that were written before
    ``older_than``, or that are among ``released`` (find_orphans). A re-run finds nothing
    more to delete."""
    table = catalog.load_table(identifier)
    # Listed before the references are read: a file committed in between is then both
    # listed and referenced, never listed alone.
    listed = list(list_files(table))
    orphans = find_orphans(listed, referenced_files(catalog.load_table(identifier)), older_than,
                           released)
    filesystem, _ = table_filesystem(table)
    for path in orphans:
        filesystem.delete_file(path)
    return OrphanResult(".".join(identifier), len(listed), orphans)
