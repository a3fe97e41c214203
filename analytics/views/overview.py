"""Overview page: headline tiles with change on last month and last year, small trends, what changed.

Everything comes from the marts (one row per month for the chosen geography): ``monthly_headline``
joins them into one frame, ``tiles`` picks the chosen month with the month before and the same
month a year before, ``trend_charts`` draws people waiting and planned hours over the 36 months,
and ``change_sentences`` turns the largest moves into plain-English sentences by rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from analytics.formatting import fmt_gbp, fmt_int, fmt_month, fmt_month_range, fmt_number, fmt_pct
from analytics.indicators.marts import read_mart
from analytics.publish.charts import line_chart
from analytics.publish.headlines import first_month, no_comparison, trend_headline
from analytics.views.common import (
    DropInfo,
    Formatter,
    Panel,
    Tile,
    change_sentence,
    drop_info,
    fmt_points,
    geography,
    make_tile,
    months_before,
    service_key,
    service_label,
    spec,
    subtitle,
    value_at,
)
from analytics.views.filters import Filters


@dataclass(frozen=True)
class Measure:
    """One headline measure: column of ``monthly_headline``, tile label, format and direction."""

    column: str
    label: str
    indicator_id: str | None
    fmt: Formatter = fmt_int
    higher_is_worse: bool | None = None
    percent_change: bool = True
    delta_fmt: Formatter | None = None
    sentence: str | None = None  # how a change sentence names it; None: no sentence
    all_service_types: bool = False  # its data has no service type: the label says so when one is chosen


def _hours(value: float | None) -> str:
    return fmt_number(value, 0)


def _one_dp(value: float | None) -> str:
    return fmt_number(value, 1)


MEASURES: tuple[Measure, ...] = (
    Measure("people_in_service", "People receiving care", "people_in_service", sentence="People receiving care"),
    Measure(
        "planned_hours_per_week",
        "Planned hours a week",
        "planned_hours_per_week",
        _hours,
        sentence="Planned hours a week",
    ),
    Measure("people_waiting", "People waiting", "people_waiting", higher_is_worse=True, sentence="People waiting"),
    Measure(
        "hours_waiting",
        "Hours a week waiting",
        "hours_waiting",
        _hours,
        higher_is_worse=True,
        sentence="Hours a week waiting to be sourced",
    ),
    Measure(
        "median_wait_days",
        "Median days waited",
        "median_wait_days",
        _one_dp,
        higher_is_worse=True,
        sentence="Median days waited so far",
    ),
    Measure("providers_active", "Active providers", "providers_active", sentence="Active providers"),
    Measure("hhi", "Market concentration (HHI)", "hhi", fmt_int, higher_is_worse=True),
    Measure(
        "cr1_pct",
        "Largest provider's share",
        "cr1_pct",
        fmt_pct,
        higher_is_worse=True,
        percent_change=False,
        delta_fmt=fmt_points,
    ),
    Measure(
        "areas_under_min_providers",
        "Areas with demand and under 2 providers",
        "areas_with_demand_under_min_providers",
        higher_is_worse=True,
        sentence="Areas with demand but fewer than 2 providers",
    ),
    Measure(
        "handback_hours_3m",
        "Hours handed back, last 3 months",
        "handback_hours_3m",
        _hours,
        higher_is_worse=True,
        sentence="Hours handed back in the last 3 months",
    ),
    Measure(
        "microenterprises_active",
        "Active microenterprises",
        "microenterprises_active",
        higher_is_worse=False,
        sentence="Active microenterprises",
        all_service_types=True,
    ),
    Measure(
        "customers_per_microenterprise",
        "Customers per microenterprise",
        "customers_per_microenterprise",
        _one_dp,
        all_service_types=True,
    ),
    Measure(
        "vacancy_rate_pct",
        "Care worker vacancy rate (whole council)",
        "vacancy_rate_pct",
        fmt_pct,
        higher_is_worse=True,
        percent_change=False,
        delta_fmt=fmt_points,
    ),
    Measure(
        "gap_to_minimum_price",
        "Gap to minimum price, £ an hour",
        "fee_gap_to_minimum_price",
        fmt_gbp,
        higher_is_worse=True,
        percent_change=False,
    ),
)


def _months_frame(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    return frame.select("month", *columns) if not frame.is_empty() else pl.DataFrame(schema={"month": pl.Date})


def monthly_headline(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return one row per month (oldest first) with every ``MEASURES`` column for the filters' area.

    Geography: the locality, else the whole council; service type where the mart has it. The
    workforce vacancy rate is council-wide only (the workforce return has no locality).
    """
    geo = geography(filters)
    service = service_key(filters)
    supply = read_mart(cur, "mart_supply_summary_month", **geo, service_type=service)
    frame = _months_frame(supply, ["people_in_service", "planned_hours_per_week", "providers_active"])
    parts = [
        _months_frame(
            read_mart(cur, "mart_waiting_month", **geo), ["people_waiting", "hours_waiting", "median_wait_days"]
        ),
        _months_frame(read_mart(cur, "mart_concentration_month", **geo, service_type=service), ["hhi", "cr1_pct"]),
        _months_frame(
            read_mart(cur, "mart_coverage_month", **geo, service_type=service), ["areas_under_min_providers"]
        ),
        read_mart(cur, "mart_handbacks_month", **geo, service_type=service)
        .sort("month")
        .select("month", pl.col("hours_handed_back").rolling_sum(3, min_samples=3).alias("handback_hours_3m")),
        _months_frame(
            read_mart(cur, "mart_microenterprise_month", **geo),
            ["microenterprises_active", "customers_per_microenterprise"],
        ),
        _months_frame(read_mart(cur, "mart_workforce_month"), ["vacancy_rate_pct"]),
        _months_frame(read_mart(cur, "mart_price_month", **geo, service_type=service), ["gap_to_minimum_price"]),
    ]
    for part in parts:
        if "month" in part.columns and part.width > 1:
            frame = frame.join(part, on="month", how="full", coalesce=True)
    slices = sliced_filters(filters)
    if slices:  # client group, funding and provider type: only the supply mart has them (hours add up)
        scope = {"locality": filters.locality} if filters.locality else {}
        if filters.service_type:
            scope["service_type"] = filters.service_type
        hours = (
            read_mart(cur, "mart_supply_month", **scope, **slices)
            .group_by("month")
            .agg(pl.col("planned_hours_per_week").sum())
        )
        frame = frame.drop("planned_hours_per_week", strict=False).join(hours, on="month", how="full", coalesce=True)
    for measure in MEASURES:  # a mart missing from the drop leaves its measure blank, not an error
        if measure.column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(measure.column))
    return frame.sort("month")


