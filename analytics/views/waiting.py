"""Waiting and sourcing page: people and hours waiting, how long they have waited, how fast care is found.

Reads ``mart_waiting_month`` (council, locality; 36 months) and ``mart_waiting_area_month`` (area
detail), plus the staged requests for the distribution of current waits (a few thousand rows).
Requests carry no service type, client group, funding or provider type, so only the locality
filter applies here (the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from analytics.formatting import fmt_hours, fmt_int, fmt_month, fmt_month_range, fmt_number, fmt_pct
from analytics.indicators.common import months_frame, waiting_at_months
from analytics.indicators.marts import read_mart
from analytics.publish.charts import ChartSpec, bar_chart
from analytics.publish.headlines import direction, trend_headline
from analytics.views.common import (
    Tile,
    drop_info,
    fmt_dp,
    geography_trend,
    ignored_note,
    month_lines,
    months_before,
    spec,
    tall,
    trend_tile,
    value_at,
)
from analytics.views.filters import Filters

# Bins of days waited so far: (label, lowest day, highest day or None).
WAIT_BINS = (
    ("0 to 7 days", 0, 7),
    ("8 to 14 days", 8, 14),
    ("15 to 28 days", 15, 28),
    ("29 to 56 days", 29, 56),
    ("57 to 84 days", 57, 84),
    ("85 days or more", 85, None),
)
SOURCED = (
    ("sourced_within_7_days_pct", "Within 7 days"),
    ("sourced_within_14_days_pct", "Within 14 days"),
    ("sourced_within_28_days_pct", "Within 28 days"),
)


def series(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return ``mart_waiting_month`` for the geography, months up to ``filters.month``, oldest first."""
    return geography_trend(cur, "mart_waiting_month", filters)


def _hours(value: float | None) -> str:
    return fmt_hours(value, 0, unit=False)


def _period(frame: pl.DataFrame) -> str:
    return fmt_month_range(frame.item(0, "month"), frame.item(-1, "month")) if frame.height else "no months"


def trend_title(frame: pl.DataFrame, column: str, what: str, fmt, month) -> str:
    """Return the headline of ``column`` over the months drawn (up to ``month``), by the one headline writer:
    "People waiting: 81, down from a peak of 133 in Aug 2026, up from 58 in Dec 2023"."""
    if value_at(frame, column, month) is None:
        return f"There is no figure for {what.lower()} in {fmt_month(month)}"
    return trend_headline(frame.filter(pl.col("month") <= month), column, what, fmt)


def people_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return people waiting on each month's snapshot date (line, from zero)."""
    frame = series(cur, filters) if frame is None else frame
    base = spec(
        drop_info(cur),
        "waiting-people",
        trend_title(frame, "people_waiting", "People waiting", fmt_int, filters.month),
        f"People waiting for care to start, at each month end, {filters.area_label()}, {_period(frame)}",
    )
    return month_lines(
        frame.select("month", "people_waiting"),
        "people_waiting",
        base,
        measure="the number of people waiting",
        scale=(fmt_int, "People"),
    )


def hours_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return planned hours a week of the requests waiting on each month's snapshot date."""
    frame = series(cur, filters) if frame is None else frame
    base = spec(
        drop_info(cur),
        "waiting-hours",
        trend_title(
            frame, "hours_waiting", "Hours a week waiting", lambda v: fmt_hours(v, 0, unit=False), filters.month
        ),
        f"Hours a week of care requested and not yet started, at each month end, {filters.area_label()}, "
        f"{_period(frame)}",
    )
    return month_lines(
        frame.select("month", "hours_waiting"),
        "hours_waiting",
        base,
        measure="hours a week waiting",
        scale=(lambda v: fmt_hours(v, 0), "Hours a week"),
    )


def wait_days_title(median: float | None, p90: float | None) -> str:
    """Return "Half of people waiting have waited over 16 days, one in ten over 83"."""
    if median is None:
        return "Nobody is waiting"
    head = f"Half of those waiting have waited over {fmt_number(median, 0)} days"
    return head if p90 is None else f"{head}, one in ten over {fmt_number(p90, 0)}"


