"""Quality and market dynamics page: rating mix, rating changes, unrated or stale ratings, entries and
exits, delivery against commissioned hours, and the provider early-warning list.

Reads marts the indicators already build: ``mart_quality_mix`` and ``mart_quality_provider``
(``analytics.indicators.quality``), ``mart_provider_churn_month`` (``churn``), ``mart_delivery_month``
and ``mart_delivery_provider_month`` (``delivery``), and ``mart_early_warning_month``
(``early_warning``). Titles and sentences state only what the figures shown hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from analytics.formatting import fmt_int, fmt_month, fmt_month_range, fmt_pct
from analytics.indicators.marts import read_mart
from analytics.publish.charts import ChartSpec, bar_chart, line_chart, merge_layout, stacked_bar
from analytics.views.common import (
    DropInfo,
    Panel,
    add_ignored_note,
    drop_info,
    geography_trend,
    service_key,
    spec,
    subtitle,
)
from analytics.views.filters import Filters

LARGEST = 10
RATING_GROUPS = {
    "Outstanding": "Good or Outstanding",
    "Good": "Good or Outstanding",
    "Requires improvement": "Requires improvement",
    "Inadequate": "Inadequate",
    "Not rated": "Not rated",
}


def _trend_spec(
    info: DropInfo, chart_id: str, title: str, about: tuple[str, Filters, pl.DataFrame], **kwargs
) -> ChartSpec:
    """Return the spec of a chart over months: ``about`` is (measure, filters, the rows whose months it spans)."""
    measure, filters, rows = about
    return spec(info, chart_id, title, subtitle(measure, filters, _period(rows, filters)), **kwargs)


def _period(frame: pl.DataFrame, filters: Filters) -> str:
    if frame.is_empty():
        return fmt_month(filters.month)
    return fmt_month_range(frame["month"].min(), frame["month"].max())


def quality_mix(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return ``mart_quality_mix`` for the filters' area and service type, months up to the filters' month."""
    return geography_trend(cur, "mart_quality_mix", filters, service_type=service_key(filters))


def rating_mix_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, mix: pl.DataFrame | None = None) -> ChartSpec:
    """Return the hours-weighted CQC rating mix by month (% of hours, stacked; ratings as of today).

    ``mix``: ``quality_mix`` already read.
    """
    info = drop_info(cur)
    rows = quality_mix(cur, filters) if mix is None else mix
    data = (
        rows.with_columns(pl.col("rating").replace_strict(RATING_GROUPS, default="Not rated").alias("rating_group"))
        .group_by("month", "rating_group")
        .agg(pl.col("hours_pct").sum())
        .with_columns(
            pl.col("rating_group")
            .replace_strict({g: i for i, g in enumerate(dict.fromkeys(RATING_GROUPS.values()))}, return_dtype=pl.Int64)
            .alias("__order")
        )
        .sort("__order", "month")
        .select("month", pl.col("rating_group").alias("rating"), pl.col("hours_pct").round(1))
    )
    latest = data.filter(pl.col("month") == data["month"].max()) if data.height else data
    good = latest.filter(pl.col("rating") == "Good or Outstanding").get_column("hours_pct")
    title = (
        f"{fmt_pct(good[0], 0)} of hours are with providers now rated Good or Outstanding"
        if good.len() and good[0] is not None
        else "No hours in care in this period"
    )
    first = data.filter((pl.col("month") == data["month"].min()) & (pl.col("rating") == "Good or Outstanding"))
    alt = title
    if first.height and good.len() and good[0] is not None:
        now = f"{fmt_pct(good[0], 0)} in {fmt_month(data['month'].max())}"
        if first.item(0, "month") != data["month"].max():  # never "57% in October 2026 and 57% in October 2026"
            now = f"{fmt_pct(first.item(0, 'hours_pct'), 0)} in {fmt_month(first.item(0, 'month'))} and {now}"
        alt = (
            f"Share of hours with providers now rated Good or Outstanding: {now}; "
            "the rest are Requires improvement, Inadequate or not rated."
        )
    chart = stacked_bar(
        data,
        "month",
        "hours_pct",
        "rating",
        spec=_trend_spec(
            info,
            "quality-rating-mix",
            title,
            ("Share of planned hours by the provider's latest CQC rating", filters, data),
            source="Council data drop; CQC, care directory",
        ),
        measure="% of hours",
        value_format=lambda v: fmt_pct(v, 0),
        value_label="% of hours",
        noun="months",
    )
    return replace(chart, alt_text=alt)