def sliced_filters(filters: Filters) -> dict[str, str]:
    """Return the client group, funding and provider type filters that are set, as ``read_mart`` arguments."""
    values = {"client_group": filters.client_group, "funding": filters.funding, "provider_type": filters.provider_type}
    return {k: v for k, v in values.items() if v}


def _scope_words(filters: Filters) -> str:
    """Return the service type and any client group, funding or provider type in words."""
    parts = [service_label(filters), *(v.replace("_", " ") for v in sliced_filters(filters).values())]
    return ", ".join(parts)


ALL_TYPES_LABEL = " (all service types)"


def tiles(frame: pl.DataFrame, month: date, filters: Filters | None = None) -> list[Tile]:
    """Return a tile per measure for ``month``: value, change on last month and last year, RAG.

    A change is shown only when both months have a figure; one whose comparison month is before the
    measure's data starts reads "no comparison: data starts <month>" (``make_tile``)."""
    last_month, last_year = months_before(month, 1), months_before(month, 12)
    typed = filters is not None and filters.service_type is not None
    return [
        make_tile(
            m.label + (ALL_TYPES_LABEL if typed and m.all_service_types else ""),
            value_at(frame, m.column, month),
            m.fmt,
            indicator_id=m.indicator_id,
            last_month=value_at(frame, m.column, last_month),
            last_year=value_at(frame, m.column, last_year),
            higher_is_worse=m.higher_is_worse,
            percent_change=m.percent_change,
            delta_fmt=m.delta_fmt,
            data_starts=first_month(frame, m.column),
            month=month,
        )
        for m in MEASURES
    ]


def comparison_labels(frame: pl.DataFrame, month: date) -> tuple[str, str]:
    """Return how the tiles name their comparisons: ``("September 2026", "October 2025")``."""
    return fmt_month(months_before(month, 1)), fmt_month(months_before(month, 12))


