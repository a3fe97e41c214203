"""The one rule-based headline writer: titles, tile words and sentences that agree with the series shown.

Every trend title, the Overview's change sentences and the tiles' change words come from here, so
a headline never says "fell" while its chart rises. The writer looks only at the points it is given
(the months drawn, oldest first; months outside a source's coverage are not in them):

* the **latest** value, which leads: "People waiting: 81";
* a **turning point** when the recent movement runs against the period's: the peak (or low) and its
  month, if the latest value is materially below (above) it and it is materially above (below)
  the first point: "down from a peak of 133 in Aug 2026";
* the **direction over the period drawn**, first point to latest: "up from 58 in Dec 2023", "down
  from ...", or "about the same as in Dec 2023 (80)" when the move is under ``steady_pct`` per cent
  or both values print the same.

So the demo's people waiting reads "People waiting: 81, down from a peak of 133 in Aug 2026, up from
58 in Dec 2023". A single point reads "People waiting: 81 in Oct 2026"; no point, "No figures to
show for people waiting". Months are short (``Aug 2026``) so a title fits the chart's width.

``change_words`` gives the same words for one comparison (a tile's change on last month or year, a
sentence "since September 2026"); ``no_comparison`` says why a change is missing: "no comparison:
data starts December 2023". ``tests/headline_audit.py`` checks every chart's title against its data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from analytics.formatting import fmt_int, fmt_month
from analytics.publish.chart_style import sorted_points

Formatter = Callable[[float | None], str]
Direction = Literal["up", "down", "same"]
STEADY_PCT = 2.0


def short_month(d: date) -> str:
    """Return ``"Aug 2026"`` for a date in August 2026."""
    return d.strftime("%b %Y")


@dataclass(frozen=True)
class Trend:
    """What a headline needs from a series: first, latest, highest and lowest points with their months."""

    first: float
    first_month: date
    latest: float
    latest_month: date
    peak: float
    peak_month: date
    low: float
    low_month: date
    points: int


def trend_of(frame: pl.DataFrame, column: str, x: str = "month") -> Trend | None:
    """Return the ``Trend`` of ``column`` over ``x`` (nulls skipped), or ``None`` with no point.

    The peak and low are the latest month holding the highest / lowest value.
    """
    if column not in frame.columns or x not in frame.columns:
        return None
    points = sorted_points(frame, x, column)
    if not points:
        return None
    xs, ys = [p[0] for p in points], [float(p[1]) for p in points]
    hi, lo = max(ys), min(ys)
    peak_i = max(i for i, v in enumerate(ys) if v == hi)
    low_i = max(i for i, v in enumerate(ys) if v == lo)
    return Trend(ys[0], xs[0], ys[-1], xs[-1], hi, xs[peak_i], lo, xs[low_i], len(ys))


def direction(before: float, now: float, fmt: Formatter = fmt_int, *, steady_pct: float = STEADY_PCT) -> Direction:
    """Return how a figure moved from ``before`` to ``now``: ``"up"``, ``"down"`` or ``"same"``.

    ``"same"`` when both print alike with ``fmt`` or the move is under ``steady_pct`` per cent of
    ``before`` (any move from 0 counts).
    """
    if fmt(before) == fmt(now) or before == now:
        return "same"
    if before != 0 and abs(now - before) / abs(before) * 100 < steady_pct:
        return "same"
    return "up" if now > before else "down"


def _name(name: str) -> str:
    return name[:1].upper() + name[1:]


def trend_headline(
    frame: pl.DataFrame,
    column: str,
    name: str,
    fmt: Formatter = fmt_int,
    *,
    x: str = "month",
    steady_pct: float = STEADY_PCT,
) -> str:
    """Return the headline of ``column`` over the months of ``frame`` (see the module docstring).

    ``name`` is the measure ("People waiting"); ``fmt`` formats values as the chart does.
    """
    trend = trend_of(frame, column, x)
    if trend is None:
        return f"No figures to show for {name[:1].lower() + name[1:]}"
    head = f"{_name(name)}: {fmt(trend.latest)}"
    if trend.points == 1:
        return f"{head} in {short_month(trend.latest_month)}"
    clauses = [head]
    turn = turning_point(trend, fmt, steady_pct=steady_pct)
    if turn:
        clauses.append(turn)
    overall = direction(trend.first, trend.latest, fmt, steady_pct=steady_pct)
    when = short_month(trend.first_month)
    if overall == "same":
        clauses.append(f"about the same as in {when} ({fmt(trend.first)})")
    elif turn and turn.startswith(overall):  # "down from a peak of 8,475 in May 2025 and from 7,611 in Feb 2024"
        clauses[-1] = f"{turn} and from {fmt(trend.first)} in {when}"
    else:
        clauses.append(f"{overall} from {fmt(trend.first)} in {when}")
    return ", ".join(clauses)


def turning_point(trend: Trend, fmt: Formatter = fmt_int, *, steady_pct: float = STEADY_PCT) -> str | None:
    """Return "down from a peak of 133 in Aug 2026" (or "up from a low of ...") when the series turned.

    A peak counts when it is after the first point, before the latest, and materially above both;
    a low likewise below both. With both, the more recent one is named.
    """
    options = []
    if trend.first_month < trend.peak_month < trend.latest_month and (
        direction(trend.peak, trend.latest, fmt, steady_pct=steady_pct) == "down"
        and direction(trend.first, trend.peak, fmt, steady_pct=steady_pct) == "up"
    ):
        options.append((trend.peak_month, f"down from a peak of {fmt(trend.peak)} in {short_month(trend.peak_month)}"))
    if trend.first_month < trend.low_month < trend.latest_month and (
        direction(trend.low, trend.latest, fmt, steady_pct=steady_pct) == "up"
        and direction(trend.first, trend.low, fmt, steady_pct=steady_pct) == "down"
    ):
        options.append((trend.low_month, f"up from a low of {fmt(trend.low)} in {short_month(trend.low_month)}"))
    return max(options)[1] if options else None


def change_words(now: float | None, before: float | None, fmt: Formatter = fmt_int, *, when: str) -> str | None:
    """Return "up from 64 in September 2026" / "down from ..." / "the same as in ..."; ``None`` if a value is missing.

    No steady band: one comparison names any change that prints.
    """
    if now is None or before is None:
        return None
    move = direction(before, now, fmt, steady_pct=0)
    if move == "same":
        return f"the same as in {when} ({fmt(before)})"
    return f"{move} from {fmt(before)} in {when}"


def no_comparison(starts: date | None) -> str:
    """Return why a change cannot be shown: "no comparison: data starts December 2023"."""
    return "no comparison: no earlier data" if starts is None else f"no comparison: data starts {fmt_month(starts)}"


def first_month(frame: pl.DataFrame, column: str, x: str = "month") -> date | None:
    """Return the first month of ``frame`` with a value in ``column`` (the series' coverage start)."""
    if column not in frame.columns or x not in frame.columns:
        return None
    # In Python: a Polars filter is a query of about 0.15 ms, and every headline tile asks this.
    known = [
        m
        for m, v in zip(frame.get_column(x).to_list(), frame.get_column(column).to_list(), strict=True)
        if v is not None and m is not None
    ]
    return min(known) if known else None


__all__ = [
    "Trend",
    "change_words",
    "direction",
    "first_month",
    "no_comparison",
    "short_month",
    "trend_headline",
    "trend_of",
    "turning_point",
]
