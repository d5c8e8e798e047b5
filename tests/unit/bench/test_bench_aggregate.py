import pytest

from bench.__main__ import aggregate, to_markdown
from bench.results import entry, judge


def figure(value, baseline, goal):
    return entry("s", "m", value, "x/s", baseline, "t", goal)


def test_medians_with_min_max_and_per_run_ratios():
    goal = {"min_ratio": 0.7}
    runs = [[figure(10, 20, goal)], [figure(30, 40, goal)], [figure(20, 25, goal)]]
    [merged] = aggregate(runs)
    assert (merged["value"], merged["min"], merged["max"], merged["runs"]) == (20, 10, 30, 3)
    assert merged["baseline"] == 25
    assert merged["ratio"] == 0.75  # median of 0.5, 0.75, 0.8
    assert merged["met"] is True
    assert "(10.0–30.0)" in to_markdown([merged])


def test_the_verdict_comes_from_the_medians_not_a_vote():
    # Two runs of three meet the goal, but the median value (9) does not: a majority vote
    # would say "met" while the table shows 9 against a goal of 10.
    goal = {"min_value": 10}
    runs = [[figure(v, None, goal)] for v in (11, 9, 1)]
    runs[0][0]["met"] = runs[1][0]["met"] = True  # what a vote would have counted
    [merged] = aggregate(runs)
    assert merged["value"] == 9 and merged["met"] is False


def test_a_single_run_is_reported_as_is():
    [merged] = aggregate([[figure(5, 10, None)]])
    assert merged["value"] == 5 and merged["met"] is None
    assert "–" not in to_markdown([merged]).splitlines()[-1]


@pytest.mark.parametrize(("goal", "value", "ratio", "met"), [
    ({"min_value": 5, "min_ratio": 0.5}, 5, 0.5, True),
    ({"min_value": 5, "min_ratio": 0.5}, 5, 0.4, False),
    ({"max_value": 2.0}, 2.1, None, False),
    ({"min_ratio": 0.1}, 1, None, False),
    ({"max_ratio": 1.0}, 1, 0.9, True),
    (None, 1, None, None),
])
def test_judge(goal, value, ratio, met):
    assert judge(goal, value, ratio) is met


def test_an_unknown_bound_is_refused():
    with pytest.raises(ValueError, match="unknown goal"):
        judge({"at_least": 1}, 1, None)
