"""Pieces every page view shares: headline tiles, chart wording and change sentences.

A ``Tile`` is one headline figure ready to show: formatted value, change on last month and last
year (formatted, with the direction that is "worse"), and a RAG status from the catalogue. Page
views build tiles with ``make_tile``; ``ui/render.py`` shows them with ``show_tiles``.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import duckdb
import polars as pl

from analytics.formatting import fmt_int, fmt_month, fmt_number, fmt_pct
from analytics.indicators import catalogue
from analytics.indicators.common import ALL, ALL_SERVICE_TYPES, COUNCIL, month_end
from analytics.indicators.marts import read_mart
from analytics.publish.charts import ChartSpec, bar_chart, line_chart, merge_layout
from analytics.publish.headlines import change_words, first_month, no_comparison
from analytics.store.queries import drop_summary
from analytics.views.filters import Filters

SOURCE = "Council data drop"
Formatter = Callable[[float | None], str]
DeltaColour = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Tile:
    """One headline figure for a metric tile.

    ``text`` is the formatted value and ``unit`` what it counts ("people", "hours a week", "% of
    posts"); ``delta_month``/``delta_year`` the formatted change on the month before and the same
    month a year before: ``"+17 (+26.6%)"``, ``"no change"``, ``"no comparison: data starts December
    2023"`` or ``None`` (nothing to say). ``delta_month_sign``/``delta_year_sign`` are 1, -1 or 0
    (0 for no change and no comparison: no arrow). ``delta_colour`` follows ``st.metric``:
    ``"normal"`` when a rise is good, ``"inverse"`` when a rise is bad, ``"off"`` for neither (from
    the catalogue's ``good_direction``). ``rag`` is ``red``/``amber``/``green`` or ``None``.
    """

    label: str
    value: float | None
    text: str
    indicator_id: str | None = None
    delta_month: str | None = None
    delta_year: str | None = None
    delta_colour: DeltaColour = "off"
    rag: str | None = None
    help: str | None = None
    unit: str = ""
    delta_month_sign: int = 0
    delta_year_sign: int = 0

    @property
    def shown_label(self) -> str:
        """The label with the unit added in brackets unless the label or value already shows it.

        "Hours handed back, last 3 months (hours a week)"; "People waiting" (people) and "23.4%" (%)
        already do. A tile with no unit keeps its label.
        """
        unit = self.unit.strip()
        if not unit or unit_shown(self.label, self.text, unit):
            return self.label
        if self.label.endswith(")"):  # "Rural waiting gap (all service types, percentage points)"
            return f"{self.label[:-1]}, {unit})"
        return f"{self.label} ({unit})"

    def change_colour(self, sign: int) -> str:
        """Return the named colour of a change of ``sign``: green good, red bad, grey for neither or none."""
        if sign == 0 or self.delta_colour == "off":
            return "gray"
        good = sign > 0 if self.delta_colour == "normal" else sign < 0
        return "green" if good else "red"


@dataclass(frozen=True)
class Panel:
    """A chart with the catalogue indicators it shows and an optional note (e.g. a filter it ignores)."""

    spec: ChartSpec
    indicator_ids: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class DropInfo:
    """What a chart footnote needs from the live drop: as-of date and whether it is synthetic."""

    as_of: date
    synthetic: bool


# Each cursor's drop, read once: a page view builds up to nine charts on one cursor and each chart's
# footnote needs the drop's date; a cursor sees one snapshot for its whole life, so the answer holds.
_DROP_INFO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_drop_info_lock = threading.Lock()


def drop_info(cur: duckdb.DuckDBPyConnection) -> DropInfo:
    """Return the live drop's as-of date and synthetic flag (for chart footnotes), read once per cursor."""
    with _drop_info_lock:
        info = _DROP_INFO.get(cur)
    if info is None:
        summary = drop_summary(cur)
        info = DropInfo(as_of=summary.as_of, synthetic=bool(summary.synthetic))
        with _drop_info_lock:
            _DROP_INFO[cur] = info
    return info


def spec(
    info: DropInfo, id: str, title: str, subtitle: str, *, source: str = SOURCE, suppression_note: str | None = None
) -> ChartSpec:
    """Return a ``ChartSpec`` with the house source, the drop's as-of date and synthetic flag."""
    return ChartSpec(
        id=id,
        title=title,
        subtitle=subtitle,
        source=source,
        as_of=info.as_of,
        synthetic=info.synthetic,
        suppression_note=suppression_note,
    )


def subtitle(measure: str, filters: Filters, period: date | str | None = None) -> str:
    """Return a statistical subtitle: ``"People waiting, whole council, October 2026"``."""
    when = filters.month if period is None else period
    text = fmt_month(when) if isinstance(when, date) else when
    return f"{measure}, {filters.area_label()}, {text}"


def _as_float(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN reads as no value


def unit_shown(label: str, text: str, unit: str) -> bool:
    """Whether ``label`` or the formatted value ``text`` already says the ``unit`` (see ``Tile.shown_label``)."""
    lower, words = label.lower(), unit.lower()
    if words.startswith("%"):
        return text.endswith("%") or "%" in lower or "percent" in lower
    if words.startswith("£"):
        return "£" in text or "£" in lower
    first = words.split()[0].rstrip(",")
    return words in lower or first in lower or (first.endswith("s") and first[:-1] in lower)


def _sign(now: float | None, before: float | None, fmt: Formatter) -> int:
    """Return 1, -1 or 0: the direction of a change as it prints (0 when both print alike)."""
    now, before = _as_float(now), _as_float(before)
    if now is None or before is None or fmt(now) == fmt(before):
        return 0
    return 1 if now > before else (-1 if now < before else 0)


def change_text(
    now: float | None, before: float | None, fmt: Formatter = fmt_int, *, percent: bool = True
) -> str | None:
    """Return the change from ``before`` to ``now``: ``"+17 (+26.6%)"``; ``None`` if either is missing.

    A change that prints as zero ("0", "0.0 percentage points", "£0.00") is ``"no change"``.
    ``percent=False`` leaves the relative change off (for rates, where it confuses).
    """
    now, before = _as_float(now), _as_float(before)
    if now is None or before is None:
        return None
    diff = now - before
    digits = fmt(abs(diff))
    if diff == 0 or not re.search(r"[1-9]", digits):
        return "no change"
    text = f"{'+' if diff > 0 else '-'}{digits}"
    if percent and before != 0:
        text += f" ({'+' if diff > 0 else '-'}{fmt_pct(abs(diff) / abs(before) * 100)})"
    return text


def _is_percent(fmt: Formatter, unit: str) -> bool:
    """Whether values are percentages (their changes are then in percentage points)."""
    return fmt is fmt_pct or unit.startswith("%") or fmt(50.0).endswith("%")


def make_tile(
    label: str,
    value: float | None,
    fmt: Formatter = fmt_int,
    *,
    indicator_id: str | None = None,
    last_month: float | None = None,
    last_year: float | None = None,
    higher_is_worse: bool | None = None,
    percent_change: bool = True,
    delta_fmt: Formatter | None = None,
    help: str | None = None,
    unit: str | None = None,
    data_starts: date | None = None,
    month: date | None = None,
) -> Tile:
    """Return a ``Tile`` for ``value`` with its change on last month and last year and its RAG status.

    The change's colour comes from the catalogue entry ``indicator_id`` (``good_direction``), else
    ``higher_is_worse`` (``None``: neutral); so do the RAG status, the unit (unless ``unit`` is given)
    and the help text. A change in a percentage is in percentage points (``fmt_points``) and has no
    relative change; ``delta_fmt`` overrides how a change is formatted. When a comparison value is
    missing and ``data_starts`` (the series' first month) is after the month compared with, the
    change reads "no comparison: data starts December 2023" (``month`` is the tile's month).
    """
    value = _as_float(value)
    item = catalogue.load_catalogue().get(indicator_id or "")
    unit = unit if unit is not None else (item.unit if item else "")
    if delta_fmt is None and _is_percent(fmt, unit):
        delta_fmt = fmt_points  # a change in a percentage is in percentage points, not per cent
        percent_change = False
    rag = None
    if item is not None:
        rag = catalogue.rag_status(item.id, value)
        if help is None:
            help = item.definition
        colour: DeltaColour = {"up": "normal", "down": "inverse", "none": "off"}[item.good_direction]
    else:
        colour = "off" if higher_is_worse is None else ("inverse" if higher_is_worse else "normal")
    change_fmt = delta_fmt or fmt

    def delta(before: float | None, back: int) -> tuple[str | None, int]:
        text = change_text(value, before, change_fmt, percent=percent_change)
        if text is None:
            compared = months_before(month, back) if month is not None else None
            if value is not None and data_starts is not None and (compared is None or compared < data_starts):
                return no_comparison(data_starts), 0
            return None, 0
        return text, _sign(value, before, change_fmt)

    delta_month, month_sign = delta(last_month, 1)
    delta_year, year_sign = delta(last_year, 12)
    return Tile(
        label=label,
        value=value,
        text=fmt(value),
        indicator_id=indicator_id,
        delta_month=delta_month,
        delta_year=delta_year,
        delta_colour=colour,
        rag=rag,
        help=help,
        unit=unit,
        delta_month_sign=month_sign,
        delta_year_sign=year_sign,
    )


def change_sentence(
    measure: str,
    now: float | None,
    before: float | None,
    since: date,
    fmt: Formatter = fmt_int,
    *,
    threshold_pct: float = 5.0,
) -> str | None:
    """Return a plain-English sentence on how ``measure`` moved since ``since``, or ``None``.

    Worded by the one headline writer (``analytics.publish.headlines.change_words``): "People
    waiting: 81, up from 64 in September 2026 (+26.6%)." A move smaller than ``threshold_pct``
    percent reads "about the same as in September 2026 (80)"; missing values give ``None``.
    """
    now, before = _as_float(now), _as_float(before)
    if now is None or before is None:
        return None
    when = fmt_month(since)
    if before != 0 and movement(before, now, steady_pct=threshold_pct)[0] == "steady":
        return f"{measure}: {fmt(now)}, about the same as in {when} ({fmt(before)})."
    words = change_words(now, before, fmt, when=when)
    relative = ""
    if before != 0 and now != before and not words.startswith("the same"):
        pct = (now - before) / abs(before) * 100
        relative = f" ({'+' if pct > 0 else '-'}{fmt_pct(abs(pct))})"
    return f"{measure}: {fmt(now)}, {words}{relative}."


def movement(first: float, last: float, *, steady_pct: float) -> tuple[Literal["rose", "fell", "steady"], float]:
    """Return how a figure moved from ``first`` (not 0) to ``last``, and the change in per cent of ``first``.

    ``"steady"`` when the change is smaller than ``steady_pct`` per cent either way.
    """
    pct = (last - first) / abs(first) * 100
    if abs(pct) < steady_pct:
        return "steady", pct
    return ("rose" if pct > 0 else "fell"), pct


def service_key(filters: Filters) -> str:
    """Return the marts' ``service_type`` value for the filters (``"all"`` when no service filter)."""
    return filters.service_type or ALL_SERVICE_TYPES


def geography(filters: Filters) -> dict[str, str]:
    """Return ``geography_level``/``geography`` keyword arguments for ``read_mart`` (locality or council)."""
    if filters.locality:
        return {"geography_level": "locality", "geography": filters.locality}
    return {"geography_level": COUNCIL, "geography": ALL}


def service_label(filters: Filters) -> str:
    """Return the service type in words for subtitles: ``"home care"`` or ``"all service types"``."""
    return filters.service_type.replace("_", " ") if filters.service_type else "all service types"


def month_offsets(months: list[date], month: date) -> tuple[date | None, date | None]:
    """Return the month before ``month`` and the same month a year before, from ``months`` (sorted).

    ``None`` where the data does not reach back that far (or ``month`` is not in ``months``).
    """
    ordered = sorted(months)
    if month not in ordered:
        return None, None
    i = ordered.index(month)
    return (ordered[i - 1] if i >= 1 else None), (ordered[i - 12] if i >= 12 else None)


def months_before(month: date, n: int) -> date:
    """Return the month end ``n`` calendar months before ``month`` (``month_end`` of that month).

    Unlike ``month_offsets`` it does not look at which months the data holds: a month with no row
    gives ``None`` from ``value_at``.
    """
    index = month.year * 12 + (month.month - 1) - n
    return month_end(date(index // 12, index % 12 + 1, 1))


def value_at(frame: pl.DataFrame, column: str, month: date | None) -> float | None:
    """Return ``frame[column]`` in the row for ``month`` (``None`` for no month, row or value)."""
    if month is None or column not in frame.columns:
        return None
    months = frame.get_column("month")
    if months.dtype == pl.Date and type(month) is date:
        # The first row of that month, looked up in Python: a frame filter costs 0.15 ms, and tiles
        # and sentences look up two dozen values a page.
        try:
            return _as_float(frame.get_column(column)[months.to_list().index(month)])
        except ValueError:
            return None
    row = frame.filter(pl.col("month") == month)
    return None if row.is_empty() else _as_float(row.item(0, column))


def trend_tile(
    frame: pl.DataFrame,
    month: date,
    label: str,
    column: str,
    fmt: Formatter,
    *,
    indicator_id: str | None,
    higher_is_worse: bool | None,
    percent_change: bool = True,
) -> Tile:
    """Return a tile of ``column`` at ``month`` from a monthly series, with its change on the calendar
    month before and the same month a year before (``months_before``; no row there: no change shown)."""
    return make_tile(
        label,
        value_at(frame, column, month),
        fmt,
        indicator_id=indicator_id,
        last_month=value_at(frame, column, months_before(month, 1)),
        last_year=value_at(frame, column, months_before(month, 12)),
        higher_is_worse=higher_is_worse,
        percent_change=percent_change,
        data_starts=first_month(frame, column),
        month=month,
    )


FILTER_WORDS = {
    "locality": "locality",
    "service_type": "service type",
    "client_group": "client group",
    "funding": "funding",
    "provider_type": "provider type",
}
# What figures that ignore every filter but the locality cover instead.
EVERY_BREAKDOWN = "every service type, client group, funding route and provider type"


def ignored_filters(filters: Filters, *, supported: tuple[str, ...], with_values: bool = False) -> list[str]:
    """Return the names (in words) of filters that are set but a view cannot apply.

    ``supported`` names the ``Filters`` fields the view applies, e.g. ``("locality", "service_type")``.
    ``with_values`` adds the chosen value: ``"funding (Self funded)"``.
    """
    return [
        f"{word} ({_value_label(getattr(filters, field))})" if with_values else word
        for field, word in FILTER_WORDS.items()
        if field not in supported and getattr(filters, field) is not None
    ]


def _value_label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def ignored_note(
    filters: Filters,
    *,
    supported: tuple[str, ...] = ("locality",),
    what: str = "These figures",
    covers: str | None = None,
) -> str | None:
    """Return a caption saying which set filters ``what`` ignores, or ``None`` when it uses them all.

    Without ``covers``: "The map and table ignore the funding filter: the data behind them is not
    split that way." With ``covers`` (what the figures include instead) each filter's value is named:
    "Waiting figures ignore the funding (Self funded) filter: they cover every request."
    """
    ignored = ignored_filters(filters, supported=supported, with_values=covers is not None)
    if not ignored:
        return None
    listed = ignored[0] if len(ignored) == 1 else f"{', '.join(ignored[:-1])} and {ignored[-1]}"
    plural = "filter" if len(ignored) == 1 else "filters"
    reason = "the data behind them is not split that way" if covers is None else f"they cover {covers}"
    return f"{what} ignore the {listed} {plural}: {reason}."


def add_ignored_note(notes: list[str], filters: Filters, **kwargs: object) -> list[str]:
    """Append ``ignored_note(filters, **kwargs)`` to ``notes`` when there is one; return ``notes``."""
    note = ignored_note(filters, **kwargs)  # type: ignore[arg-type]
    if note:
        notes.append(note)
    return notes


Scale = tuple[Formatter, str]
"""How a chart shows its values: the formatter and the value axis label (``(fmt_pct, "% of hours")``)."""


def month_lines(
    data: pl.DataFrame, y: str, base: ChartSpec, *, measure: str, by: str | None = None, scale: Scale | None = None
) -> ChartSpec:
    """Return ``y`` by month (one line per ``by`` value, or one line), the value axis from zero."""
    fmt, label = scale or (fmt_int, None)
    return line_chart(
        data, "month", y, spec=base, measure=measure, color=by, value_format=fmt, value_label=label, from_zero=True
    )


def hbars(
    data: pl.DataFrame, x: str, y: str, base: ChartSpec, *, measure: str, noun: str, scale: Scale | None = None
) -> ChartSpec:
    """Return horizontal bars of ``y`` (one per ``x`` category, named ``noun``)."""
    fmt, label = scale or (fmt_int, None)
    return bar_chart(
        data, x, y, spec=base, measure=measure, orientation="h", value_format=fmt, value_label=label, noun=noun
    )


def tall(chart: ChartSpec, rows: int, *, base: int = 200, per_row: int = 28) -> ChartSpec:
    """Return ``chart`` restyled taller for ``rows`` horizontal bars (at least the house 520 px).

    Every category gets its label: the house template caps value axes at 8 ticks, which on a
    horizontal bar chart (categories on the y axis) would leave most bars unnamed.
    """
    if chart.figure is not None:
        merge_layout(chart.figure, yaxis={"tickmode": "linear", "tick0": 0, "dtick": 1, "nticks": 0})
        chart.style(chart.figure, height=max(520, base + per_row * rows))
    return chart


def fmt_points(value: float | None) -> str:
    """Return a change in a percentage as percentage points: ``3.46`` -> ``"3.5 percentage points"``."""
    text = fmt_number(value, 1)
    return text if value is None else f"{text} percentage points"


def fmt_dp(dp: int) -> Formatter:
    """Return a number formatter with ``dp`` decimal places."""
    return lambda v: fmt_number(v, dp)


__all__ = [
    "EVERY_BREAKDOWN",
    "SOURCE",
    "DropInfo",
    "Panel",
    "Scale",
    "Tile",
    "add_ignored_note",
    "change_sentence",
    "change_text",
    "drop_info",
    "fmt_dp",
    "fmt_points",
    "geography",
    "hbars",
    "ignored_filters",
    "ignored_note",
    "month_offsets",
    "month_lines",
    "movement",
    "months_before",
    "service_key",
    "service_label",
    "value_at",
    "make_tile",
    "spec",
    "subtitle",
    "tall",
    "trend_tile",
    "unit_shown",
]


def geography_trend(cur: duckdb.DuckDBPyConnection, mart: str, filters: Filters, **columns: object) -> pl.DataFrame:
    """Return a ``geography_level``/``geography`` mart for the filters' locality (else the council),
    months up to ``filters.month``, oldest first; ``columns`` filter further (e.g. ``service_type``)."""
    rows = read_mart(cur, mart, **geography(filters), **columns)
    return rows.filter(pl.col("month") <= filters.month).sort("month")