def wait_days_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the median and 90th percentile of days waited so far, each month (two lines)."""
    frame = series(cur, filters) if frame is None else frame
    row = frame.filter(pl.col("month") == filters.month)
    median = row.item(0, "median_wait_days") if row.height else None
    p90 = row.item(0, "p90_wait_days") if row.height else None
    data = frame.select(
        "month", pl.col("median_wait_days").alias("Median"), pl.col("p90_wait_days").alias("90th percentile")
    ).unpivot(index="month", variable_name="statistic", value_name="days")
    base = spec(
        drop_info(cur),
        "waiting-days",
        wait_days_title(median, p90),
        f"Days waited so far by requests waiting at each month end, {filters.area_label()}, {_period(frame)}",
    )
    return month_lines(
        data, "days", base, measure="days waited", by="statistic", scale=(lambda v: fmt_number(v, 0), "Days")
    )


def current_waits(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return requests waiting on ``filters.month`` by days waited so far (``WAIT_BINS``, all bins).

    Columns: ``waited, requests, hours_waiting`` (requests, not people: one person may have two).
    """
    requests = cur.sql("select * from stg_requests").pl()
    if filters.locality:
        codes = cur.sql(
            "select area_code from stg_areas where coalesce(locality, 'Unassigned') = ?", params=[filters.locality]
        ).pl()
        requests = requests.filter(pl.col("area_code").is_in(codes.get_column("area_code").to_list()))
    waiting = waiting_at_months(requests, months_frame(filters.month, 1))
    days = pl.col("days_waited")
    label = pl.lit(WAIT_BINS[-1][0])
    for name, _, high in reversed(WAIT_BINS[:-1]):
        label = pl.when(days <= high).then(pl.lit(name)).otherwise(label)
    counts = (
        waiting.with_columns(label.alias("waited"))
        .group_by("waited")
        .agg(pl.len().cast(pl.Int64).alias("requests"), pl.col("hours_per_week").sum().alias("hours_waiting"))
    )
    bins = pl.DataFrame({"waited": [b[0] for b in WAIT_BINS]})
    return bins.join(counts, on="waited", how="left", maintain_order="left").with_columns(
        pl.col("requests").fill_null(0), pl.col("hours_waiting").fill_null(0.0)
    )


def histogram_title(frame: pl.DataFrame) -> str:
    """Return "12 of 81 requests waiting (15%) have waited more than 28 days"."""
    total = int(frame.get_column("requests").sum())
    if total == 0:
        return "Nobody is waiting"
    long = int(frame.filter(pl.col("waited").is_in([b[0] for b in WAIT_BINS[3:]])).get_column("requests").sum())
    if long == 0:
        return f"None of the {fmt_int(total)} requests waiting has waited more than 28 days"
    return (
        f"{fmt_int(long)} of {fmt_int(total)} requests waiting ({fmt_pct(long * 100 / total, 0)}) "
        "have waited more than 28 days"
    )


def histogram_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the distribution of days waited so far by the requests waiting on ``filters.month``."""
    frame = current_waits(cur, filters) if frame is None else frame
    base = spec(
        drop_info(cur),
        "waiting-distribution",
        histogram_title(frame),
        f"Requests waiting by days waited so far, {filters.area_label()}, {fmt_month(filters.month)}",
    )
    return bar_chart(
        frame,
        "waited",
        "requests",
        spec=base,
        measure="the number of requests waiting",
        value_label="Requests waiting",
        noun="groups",
    )


def sourcing_title(frame: pl.DataFrame, month) -> str:
    """Return "62% of requests found care within 14 days, down from 72% a year before"."""
    now = value_at(frame, "sourced_within_14_days_pct", month)
    if now is None:
        return f"No request was sourced in {fmt_month(month)}"
    before = value_at(frame, "sourced_within_14_days_pct", months_before(month, 12))
    if before is None:
        return f"{fmt_pct(now, 0)} of requests sourced in {fmt_month(month)} found care within 14 days"
    move = direction(before, now, lambda v: fmt_pct(v, 0), steady_pct=0)  # never "65%, down from 65%"
    trend = {"up": "up from", "down": "down from", "same": "the same as"}[move]
    return f"{fmt_pct(now, 0)} of requests found care within 14 days, {trend} {fmt_pct(before, 0)} a year before"


def sourcing_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the % of requests sourced within 7, 14 and 28 days of the request, each month (three lines)."""
    frame = series(cur, filters) if frame is None else frame
    data = frame.select("month", *[pl.col(c).alias(label) for c, label in SOURCED]).unpivot(
        index="month", variable_name="sourced", value_name="pct"
    )
    base = spec(
        drop_info(cur),
        "waiting-sourcing",
        sourcing_title(frame, filters.month),
        f"Requests sourced in the month, % sourced within 7, 14 and 28 days of the request, "
        f"{filters.area_label()}, {_period(frame)}",
    )
    return month_lines(
        data,
        "pct",
        base,
        measure="the share sourced",
        by="sourced",
        scale=(lambda v: fmt_pct(v, 0), "% of requests sourced in the month"),
    )


