"""Microenterprises: active microenterprises, their customers and hours, ratios, openings and closures.

A microenterprise is a provider whose ``provider_type`` is ``microenterprise``; it is *active* on a
day when it has at least one active package that day. Units: counts; hours a week; ratios are
customers (or hours a week) per active microenterprise; share of people in %, 0 to 100.
Ratios are null (never 0, never an error) when there is no active microenterprise or customer.

New and closed (flows, per period from the first of the month to the snapshot date): a
microenterprise is *new* in the period containing the start of its first package (within the
geography), and *closed* in the period containing the end of its last package when none of its
packages is ongoing. Comparators (DOMAIN.md 0.1, 1.12) are in ``config.toml
[reference.microenterprise_comparators]``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.indicators.common import (
    MART_MONTHS,
    MICROENTERPRISE,
    active_at_months,
    area_attributes,
    dense_months,
    enriched_packages,
    filter_locality,
    geographies,
    months_frame,
    per_geography,
    population_65_plus,
    ratio_expr,
    rounded,
)
from analytics.staged import Staged

COUNTS = (
    "microenterprises_active",
    "microenterprise_customers",
    "microenterprise_hours_per_week",
    "people_in_service",
    "microenterprises_new",
    "microenterprises_closed",
)
RATIOS = (
    "customers_per_microenterprise",
    "hours_per_microenterprise",
    "hours_per_microenterprise_customer",
    "microenterprise_share_of_people_pct",
)


def _openings_closures(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return month, microenterprises_new, microenterprises_closed for microenterprise ``packages``."""
    per_me = packages.group_by("provider_id").agg(
        pl.col("start_date").min().alias("first_start"),
        pl.when(pl.col("end_date").is_null().any())
        .then(pl.lit(None, dtype=pl.Date))
        .otherwise(pl.col("end_date").max())
        .alias("last_end"),
    )
    periods = months.select("month", "month_start")
    if per_me.is_empty():
        return periods.select(
            "month",
            pl.lit(0, dtype=pl.Int64).alias("microenterprises_new"),
            pl.lit(0, dtype=pl.Int64).alias("microenterprises_closed"),
        )

    def count(column: str, alias: str) -> pl.DataFrame:
        dated = per_me.filter(pl.col(column).is_not_null())
        if dated.is_empty():
            return periods.select("month", pl.lit(0, dtype=pl.Int64).alias(alias))
        hits = dated.join_where(periods, pl.col(column) >= pl.col("month_start"), pl.col(column) <= pl.col("month"))
        return hits.group_by("month").agg(pl.len().cast(pl.Int64).alias(alias))

    new = count("first_start", "microenterprises_new")
    closed = count("last_end", "microenterprises_closed")
    return (
        periods.select("month")
        .join(new, on="month", how="left")
        .join(closed, on="month", how="left")
        .with_columns(pl.col("microenterprises_new", "microenterprises_closed").fill_null(0))
    )


def microenterprise_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return microenterprise measures for each month of ``months`` (a ``common.months_frame``).

    ``packages`` must carry ``provider_type`` (``common.enriched_packages``). Columns: month,
    ``COUNTS`` (Int64; hours Float64) then ``RATIOS`` (Float64, null when the denominator is 0).
    """
    snapshot = active_at_months(packages, months)
    people = snapshot.group_by("month").agg(pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service"))
    me_packages = packages.filter(pl.col("provider_type") == MICROENTERPRISE)
    me = (
        snapshot.filter(pl.col("provider_type") == MICROENTERPRISE)
        .group_by("month")
        .agg(
            pl.col("provider_id").n_unique().cast(pl.Int64).alias("microenterprises_active"),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("microenterprise_customers"),
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("microenterprise_hours_per_week"),
        )
    )
    flows = _openings_closures(me_packages, months)
    out = (
        dense_months(me, months, COUNTS[:3])
        .join(people, on="month", how="left")
        .join(flows, on="month", how="left")
        .with_columns(pl.col("people_in_service").fill_null(0))
    )
    return out.select(
        "month",
        *COUNTS,
        ratio_expr(pl.col("microenterprise_customers"), pl.col("microenterprises_active")).alias(RATIOS[0]),
        ratio_expr(pl.col("microenterprise_hours_per_week"), pl.col("microenterprises_active")).alias(RATIOS[1]),
        ratio_expr(pl.col("microenterprise_hours_per_week"), pl.col("microenterprise_customers")).alias(RATIOS[2]),
        ratio_expr(pl.col("microenterprise_customers"), pl.col("people_in_service"), 100).alias(RATIOS[3]),
    )


def microenterprise_on(packages: pl.DataFrame, d: date) -> dict:
    """Return the microenterprise measures of ``packages`` on day ``d`` (flows: month of ``d`` to ``d``)."""
    return microenterprise_by_month(packages, months_frame(d, 1)).row(0, named=True)


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return microenterprises_active, microenterprise_customers, microenterprise_hours_per_week,
    customers_per_microenterprise, hours_per_microenterprise, hours_per_microenterprise_customer and
    microenterprise_share_of_people_pct (ratios 2 dp; None when there is no active microenterprise)."""
    scoped = filter_locality(staged, locality)
    row = microenterprise_on(enriched_packages(scoped), as_of)
    return {
        "microenterprises_active": int(row["microenterprises_active"]),
        "microenterprise_customers": int(row["microenterprise_customers"]),
        "microenterprise_hours_per_week": rounded(row["microenterprise_hours_per_week"]),
        **{key: rounded(row[key]) for key in RATIOS},
    }


def microenterprise_summary(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return microenterprise measures by geography (council, locality, rural class) x month.

    Columns: geography_level, geography, month, ``COUNTS``, ``RATIOS``, population_65_plus and
    microenterprises_per_10000_65_plus (null without population).
    """
    packages = enriched_packages(staged)
    attrs = area_attributes(staged.areas)

    def compute(geo):
        codes = list(geo.area_codes)
        pop = population_65_plus(attrs.filter(pl.col("area_code").is_in(codes)))
        frame = microenterprise_by_month(packages.filter(pl.col("area_code").is_in(codes)), months)
        return frame.with_columns(
            pl.lit(pop, dtype=pl.Int64).alias("population_65_plus"),
            ratio_expr(pl.col("microenterprises_active"), pl.lit(pop, dtype=pl.Int64), 10_000).alias(
                "microenterprises_per_10000_65_plus"
            ),
        )

    return per_geography(geographies(staged.areas), compute)


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_microenterprise_month`` (see ``microenterprise_summary``)."""
    return {"mart_microenterprise_month": microenterprise_summary(staged, months_frame(staged.as_of, MART_MONTHS))}
