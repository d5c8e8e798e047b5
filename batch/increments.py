"""Which days changed in a day-partitioned Iceberg table since a snapshot, and what to rebuild.

A derived table (silver.payment_events, the gold marts) records the source snapshot it was
built from (``lake.built-from``, written in the same commit as its rows). The next run reads,
from the source's own snapshot log, the partitions of every data or delete file added or
removed since then: the days a load (or anything else that wrote the source: a replace of
updated rows, an erasure) touched. Only those days are rebuilt. Nothing has to cooperate:
the log is the record. A snapshot that only rewrote files (``replace``: compaction) changed
no row, so it is skipped. When the log no longer reaches the recorded snapshot (expired, or
the source was recreated), the plan is a full rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from pyiceberg.expressions import (
    AlwaysFalse,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    LessThan,
    Or,
)
from pyiceberg.manifest import ManifestEntryStatus
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Operation
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import DateType, TimestamptzType

BUILT_FROM_PROPERTY = "lake.built-from"
EPOCH = date(1970, 1, 1)


def to_date(day: int) -> date:
    """An Iceberg day number (days since 1970-01-01, as day partitions hold) as a date."""
    return EPOCH + timedelta(days=day)


def to_day(value: date) -> int:
    return (value - EPOCH).days


def built_from(table: Table) -> str:
    """The stamp a table derived from ``table`` records: the source's uuid and snapshot."""
    snapshot = table.current_snapshot()
    return f"{table.metadata.table_uuid}@{snapshot.snapshot_id if snapshot else 'none'}"


def _day_field_ids(table: Table, day_column: str) -> dict[int, int]:
    """spec id -> the position of the field that partitions by ``day_column``'s UTC day."""
    source = table.schema().find_field(day_column)
    found = {}
    for spec_id, spec in table.specs().items():
        for position, field in enumerate(spec.fields):
            by_day = (isinstance(field.transform, DayTransform)
                      and isinstance(source.field_type, TimestamptzType)) or (
                isinstance(field.transform, IdentityTransform)
                and isinstance(source.field_type, DateType))
            if field.source_id == source.field_id and by_day:
                found[spec_id] = position
    return found


def touched_days(table: Table, since: int | None, day_column: str) -> frozenset[int] | None:
    """Day numbers of the files added or removed after snapshot ``since`` (None: ever).

    None when the answer is unknown: the snapshot log does not reach ``since`` (expired, or
    another table), or a file is not partitioned by ``day_column``'s day.
    """
    fields = _day_field_ids(table, day_column)
    days: set[int] = set()
    snapshot = table.current_snapshot()
    while snapshot is not None and snapshot.snapshot_id != since:
        if snapshot.summary is None or snapshot.summary.operation != Operation.REPLACE:
            for manifest in snapshot.manifests(table.io):
                if manifest.added_snapshot_id != snapshot.snapshot_id:
                    continue  # carried over from an earlier snapshot: already counted there
                for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                    if entry.status == ManifestEntryStatus.EXISTING:
                        continue
                    position = fields.get(entry.data_file.spec_id)
                    day = None if position is None else entry.data_file.partition[position]
                    if day is None:
                        return None
                    days.add(day)
        parent = snapshot.parent_snapshot_id
        snapshot = None if parent is None else table.snapshot_by_id(parent)
        if snapshot is None and parent is not None:
            return None  # expired: what happened between is no longer known
    if snapshot is None and since is not None:
        return None  # reached the first snapshot without meeting ``since``
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class Plan:
    """What a derived table's run rebuilds: some days, or (days None) every day."""

    days: frozenset[int] | None
    reason: str

    @property
    def full(self) -> bool:
        return self.days is None


def plan_refresh(recorded: str | None, source_uuid: str,
                 touched: Callable[[int | None], frozenset[int] | None], *,
                 target_matches: bool, full: bool = False) -> Plan:
    """Decide between rebuilding the touched days and rebuilding everything.

    ``recorded`` is the target's ``lake.built-from`` stamp, ``touched(since)`` the source's
    touched days after snapshot ``since`` (None when unknown).
    """
    if full:
        return Plan(None, "a full rebuild was asked for")
    if not target_matches:
        return Plan(None, "the table is new, or its columns or partitioning changed")
    if not recorded:
        return Plan(None, "the table records no source snapshot")
    uuid, _, snapshot = recorded.partition("@")
    if uuid != source_uuid:
        return Plan(None, "the source table was recreated")
    days = touched(None if snapshot == "none" else int(snapshot))
    if days is None:
        return Plan(None, "the source's snapshots since the last build are no longer all there")
    if not days:
        return Plan(days, "nothing changed in the source since the last build")
    return Plan(days, f"{len(days)} day(s) changed in the source since the last build")


def day_ranges(days: Iterable[int]) -> list[tuple[date, date]]:
    """Consecutive days merged into [first, after-last) ranges, in order."""
    ranges: list[list[int]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + 1
        else:
            ranges.append([day, day + 1])
    return [(to_date(start), to_date(end)) for start, end in ranges]


def day_filter(column: str, days: Iterable[int], *, timestamp: bool) -> BooleanExpression:
    """Rows whose (UTC) day is one of ``days``; a range per run of consecutive days."""

    def bound(day: date) -> str:
        return f"{day.isoformat()}T00:00:00+00:00" if timestamp else day.isoformat()

    expression: BooleanExpression = AlwaysFalse()
    for start, end in day_ranges(days):
        expression = Or(expression, And(GreaterThanOrEqual(column, bound(start)),
                                        LessThan(column, bound(end))))
    return expression
