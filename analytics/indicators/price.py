"""Price: the council's hours-weighted hourly rate against cost benchmarks (Homecare Association, DHSC).

Definitions used throughout:

* **Weighted hourly rate** on day d: over packages active on d (``common.active_on``) that have an
  ``hourly_rate``, ``sum(hourly_rate x planned_hours_per_week) / sum(planned_hours_per_week)``, in
  £ per hour. Packages without a rate are left out of the average; ``rate_coverage_pct`` is the
  share of active weekly hours that have a rate (%).
* **Benchmarks** for the English financial year containing d, from ``config.toml``:
  ``[reference.hca_minimum_price]`` (Homecare Association Minimum Price) and
  ``[reference.fair_cost_of_care]`` (the council's Fair Cost of Care median). When the year is not in
  the table the latest earlier year is used and ``*_year`` says which year that was.
* **Gap** = benchmark - weighted rate (£ per hour; positive = the council pays less than the
  benchmark). ``gap_pct`` = gap / benchmark x 100 (the share of the benchmark price not paid).
* **Annual cost of closing the gap** = max(gap, 0) x all active planned hours a week x
  ``WEEKS_PER_YEAR`` (365 / 7 = 52.142857 weeks). All active hours are used, including packages
  without a rate, which are assumed to be paid at the weighted rate.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import financial_year, reference_for_year
from analytics.indicators.common import (
    Frame,
    active_at_months,
    active_on,
    as_text,
    by_level_and_service_type,
    coded,
    enriched_packages,
    fill_geography_months,
    filter_locality,
    mart_months,
    ratio_expr,
    rounded,
    safe_div,
)
from analytics.ingest.staged import Staged

#: Weeks in a (non-leap) year: 365 / 7.
WEEKS_PER_YEAR = 365 / 7
MINIMUM_PRICE = "hca_minimum_price"
FAIR_COST = "fair_cost_of_care"


def benchmark(table: str, d: date) -> tuple[str, float] | None:
    """Return ``(financial year, £ per hour)`` of ``[reference.<table>]`` for the year of ``d``.

    ``None`` when the table is missing from the config or has no year on or before ``d``'s year.
    """
    try:
        return reference_for_year(table, d)
    except KeyError:
        return None


def _rate_aggs() -> list[pl.Expr]:
    hours = pl.col("planned_hours_per_week")
    has_rate = pl.col("hourly_rate").is_not_null()
    return [
        hours.sum().cast(pl.Float64).alias("hours"),
        hours.filter(has_rate).sum().cast(pl.Float64).alias("rated_hours"),
        (pl.col("hourly_rate") * hours).filter(has_rate).sum().cast(pl.Float64).alias("__rate_x_hours"),
    ]


CELL_KEYS = ("locality", "rural_class", "service_type", "month")
"""The finest cells the price marts are summed from: every geography and service type is a set of them."""


def _summed_rates(cells: Frame, by: list[str]) -> Frame:
    """Return ``_rate_aggs`` by ``by`` from cells already holding them (hours and rate x hours add up)."""
    return cells.group_by(by).agg(pl.col("hours", "rated_hours", "__rate_x_hours").sum())


def _rate_columns() -> list[pl.Expr]:
    return [
        ratio_expr(pl.col("rated_hours"), pl.col("hours"), 100.0).alias("rate_coverage_pct"),
        ratio_expr(pl.col("__rate_x_hours"), pl.col("rated_hours")).alias("weighted_hourly_rate"),
    ]


def weighted_rate(packages: pl.DataFrame, d: date) -> dict[str, float | None]:
    """Return the hours-weighted hourly rate of packages active on ``d``.

    Output keys: ``hours`` (all active hours a week; ``None`` if none), ``rated_hours`` (hours a week
    with a rate), ``rate_coverage_pct`` (% of hours with a rate), ``weighted_hourly_rate`` (£ per
    hour; ``None`` when no active package has a rate).
    """
    active = active_on(packages, d)
    row = active.select(_rate_aggs()).with_columns(_rate_columns()).row(0, named=True)
    hours = row["hours"] or 0.0
    return {
        "hours": hours if hours > 0 else None,
        "rated_hours": row["rated_hours"] if hours > 0 else None,
        "rate_coverage_pct": row["rate_coverage_pct"],
        "weighted_hourly_rate": row["weighted_hourly_rate"],
    }


def price_vs_benchmarks(
    packages: pl.DataFrame,
    as_of: date,
    minimum_price: float | None = None,
    fair_cost_of_care: float | None = None,
) -> dict[str, float | str | None]:
    """Return the weighted rate on ``as_of`` against the HCA minimum price and Fair Cost of Care.

    Inputs: staged ``packages``; ``as_of``; optional benchmark overrides in £ per hour (default: the
    config value for the financial year of ``as_of``). Output: the keys of ``weighted_rate`` plus, for
    ``prefix`` in ``minimum_price`` and ``fair_cost_of_care``: ``<prefix>`` (£), ``<prefix>_year``
    (financial year used, or ``"override"``), ``gap_to_<prefix>`` (£ per hour),
    ``gap_to_<prefix>_pct`` (% of the benchmark) and ``annual_cost_to_close_<prefix>_gap`` (£ a year,
    0 when the rate already meets the benchmark); plus ``financial_year`` and ``weeks_per_year``.
    Every figure that needs a rate or a benchmark is ``None`` without one.
    """
    out: dict[str, float | str | None] = dict(weighted_rate(packages, as_of))
    out["financial_year"] = financial_year(as_of)
    out["weeks_per_year"] = WEEKS_PER_YEAR
    rate, hours = out["weighted_hourly_rate"], out["hours"]
    for prefix, table, override in (
        ("minimum_price", MINIMUM_PRICE, minimum_price),
        ("fair_cost_of_care", FAIR_COST, fair_cost_of_care),
    ):
        ref = ("override", float(override)) if override is not None else benchmark(table, as_of)
        value = ref[1] if ref else None
        gap = None if value is None or rate is None else value - rate
        out[prefix] = value
        out[f"{prefix}_year"] = ref[0] if ref else None
        out[f"gap_to_{prefix}"] = gap
        out[f"gap_to_{prefix}_pct"] = safe_div(gap, value, 100.0)
        out[f"annual_cost_to_close_{prefix}_gap"] = (
            None if gap is None or hours is None else max(gap, 0.0) * hours * WEEKS_PER_YEAR
        )
    return out


def rates_by_provider(packages: pl.DataFrame, providers: pl.DataFrame, d: date) -> pl.DataFrame:
    """Return each provider's hours-weighted rate on ``d`` (providers with active packages).

    Output: ``provider_id, provider_name, hours, rated_hours`` (hours a week), ``rate_coverage_pct``
    (%), ``weighted_hourly_rate`` (£ per hour, null without rates), ``gap_to_minimum_price`` (£ per
    hour, null without a rate or benchmark); largest hours first.
    """
    ref = benchmark(MINIMUM_PRICE, d)
    minimum = ref[1] if ref else None
    return (
        active_on(packages, d)
        .group_by("provider_id")
        .agg(_rate_aggs())
        .with_columns(_rate_columns())
        .join(providers.select("provider_id", "provider_name"), on="provider_id", how="left")
        .select(
            "provider_id",
            "provider_name",
            "hours",
            "rated_hours",
            "rate_coverage_pct",
            "weighted_hourly_rate",
            (pl.lit(minimum, dtype=pl.Float64) - pl.col("weighted_hourly_rate")).alias("gap_to_minimum_price"),
        )
        .sort(["hours", "provider_id"], descending=[True, False])
    )


def benchmarks_by_month(months: pl.DataFrame) -> pl.DataFrame:
    """Return ``month, minimum_price, minimum_price_year, fair_cost_of_care, fair_cost_of_care_year``.

    Benchmarks are for the financial year of each snapshot date (£ per hour; null when not in config).
    """
    rows = []
    for d in months.get_column("month").to_list():
        mp, fc = benchmark(MINIMUM_PRICE, d), benchmark(FAIR_COST, d)
        rows.append(
            {
                "month": d,
                "minimum_price": mp[1] if mp else None,
                "minimum_price_year": mp[0] if mp else None,
                "fair_cost_of_care": fc[1] if fc else None,
                "fair_cost_of_care_year": fc[0] if fc else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "month": pl.Date,
            "minimum_price": pl.Float64,
            "minimum_price_year": pl.String,
            "fair_cost_of_care": pl.Float64,
            "fair_cost_of_care_year": pl.String,
        },
    )


def price_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return the weighted rate and benchmark gaps on each month's snapshot date.

    Inputs: staged ``packages``; ``months`` a ``common.months_frame``. Output, one row per month:
    ``month, hours, rated_hours`` (hours a week; null when nothing is active), ``rate_coverage_pct``,
    ``weighted_hourly_rate`` (£ per hour, null without rates), ``minimum_price``, ``minimum_price_year``,
    ``fair_cost_of_care``, ``fair_cost_of_care_year``, ``gap_to_minimum_price``,
    ``gap_to_fair_cost_of_care`` (£ per hour).
    """
    by_month = active_at_months(packages, months).group_by("month").agg(_rate_aggs()).with_columns(_rate_columns())
    return (
        months.select("month")
        .join(by_month, on="month", how="left")
        .join(benchmarks_by_month(months), on="month", how="left")
        .with_columns(
            (pl.col("minimum_price") - pl.col("weighted_hourly_rate")).alias("gap_to_minimum_price"),
            (pl.col("fair_cost_of_care") - pl.col("weighted_hourly_rate")).alias("gap_to_fair_cost_of_care"),
        )
        .drop("__rate_x_hours")
        .sort("month")
    )


