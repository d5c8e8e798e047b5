"""One benchmark figure as `make bench` records it (see bench/__main__.py)."""

from __future__ import annotations


def entry(stage: str, metric: str, value: float, unit: str, baseline: float | None,
          target: str, met: bool | None, *, digits: int = 2) -> dict:
    """A figure beside its same-run baseline; the ratio is value / baseline."""
    ratio = value / baseline if baseline else None
    return {"stage": stage, "metric": metric, "value": round(value, digits), "unit": unit,
            "baseline": None if baseline is None else round(baseline, 2),
            "ratio": None if ratio is None else round(ratio, 3), "target": target, "met": met}