def by_locality(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return every locality's waiting figures on ``filters.month`` (most hours waiting first)."""
    return (
        read_mart(cur, "mart_waiting_month", geography_level="locality", month=filters.month)
        .select(
            pl.col("geography").alias("locality"),
            "people_waiting",
            "hours_waiting",
            "median_wait_days",
            "p90_wait_days",
            "requests_sourced",
            "sourced_within_28_days_pct",
        )
        .sort(["hours_waiting", "locality"], descending=[True, False])
    )


def locality_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return hours waiting by locality on ``filters.month``; the chosen locality (if any) in focus."""
    frame = by_locality(cur, filters) if frame is None else frame
    if frame.is_empty() or frame.get_column("hours_waiting").sum() == 0:
        title = f"Nobody is waiting in any locality in {fmt_month(filters.month)}"
    else:
        top = frame.row(0, named=True)
        share = top["hours_waiting"] * 100 / frame.get_column("hours_waiting").sum()
        title = f"{top['locality']} has the most hours waiting ({fmt_pct(share, 0)} of the council's)"
    base = spec(
        drop_info(cur),
        "waiting-localities",
        title,
        f"Hours a week waiting, by locality, whole council, {fmt_month(filters.month)}",
    )
    return bar_chart(
        frame,
        "locality",
        "hours_waiting",
        spec=base,
        measure="hours a week waiting",
        orientation="h",
        focus=[filters.locality] if filters.locality else None,
        value_format=lambda v: fmt_hours(v, 0, unit=False),
        value_label="Hours a week waiting",
        noun="localities",
    )


def by_area(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return each area's waiting on ``filters.month`` (areas of the locality, or all; most hours first).

    Columns: ``area_code, area_name, locality, rural_class, people_waiting, hours_waiting,
    requests_sourced``; areas with nobody waiting read 0.
    """
    areas = cur.sql("select area_code, area_name, coalesce(locality, 'Unassigned') as locality from stg_areas").pl()
    if filters.locality:
        areas = areas.filter(pl.col("locality") == filters.locality)
    detail = read_mart(cur, "mart_waiting_area_month", month=filters.month).select(
        "area_code", "rural_class", "people_waiting", "hours_waiting", "requests_sourced"
    )
    return (
        areas.join(detail, on="area_code", how="left")
        .with_columns(
            pl.col("people_waiting").fill_null(0),
            pl.col("hours_waiting").fill_null(0.0),
            pl.col("requests_sourced").fill_null(0),
        )
        .sort(["hours_waiting", "area_name"], descending=[True, False])
        .select(
            "area_code", "area_name", "locality", "rural_class", "people_waiting", "hours_waiting", "requests_sourced"
        )
    )


def area_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return hours waiting by area on ``filters.month`` (horizontal bars, most first)."""
    frame = by_area(cur, filters) if frame is None else frame
    total = frame.get_column("hours_waiting").sum() if frame.height else 0
    if not total:
        title = f"Nobody is waiting in {filters.area_label()} in {fmt_month(filters.month)}"
    else:
        top = frame.row(0, named=True)
        title = f"{top['area_name']} has the most hours waiting: {fmt_hours(top['hours_waiting'], 0)} a week"
    base = spec(
        drop_info(cur),
        "waiting-areas",
        title,
        f"Hours a week waiting, by area, {filters.area_label()}, {fmt_month(filters.month)}",
    )
    chart = bar_chart(
        frame.select("area_name", "locality", "people_waiting", "hours_waiting"),
        "area_name",
        "hours_waiting",
        spec=base,
        measure="hours a week waiting",
        orientation="h",
        value_format=lambda v: fmt_hours(v, 0, unit=False),
        value_label="Hours a week waiting",
    )
    return tall(chart, frame.height)


def tiles(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> list[Tile]:
    """Return the waiting headline tiles on ``filters.month`` with changes on last month and last year."""
    frame = series(cur, filters) if frame is None else frame

    def tile(label, column, fmt, higher_is_worse, indicator_id=None, percent=True):
        return trend_tile(
            frame,
            filters.month,
            label,
            column,
            fmt,
            indicator_id=indicator_id or column,
            higher_is_worse=higher_is_worse,
            percent_change=percent,
        )

    return [
        tile("People waiting", "people_waiting", fmt_int, True),
        tile("Hours a week waiting", "hours_waiting", lambda v: fmt_hours(v, 0, unit=False), True),
        tile("Median days waited", "median_wait_days", fmt_dp(1), True),  # as on the Overview: one figure
        tile("90th percentile days waited", "p90_wait_days", fmt_dp(1), True),
        tile("Requests sourced this month", "requests_sourced", fmt_int, None),
        tile("Sourced within 28 days", "sourced_within_28_days_pct", lambda v: fmt_pct(v, 0), False, percent=False),
    ]


def trend_sentences(frame: pl.DataFrame, month) -> list[str]:
    """Return plain-English sentences on the backlog: rising or falling month on month and year on year."""
    out = []
    for column, what, fmt in (
        ("people_waiting", "People waiting", fmt_int),
        ("hours_waiting", "Hours a week waiting", lambda v: fmt_hours(v, 0, unit=False)),
    ):
        now = value_at(frame, column, month)
        last = value_at(frame, column, months_before(month, 1))
        if now is None or last is None:
            continue
        if now > last:
            move = f"rose from {fmt(last)} to {fmt(now)}"
        elif now < last:
            move = f"fell from {fmt(last)} to {fmt(now)}"
        else:
            move = f"stayed at {fmt(now)}"
        out.append(f"{what} {move} since {fmt_month(months_before(month, 1))}.")
    recent = frame.filter(pl.col("month") <= month).tail(4).get_column("people_waiting").to_list()
    known = len(recent) == 4 and None not in recent  # a month with no requests data has no count
    if known and all(b > a for a, b in zip(recent, recent[1:], strict=False)):
        out.append("The number of people waiting has risen for three months in a row.")
    return out


@dataclass(frozen=True)
class WaitingPage:
    """Everything the Waiting and sourcing page shows for one set of filters."""

    tiles: list[Tile]
    sentences: list[str]
    people_chart: ChartSpec
    hours_chart: ChartSpec
    wait_days_chart: ChartSpec
    histogram_chart: ChartSpec
    sourcing_chart: ChartSpec
    locality_chart: ChartSpec
    area_chart: ChartSpec
    localities: pl.DataFrame
    areas: pl.DataFrame
    notes: list[str]


def page_notes(filters: Filters) -> list[str]:
    """Return the page's notes: the filters waiting figures ignore (only the locality applies to requests)."""
    note = ignored_note(
        filters, what="Waiting figures", covers="every request (requests carry no service type or funding)"
    )
    return [note] if note else []


def waiting_page(cur: duckdb.DuckDBPyConnection, filters: Filters) -> WaitingPage:
    """Return everything the Waiting and sourcing page shows (one call, so the page caches it once).

    Only the month and locality shape the figures: the page caches this on ``filters.only("locality")``
    and shows ``page_notes`` of the full filters.
    """
    frame = series(cur, filters)
    localities = by_locality(cur, filters)
    areas = by_area(cur, filters)
    notes = page_notes(filters)
    return WaitingPage(
        tiles=tiles(cur, filters, frame),
        sentences=trend_sentences(frame, filters.month),
        people_chart=people_chart(cur, filters, frame),
        hours_chart=hours_chart(cur, filters, frame),
        wait_days_chart=wait_days_chart(cur, filters, frame),
        histogram_chart=histogram_chart(cur, filters),
        sourcing_chart=sourcing_chart(cur, filters, frame),
        locality_chart=locality_chart(cur, filters, localities),
        area_chart=area_chart(cur, filters, areas),
        localities=localities,
        areas=areas,
        notes=notes,
    )


__all__ = [
    "WAIT_BINS",
    "WaitingPage",
    "area_chart",
    "by_area",
    "by_locality",
    "current_waits",
    "histogram_chart",
    "hours_chart",
    "locality_chart",
    "page_notes",
    "people_chart",
    "series",
    "sourcing_chart",
    "tiles",
    "trend_title",
    "wait_days_chart",
    "waiting_page",
]
