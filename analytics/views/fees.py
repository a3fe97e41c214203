"""Fees: what the council pays an hour against the Homecare Association minimum price and its
Fair Cost of Care, by month and by provider, and what closing the gap would cost a year.

Reads ``mart_price_month`` (geography x service type x month) and ``mart_price_provider`` (rates on
the drop's date). The benchmarks come from ``config.toml`` ``[reference.hca_minimum_price]`` and
``[reference.fair_cost_of_care]`` (by year, already in the price mart). The Workforce and fees page
is assembled in ``views.workforce_fees``.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb
import polars as pl

from analytics.config import financial_year
from analytics.formatting import fmt_gbp, fmt_month, fmt_month_range
from analytics.indicators.marts import read_mart
from analytics.indicators.price import WEEKS_PER_YEAR
from analytics.publish.charts import ChartSpec, merge_layout
from analytics.views.common import (
    drop_info,
    geography,
    hbars,
    month_lines,
    spec,
    tall,
)
from analytics.views.filters import Filters
from analytics.views.workforce import PROVIDER_CHART_ROWS, add_reference, locality_providers

GBP_M = 1_000_000


def fmt_gbp_short(value: float | None) -> str:
    """Return £ a year rounded for a headline: ``£10.2 million`` from 10.2m, else whole pounds."""
    if value is None:
        return fmt_gbp(None)
    if abs(value) >= GBP_M:
        return f"{fmt_gbp(value / GBP_M, 1)} million"
    return fmt_gbp(value, 0)


# --- fees ----------------------------------------------------------------------------------------


def price_series(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return ``mart_price_month`` for the geography and service type, months up to ``filters.month``.

    Adds ``annual_cost_to_close_minimum_price_gap`` and ``annual_cost_to_close_fair_cost_gap``
    (£ a year: max(gap, 0) x all active hours a week x 365/7, as ``indicators.price``).
    """
    frame = read_mart(cur, "mart_price_month", **geography(filters), service_type=filters.service_type or "all")
    yearly = pl.col("hours") * WEEKS_PER_YEAR
    return (
        frame.filter(pl.col("month") <= filters.month)
        .with_columns(
            (pl.col("gap_to_minimum_price").clip(lower_bound=0) * yearly).alias(
                "annual_cost_to_close_minimum_price_gap"
            ),
            (pl.col("gap_to_fair_cost_of_care").clip(lower_bound=0) * yearly).alias(
                "annual_cost_to_close_fair_cost_gap"
            ),
        )
        .sort("month")
    )


def rate_title(row: dict | None) -> str:
    """Return "The council pays £8.34 an hour less than the Homecare Association minimum price"."""
    if row is None or row.get("weighted_hourly_rate") is None:
        return "There is no hourly rate to compare"
    gap = row.get("gap_to_minimum_price")
    if gap is None:
        return f"The council pays {fmt_gbp(row['weighted_hourly_rate'])} an hour on average"
    if gap > 0:
        return f"The council pays {fmt_gbp(gap)} an hour below the Homecare Association minimum price"
    return "The council pays at least the Homecare Association minimum price"


def rate_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the hours-weighted hourly rate each month against the HCA minimum price and Fair Cost of Care."""
    frame = price_series(cur, filters) if frame is None else frame
    period = fmt_month_range(frame.item(0, "month"), frame.item(-1, "month")) if frame.height else "no months"
    data = frame.select(
        "month",
        pl.col("weighted_hourly_rate").alias("Council's weighted rate"),
        pl.col("minimum_price").alias("Homecare Association minimum price"),
        pl.col("fair_cost_of_care").alias("Fair Cost of Care"),
    ).unpivot(index="month", variable_name="series", value_name="gbp_per_hour")
    service = (filters.service_type or "all service types").replace("_", " ")
    base = spec(
        drop_info(cur),
        "fees-rate-trend",
        rate_title(frame.row(-1, named=True) if frame.height and frame.item(-1, "month") == filters.month else None),
        f"£ per contact hour, hours-weighted over active packages, {service}, {filters.area_label()}, {period}",
        source="Council packages; Homecare Association Minimum Price; council Fair Cost of Care (config)",
    )
    return month_lines(data, "gbp_per_hour", base, measure="£ per hour", by="series", scale=(fmt_gbp, "£ per hour"))


def benchmarks_now(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return the whole council's ``mart_price_month`` row on the drop's date (the benchmarks there)."""
    return read_mart(cur, "mart_price_month", geography_level="council", service_type="all", month=drop_info(cur).as_of)


