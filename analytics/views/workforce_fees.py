"""Workforce and fees page: provider vacancy and turnover, and what the council pays against benchmarks.

Reads ``mart_workforce_provider_month`` and ``mart_workforce_month`` (providers; no area), the
providers serving a locality from ``mart_provider_share_month``, ``mart_price_month`` (geography x
service type x month) and ``mart_price_provider`` (rates on the drop's date). Reference figures come
from ``config.toml``: ``[reference.national]`` (homecare vacancy 10.1%, turnover 24.7%, Skills for
Care 2024/25), ``[reference.hca_minimum_price]`` and ``[reference.fair_cost_of_care]`` (by year,
already in the price mart).

Rates for a set of providers are ratios of sums (as in ``indicators.workforce``): vacancy rate =
vacancies / (filled posts + vacancies); turnover = leavers in 12 months / filled posts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import polars as pl

from analytics.config import financial_year, settings
from analytics.formatting import fmt_gbp, fmt_month, fmt_month_range, fmt_pct
from analytics.indicators.marts import read_mart
from analytics.indicators.price import WEEKS_PER_YEAR
from analytics.publish.charts import SECONDARY_TEXT, ChartSpec, bar_chart, line_chart
from analytics.views.common import (
    Tile,
    drop_info,
    geography,
    ignored_note,
    months_before,
    spec,
    tall,
    trend_tile,
    value_at,
)
from analytics.views.filters import Filters

WORKFORCE_MEASURES = {
    "vacancy": ("vacancy_rate_pct", "Vacancy rate", "homecare_vacancy_rate_pct", "vacancy rates"),
    "turnover": ("turnover_rate_pct", "Turnover rate", "turnover_rate_pct", "turnover rates"),
}
NATIONAL_SOURCES = {
    "vacancy": "Skills for Care 2024/25 homecare vacancy rate",
    "turnover": "Skills for Care 2024/25 independent sector turnover",
}
PROVIDER_CHART_ROWS = 25
GBP_M = 1_000_000


def national(measure: str) -> float | None:
    """Return the national reference rate (%) for ``measure`` (``vacancy``/``turnover``) from config."""
    key = WORKFORCE_MEASURES[measure][2]
    value = settings().get("reference", {}).get("national", {}).get(key)
    return None if value is None else float(value)


def fmt_gbp_short(value: float | None) -> str:
    """Return £ a year rounded for a headline: ``£10.2 million`` from 10.2m, else whole pounds."""
    if value is None:
        return fmt_gbp(None)
    if abs(value) >= GBP_M:
        return f"{fmt_gbp(value / GBP_M, 1)} million"
    return fmt_gbp(value, 0)


def add_reference(chart: ChartSpec, value: float | None, name: str, dash: str = "dash") -> None:
    """Mark ``value`` on a horizontal bar chart with a vertical line named in the legend (no overlapping labels)."""
    if value is None or chart.figure is None:
        return
    chart.figure.add_vline(x=value, line_dash=dash, line_color=SECONDARY_TEXT, line_width=2)
    chart.figure.add_scatter(
        x=[None],
        y=[None],
        mode="lines",
        line={"dash": dash, "color": SECONDARY_TEXT, "width": 2},
        name=name,
        showlegend=True,
        hoverinfo="skip",
    )
    chart.figure.update_layout(showlegend=True)


# --- which providers -----------------------------------------------------------------------------


def locality_providers(cur: duckdb.DuckDBPyConnection, filters: Filters, month=None) -> list[str] | None:
    """Return the providers with packages in the filtered locality on ``month`` (``None``: no locality)."""
    if not filters.locality:
        return None
    frame = read_mart(
        cur,
        "mart_provider_share_month",
        geography_level="locality",
        geography=filters.locality,
        month=month or filters.month,
    )
    return frame.get_column("provider_id").to_list()


# --- workforce -----------------------------------------------------------------------------------


def provider_workforce(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return each reporting provider's workforce on ``filters.month`` (providers of the locality, if any).

    Columns: ``provider_id, provider_name, filled_posts, vacancies, leavers_12m, vacancy_rate_pct,
    turnover_rate_pct, hours_per_week``; highest vacancy rate first.
    """
    frame = read_mart(cur, "mart_workforce_provider_month", month=filters.month)
    keep = locality_providers(cur, filters)
    if keep is not None:
        frame = frame.filter(pl.col("provider_id").is_in(keep))
    return frame.select(
        "provider_id",
        "provider_name",
        "filled_posts",
        "vacancies",
        "leavers_12m",
        "vacancy_rate_pct",
        "turnover_rate_pct",
        "hours_per_week",
    ).sort(["vacancy_rate_pct", "provider_name"], descending=[True, False], nulls_last=True)


