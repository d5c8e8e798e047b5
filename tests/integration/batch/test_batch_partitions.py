"""Bronze data files hold one day each, whether rows arrive in day order or scattered."""

from __future__ import annotations

from datetime import date

import pyarrow.parquet as pq
import pytest
from batch_lake import make_event_row

import batch.lake
from batch.lake import in_order
from batch.schemas import PAYMENT_EVENTS

EPOCH = date(1970, 1, 1)


def day_rows(prefix: str, days: list[int]) -> list[dict]:
    return [make_event_row(f"stripe:{prefix}_{i}",
                           provider_created_at=f"2026-01-{day:02d}T{i % 24:02d}:00:00Z")
            for i, day in enumerate(days)]


def files_by_day(lake) -> dict[date, list[str]]:
    """Each bronze data file's partition day, and the event ids it holds."""
    table = lake.catalog.load().load_table(PAYMENT_EVENTS.identifier)
    found: dict[date, list[str]] = {}
    for task in table.scan().plan_files():
        (day_number,) = task.file.partition
        rows = pq.read_table(task.file.file_path.removeprefix("file://"),
                             columns=["event_id", "provider_created_at"])
        days = {ts.date() for ts in rows.column("provider_created_at").to_pylist()}
        assert days == {EPOCH.fromordinal(EPOCH.toordinal() + day_number)}, task.file.file_path
        found.setdefault(min(days), []).extend(rows.column("event_id").to_pylist())
    return found


@pytest.mark.parametrize(("days", "sliced"), [([1, 1, 2, 2, 2, 5], True),
                                              ([3, 1, 2, 1, 3, 2], False)],
                         ids=["in_day_order", "scattered"])
def test_each_data_file_holds_the_rows_of_its_own_day(lake, monkeypatch, days, sliced):
    verdicts: list[bool] = []

    def recorded_in_order(keys):
        verdicts.append(in_order(keys))
        return verdicts[-1]

    monkeypatch.setattr(batch.lake, "in_order", recorded_in_order)
    lake.add_events(day_rows("p", days))
    lake.load_until_caught_up()
    # Slices for rows in day order, a sort and gather for the rest: both must file by day.
    assert sliced in verdicts

    found = files_by_day(lake)
    expected: dict[date, list[str]] = {}
    for i, day in enumerate(days):
        expected.setdefault(date(2026, 1, day), []).append(f"stripe:p_{i}")
    assert {d: sorted(ids) for d, ids in found.items()} == expected


def test_in_order_means_no_key_below_its_predecessor_and_no_nulls():
    import pyarrow as pa

    assert in_order(pa.array([1, 1, 2, 5], pa.int32()))
    assert in_order(pa.array([4], pa.int32())) and in_order(pa.array([], pa.int32()))
    assert not in_order(pa.array([1, 3, 2], pa.int32()))
    assert not in_order(pa.array([1, None, 2], pa.int32()))