def largest_providers(cur: duckdb.DuckDBPyConnection, ratings: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return the ``LARGEST`` providers by hours today with their rating, its date and whether it is recent.

    ``ratings``: ``mart_quality_provider`` already read.
    """
    info = drop_info(cur)
    rows = read_mart(cur, "mart_quality_provider") if ratings is None else ratings
    rows = rows.filter(pl.col("hours") > 0).head(LARGEST)
    recent_from = date(info.as_of.year - 1, info.as_of.month, min(info.as_of.day, 28))
    return rows.with_columns(
        (pl.col("cqc_rating_date").is_not_null() & (pl.col("cqc_rating_date") > pl.lit(recent_from))).alias(
            "rated_last_12m"
        )
    )


def rating_changes_chart(
    cur: duckdb.DuckDBPyConnection, filters: Filters, largest: pl.DataFrame | None = None
) -> ChartSpec:
    """Return the largest providers' hours, coloured by rating, with those rated in the last 12 months named.

    ``largest``: ``largest_providers`` already read.
    """
    info = drop_info(cur)
    rows = largest_providers(cur) if largest is None else largest
    recent = rows.filter(pl.col("rated_last_12m"))
    poor_recent = recent.filter(pl.col("rating").is_in(["Requires improvement", "Inadequate"]))
    if rows.is_empty():
        title = "No provider has hours in care"
    elif poor_recent.height:
        first = poor_recent.row(0, named=True)
        title = f"{first['provider_name']} was rated {first['rating']} in {fmt_month(first['cqc_rating_date'])}" + (
            f", one of {fmt_int(recent.height)} large providers rated in the last year" if recent.height > 1 else ""
        )
    else:
        title = f"{fmt_int(recent.height)} of the {fmt_int(rows.height)} largest providers were rated in the last year"
    data = rows.select(
        pl.col("provider_name").alias("provider"),
        pl.col("hours").round(1),
        pl.col("rating"),
        # the title's "one of N large providers rated in the last year" is this group's count
        pl.when(pl.col("rated_last_12m")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("rated in the last year"),
    ).sort("hours", descending=True)
    chart = bar_chart(
        data,
        "provider",
        "hours",
        spec=spec(
            info,
            "quality-largest-ratings",
            title,
            f"Planned hours a week of the {LARGEST} largest providers by latest CQC rating, whole council, "
            f"{fmt_month(info.as_of)}",
            source="Council data drop; CQC, care directory",
        ),
        measure="hours a week",
        orientation="h",
        color="rating",
        value_label="hours a week",
        noun="providers",
    )
    # One bar per provider: overlay the rating groups in one slot, largest provider on top.
    chart.figure.update_traces(offsetgroup="", selector={"type": "bar"})
    merge_layout(
        chart.figure,
        barmode="overlay",
        yaxis={"categoryorder": "array", "categoryarray": data.get_column("provider").to_list()[::-1]},
    )
    return chart


def rating_changes_table(cur: duckdb.DuckDBPyConnection, largest: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return the largest providers' ratings for people: rating, published, age, rated in the last 12 months."""
    return (largest_providers(cur) if largest is None else largest).select(
        pl.col("provider_name").alias("Provider"),
        pl.col("hours").round(1).alias("Hours a week"),
        pl.col("rating").alias("Latest rating"),
        pl.col("cqc_rating_date").alias("Published"),
        pl.col("rating_age_years").round(1).alias("Age (years)"),
        pl.when(pl.col("rated_last_12m")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("Rated in last 12 months"),
    )


def stale_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, mix: pl.DataFrame | None = None) -> ChartSpec:
    """Return the share of hours with unrated, out-of-date or undated ratings, by month (``mix``: ``quality_mix``)."""
    info = drop_info(cur)
    rows = quality_mix(cur, filters) if mix is None else mix
    data = rows.group_by("month").agg(pl.col("unrated_or_stale_pct").first()).sort("month")
    now = data.filter(pl.col("month") == filters.month).get_column("unrated_or_stale_pct")
    title = (
        f"{fmt_pct(now[0], 0)} of hours are with providers unrated or rated over 4 years ago"
        if now.len() and now[0] is not None
        else f"No rating figure for {fmt_month(filters.month)}"
    )
    return line_chart(
        data,
        "month",
        "unrated_or_stale_pct",
        spec=spec(
            info,
            "quality-unrated-stale",
            title,
            subtitle(
                "Share of planned hours with unrated, out-of-date or undated ratings", filters, _period(data, filters)
            ),
            source="Council data drop; CQC, care directory",
        ),
        measure="% of hours unrated or stale",
        value_format=lambda v: fmt_pct(v, 1),
        from_zero=True,
    )


def stale_table(cur: duckdb.DuckDBPyConnection, ratings: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return providers with hours today whose rating is missing, out of date or undated, most hours first.

    ``ratings``: ``mart_quality_provider`` already read.
    """
    rows = read_mart(cur, "mart_quality_provider") if ratings is None else ratings
    rows = rows.filter((pl.col("hours") > 0) & (pl.col("currency") != "current"))
    words = {"unrated": "not rated", "out_of_date": "out of date", "date_unknown": "date unknown"}
    return rows.select(
        pl.col("provider_name").alias("Provider"),
        pl.col("hours").round(1).alias("Hours a week"),
        pl.col("rating").alias("Latest rating"),
        pl.col("cqc_rating_date").alias("Published"),
        pl.col("currency").replace_strict(words, default=pl.col("currency")).alias("Why"),
    )


def churn_chart(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    """Return providers entering and leaving by month (whole council)."""
    info = drop_info(cur)
    rows = read_mart(cur, "mart_provider_churn_month").filter(pl.col("month") <= filters.month).sort("month")
    data = rows.unpivot(
        index="month", on=["entries", "exits"], variable_name="flow", value_name="providers"
    ).with_columns(pl.col("flow").replace_strict({"entries": "Providers starting", "exits": "Providers leaving"}))
    last12 = rows.tail(12)
    entries = int(last12.get_column("entries").sum() or 0)
    exits = int(last12.get_column("exits").sum() or 0)
    title = (
        f"{fmt_int(entries)} provider{'s' if entries != 1 else ''} started and {fmt_int(exits)} left "
        "in the last 12 months"
        if rows.height
        else "No provider activity in this period"
    )
    return bar_chart(
        data,
        "month",
        "providers",
        spec=spec(
            info,
            "market-entries-exits",
            title,
            f"Providers starting and leaving by month, whole council, {_period(rows, filters)}",
        ),
        measure="providers",
        color="flow",
        labels=False,
        value_label="providers",
        noun="months",
    )


def delivery_chart(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    """Return delivered against commissioned hours by month (filters' area)."""
    info = drop_info(cur)
    rows = geography_trend(cur, "mart_delivery_month", filters)
    data = rows.unpivot(
        index="month", on=["commissioned_hours", "delivered_hours"], variable_name="series", value_name="hours"
    ).with_columns(
        pl.col("series").replace_strict({"commissioned_hours": "Commissioned", "delivered_hours": "Delivered"})
    )
    now = rows.filter(pl.col("delivery_rate_pct").is_not_null()).tail(1)
    title = (
        f"{fmt_pct(now.item(0, 'delivery_rate_pct'), 1)} of commissioned hours were delivered in "
        f"{fmt_month(now.item(0, 'month'))}"
        if now.height
        else "No delivery data with commissioned hours"
    )
    return line_chart(
        data,
        "month",
        "hours",
        spec=_trend_spec(
            info, "delivery-vs-commissioned", title, ("Hours commissioned and delivered in the month", filters, rows)
        ),
        measure="hours in the month",
        color="series",
        from_zero=True,
    )


def red_providers(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return each provider's delivery rate in the latest month with data up to the filters' month."""
    rows = read_mart(cur, "mart_delivery_provider_month").filter(
        (pl.col("month") <= filters.month) & pl.col("delivery_rate_pct").is_not_null()
    )
    if rows.is_empty():
        return rows
    latest = rows.get_column("month").max()
    return rows.filter(pl.col("month") == latest).sort("delivery_rate_pct")


def red_chart(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    """Return the providers with the lowest delivery rate in the latest month, those rated red highlighted."""
    info = drop_info(cur)
    rows = red_providers(cur, filters)
    red = rows.filter(pl.col("rag") == "red")
    shown = rows.head(15).sort("delivery_rate_pct", descending=True)
    month = fmt_month(rows.item(0, "month")) if rows.height else fmt_month(filters.month)
    title = (
        f"{fmt_int(red.height)} provider{'s' if red.height != 1 else ''} delivered under the red threshold in {month}"
        if rows.height
        else "No provider delivery data"
    )
    return bar_chart(
        shown.select(pl.col("provider_name").alias("provider"), pl.col("delivery_rate_pct").round(1)),
        "provider",
        "delivery_rate_pct",
        spec=spec(
            info,
            "delivery-providers-red",
            title,
            f"Delivery rate of the 15 providers delivering least of their commissioned hours (red highlighted), "
            f"whole council, {month}",
        ),
        measure="delivery rate",
        orientation="h",
        focus=red.get_column("provider_name").to_list(),
        value_format=lambda v: fmt_pct(v, 1),
        value_label="% of commissioned hours delivered",
        noun="providers",
    )


def warning_frame(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return the early-warning list for the latest month up to the filters' month (listed providers, ranked)."""
    rows = read_mart(cur, "mart_early_warning_month").filter(pl.col("month") <= filters.month)
    if rows.is_empty():
        return rows
    latest = rows.get_column("month").max()
    return rows.filter((pl.col("month") == latest) & pl.col("listed")).sort("rank")


def warning_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, rows: pl.DataFrame | None = None) -> ChartSpec:
    """Return the early-warning points of the listed providers (top 10), with the reasons in the table.

    ``rows``: ``warning_frame`` already read.
    """
    info = drop_info(cur)
    rows = warning_frame(cur, filters) if rows is None else rows
    top = rows.head(10)
    title = (
        f"{top.item(0, 'provider_name')} heads the early-warning list with {fmt_int(top.item(0, 'points'))} points"
        if top.height
        else "No provider is on the early-warning list"
    )
    return bar_chart(
        top.select(pl.col("provider_name").alias("provider"), "points", "reasons").sort("points"),
        "provider",
        "points",
        spec=spec(
            info,
            "early-warning-points",
            title,
            f"Early-warning points (rating, hand-backs, vacancy, fee gap, market share), whole council, "
            f"{fmt_month(rows.item(0, 'month')) if rows.height else fmt_month(filters.month)}",
        ),
        measure="early-warning points",
        orientation="h",
        value_label="points",
        noun="providers",
    )


def warning_table(rows: pl.DataFrame) -> pl.DataFrame:
    """Return the early-warning list for people: rank, provider, points, share, every reason in words."""
    return rows.select(
        pl.col("rank").alias("Rank"),
        pl.col("provider_name").alias("Provider"),
        pl.col("points").alias("Points"),
        pl.col("share_pct").round(1).alias("% of hours"),
        pl.col("reasons").alias("Reasons"),
    )


# --- the page ----------------------------------------------------------------------------------
# The page caches its parts apart, each on what it depends on: the area's charts on the month,
# locality and service type; the whole council's lists and charts on the month; the largest
# providers' ratings on nothing (they are today's). A client group, funding or provider type
# change then builds nothing but the notes.


@dataclass(frozen=True)
class AreaPart:
    """The charts of the filters' area and service type: rating mix, stale ratings, delivery."""

    rating_mix: Panel
    stale: Panel
    delivery: Panel


@dataclass(frozen=True)
class RatingsPart:
    """The largest providers' latest ratings and the providers rated long ago or not at all (today)."""

    rating_changes: Panel
    rating_changes_table: pl.DataFrame
    stale_table: pl.DataFrame


@dataclass(frozen=True)
class CouncilPart:
    """The whole council's figures for a month: the early-warning list, entries and exits, delivery by provider."""

    churn: Panel
    red: Panel
    warning: Panel
    warning_table: pl.DataFrame
    warning_sentence: str


@dataclass(frozen=True)
class QualityView:
    """Everything the Quality and market dynamics page shows."""

    rating_mix: Panel
    rating_changes: Panel
    rating_changes_table: pl.DataFrame
    stale: Panel
    stale_table: pl.DataFrame
    churn: Panel
    delivery: Panel
    red: Panel
    warning: Panel
    warning_table: pl.DataFrame
    warning_sentence: str
    notes: list[str]


def page_notes(filters: Filters) -> list[str]:
    """Return the page's notes: what the ratings can say, what is whole council, the filters it ignores."""
    notes = [
        "The drop holds each provider's latest CQC rating only, so the rating mix of past months uses today's "
        "ratings, and a rating change shows as a rating published in the last 12 months.",
        "Entries and exits, the largest providers' ratings, delivery by provider and the early-warning list "
        "are for the whole council.",
    ]
    return add_ignored_note(notes, filters, supported=("locality", "service_type"))


def area_part(cur: duckdb.DuckDBPyConnection, filters: Filters) -> AreaPart:
    """Return the area's charts for the filters' month, locality and service type (other filters unused)."""
    mix = quality_mix(cur, filters)
    return AreaPart(
        rating_mix=Panel(rating_mix_chart(cur, filters, mix), ("good_outstanding_hours_pct",)),
        stale=Panel(stale_chart(cur, filters, mix), ("unrated_or_stale_hours_pct",)),
        delivery=Panel(delivery_chart(cur, filters), ("delivery_rate_pct", "undelivered_hours_per_week")),
    )


def ratings_part(cur: duckdb.DuckDBPyConnection) -> RatingsPart:
    """Return the largest providers' ratings and the stale-rating table (whole council, today)."""
    ratings = read_mart(cur, "mart_quality_provider")
    largest = largest_providers(cur, ratings)
    filters = Filters(month=drop_info(cur).as_of)  # the chart reads no filter
    return RatingsPart(
        rating_changes=Panel(rating_changes_chart(cur, filters, largest), ("good_outstanding_hours_pct",)),
        rating_changes_table=rating_changes_table(cur, largest),
        stale_table=stale_table(cur, ratings),
    )


def council_part(cur: duckdb.DuckDBPyConnection, filters: Filters) -> CouncilPart:
    """Return the whole council's early-warning list, entries and exits and delivery by provider (the month only)."""
    warnings = warning_frame(cur, filters)
    if warnings.height:
        top = warnings.head(3)
        names = ", ".join(top.get_column("provider_name").to_list())
        sentence = (
            f"{fmt_int(warnings.height)} provider{'s are' if warnings.height != 1 else ' is'} on the early-warning "
            f"list for {fmt_month(warnings.item(0, 'month'))}; first: {names}."
        )
    else:
        sentence = "No provider is on the early-warning list for this month."
    return CouncilPart(
        churn=Panel(churn_chart(cur, filters), ("provider_entries_12m", "provider_exits_12m")),
        red=Panel(red_chart(cur, filters), ("providers_delivery_red",)),
        warning=Panel(warning_chart(cur, filters, warnings), ("early_warning_top", "early_warning_points")),
        warning_table=warning_table(warnings),
        warning_sentence=sentence,
    )


def assemble(notes: list[str], area: AreaPart, ratings: RatingsPart, council: CouncilPart) -> QualityView:
    """Return the page's view from its parts (each cached on what it depends on)."""
    return QualityView(**vars(area), **vars(ratings), **vars(council), notes=notes)


def quality_view(cur: duckdb.DuckDBPyConnection, filters: Filters) -> QualityView:
    """Return the Quality and market dynamics page for ``filters`` (locality and service type where the marts allow)."""
    return assemble(
        page_notes(filters),
        area_part(cur, filters.only("locality", "service_type")),
        ratings_part(cur),
        council_part(cur, filters.only()),
    )


__all__ = [
    "AreaPart",
    "CouncilPart",
    "QualityView",
    "RatingsPart",
    "area_part",
    "assemble",
    "council_part",
    "page_notes",
    "quality_view",
    "ratings_part",
]
