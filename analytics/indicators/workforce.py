"""Workforce: vacancies, turnover and staffing intensity of providers (Skills for Care ASC-WDS definitions).

Definitions (Skills for Care ASC-WDS, applied to the ``workforce`` file of the drop):

* **Vacancy rate** = vacancies / (filled posts + vacancies) x 100, over providers that report
  ``vacancies``.
* **Turnover rate** = leavers in the last 12 months / filled posts x 100, over providers that
  report ``leavers_12m``.
* **Filled posts per 100 weekly hours** = filled posts / hours a week x 100, where hours a week are
  the provider's delivered hours in the month (``delivery.weekly_delivered_by_month``) or, when it
  has no delivery rows that month, its planned hours of packages active on the month's snapshot
  date (``hours_basis`` says which).
* **Workforce month** for a date d: the latest calendar month with any workforce row on or before
  d. Council figures sum the providers reporting in that month; providers that did not report that
  month are left out (``providers_reporting`` says how many did).

Council-wide rates are ratios of sums (not averages of provider rates), so big providers weigh more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from analytics.indicators.common import (
    PROVIDER_MONTH_SCHEMA,
    active_at_months,
    active_on,
    enriched_packages,
    fill_in_order,
    filter_locality,
    geography_frame,
    month_end,
    months_frame,
    per_level,
    ratio_expr,
    rounded,
)
from analytics.indicators.delivery import period_kind, weekly_delivered_by_month
from analytics.ingest.staged import Staged

PROVIDER_COLUMNS = {
    **PROVIDER_MONTH_SCHEMA,
    "filled_posts": pl.Int64,
    "vacancies": pl.Int64,
    "leavers_12m": pl.Int64,
    "vacancy_rate_pct": pl.Float64,
    "turnover_rate_pct": pl.Float64,
    "hours_per_week": pl.Float64,
    "hours_basis": pl.String,
    "filled_posts_per_100_hours": pl.Float64,
}


def workforce_month(workforce: pl.DataFrame, as_of: date) -> date | None:
    """Return the first day of the latest month with a workforce row on or before ``as_of`` (or ``None``)."""
    months = workforce.get_column("month").drop_nulls().dt.truncate("1mo")
    latest = months.filter(months <= as_of).max()
    return latest


def single_month(month_start: date, as_of: date) -> pl.DataFrame:
    """Return a one-row months frame for the month starting ``month_start`` (snapshot capped at ``as_of``)."""
    return pl.DataFrame(
        {"month": [min(month_end(month_start), as_of)], "month_start": [month_start]},
        schema={"month": pl.Date, "month_start": pl.Date},
    )


def provider_workforce_by_month(
    workforce: pl.DataFrame,
    providers: pl.DataFrame,
    packages: pl.DataFrame,
    delivery: pl.DataFrame,
    months: pl.DataFrame,
) -> pl.DataFrame:
    """Return one row per provider reporting workforce data in each month of ``months``.

    Inputs: staged ``workforce``, ``providers``, ``packages`` and ``delivery``; ``months`` a
    ``common.months_frame`` (``month`` = snapshot date). Output columns (``PROVIDER_COLUMNS``):
    ``month, provider_id, provider_name, filled_posts, vacancies, leavers_12m`` (posts / people),
    ``vacancy_rate_pct, turnover_rate_pct`` (%), ``hours_per_week`` (delivered, else planned),
    ``hours_basis`` (``delivered``/``planned``, null without hours), ``filled_posts_per_100_hours``.
    Rates are null when their inputs are missing or the denominator is 0.
    """
    rows = (
        workforce.with_columns(pl.col("month").dt.truncate("1mo").alias("month_start"))
        .drop("month")
        .join(months, on="month_start", how="inner")
        .group_by("month", "provider_id")
        .agg(
            pl.col("filled_posts").sum().cast(pl.Int64),
            # A sum of all-null stays null, so "not reported" never becomes 0.
            pl.when(pl.col("vacancies").is_not_null().any()).then(pl.col("vacancies").sum()).cast(pl.Int64),
            pl.when(pl.col("leavers_12m").is_not_null().any()).then(pl.col("leavers_12m").sum()).cast(pl.Int64),
        )
    )
    delivered = weekly_delivered_by_month(delivery, months, ["provider_id"], kind=period_kind(delivery)).select(
        "month", "provider_id", "delivered_hours_per_week"
    )
    planned = (
        active_at_months(packages.select("provider_id", "planned_hours_per_week", "start_date", "end_date"), months)
        .group_by("month", "provider_id")
        .agg(pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("__planned"))
    )
    hours = pl.coalesce("delivered_hours_per_week", "__planned")
    return (
        rows.join(delivered, on=["month", "provider_id"], how="left")
        .join(planned, on=["month", "provider_id"], how="left")
        .join(providers.select("provider_id", "provider_name"), on="provider_id", how="left")
        .with_columns(
            ratio_expr(pl.col("vacancies"), pl.col("filled_posts") + pl.col("vacancies"), 100.0).alias(
                "vacancy_rate_pct"
            ),
            ratio_expr(pl.col("leavers_12m"), pl.col("filled_posts"), 100.0).alias("turnover_rate_pct"),
            hours.alias("hours_per_week"),
            pl.when(pl.col("delivered_hours_per_week").is_not_null())
            .then(pl.lit("delivered"))
            .when(pl.col("__planned").is_not_null())
            .then(pl.lit("planned"))
            .otherwise(pl.lit(None, dtype=pl.String))
            .alias("hours_basis"),
        )
        .with_columns(
            ratio_expr(pl.col("filled_posts"), pl.col("hours_per_week"), 100.0).alias("filled_posts_per_100_hours")
        )
        .select([pl.col(c).cast(t) for c, t in PROVIDER_COLUMNS.items()])
        .sort("month", "provider_id")
    )


def summarise(provider_rows: pl.DataFrame) -> pl.DataFrame:
    """Return council-wide figures per month from ``provider_workforce_by_month`` rows.

    Output: ``month, providers_reporting`` (Int64), ``filled_posts, vacancies, leavers_12m`` (sums over
    providers reporting each; null when none do), ``vacancy_rate_pct``, ``turnover_rate_pct``,
    ``filled_posts_per_100_hours`` (ratios of sums, each over the providers with its inputs).
    """
    has_vac = pl.col("vacancies").is_not_null()
    has_leavers = pl.col("leavers_12m").is_not_null()
    has_hours = pl.col("hours_per_week").is_not_null() & (pl.col("hours_per_week") > 0)
    filled = pl.col("filled_posts")
    return (
        provider_rows.group_by("month")
        .agg(
            pl.col("provider_id").n_unique().cast(pl.Int64).alias("providers_reporting"),
            filled.sum().cast(pl.Int64).alias("filled_posts"),
            pl.when(has_vac.any()).then(pl.col("vacancies").sum()).cast(pl.Int64).alias("vacancies"),
            pl.when(has_leavers.any()).then(pl.col("leavers_12m").sum()).cast(pl.Int64).alias("leavers_12m"),
            filled.filter(has_vac).sum().cast(pl.Float64).alias("__filled_vac"),
            filled.filter(has_leavers).sum().cast(pl.Float64).alias("__filled_leavers"),
            filled.filter(has_hours).sum().cast(pl.Float64).alias("__filled_hours"),
            pl.col("hours_per_week").filter(has_hours).sum().cast(pl.Float64).alias("__hours"),
        )
        .with_columns(
            ratio_expr(pl.col("vacancies"), pl.col("__filled_vac") + pl.col("vacancies"), 100.0).alias(
                "vacancy_rate_pct"
            ),
            ratio_expr(pl.col("leavers_12m"), pl.col("__filled_leavers"), 100.0).alias("turnover_rate_pct"),
            ratio_expr(pl.col("__filled_hours"), pl.col("__hours"), 100.0).alias("filled_posts_per_100_hours"),
        )
        .select(
            "month",
            "providers_reporting",
            "filled_posts",
            "vacancies",
            "leavers_12m",
            "vacancy_rate_pct",
            "turnover_rate_pct",
            "filled_posts_per_100_hours",
        )
        .sort("month")
    )


def provider_workforce(staged: Staged, as_of: date) -> pl.DataFrame:
    """Return ``provider_workforce_by_month`` for the workforce month of ``as_of`` (empty without data)."""
    latest = workforce_month(staged.workforce, as_of)
    if latest is None:
        return pl.DataFrame(schema=PROVIDER_COLUMNS)
    return provider_workforce_by_month(
        staged.workforce, staged.providers, staged.packages, staged.delivery, single_month(latest, as_of)
    )


def council_workforce(staged: Staged, as_of: date) -> dict[str, float | int | date | None]:
    """Return the council-wide row of ``summarise`` for the workforce month of ``as_of``.

    Keys: ``month`` (snapshot date of the workforce month) and the columns of ``summarise``; every
    value ``None`` when there is no workforce data on or before ``as_of``.
    """
    rows = provider_workforce(staged, as_of)
    summary = summarise(rows)
    if summary.is_empty():
        return dict.fromkeys(summary.columns)
    return summary.row(0, named=True)


def vacancy_exposure(staged: Staged, as_of: date, rates: pl.DataFrame | None = None) -> dict[str, float | None]:
    """Return the hours-weighted vacancy rate of the providers serving the packages active on ``as_of``.

    Each active package's hours carry its provider's vacancy rate in the workforce month of ``as_of``
    (``rates``: ``provider_id, vacancy_rate_pct``, worked out from ``staged`` when not given; pass it
    when calling once per area, since a provider's rate does not depend on the area).
    Output: ``hours`` (hours a week), ``hours_with_vacancy_data`` (hours a week),
    ``vacancy_data_coverage_pct`` (%), ``hours_weighted_vacancy_rate_pct`` (%; ``None`` without data).
    """
    if rates is None:
        rates = provider_workforce(staged, as_of).select("provider_id", "vacancy_rate_pct")
    active = active_on(staged.packages, as_of).join(rates, on="provider_id", how="left")
    row = active.select(_exposure_aggs()).with_columns(_exposure_columns()).drop("__weighted").row(0, named=True)
    if not row["hours"]:
        return dict.fromkeys(row)
    return row


EXPOSURE_COLUMNS = ("hours", "hours_with_vacancy_data", "vacancy_data_coverage_pct", "hours_weighted_vacancy_rate_pct")


def _exposure_aggs() -> list[pl.Expr]:
    has = pl.col("vacancy_rate_pct").is_not_null()
    h = pl.col("planned_hours_per_week")
    return [
        h.sum().cast(pl.Float64).alias("hours"),
        h.filter(has).sum().cast(pl.Float64).alias("hours_with_vacancy_data"),
        (h * pl.col("vacancy_rate_pct")).filter(has).sum().cast(pl.Float64).alias("__weighted"),
    ]


def _exposure_columns() -> list[pl.Expr]:
    return [
        ratio_expr(pl.col("hours_with_vacancy_data"), pl.col("hours"), 100.0).alias("vacancy_data_coverage_pct"),
        ratio_expr(pl.col("__weighted"), pl.col("hours_with_vacancy_data")).alias("hours_weighted_vacancy_rate_pct"),
    ]


def vacancy_exposure_by_geography(staged: Staged, as_of: date, rates: pl.DataFrame) -> pl.DataFrame:
    """Return ``vacancy_exposure`` for every geography in one grouped pass per geography level.

    Output: ``geography_level, geography`` and ``EXPOSURE_COLUMNS``; every geography appears, all
    null where no hours are active on ``as_of`` (as ``vacancy_exposure``).
    """
    active = (
        active_on(enriched_packages(staged), as_of)
        .select("locality", "rural_class", "provider_id", "planned_hours_per_week")
        .join(rates, on="provider_id", how="left")
    )
    keys = ["geography_level", "geography"]
    stats = per_level(active, lambda f: f.group_by(keys).agg(_exposure_aggs())).with_columns(_exposure_columns())
    some_hours = pl.col("hours").fill_null(0) != 0
    return fill_in_order(geography_frame(staged.areas), stats, keys).select(
        *keys, *[pl.when(some_hours).then(pl.col(c)).cast(pl.Float64).alias(c) for c in EXPOSURE_COLUMNS]
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the workforce marts.

    * ``mart_workforce_provider_month``: ``provider_workforce_by_month`` over the 36-month grid.
    * ``mart_workforce_month``: council-wide ``summarise`` of it, one row per month with data.
    * ``mart_workforce_exposure``: ``geography_level, geography`` and the keys of
      ``vacancy_exposure`` on ``as_of`` (which localities depend on high-vacancy providers).
    """
    months = months_frame(staged.as_of)
    provider_rows = provider_workforce_by_month(
        staged.workforce, staged.providers, staged.packages, staged.delivery, months
    )

    # Vacancy rates come from the whole drop, once: a provider's rate does not depend on the area.
    rates = provider_workforce(staged, staged.as_of).select("provider_id", "vacancy_rate_pct")

    return {
        "mart_workforce_provider_month": provider_rows,
        "mart_workforce_month": summarise(provider_rows),
        "mart_workforce_exposure": vacancy_exposure_by_geography(staged, staged.as_of, rates),
    }


# One scope rule (analytics.indicators.headline): workforce returns are per provider, not per service type.
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | None]:
    """Return workforce headline figures for ``locality`` (``None`` = council).

    For a locality, the providers with packages there (``common.filter_locality``) are summed, each
    with its whole workforce and its hours across the council (posts are not split by area).
    Keys: ``vacancy_rate_pct``, ``turnover_rate_pct`` (%) and ``filled_posts_per_100_hours``, rounded
    to 2 dp; ``None`` without workforce data on or before ``as_of``.
    """
    if locality is not None:
        ids = filter_locality(staged, locality).providers.get_column("provider_id").to_list()
        staged = replace(staged, workforce=staged.workforce.filter(pl.col("provider_id").is_in(ids)))
    council = council_workforce(staged, as_of)
    return {
        "vacancy_rate_pct": rounded(council["vacancy_rate_pct"]),
        "turnover_rate_pct": rounded(council["turnover_rate_pct"]),
        "filled_posts_per_100_hours": rounded(council["filled_posts_per_100_hours"]),
    }
