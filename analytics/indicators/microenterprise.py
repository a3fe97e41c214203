"""Microenterprises: active microenterprises, their customers and hours, ratios, openings and closures.

A microenterprise is a provider whose ``provider_type`` is ``microenterprise``; it is *active* on a
day when it has at least one active package that day. Units: counts; hours a week; ratios are
customers (or hours a week) per active microenterprise; share of people in %, 0 to 100.
Ratios are null (never 0, never an error) when there is no active microenterprise or customer.

New and closed (flows, per period from the first of the month to the snapshot date): a
microenterprise is *new* in the period containing the start of its first package (within the
geography), and *closed* in the period containing the end of its last package when none of its
packages is ongoing. Comparators (Community Catalysts, Westmorland and
Furness 2022-24; Cumberland Council 2025) are in ``config.toml
[reference.microenterprise_comparators]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from analytics.indicators.common import (
    GEOGRAPHY_LEVELS,
    MICROENTERPRISE,
    Frame,
    active_at_months,
    as_text,
    coded,
    collected,
    enriched_packages,
    filter_locality,
    geography_frame,
    geography_population,
    mart_months,
    months_frame,
    period_of,
    ratio_expr,
    rounded,
    with_level,
)
from analytics.ingest.staged import Staged

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


ME_PACKAGE_COLUMNS = (
    "provider_type", "provider_id", "person_id", "planned_hours_per_week", "start_date", "end_date",
)  # fmt: skip
"""The package columns ``microenterprise_stats`` reads (besides its keys): exploding only these to
months keeps the package-month frame small."""


def microenterprise_stats(
    packages: pl.DataFrame,
    months: pl.DataFrame,
    keys: Sequence[str],
    grid: pl.DataFrame,
    snapshot: Frame | None = None,
) -> pl.DataFrame:
    """Return microenterprise measures for every row of ``grid`` (columns ``keys`` + ``month``).

    ``packages`` must carry ``provider_type`` and the ``keys`` columns (e.g. geography). Columns:
    ``keys``, month, ``COUNTS`` (Int64; hours Float64) then ``RATIOS`` (Float64, null when the
    denominator is 0). New/closed are counted per key group (module docstring). ``snapshot``, if
    given, is ``common.active_at_months(packages, months)`` already computed (eager or lazy). Text
    keys may come in as Categorical (``common.coded``); they come out as String.
    """
    keys = list(keys)
    by = [*keys, "month"]
    is_me = pl.col("provider_type") == MICROENTERPRISE
    snapshot = active_at_months(packages, months) if snapshot is None else snapshot
    lazy = snapshot.lazy()  # lazy group_by: about half the CPU of an eager one on package-month rows
    people, me = collected(
        [
            as_text(
                lazy.group_by(by).agg(pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service")), by
            ),
            as_text(
                lazy.filter(is_me)
                .group_by(by)
                .agg(
                    pl.col("provider_id").n_unique().cast(pl.Int64).alias("microenterprises_active"),
                    pl.col("person_id").n_unique().cast(pl.Int64).alias("microenterprise_customers"),
                    pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("microenterprise_hours_per_week"),
                ),
                by,
            ),
        ]
    )
    ongoing = pl.col("end_date").is_null().any()
    per_me = (
        packages.filter(is_me)
        .group_by(*keys, "provider_id")
        .agg(
            pl.col("start_date").min().alias("first_start"),
            pl.when(ongoing).then(pl.lit(None, dtype=pl.Date)).otherwise(pl.col("end_date").max()).alias("last_end"),
        )
        .with_columns(
            period_of("first_start", months).alias("new_in"), period_of("last_end", months).alias("closed_in")
        )
    )

    def flow(column: str, alias: str) -> pl.DataFrame:
        dated = per_me.filter(pl.col(column).is_not_null()).rename({column: "month"})
        return as_text(dated.group_by(by).agg(pl.len().cast(pl.Int64).alias(alias)), by)

    out = (
        grid.join(me, on=by, how="left")
        .join(people, on=by, how="left")
        .join(flow("new_in", "microenterprises_new"), on=by, how="left")
        .join(flow("closed_in", "microenterprises_closed"), on=by, how="left")
        .with_columns(pl.col(*COUNTS).fill_null(0))
    )
    return out.select(
        *by,
        *COUNTS,
        ratio_expr(pl.col("microenterprise_customers"), pl.col("microenterprises_active")).alias(RATIOS[0]),
        ratio_expr(pl.col("microenterprise_hours_per_week"), pl.col("microenterprises_active")).alias(RATIOS[1]),
        ratio_expr(pl.col("microenterprise_hours_per_week"), pl.col("microenterprise_customers")).alias(RATIOS[2]),
        ratio_expr(pl.col("microenterprise_customers"), pl.col("people_in_service"), 100).alias(RATIOS[3]),
    ).sort(by)


def microenterprise_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return microenterprise measures for each month of ``months`` (a ``common.months_frame``).

    ``packages`` must carry ``provider_type`` (``common.enriched_packages``). Columns: month,
    ``COUNTS`` (Int64; hours Float64) then ``RATIOS`` (Float64, null when the denominator is 0).
    """
    return microenterprise_stats(packages, months, [], months.select("month"))


def microenterprise_on(packages: pl.DataFrame, d: date) -> dict:
    """Return the microenterprise measures of ``packages`` on day ``d`` (flows: month of ``d`` to ``d``)."""
    return microenterprise_by_month(packages, months_frame(d, 1)).row(0, named=True)


# One scope rule (analytics.indicators.headline): microenterprise marts have no service type split.
IGNORES_SERVICE_TYPE = True


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
    keys = ["geography_level", "geography"]
    packages = enriched_packages(staged).select(*ME_PACKAGE_COLUMNS, "locality", "rural_class")
    snapshot = active_at_months(coded(packages, ["provider_type", "provider_id", "locality", "rural_class"]), months)
    grid = geography_frame(staged.areas).join(months.select("month"), how="cross")
    frames = [
        microenterprise_stats(
            with_level(packages, level),
            months,
            keys,
            grid.filter(pl.col("geography_level") == level),
            snapshot=with_level(snapshot.lazy(), level),  # lazy: no copy of the snapshot per level
        )
        for level in GEOGRAPHY_LEVELS
    ]
    return (
        pl.concat(frames)
        .join(geography_population(staged.areas), on=keys, how="left")
        .with_columns(
            ratio_expr(pl.col("microenterprises_active"), pl.col("population_65_plus"), 10_000).alias(
                "microenterprises_per_10000_65_plus"
            )
        )
        .sort(*keys, "month")
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_microenterprise_month`` (see ``microenterprise_summary``)."""
    return {"mart_microenterprise_month": microenterprise_summary(staged, mart_months(staged))}
