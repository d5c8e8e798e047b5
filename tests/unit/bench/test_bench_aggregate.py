from bench.__main__ import aggregate, to_markdown


def entry(value, baseline, met):
    return {"stage": "s", "metric": "m", "value": value, "unit": "x/s", "baseline": baseline,
            "ratio": value / baseline, "target": "t", "met": met}


def test_medians_with_min_max_and_per_run_ratios():
    runs = [[entry(10, 20, False)], [entry(30, 40, True)], [entry(20, 25, True)]]
    [merged] = aggregate(runs)
    assert (merged["value"], merged["min"], merged["max"], merged["runs"]) == (20, 10, 30, 3)
    assert merged["baseline"] == 25
    assert merged["ratio"] == 0.75  # median of 0.5, 0.75, 0.8
    assert merged["met"] is True
    assert "(10.0–30.0)" in to_markdown([merged])


def test_a_single_run_is_reported_as_is():
    [merged] = aggregate([[entry(5, 10, None)]])
    assert merged["value"] == 5 and merged["met"] is None
    assert "–" not in to_markdown([merged]).splitlines()[-1]
