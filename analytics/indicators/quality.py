"""Quality: the hours-weighted CQC rating mix of the providers the council uses (CQC care directory).

Definitions used throughout:

* Hours are ``planned_hours_per_week`` of packages **active** on the date (``common.active_on``),
  so every share is "% of the weekly hours in care on that date".
* A provider's rating is its latest overall ``cqc_rating`` from ``providers``; a blank rating (or a
  provider missing from ``providers``) is ``Not rated``.
* Rating currency on day d, one class per provider: ``unrated`` (``Not rated``); ``out_of_date``
  (rating date before the same day ``rating_stale_years`` years earlier, config ``[thresholds]``,
  4 by default); ``date_unknown`` (a rating with no date, so its currency cannot be confirmed);
  ``current`` otherwise. "Unrated or out of date" counts the first three.
* The drop holds only the latest rating, so historical months use today's rating: a month's mix
  says "these hours were with providers now rated X", not the rating they held then.
"""

from __future__ import annotations

import calendar
from datetime import date

import polars as pl

from analytics.config import settings
from analytics.contract import CQC_RATINGS
from analytics.indicators.common import (
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

NOT_RATED = "Not rated"
GOOD_OR_OUTSTANDING = ("Outstanding", "Good")
CURRENCY_CLASSES = ("current", "out_of_date", "date_unknown", "unrated")
DEFAULT_STALE_YEARS = 4


def stale_years() -> int:
    """Return ``[thresholds] rating_stale_years`` from config (4 if absent)."""
    return int(settings().get("thresholds", {}).get("rating_stale_years", DEFAULT_STALE_YEARS))


def years_before(d: date, years: int) -> date:
    """Return the same calendar day ``years`` years before ``d`` (29 February becomes 28 February)."""
    year = d.year - years
    return date(year, d.month, min(d.day, calendar.monthrange(year, d.month)[1]))


def _rating_expr() -> pl.Expr:
    return pl.col("cqc_rating").fill_null(NOT_RATED).alias("rating")


def _currency_expr(cutoff: pl.Expr) -> pl.Expr:
    rating = pl.col("rating")
    return (
        pl.when(rating == NOT_RATED)
        .then(pl.lit("unrated"))
        .when(pl.col("cqc_rating_date").is_null())
        .then(pl.lit("date_unknown"))
        .when(pl.col("cqc_rating_date") < cutoff)
        .then(pl.lit("out_of_date"))
        .otherwise(pl.lit("current"))
        .alias("currency")
    )


def with_ratings(packages: pl.DataFrame, providers: pl.DataFrame) -> pl.DataFrame:
    """Return ``packages`` with the provider's ``rating`` (blank = ``Not rated``) and ``cqc_rating_date``."""
    return packages.join(
        providers.select("provider_id", "cqc_rating", "cqc_rating_date"), on="provider_id", how="left"
    ).with_columns(_rating_expr())


def rating_mix(packages: pl.DataFrame, providers: pl.DataFrame, d: date) -> pl.DataFrame:
    """Return the hours-weighted rating mix of packages active on ``d``.

    Output: one row per rating in CQC order (Outstanding, Good, Requires improvement, Inadequate,
    Not rated), columns ``rating`` (String), ``providers`` (Int64, distinct providers), ``packages``
    (Int64), ``hours`` (Float64, hours a week) and ``hours_pct`` (Float64, % of all active hours; null
    when no hours are active, so an empty date never reads as 0%).
    """
    active = with_ratings(active_on(packages, d), providers)
    by_rating = active.group_by("rating").agg(
        pl.col("provider_id").n_unique().cast(pl.Int64).alias("providers"),
        pl.len().cast(pl.Int64).alias("packages"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours"),
    )
    total = float(active.get_column("planned_hours_per_week").sum() or 0.0)
    order = pl.DataFrame({"rating": list(CQC_RATINGS)}, schema={"rating": pl.String})
    return (
        order.join(by_rating, on="rating", how="left", maintain_order="left")
        .with_columns(
            pl.col("providers").fill_null(0),
            pl.col("packages").fill_null(0),
            pl.col("hours").fill_null(0.0),
        )
        .with_columns(ratio_expr(pl.col("hours"), pl.lit(total), 100.0).alias("hours_pct"))
    )


def rating_currency(
    packages: pl.DataFrame, providers: pl.DataFrame, d: date, stale_after_years: int | None = None
) -> dict[str, float | None]:
    """Return the hours-weighted rating summary of packages active on ``d``.

    Inputs: staged ``packages`` and ``providers``; ``stale_after_years`` (default config
    ``rating_stale_years``). Output keys (hours are hours a week, ``_pct`` are % of ``hours``):
    ``hours``, ``good_outstanding_pct``, ``unrated_pct``, ``out_of_date_pct``, ``date_unknown_pct``,
    ``unrated_or_stale_pct`` (unrated + out of date + date unknown). All ``None`` when no hours are
    active on ``d``.
    """
    years = stale_years() if stale_after_years is None else stale_after_years
    active = with_ratings(active_on(packages, d), providers).with_columns(
        _currency_expr(pl.lit(years_before(d, years)))
    )
    hours = float(active.get_column("planned_hours_per_week").sum() or 0.0)

    def share(mask: pl.Expr) -> float | None:
        part = float(active.filter(mask).get_column("planned_hours_per_week").sum() or 0.0)
        return safe_div(part, hours, 100.0)

    return {
        "hours": hours if hours > 0 else None,
        "good_outstanding_pct": share(pl.col("rating").is_in(list(GOOD_OR_OUTSTANDING))),
        "unrated_pct": share(pl.col("currency") == "unrated"),
        "out_of_date_pct": share(pl.col("currency") == "out_of_date"),
        "date_unknown_pct": share(pl.col("currency") == "date_unknown"),
        "unrated_or_stale_pct": share(pl.col("currency") != "current"),
    }


def provider_ratings(
    providers: pl.DataFrame, packages: pl.DataFrame, d: date, stale_after_years: int | None = None
) -> pl.DataFrame:
    """Return one row per provider with its rating, rating age and active hours on ``d``.

    Output: ``provider_id, provider_name, rating, cqc_rating_date, rating_age_years`` (Float64, days /
    365.25, null when undated), ``currency`` (see module docstring), ``packages`` (Int64) and
    ``hours`` (Float64, hours a week active on ``d``; 0 for providers with none), largest hours first.
    """
    years = stale_years() if stale_after_years is None else stale_after_years
    active = (
        active_on(packages, d)
        .group_by("provider_id")
        .agg(
            pl.len().cast(pl.Int64).alias("packages"),
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours"),
        )
    )
    return (
        providers.select("provider_id", "provider_name", "cqc_rating", "cqc_rating_date")
        .with_columns(_rating_expr())
        .with_columns(
            ((pl.lit(d) - pl.col("cqc_rating_date")).dt.total_days() / 365.25).alias("rating_age_years"),
            _currency_expr(pl.lit(years_before(d, years))),
        )
        .join(active, on="provider_id", how="left")
        .select(
            "provider_id",
            "provider_name",
            "rating",
            "cqc_rating_date",
            "rating_age_years",
            "currency",
            pl.col("packages").fill_null(0),
            pl.col("hours").fill_null(0.0),
        )
        .sort(["hours", "provider_id"], descending=[True, False])
    )


def rating_mix_by_month(
    packages: pl.DataFrame, providers: pl.DataFrame, months: pl.DataFrame, stale_after_years: int | None = None
) -> pl.DataFrame:
    """Return the rating mix and currency shares for each month's snapshot date.

    Inputs: staged ``packages`` and ``providers``; ``months`` a ``common.months_frame``.
    Output, one row per (month, rating in CQC order): ``month``, ``rating``, ``hours`` (Float64, hours
    a week active on the snapshot date), ``hours_pct`` (% of the month's active hours), and the
    month-level ``good_outstanding_pct`` and ``unrated_or_stale_pct`` repeated on each rating row.
    Percentages are null for a month with no active packages.
    """
    years = stale_years() if stale_after_years is None else stale_after_years
    cutoffs = pl.DataFrame(
        {"month": months.get_column("month"), "__cutoff": [years_before(d, years) for d in months.get_column("month")]},
        schema={"month": pl.Date, "__cutoff": pl.Date},
    )
    active = (
        with_ratings(active_at_months(packages, months), providers)
        .join(cutoffs, on="month", how="left")
        .with_columns(_currency_expr(pl.col("__cutoff")))
    )
    grid = months.select("month").join(
        pl.DataFrame({"rating": list(CQC_RATINGS)}, schema={"rating": pl.String}), how="cross"
    )
    by_rating = active.group_by("month", "rating").agg(
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours")
    )
    hours = pl.col("planned_hours_per_week")
    by_month = active.group_by("month").agg(
        hours.sum().cast(pl.Float64).alias("__total"),
        hours.filter(pl.col("rating").is_in(list(GOOD_OR_OUTSTANDING))).sum().cast(pl.Float64).alias("__good"),
        hours.filter(pl.col("currency") != "current").sum().cast(pl.Float64).alias("__risk"),
    )
    rank = {r: i for i, r in enumerate(CQC_RATINGS)}
    return (
        grid.join(by_rating, on=["month", "rating"], how="left")
        .join(by_month, on="month", how="left")
        .with_columns(pl.col("hours").fill_null(0.0))
        .select(
            "month",
            "rating",
            "hours",
            ratio_expr(pl.col("hours"), pl.col("__total"), 100.0).alias("hours_pct"),
            ratio_expr(pl.col("__good"), pl.col("__total"), 100.0).alias("good_outstanding_pct"),
            ratio_expr(pl.col("__risk"), pl.col("__total"), 100.0).alias("unrated_or_stale_pct"),
        )
        .sort(pl.col("month"), pl.col("rating").replace_strict(rank, return_dtype=pl.Int64))
    )


def _mix_stats(active: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Return hours by ``by`` x rating, with the hours of Good/Outstanding and unrated-or-stale ratings."""
    hours = pl.col("planned_hours_per_week")
    good = pl.col("rating").is_in(list(GOOD_OR_OUTSTANDING))
    return active.group_by(*by, "rating").agg(
        hours.sum().cast(pl.Float64).alias("hours"),
        hours.filter(good).sum().cast(pl.Float64).alias("__good"),
        hours.filter(pl.col("currency") != "current").sum().cast(pl.Float64).alias("__risk"),
    )


def rating_mix_by_geography(staged: Staged, months: pl.DataFrame, stale_after_years: int | None = None) -> pl.DataFrame:
    """Return ``rating_mix_by_month`` for every geography x service type (``all`` and each) in one pass.

    Output: ``geography_level, geography, service_type`` then the columns of ``rating_mix_by_month``;
    every geography, service type of the drop, month and rating appears (hours 0, shares null where
    nothing was active), in the order geography, service type, month, CQC rating.
    """
    years = stale_years() if stale_after_years is None else stale_after_years
    cutoffs = pl.DataFrame(
        {"month": months.get_column("month"), "__cutoff": [years_before(d, years) for d in months.get_column("month")]},
        schema={"month": pl.Date, "__cutoff": pl.Date},
    )
    packages = enriched_packages(staged).select(
        "locality", "rural_class", "service_type", "provider_id", "planned_hours_per_week", "start_date", "end_date"
    )
    place = ["locality", "rural_class", "service_type", "month"]
    # cells: hours add up, so each provider's hours per place and month are rated once (not per package)
    text = ["locality", "rural_class", "service_type", "provider_id"]  # Categorical while exploded to months
    provider_hours = as_text(
        active_at_months(coded(packages, text), months)
        .lazy()
        .group_by(*place, "provider_id")
        .agg(pl.col("planned_hours_per_week").sum()),
        text,
    ).collect()
    active = (
        with_ratings(provider_hours, staged.providers)
        .join(cutoffs, on="month", how="left")
        .with_columns(_currency_expr(pl.col("__cutoff")))
        .group_by(*place, "rating", "currency")
        .agg(pl.col("planned_hours_per_week").sum())
    )
    keys = ["geography_level", "geography", "service_type", "month"]
    stats = by_level_and_service_type(active, _mix_stats, ["month"])
    totals = stats.group_by(keys).agg(
        pl.col("hours").sum().alias("__total"), pl.col("__good").sum(), pl.col("__risk").sum()
    )
    ratings = pl.DataFrame({"rating": list(CQC_RATINGS)}, schema={"rating": pl.String})
    return (
        fill_geography_months(staged, months, stats.select(*keys, "rating", "hours"), ratings, zero=["hours"])
        .join(totals, on=keys, how="left", maintain_order="left")
        .select(
            *keys,
            "rating",
            "hours",
            ratio_expr(pl.col("hours"), pl.col("__total"), 100.0).alias("hours_pct"),
            ratio_expr(pl.col("__good"), pl.col("__total"), 100.0).alias("good_outstanding_pct"),
            ratio_expr(pl.col("__risk"), pl.col("__total"), 100.0).alias("unrated_or_stale_pct"),
        )
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the quality marts.

    * ``mart_quality_mix``: ``geography_level, geography, service_type, month, rating, hours,
      hours_pct, good_outstanding_pct, unrated_or_stale_pct`` (``rating_mix_by_geography``).
    * ``mart_quality_provider``: ``provider_ratings`` on ``as_of`` (every provider).
    """
    return {
        "mart_quality_mix": rating_mix_by_geography(staged, mart_months(staged)),
        "mart_quality_provider": provider_ratings(staged.providers, staged.packages, staged.as_of),
    }


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | None]:
    """Return quality headline figures for ``locality`` (``None`` = council) on ``as_of``.

    Keys: ``good_outstanding_hours_pct`` (% of active weekly hours with Good or Outstanding
    providers) and ``unrated_or_stale_hours_pct`` (% with unrated, out-of-date or undated ratings).
    Rounded to 2 dp; ``None`` when no package is active.
    """
    sub = filter_locality(staged, locality)
    summary = rating_currency(sub.packages, staged.providers, as_of)
    return {
        "good_outstanding_hours_pct": rounded(summary["good_outstanding_pct"]),
        "unrated_or_stale_hours_pct": rounded(summary["unrated_or_stale_pct"]),
    }
