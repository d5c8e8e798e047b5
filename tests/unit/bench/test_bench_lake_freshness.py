"""The lake freshness bench's arithmetic: which load makes a row readable, and percentiles."""

import pytest

from bench.__main__ import STAGES
from bench.lake_freshness import Commit, Load, freshness, percentile


def test_a_row_is_readable_from_the_first_load_whose_watermark_is_above_its_xid():
    commits = [Commit(xid=10, at=100.0, rows=2), Commit(xid=20, at=115.0, rows=1)]
    # The first load's snapshot was taken before xid 20 finished: its watermark is 15.
    loads = [Load(tick=90.0, readable=91.0, watermark=5),
             Load(tick=120.0, readable=121.5, watermark=15),
             Load(tick=150.0, readable=151.0, watermark=21)]
    waits, floors = freshness(commits, loads)
    assert waits == [21.5, 21.5, 36.0]
    # The floor is the wait for the tick that loaded the row, as if loads took no time.
    assert floors == [20.0, 20.0, 35.0]


def test_a_row_committed_after_its_ticks_start_has_a_floor_of_zero():
    waits, floors = freshness([Commit(10, 120.2, 1)], [Load(120.0, 121.0, 11)])
    assert (waits, floors) == ([pytest.approx(0.8)], [0.0])


def test_a_row_no_load_took_is_an_error_not_a_figure():
    with pytest.raises(RuntimeError, match="never became readable"):
        freshness([Commit(10, 1.0, 1)], [Load(2.0, 3.0, 10)])


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.95) == 7.0


def test_make_bench_runs_the_freshness_stage():
    assert "lake_freshness" in STAGES
