"""Workforce: provider vacancy and turnover rates against the national figures.

Reads ``mart_workforce_provider_month`` and ``mart_workforce_month`` (providers; no area) and the
providers serving a locality from ``mart_provider_share_month``. National reference rates come
from ``config.toml`` ``[reference.national]`` (homecare vacancy 10.1%, turnover 24.7%, Skills for
Care 2024/25). Rates for a set of providers are ratios of sums (as in ``indicators.workforce``):
vacancy rate = vacancies / (filled posts + vacancies); turnover = leavers in 12 months / filled
posts. The Workforce and fees page is assembled in ``views.workforce_fees``.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_month, fmt_month_range, fmt_pct
from analytics.indicators.marts import read_mart
from analytics.publish.charts import SECONDARY_TEXT, ChartSpec, add_line, bar_chart, merge_layout
from analytics.views.common import (
    drop_info,
    month_lines,
    months_before,
    spec,
    tall,
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


def national(measure: str) -> float | None:
    """Return the national reference rate (%) for ``measure`` (``vacancy``/``turnover``) from config."""
    key = WORKFORCE_MEASURES[measure][2]
    value = settings().get("reference", {}).get("national", {}).get(key)
    return None if value is None else float(value)


def add_reference(chart: ChartSpec, value: float | None, name: str, dash: str = "dash") -> None:
    """Mark ``value`` on a horizontal bar chart with a vertical line named in the legend (no overlapping labels)."""
    if value is None or chart.figure is None:
        return
    add_line(chart.figure, x=value, line={"dash": dash, "color": SECONDARY_TEXT, "width": 2})
    chart.figure.add_scatter(
        _validate=False,
        x=[None],
        y=[None],
        mode="lines",
        line={"dash": dash, "color": SECONDARY_TEXT, "width": 2},
        name=name,
        showlegend=True,
        hoverinfo="skip",
    )
    merge_layout(chart.figure, showlegend=True)


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


def _rate_aggs() -> list[pl.Expr]:
    """Vacancy and turnover rates (%) of a group of provider rows, as ratios of sums (null with no posts)."""
    vacancies_known = pl.col("vacancies").is_not_null() & pl.col("filled_posts").is_not_null()
    leavers_known = pl.col("leavers_12m").is_not_null() & pl.col("filled_posts").is_not_null()
    vacancies = pl.col("vacancies").filter(vacancies_known).sum()
    posts = pl.col("filled_posts").filter(vacancies_known).sum() + vacancies
    filled = pl.col("filled_posts").filter(leavers_known).sum()
    return [
        pl.when(posts != 0).then(vacancies * 100.0 / posts).cast(pl.Float64).alias("vacancy_rate_pct"),
        pl.when(filled != 0)
        .then(pl.col("leavers_12m").filter(leavers_known).sum() * 100.0 / filled)
        .cast(pl.Float64)
        .alias("turnover_rate_pct"),
        pl.len().cast(pl.Int64).alias("providers_reporting"),
    ]


def rates(frame: pl.DataFrame) -> dict[str, float | None]:
    """Return the vacancy and turnover rates (%) of a set of providers, as ratios of sums."""
    return frame.select(_rate_aggs()).row(0, named=True)


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
    frame = rows.filter(pl.col("month") <= filters.month).group_by("month").agg(_rate_aggs())  # ``rates`` per month
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
        side = "level with" if fmt_pct(now) == fmt_pct(ref) else "above" if now > ref else "below"  # as printed
        compare = f", {side} the national {fmt_pct(ref)}"
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
    return month_lines(
        data,
        "pct",
        base,
        measure="the rate",
        by="measure",
        scale=(fmt_pct, "% (vacancies of all posts; leavers in 12 months of filled posts)"),
    )