PRICE_MONTH_COLUMNS = (
    "hours", "rated_hours", "rate_coverage_pct", "weighted_hourly_rate", "minimum_price", "minimum_price_year",
    "fair_cost_of_care", "fair_cost_of_care_year", "gap_to_minimum_price", "gap_to_fair_cost_of_care",
)  # fmt: skip


def price_by_geography(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return ``price_by_month`` for every geography x service type (``all`` and each) in one pass.

    Output: ``geography_level, geography, service_type, month`` then the columns of ``price_by_month``;
    every geography, service type of the drop and month appears (null measures where nothing was
    active), in the order geography, service type, month.
    """
    packages = enriched_packages(staged).select(
        "locality", "rural_class", "service_type", "hourly_rate", "planned_hours_per_week", "start_date", "end_date"
    )
    keys = ["geography_level", "geography", "service_type", "month"]
    text = ["locality", "rural_class", "service_type"]  # Categorical while exploded to months
    cells = active_at_months(coded(packages, text), months).lazy().group_by(CELL_KEYS).agg(_rate_aggs())
    cells = as_text(cells, text).collect()
    stats = by_level_and_service_type(cells, _summed_rates, ["month"])
    return (
        fill_geography_months(staged, months, stats)
        .with_columns(_rate_columns())
        .join(benchmarks_by_month(months), on="month", how="left", maintain_order="left")
        .with_columns(
            (pl.col("minimum_price") - pl.col("weighted_hourly_rate")).alias("gap_to_minimum_price"),
            (pl.col("fair_cost_of_care") - pl.col("weighted_hourly_rate")).alias("gap_to_fair_cost_of_care"),
        )
        .select(*keys, *PRICE_MONTH_COLUMNS)
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the price marts.

    * ``mart_price_month``: ``geography_level, geography, service_type`` then the columns of
      ``price_by_month`` (``price_by_geography``).
    * ``mart_price_provider``: ``rates_by_provider`` on ``as_of``.
    """
    return {
        "mart_price_month": price_by_geography(staged, mart_months(staged)),
        "mart_price_provider": rates_by_provider(staged.packages, staged.providers, staged.as_of),
    }


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | None]:
    """Return price headline figures for ``locality`` (``None`` = council) on ``as_of``.

    Keys: ``weighted_hourly_rate`` (£ per hour), ``rate_coverage_pct`` (% of active hours with a
    rate), ``fee_gap_to_minimum_price`` (HCA minimum price - weighted rate, £ per hour),
    ``fee_gap_to_minimum_price_pct`` (% of the minimum price), ``fee_gap_to_fair_cost_of_care`` (£ per
    hour) and ``annual_cost_to_close_minimum_price_gap`` (£ a year, whole pounds); others rounded to
    2 dp. ``None`` without rates (or without a benchmark for the gaps).
    """
    sub = filter_locality(staged, locality)
    p = price_vs_benchmarks(sub.packages, as_of)
    return {
        "weighted_hourly_rate": rounded(p["weighted_hourly_rate"]),
        "rate_coverage_pct": rounded(p["rate_coverage_pct"]),
        "fee_gap_to_minimum_price": rounded(p["gap_to_minimum_price"]),
        "fee_gap_to_minimum_price_pct": rounded(p["gap_to_minimum_price_pct"]),
        "fee_gap_to_fair_cost_of_care": rounded(p["gap_to_fair_cost_of_care"]),
        "annual_cost_to_close_minimum_price_gap": rounded(p["annual_cost_to_close_minimum_price_gap"], 0),
    }