def change_sentences(frame: pl.DataFrame, month: date, *, limit: int = 5, threshold_pct: float = 5.0) -> list[str]:
    """Return up to ``limit`` sentences on what changed since the month before, biggest moves first.

    A measure moving less than ``threshold_pct`` percent is left out; when nothing moved that much,
    one sentence says so. Sentences are worded by the one headline writer, e.g. "People waiting: 81,
    down from 105 in September 2026 (-22.9%)." A measure whose data starts this month says so
    instead of comparing with an empty month ("People waiting: 16; no comparison: data starts June 2025.").
    """
    last_month = months_before(month, 1)
    if frame.filter(pl.col("month") <= last_month).is_empty():
        return [f"There is no month before {fmt_month(month)} in the data to compare with."]
    moves: list[tuple[float, str]] = []
    starts: list[str] = []
    for m in MEASURES:
        if m.sentence is None:
            continue
        now, before = value_at(frame, m.column, month), value_at(frame, m.column, last_month)
        if now is None:
            continue
        if before is None:
            first = first_month(frame, m.column)
            if first is not None and first > last_month:
                starts.append(f"{m.sentence}: {m.fmt(now)}; {no_comparison(first)}.")
            continue
        if now == before:
            continue
        size = abs(now - before) / abs(before) * 100 if before else 100.0
        if size < threshold_pct:
            continue
        text = change_sentence(m.sentence, now, before, last_month, m.fmt, threshold_pct=threshold_pct)
        if text:
            moves.append((size, text))
    if not moves and not starts:
        return [f"No headline measure moved by {fmt_number(threshold_pct)}% or more since {fmt_month(last_month)}."]
    return [text for _, text in sorted(moves, key=lambda item: -item[0])[:limit]] + starts


def trend_charts(frame: pl.DataFrame, filters: Filters, info: DropInfo) -> list[Panel]:
    """Return line charts of people waiting and planned hours a week up to the filters' month."""
    shown = frame.filter(pl.col("month") <= filters.month)
    if shown.is_empty():
        return []
    period = fmt_month_range(shown["month"].min(), shown["month"].max())
    out = []
    for column, measure, noun, fmt in (
        ("people_waiting", "People waiting for care to start", "people waiting", fmt_int),
        ("planned_hours_per_week", f"Planned hours a week, {_scope_words(filters)}", "planned hours", _hours),
    ):
        data = shown.select("month", column).drop_nulls(column)
        if data.is_empty():
            continue
        title = _trend_title(data, column, noun, fmt)
        chart = spec(info, f"overview-{column.replace('_', '-')}", title, subtitle(measure, filters, period))
        built = line_chart(data, "month", column, spec=chart, measure=noun, value_format=fmt, from_zero=True)
        out.append(Panel(built, (column,)))
    return out


def _trend_title(data: pl.DataFrame, column: str, noun: str, fmt: Formatter) -> str:
    """Return the headline of the series drawn, by the one headline writer (``analytics.publish.headlines``):
    "People waiting: 81, down from a peak of 133 in Aug 2026, up from 58 in Dec 2023"."""
    return trend_headline(data, column, noun, fmt)


@dataclass(frozen=True)
class OverviewView:
    """Everything the Overview page shows."""

    tiles: list[Tile]
    month_label: str
    year_label: str
    sentences: list[str]
    charts: list[Panel]
    notes: list[str]


def overview(cur: duckdb.DuckDBPyConnection, filters: Filters) -> OverviewView:
    """Return the Overview page for ``filters``: tiles, change sentences, trend charts and notes."""
    frame = monthly_headline(cur, filters)
    info = drop_info(cur)
    month_label, year_label = comparison_labels(frame, filters.month)
    notes = [
        "Waiting figures, microenterprise figures and the vacancy rate cover all service types "
        "(requests carry no service type; the workforce return is council-wide).",
    ]
    slices = list(sliced_filters(filters))
    if slices:
        names = [k.replace("_", " ") for k in slices]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "filter applies" if len(names) == 1 else "filters apply"
        notes.append(
            f"The {listed} {verb} to planned hours a week only (tile and trend); the other figures "
            "ignore them: their data is not split that way."
        )
    return OverviewView(
        tiles=tiles(frame, filters.month, filters),
        month_label=month_label,
        year_label=year_label,
        sentences=change_sentences(frame, filters.month),
        charts=trend_charts(frame, filters, info),
        notes=notes,
    )