def rates(frame: pl.DataFrame) -> dict[str, float | None]:
    """Return the vacancy and turnover rates (%) of a set of providers, as ratios of sums."""
    with_vac = frame.filter(pl.col("vacancies").is_not_null() & pl.col("filled_posts").is_not_null())
    with_leavers = frame.filter(pl.col("leavers_12m").is_not_null() & pl.col("filled_posts").is_not_null())
    posts = with_vac.get_column("filled_posts").sum() + with_vac.get_column("vacancies").sum()
    filled = with_leavers.get_column("filled_posts").sum()
    return {
        "vacancy_rate_pct": with_vac.get_column("vacancies").sum() * 100.0 / posts if posts else None,
        "turnover_rate_pct": with_leavers.get_column("leavers_12m").sum() * 100.0 / filled if filled else None,
        "providers_reporting": frame.height,
    }


def workforce_series(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return vacancy and turnover rates each month up to ``filters.month`` for the providers in scope.

    The council uses ``mart_workforce_month``; a locality the providers with packages there each month.
    """
    if not filters.locality:
        frame = read_mart(cur, "mart_workforce_month").filter(pl.col("month") <= filters.month)
        return frame.select("month", "providers_reporting", "vacancy_rate_pct", "turnover_rate_pct").sort("month")
    share = read_mart(cur, "mart_provider_share_month", geography_level="locality", geography=filters.locality).select(
        "month", "provider_id"
    )
    rows = read_mart(cur, "mart_workforce_provider_month").join(share, on=["month", "provider_id"])
    out = []
    for (month,), part in rows.filter(pl.col("month") <= filters.month).group_by("month"):
        out.append({"month": month, **rates(part)})
    schema = {
        "month": pl.Date,
        "vacancy_rate_pct": pl.Float64,
        "turnover_rate_pct": pl.Float64,
        "providers_reporting": pl.Int64,
    }
    frame = pl.DataFrame(out, schema=schema)
    return frame.select("month", "providers_reporting", "vacancy_rate_pct", "turnover_rate_pct").sort("month")


def provider_title(frame: pl.DataFrame, measure: str) -> str:
    """Return "12 of 40 providers have vacancy rates above the national homecare rate of 10.1%"."""
    column, _, _, plural = WORKFORCE_MEASURES[measure]
    shown = frame.drop_nulls(column)
    if shown.is_empty():
        return f"No provider here reports {plural}"
    ref = national(measure)
    if ref is None:
        top = shown.row(shown.get_column(column).arg_max(), named=True)
        return f"{top['provider_name']} has the highest {plural[:-1]} ({fmt_pct(top[column])})"
    above = int((shown.get_column(column) > ref).sum())
    where = "the national homecare rate" if measure == "vacancy" else "the national rate"
    verb = "has" if above == 1 else "have"
    noun = plural if above != 1 else plural[:-1]
    return f"{above} of {shown.height} providers {verb} {noun} above {where} of {fmt_pct(ref)}"


def provider_chart(
    cur: duckdb.DuckDBPyConnection, filters: Filters, measure: str = "vacancy", frame: pl.DataFrame | None = None
) -> ChartSpec:
    """Return vacancy (or turnover) rate by provider on ``filters.month``, with the national rate marked.

    Providers above the national rate are in the focus colour, the rest grey.
    """
    column, label, _, _ = WORKFORCE_MEASURES[measure]
    frame = provider_workforce(cur, filters) if frame is None else frame
    data = frame.drop_nulls(column).sort([column, "provider_name"], descending=[True, False])
    ref = national(measure)
    base = spec(
        drop_info(cur),
        f"workforce-{measure}-by-provider",
        provider_title(frame, measure),
        f"{label} (%) by provider, providers reporting, "
        f"{'providers with packages in ' + filters.locality if filters.locality else 'whole council'}, "
        f"{fmt_month(filters.month)}",
        source=f"Provider workforce returns; {NATIONAL_SOURCES[measure]} (config)",
    )
    above = data.filter(pl.col(column) > ref).get_column("provider_name").to_list() if ref is not None else None
    chart = bar_chart(
        data.select("provider_name", column, "filled_posts"),
        "provider_name",
        column,
        spec=base,
        measure=label.lower(),
        orientation="h",
        focus=above,
        value_format=fmt_pct,
        value_label=f"{label} (%)",
        noun="providers",
    )
    if chart.figure is not None:
        chart.figure.data[0].name = f"{label} of the provider"
    add_reference(
        chart, ref, f"England homecare, {fmt_pct(ref)}" if measure == "vacancy" else f"England, {fmt_pct(ref)}"
    )
    return tall(chart, data.height)


def workforce_trend_title(frame: pl.DataFrame, month) -> str:
    """Return "The vacancy rate rose from 6.5% to 10.4% in a year" (or fell, or held)."""
    now = value_at(frame, "vacancy_rate_pct", month)
    before = value_at(frame, "vacancy_rate_pct", months_before(month, 12))
    if now is None:
        return f"No provider reported vacancies in {fmt_month(month)}"
    ref = national("vacancy")
    compare = ""
    if ref is not None:
        compare = f", {'above' if now > ref else 'below' if now < ref else 'level with'} the national {fmt_pct(ref)}"
    if before is None or abs(now - before) < 0.5:
        return f"The vacancy rate is {fmt_pct(now)}{compare}"
    verb = "rose" if now > before else "fell"
    return f"The vacancy rate {verb} from {fmt_pct(before)} to {fmt_pct(now)} in a year{compare}"


def workforce_trend_chart(
    cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None
) -> ChartSpec:
    """Return vacancy and turnover rates (ratios of sums over reporting providers) each month."""
    frame = workforce_series(cur, filters) if frame is None else frame
    period = fmt_month_range(frame.item(0, "month"), frame.item(-1, "month")) if frame.height else "no months"
    data = frame.select(
        "month", pl.col("vacancy_rate_pct").alias("Vacancy rate"), pl.col("turnover_rate_pct").alias("Turnover rate")
    ).unpivot(index="month", variable_name="measure", value_name="pct")
    who = f"providers with packages in {filters.locality}" if filters.locality else "all reporting providers"
    base = spec(
        drop_info(cur),
        "workforce-trend",
        workforce_trend_title(frame, filters.month),
        f"Vacancy and turnover rates (%), {who}, {period}",
        source="Provider workforce returns",
    )
    return line_chart(
        data,
        "month",
        "pct",
        spec=base,
        measure="the rate",
        color="measure",
        value_format=fmt_pct,
        value_label="% (vacancies of all posts; leavers in 12 months of filled posts)",
        from_zero=True,
    )


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
    return line_chart(
        data,
        "month",
        "gbp_per_hour",
        spec=base,
        measure="£ per hour",
        color="series",
        value_format=fmt_gbp,
        value_label="£ per hour",
        from_zero=True,
    )


def provider_rates(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return each provider's hours-weighted rate on the drop's date (``mart_price_provider``).

    Restricted to providers with packages in the filtered locality (if any); adds the Fair Cost of
    Care gap. Columns: ``provider_id, provider_name, hours, rate_coverage_pct, weighted_hourly_rate,
    gap_to_minimum_price, gap_to_fair_cost_of_care``; largest hours first.
    """
    as_of = drop_info(cur).as_of
    frame = read_mart(cur, "mart_price_provider")
    keep = locality_providers(cur, filters, month=as_of)
    if keep is not None:
        frame = frame.filter(pl.col("provider_id").is_in(keep))
    fair = read_mart(cur, "mart_price_month", geography_level="council", service_type="all", month=as_of)
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
    cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None
) -> ChartSpec:
    """Return the hourly rate of the largest providers (by hours) with both benchmarks marked."""
    frame = provider_rates(cur, filters) if frame is None else frame
    info = drop_info(cur)
    top = frame.drop_nulls("weighted_hourly_rate").head(PROVIDER_CHART_ROWS)
    bench = read_mart(cur, "mart_price_month", geography_level="council", service_type="all", month=info.as_of)
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
    chart = bar_chart(
        top.select("provider_name", "weighted_hourly_rate", "hours"),
        "provider_name",
        "weighted_hourly_rate",
        spec=base,
        measure="the hourly rate",
        orientation="h",
        value_format=fmt_gbp,
        value_label="£ per hour",
        noun="providers",
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
    chart = bar_chart(
        data,
        "benchmark",
        "gbp_per_year",
        spec=base,
        measure="the annual cost of closing the gap",
        orientation="h",
        value_format=fmt_gbp_short,
        value_label="£ a year",
        noun="benchmarks",
    )
    biggest = data.get_column("gbp_per_year").max()
    if chart.figure is not None and biggest:
        chart.figure.update_xaxes(range=[0, biggest * 1.2])  # room for the "£10.1 million" labels
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


# --- the page ------------------------------------------------------------------------------------


def tiles(
    cur: duckdb.DuckDBPyConnection, filters: Filters, workforce: pl.DataFrame, prices: pl.DataFrame
) -> list[Tile]:
    """Return the workforce and fee tiles on ``filters.month`` with changes on last month and last year."""

    def tile(frame, label, column, fmt, indicator_id, higher_is_worse, percent=False):
        return trend_tile(
            frame,
            filters.month,
            label,
            column,
            fmt,
            indicator_id=indicator_id,
            higher_is_worse=higher_is_worse,
            percent_change=percent,
        )

    return [
        tile(workforce, "Vacancy rate", "vacancy_rate_pct", fmt_pct, "vacancy_rate_pct", True),
        tile(workforce, "Turnover rate", "turnover_rate_pct", fmt_pct, "turnover_rate_pct", True),
        tile(prices, "Weighted hourly rate", "weighted_hourly_rate", fmt_gbp, "weighted_hourly_rate", False),
        tile(prices, "Gap to HCA minimum price", "gap_to_minimum_price", fmt_gbp, "fee_gap_to_minimum_price", True),
        tile(
            prices,
            "Gap to Fair Cost of Care",
            "gap_to_fair_cost_of_care",
            fmt_gbp,
            "fee_gap_to_fair_cost_of_care",
            True,
        ),
        tile(
            prices,
            "Cost a year to pay the HCA minimum",
            "annual_cost_to_close_minimum_price_gap",
            fmt_gbp_short,
            "annual_cost_to_close_minimum_price_gap",
            True,
            True,
        ),
    ]


@dataclass(frozen=True)
class WorkforceFeesPage:
    """Everything the Workforce and fees page shows for one set of filters and workforce measure."""

    tiles: list[Tile]
    provider_chart: ChartSpec
    workforce_chart: ChartSpec
    rate_chart: ChartSpec
    provider_rate_chart: ChartSpec
    gap_cost_chart: ChartSpec
    providers: pl.DataFrame
    provider_rates: pl.DataFrame
    notes: list[str]


def workforce_fees_page(
    cur: duckdb.DuckDBPyConnection, filters: Filters, measure: str = "vacancy"
) -> WorkforceFeesPage:
    """Return everything the Workforce and fees page shows; ``measure`` is ``vacancy`` or ``turnover``."""
    if measure not in WORKFORCE_MEASURES:
        raise ValueError(f"measure must be one of {sorted(WORKFORCE_MEASURES)}, not {measure!r}")
    providers = provider_workforce(cur, filters)
    workforce = workforce_series(cur, filters)
    prices = price_series(cur, filters)
    rates_now = provider_rates(cur, filters)
    as_of = drop_info(cur).as_of
    notes = [
        n
        for n in (
            ignored_note(
                filters, what="Workforce figures", covers="every provider's whole workforce (returns are per provider)"
            ),
            ignored_note(
                filters,
                supported=("locality", "service_type"),
                what="Fee figures",
                covers="every client group, funding route and provider type",
            ),
            (
                f"Provider rates are for {fmt_month(as_of)}, the drop's own date, whatever month is chosen."
                if filters.month != as_of
                else None
            ),
            *benchmark_notes(prices, filters.month),
        )
        if n
    ]
    return WorkforceFeesPage(
        tiles=tiles(cur, filters, workforce, prices),
        provider_chart=provider_chart(cur, filters, measure, providers),
        workforce_chart=workforce_trend_chart(cur, filters, workforce),
        rate_chart=rate_chart(cur, filters, prices),
        provider_rate_chart=provider_rate_chart(cur, filters, rates_now),
        gap_cost_chart=gap_cost_chart(cur, filters, prices),
        providers=providers,
        provider_rates=rates_now,
        notes=notes,
    )


__all__ = [
    "WORKFORCE_MEASURES",
    "WorkforceFeesPage",
    "fmt_gbp_short",
    "gap_cost_chart",
    "national",
    "price_series",
    "provider_chart",
    "provider_rate_chart",
    "provider_rates",
    "provider_workforce",
    "rate_chart",
    "rates",
    "tiles",
    "workforce_fees_page",
    "workforce_series",
    "workforce_trend_chart",
]
