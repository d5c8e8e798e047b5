"""Small charts of the gold marts: pure functions from a mart's rows to PNG bytes.

The assets attach them to their materializations (Dagster's asset page shows them) and
`make demo` writes them to files. matplotlib's object API with its Agg canvas is used, never
pyplot: no global figure state and no display, so it is safe in a Dagster run or a thread.
The PNG is reduced to a small palette, as it is stored with every materialization.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import date

import pyarrow as pa
from matplotlib.figure import Figure
from PIL import Image

# Days a chart shows, counted back from the mart's latest day.
CHART_DAYS = 30
_TOP_CURRENCIES = 6
_RISK_COLORS = {"low": "#4c9a2a", "medium": "#e0a526", "high": "#c8372d", "unscored": "#9e9e9e"}
_PALETTE = ("#3b6ea5", "#e07b39", "#4c9a2a", "#8e5ea2", "#c8372d", "#2ca5a5", "#9e9e9e")


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=(7.0, 3.0), dpi=80, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    raw = io.BytesIO()
    figure.savefig(raw, format="png")
    small = io.BytesIO()
    Image.open(raw).convert("RGB").quantize(colors=64).save(small, format="PNG", optimize=True)
    return small.getvalue()


def _day_axis(axes, days: list[date]) -> None:
    step = max(1, len(days) // 8)
    axes.set_xticks(range(0, len(days), step),
                    [d.strftime("%m-%d") for d in days[::step]])
    axes.set_xlim(-0.6, len(days) - 0.4)


def _empty(figure: Figure, axes) -> bytes:
    axes.text(0.5, 0.5, "no rows yet", ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()
    return _png(figure)


def _sums(rows: pa.Table, keys: list[str], value: str) -> dict[tuple, float]:
    summed = rows.group_by(keys).aggregate([(value, "sum")])
    return {tuple(r[k] for k in keys): r[f"{value}_sum"] for r in summed.to_pylist()}


def _stacked_bars(axes, days: list[date], series: dict[str, dict[date, float]],
                  colors: dict[str, str]) -> None:
    bottom = [0.0] * len(days)
    for name, by_day in series.items():
        heights = [by_day.get(d, 0) for d in days]
        axes.bar(range(len(days)), heights, bottom=bottom, label=name, color=colors[name],
                 width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.legend(fontsize=7, ncols=min(len(series), 7), loc="upper left", frameon=False)
    axes.margins(y=0.25)


def chart_daily_payments(rows: pa.Table) -> bytes:
    """Events per day, stacked by currency (the largest few; the rest as 'other')."""
    figure, axes = _figure("gold.daily_payments: events per day by currency")
    if rows.num_rows == 0:
        return _empty(figure, axes)
    sums = _sums(rows, ["event_date", "currency"], "event_count")
    totals: dict[str, float] = {}
    for (_, currency), count in sums.items():
        totals[currency] = totals.get(currency, 0) + count
    top = sorted(totals, key=lambda c: (-totals[c], c))[:_TOP_CURRENCIES]
    series: dict[str, dict[date, float]] = {c: {} for c in top}
    for (day, currency), count in sums.items():
        name = currency if currency in top else "other"
        by_day = series.setdefault(name, {})
        by_day[day] = by_day.get(day, 0) + count
    days = sorted({day for day, _ in sums})
    colors = dict(zip(series, _PALETTE, strict=False))
    _stacked_bars(axes, days, series, colors)
    _day_axis(axes, days)
    axes.set_ylabel("events", fontsize=8)
    return _png(figure)


def chart_failure_rates(rows: pa.Table) -> bytes:
    """Each provider's share of failed attempts per day, all failure codes together."""
    figure, axes = _figure("gold.failure_rates: failed share of attempts per day")
    if rows.num_rows == 0:
        return _empty(figure, axes)
    failures = _sums(rows, ["event_date", "provider"], "failures")
    # attempts repeats on each failure code's row of a (day, provider): take it once.
    attempts = {(r["event_date"], r["provider"]): r["attempts"] for r in
                rows.select(["event_date", "provider", "attempts"]).to_pylist()}
    days = sorted({day for day, _ in failures})
    for color, provider in zip(_PALETTE, sorted({p for _, p in failures}), strict=False):
        shares = [100 * failures[(d, provider)] / attempts[(d, provider)]
                  if (d, provider) in failures else 0.0 for d in days]
        axes.plot(range(len(days)), shares, marker="o", markersize=3, label=provider,
                  color=color)
    _day_axis(axes, days)
    axes.set_ylim(bottom=0)
    axes.margins(y=0.25)
    axes.set_ylabel("% of attempts", fontsize=8)
    axes.legend(fontsize=7, loc="upper left", frameon=False, ncols=4)
    return _png(figure)


def chart_fraud_risk_distribution(rows: pa.Table) -> bytes:
    """Each day's events spread over the fraud risk levels, as shares stacked to 100%."""
    figure, axes = _figure("gold.fraud_risk_distribution: share of events per risk level")
    if rows.num_rows == 0:
        return _empty(figure, axes)
    shares = _sums(rows, ["event_date", "fraud_risk_level"], "share")
    levels = sorted({level for _, level in shares},
                    key=lambda lv: (list(_RISK_COLORS).index(lv) if lv in _RISK_COLORS else 99,
                                    lv))
    series = {lv: {d: 100 * s for (d, level), s in shares.items() if level == lv}
              for lv in levels}
    colors = {lv: _RISK_COLORS.get(lv, _PALETTE[i % len(_PALETTE)])
              for i, lv in enumerate(levels)}
    days = sorted({day for day, _ in shares})
    _stacked_bars(axes, days, series, colors)
    _day_axis(axes, days)
    axes.set_yticks([0, 25, 50, 75, 100])
    axes.set_ylabel("% of events", fontsize=8)
    return _png(figure)


ChartRenderer = Callable[[pa.Table], bytes]
# The materialization metadata key the chart is attached under (infra.asset_screenshots opens it).
CHART_METADATA_KEY = "chart"


def markdown_image(png: bytes, title: str) -> str:
    """Markdown that shows the PNG inline: Dagster's UI allows data: image sources."""
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
