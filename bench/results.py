"""One benchmark figure as `make bench` records it (see bench/__main__.py).

A figure's target is a ``goal``: bounds on its value and on its ratio to the same-run
baseline. ``met`` is always derived from the goal, for one run here and for the medians
over repeated runs in bench/__main__.py, so the verdict and the table can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable

# goal key -> whether (value, ratio) keeps that bound
_CHECKS: dict[str, Callable[[float, float | None, float], bool]] = {
    "min_value": lambda value, ratio, bound: value >= bound,
    "max_value": lambda value, ratio, bound: value <= bound,
    "min_ratio": lambda value, ratio, bound: ratio is not None and ratio >= bound,
    "max_ratio": lambda value, ratio, bound: ratio is not None and ratio <= bound,
}


def judge(goal: dict[str, float] | None, value: float, ratio: float | None) -> bool | None:
    """Whether a figure meets its goal; None for a figure reported without one."""
    if not goal:
        return None
    unknown = set(goal) - set(_CHECKS)
    if unknown:
        raise ValueError(f"unknown goal bounds: {sorted(unknown)}")
    return all(_CHECKS[name](value, ratio, bound) for name, bound in goal.items())


def entry(stage: str, metric: str, value: float, unit: str, baseline: float | None,
          target: str, goal: dict[str, float] | None = None, *, digits: int = 2,
          ratio: float | None = None) -> dict:
    """A figure beside its same-run baseline; the ratio is value / baseline unless given."""
    if ratio is None and baseline:
        ratio = value / baseline
    return {"stage": stage, "metric": metric, "value": round(value, digits), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 2),
            "ratio": None if ratio is None else round(ratio, 3), "target": target,
            "goal": goal, "met": judge(goal, value, ratio)}