def provider_rates(cur: duckdb.DuckDBPyConnection, filters: Filters, bench: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return each provider's hours-weighted rate on the drop's date (``mart_price_provider``).

    Restricted to providers with packages in the filtered locality (if any); adds the Fair Cost of
    Care gap. Columns: ``provider_id, provider_name, hours, rate_coverage_pct, weighted_hourly_rate,
    gap_to_minimum_price, gap_to_fair_cost_of_care``; largest hours first. ``bench``: ``benchmarks_now``
    already read.
    """
    as_of = drop_info(cur).as_of
    frame = read_mart(cur, "mart_price_provider")
    keep = locality_providers(cur, filters, month=as_of)
    if keep is not None:
        frame = frame.filter(pl.col("provider_id").is_in(keep))
    fair = benchmarks_now(cur) if bench is None else bench
    fair_cost = fair.item(0, "fair_cost_of_care") if fair.height else None
    return frame.select(
        "provider_id",
        "provider_name",
        "hours",
        "rate_coverage_pct",
        "weighted_hourly_rate",
        "gap_to_minimum_price",
        (pl.lit(fair_cost, dtype=pl.Float64) - pl.col("weighted_hourly_rate")).alias("gap_to_fair_cost_of_care"),
    ).sort(["hours", "provider_id"], descending=[True, False])


def provider_rate_title(frame: pl.DataFrame) -> str:
    """Return "None of 88 providers is paid the HCA minimum price; 80 are paid below the Fair Cost of Care"."""
    rated = frame.drop_nulls("weighted_hourly_rate")
    if rated.is_empty():
        return "No provider here has an hourly rate"
    at_min = int((rated.get_column("gap_to_minimum_price") <= 0).sum())
    if at_min == 0:
        return f"None of {rated.height} providers is paid the Homecare Association minimum price"
    verb = "is" if at_min == 1 else "are"
    return f"{at_min} of {rated.height} providers {verb} paid at least the Homecare Association minimum price"


def provider_rate_alt(frame: pl.DataFrame) -> str:
    """Return the text alternative of the provider rate chart: range of rates and counts below each benchmark."""
    rated = frame.drop_nulls("weighted_hourly_rate")
    if rated.is_empty():
        return "No provider here has an hourly rate."
    below_min = int((rated.get_column("gap_to_minimum_price") > 0).sum())
    below_fair = int((rated.get_column("gap_to_fair_cost_of_care") > 0).sum())
    low, high = rated.get_column("weighted_hourly_rate").min(), rated.get_column("weighted_hourly_rate").max()
    return (
        f"Providers' hourly rates range from {fmt_gbp(low)} to {fmt_gbp(high)}; {below_min} of {rated.height} are "
        f"paid below the Homecare Association minimum price and {below_fair} below the Fair Cost of Care."
    )


def provider_rate_chart(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    frame: pl.DataFrame | None = None,
    bench: pl.DataFrame | None = None,
) -> ChartSpec:
    """Return the hourly rate of the largest providers (by hours) with both benchmarks marked.

    ``frame``: ``provider_rates`` and ``bench``: ``benchmarks_now``, when already read.
    """
    frame = provider_rates(cur, filters) if frame is None else frame
    info = drop_info(cur)
    top = frame.drop_nulls("weighted_hourly_rate").head(PROVIDER_CHART_ROWS)
    bench = benchmarks_now(cur) if bench is None else bench
    row = bench.row(0, named=True) if bench.height else {}
    who = f"providers with packages in {filters.locality}" if filters.locality else "whole council"
    base = replace(
        spec(
            info,
            "fees-rate-by-provider",
            provider_rate_title(frame),
            f"£ per contact hour, hours-weighted, the {top.height} providers with most hours, "
            f"all service types, {who}, {fmt_month(info.as_of)}",
            source="Council packages; Homecare Association Minimum Price; council Fair Cost of Care (config)",
        ),
        alt_text=provider_rate_alt(frame),
    )
    chart = hbars(
        top.select("provider_name", "weighted_hourly_rate", "hours"),
        "provider_name",
        "weighted_hourly_rate",
        base,
        measure="the hourly rate",
        noun="providers",
        scale=(fmt_gbp, "£ per hour"),
    )
    if chart.figure is not None:
        chart.figure.data[0].name = "Provider's hourly rate"
    for value, text, dash in (
        (row.get("minimum_price"), "Homecare Association minimum price", "dash"),
        (row.get("fair_cost_of_care"), "Fair Cost of Care", "dot"),
    ):
        if value is not None:
            add_reference(chart, value, f"{text}, {fmt_gbp(value)}", dash)
    return tall(chart, top.height)


def gap_cost(row: dict | None) -> pl.DataFrame:
    """Return the annual cost of closing each gap (£ a year) from a ``price_series`` row."""
    rows = []
    for label, column in (
        ("To the Homecare Association minimum price", "annual_cost_to_close_minimum_price_gap"),
        ("To the council's Fair Cost of Care", "annual_cost_to_close_fair_cost_gap"),
    ):
        rows.append({"benchmark": label, "gbp_per_year": None if row is None else row.get(column)})
    return pl.DataFrame(rows, schema={"benchmark": pl.String, "gbp_per_year": pl.Float64})


def gap_cost_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return what closing the gap to each benchmark would cost a year at current hours (two bars)."""
    frame = price_series(cur, filters) if frame is None else frame
    row = frame.row(-1, named=True) if frame.height and frame.item(-1, "month") == filters.month else None
    data = gap_cost(row)
    cost = data.item(0, "gbp_per_year")
    if cost is None:
        title = "There is no rate or benchmark to cost the gap"
    elif cost == 0:
        title = "The council already pays at least the Homecare Association minimum price"
    else:
        title = f"Paying the Homecare Association minimum price would cost {fmt_gbp_short(cost)} more a year"
    service = (filters.service_type or "all service types").replace("_", " ")
    base = spec(
        drop_info(cur),
        "fees-gap-cost",
        title,
        f"£ a year: gap per hour x active planned hours a week x 52.14 weeks, {service}, {filters.area_label()}, "
        f"{fmt_month(filters.month)}",
        source="Council packages; Homecare Association Minimum Price; council Fair Cost of Care (config)",
    )
    chart = hbars(
        data,
        "benchmark",
        "gbp_per_year",
        base,
        measure="the annual cost of closing the gap",
        noun="benchmarks",
        scale=(fmt_gbp_short, "£ a year"),
    )
    biggest = data.get_column("gbp_per_year").max()
    if chart.figure is not None and biggest:
        merge_layout(chart.figure, xaxis={"range": [0, biggest * 1.2]})  # room for the "£10.1 million" labels
        chart.style(chart.figure, height=340)
    return chart


def benchmark_notes(frame: pl.DataFrame, month) -> list[str]:
    """Return notes where a benchmark for the month's financial year is missing and an earlier one is used."""
    row = frame.filter(pl.col("month") == month)
    if row.is_empty():
        return []
    wanted = financial_year(month)
    out = []
    for label, value, year in (
        ("Homecare Association minimum price", "minimum_price", "minimum_price_year"),
        ("Fair Cost of Care", "fair_cost_of_care", "fair_cost_of_care_year"),
    ):
        used = row.item(0, year)
        if used is not None and used != wanted:
            out.append(
                f"The {label} for {wanted} is not in config.toml; the {used} figure "
                f"({fmt_gbp(row.item(0, value))}) is used."
            )
    return out
