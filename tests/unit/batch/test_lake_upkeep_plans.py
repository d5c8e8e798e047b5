"""The pure planning of lake upkeep: cold and small partitions, file sizes, orphans, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from batch.upkeep.plans import (
    DataFileStat,
    describe_layout,
    files_per_partition,
    find_orphans,
    is_cold,
    plan_compaction,
    read_groups,
    rows_per_file,
    snapshots_to_expire,
    storage_key,
)

JAN_2 = (datetime(2026, 1, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days
MIB = 1 << 20


def stat(name: str, day: int | None, size: int, rows: int = 10) -> DataFileStat:
    partition = "unpartitioned" if day is None else f"day={day}"
    return DataFileStat(f"file:///w/{name}.parquet", partition, day, size, rows)


def test_a_day_is_cold_once_it_ended_before_the_cutoff():
    end_of_jan_2 = datetime(2026, 1, 3, tzinfo=UTC)
    assert is_cold(JAN_2, end_of_jan_2)
    assert not is_cold(JAN_2, end_of_jan_2 - timedelta(microseconds=1))


def test_cold_partitions_with_two_small_files_are_planned_oldest_first():
    cutoff = datetime(2026, 1, 10, tzinfo=UTC)
    files = [
        stat("a1", JAN_2 + 1, MIB), stat("a2", JAN_2 + 1, MIB, 5), stat("a3", JAN_2 + 1, 90 * MIB),
        stat("b1", JAN_2, 2 * MIB), stat("b2", JAN_2, 3 * MIB),
        stat("c1", JAN_2 + 2, MIB),  # one small file alone: nothing to gain
        stat("h1", JAN_2 + 8, MIB), stat("h2", JAN_2 + 8, MIB),  # ends Jan 11: still hot
        stat("u1", None, MIB), stat("u2", None, MIB),  # not a day partition
    ]
    plans = plan_compaction(files, cutoff, target_bytes=128 * MIB)
    assert [p.day for p in plans] == [JAN_2, JAN_2 + 1]
    first, second = plans
    assert first.paths == ("file:///w/b1.parquet", "file:///w/b2.parquet")
    assert (first.size_bytes, first.rows) == (5 * MIB, 20)
    # The file above half the target is not small, so it is neither read nor rewritten.
    assert second.paths == ("file:///w/a1.parquet", "file:///w/a2.parquet")
    assert second.rows == 15


def test_a_partition_left_with_one_small_file_is_not_planned_again():
    """After a rewrite: full files and one remainder, so a re-run plans nothing."""
    cutoff = datetime(2026, 2, 1, tzinfo=UTC)
    rewritten = [stat("full1", JAN_2, 120 * MIB), stat("full2", JAN_2, 100 * MIB),
                 stat("rest", JAN_2, 7 * MIB)]
    assert plan_compaction(rewritten, cutoff, 128 * MIB) == []


def test_the_target_size_must_be_positive():
    with pytest.raises(ValueError, match="target_bytes"):
        plan_compaction([], datetime.now(UTC), 0)


def test_rows_per_file_scales_the_encoded_sample_to_the_target():
    assert rows_per_file(sample_rows=20_000, sample_bytes=1_000_000, target_bytes=10_000_000) \
        == 200_000
    assert rows_per_file(sample_rows=10, sample_bytes=10_000, target_bytes=10) == 1
    with pytest.raises(ValueError):
        rows_per_file(0, 0, 10)


def test_input_files_are_read_in_groups_of_about_the_target_size():
    files = [("a", 40), ("b", 40), ("c", 40), ("d", 200), ("e", 10)]
    assert read_groups(files, 100) == [["a", "b"], ["c"], ["d"], ["e"]]
    assert read_groups([], 100) == []


def test_files_per_partition_and_the_layout_summary():
    files = [stat("a", JAN_2, 1), stat("b", JAN_2, 1), stat("c", JAN_2 + 1, 1)]
    counts = files_per_partition(files)
    assert counts == {f"day={JAN_2}": 2, f"day={JAN_2 + 1}": 1}
    assert describe_layout(counts) == {"partitions": 2, "data_files": 3,
                                       "max_files_per_partition": 2,
                                       "mean_files_per_partition": 1.5}
    assert describe_layout({})["data_files"] == 0


def test_storage_keys_drop_the_scheme_as_a_listing_does():
    assert storage_key("file:///w/t/data/a.parquet") == "/w/t/data/a.parquet"
    assert storage_key("/w/t/data/a.parquet") == "/w/t/data/a.parquet"
    assert storage_key("s3://lake/t/data/a.parquet") == "lake/t/data/a.parquet"


def test_orphans_are_unreferenced_files_older_than_the_margin():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    old, young = now - timedelta(days=4), now - timedelta(minutes=5)
    listed = [("/w/t/data/live.parquet", old), ("/w/t/data/failed.parquet", old),
              ("/w/t/data/in-flight.parquet", young), ("/w/t/metadata/v1.metadata.json", old)]
    referenced = {"file:///w/t/data/live.parquet", "file:///w/t/metadata/v1.metadata.json"}
    assert find_orphans(listed, referenced, now - timedelta(days=3)) == [
        "/w/t/data/failed.parquet"]
    # A commit still in progress wrote in-flight.parquet: the margin keeps it.
    assert find_orphans(listed, referenced, now) == ["/w/t/data/failed.parquet",
                                                     "/w/t/data/in-flight.parquet"]


def test_snapshots_older_than_the_cutoff_expire_but_never_a_head():
    snapshots = [(1, 1_000), (2, 2_000), (3, 3_000), (4, 4_000)]
    assert snapshots_to_expire(snapshots, protected={3}, older_than_ms=3_500) == [1, 2]
    assert snapshots_to_expire(snapshots, protected={4}, older_than_ms=10_000) == [1, 2, 3]
    assert snapshots_to_expire(snapshots, protected={4}, older_than_ms=0) == []
