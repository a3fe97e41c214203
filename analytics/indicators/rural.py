"""Rural gap: supply, waiting and microenterprise measures split rural / urban / unclassified, and the gaps.

Rural class per area from ``analytics.indicators.geography`` (RUC21 ``R*``, else RUC11 D1/D2/E1/E2; neither =
unclassified, never urban). Shares are of **classified** areas only (rural + urban): an unclassified
area is not known to be urban, so it is left out of both numerator and denominator and shown as its
own row. Gap measures:

* ``rural_gap_waiting_share_pp`` = rural % of hours waiting - rural % of planned hours (percentage
  points; positive = rural areas carry more of the waiting than of the care). Null when there are no
  classified hours waiting or no classified planned hours (including when every area is unclassified).
* ``rural_urban_median_wait_ratio`` = median days waited in rural areas / in urban areas (null when
  either has nobody waiting, or the urban median is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from analytics.indicators.common import (
    active_at_months,
    area_attributes,
    as_text,
    coded,
    enriched_packages,
    enriched_requests,
    fill_grid,
    filter_locality,
    mart_months,
    months_frame,
    ratio_expr,
    rounded,
    with_level,
)
from analytics.indicators.geography import RURAL, RURAL_CLASSES, UNCLASSIFIED, URBAN
from analytics.indicators.microenterprise import ME_PACKAGE_COLUMNS, microenterprise_stats
from analytics.indicators.supply import COUNTS as SUPPLY_COUNTS
from analytics.indicators.supply import supply_stats
from analytics.indicators.waiting import waiting_stats_grid
from analytics.ingest.staged import Staged

CLASS_MEASURES = (
    "people_in_service",
    "planned_hours_per_week",
    "providers_active",
    "people_waiting",
    "hours_waiting",
    "median_wait_days",
    "p90_wait_days",
    "microenterprises_active",
    "microenterprise_customers",
    "population_65_plus",
    "hours_per_1000_65_plus",
)
SHARES = ("share_of_planned_hours_pct", "share_of_hours_waiting_pct", "share_of_population_65_plus_pct")
GAP = (
    "rural_share_planned_hours_pct",
    "rural_share_hours_waiting_pct",
    "rural_gap_waiting_share_pp",
    "rural_median_wait_days",
    "urban_median_wait_days",
    "rural_urban_median_wait_ratio",
    "unclassified_areas",
)


def class_measures(
    packages: pl.DataFrame,
    requests: pl.DataFrame,
    area_attrs: pl.DataFrame,
    months: pl.DataFrame,
    keys: Sequence[str] = (),
    recorded: bool = True,
) -> pl.DataFrame:
    """Return one row per ``keys`` group x rural class (all three) x month: ``CLASS_MEASURES`` and ``SHARES``.

    ``packages`` (``common.enriched_packages``), ``requests`` (``common.enriched_requests``) and
    ``area_attrs`` (``common.area_attributes``) must all carry the ``keys`` columns (e.g. geography,
    via ``common.with_level``). ``recorded=False`` (no requests file) makes waiting measures
    null. Shares are within the group and month, of rural + urban only (null in the unclassified row).
    """
    keys = list(keys)
    group = [*keys, "rural_class"]
    by = [*group, "month"]
    classes = pl.DataFrame({"rural_class": list(RURAL_CLASSES)})
    groups = area_attrs.select(keys).unique() if keys else pl.DataFrame()
    grid = (groups.join(classes, how="cross") if keys else classes).join(months.select("month"), how="cross")
    snapshot = active_at_months(packages, months)
    supply = fill_grid(grid, as_text(supply_stats(snapshot.lazy(), by), by).collect(), by, SUPPLY_COUNTS)
    waiting = waiting_stats_grid(requests, months, group, grid, recorded).select(
        *by, "people_waiting", "hours_waiting", "median_wait_days", "p90_wait_days"
    )
    me = microenterprise_stats(packages, months, group, grid, snapshot=snapshot).select(
        *by, "microenterprises_active", "microenterprise_customers"
    )
    pop = pl.col("population_65_plus")
    population = area_attrs.group_by(group).agg(
        pl.when(pop.is_not_null().any()).then(pop.sum()).otherwise(None).cast(pl.Int64).alias("population_65_plus")
    )
    out = (
        supply.join(waiting, on=by, how="left")
        .join(me, on=by, how="left")
        .join(population, on=group, how="left")
        .with_columns(
            ratio_expr(pl.col("planned_hours_per_week"), pl.col("population_65_plus"), 1000).alias(
                "hours_per_1000_65_plus"
            )
        )
    )
    classified = pl.col("rural_class").is_in([RURAL, URBAN])

    def share(column: str) -> pl.Expr:
        total = pl.col(column).filter(classified).sum().over([*keys, "month"])
        return pl.when(classified).then(ratio_expr(pl.col(column), total, 100)).otherwise(None)

    return out.select(
        *by,
        *CLASS_MEASURES,
        share("planned_hours_per_week").alias(SHARES[0]),
        share("hours_waiting").alias(SHARES[1]),
        share("population_65_plus").alias(SHARES[2]),
    ).sort(*keys, "month", "rural_class")


def by_rural_class(
    packages: pl.DataFrame, requests: pl.DataFrame, areas: pl.DataFrame, months: pl.DataFrame, recorded: bool = True
) -> pl.DataFrame:
    """Return one row per month x rural class (all three) with ``CLASS_MEASURES`` and ``SHARES``.

    ``packages`` from ``common.enriched_packages``, ``requests`` from ``common.enriched_requests``,
    ``areas`` the areas in scope; ``recorded=False`` (no requests file) makes waiting measures null.
    Shares are within the month, of rural + urban only (null in the unclassified row).
    """
    return class_measures(packages, requests, area_attributes(areas), months, (), recorded).select(
        "month", "rural_class", *CLASS_MEASURES, *SHARES
    )


def rural_gap(classes: pl.DataFrame, area_attrs: pl.DataFrame, keys: Sequence[str] = ()) -> pl.DataFrame:
    """Return one row per ``keys`` group x month with ``GAP``, from ``class_measures`` output.

    ``area_attrs`` (``common.area_attributes``, with the ``keys`` columns) gives the count of
    unclassified areas in each group.
    """
    keys = list(keys)
    by = [*keys, "month"]
    rural = classes.filter(pl.col("rural_class") == RURAL).select(
        *by,
        pl.col("share_of_planned_hours_pct").alias("rural_share_planned_hours_pct"),
        pl.col("share_of_hours_waiting_pct").alias("rural_share_hours_waiting_pct"),
        pl.col("median_wait_days").alias("rural_median_wait_days"),
    )
    urban = classes.filter(pl.col("rural_class") == URBAN).select(
        *by, pl.col("median_wait_days").alias("urban_median_wait_days")
    )
    is_unclassified = (pl.col("rural_class") == UNCLASSIFIED).sum().cast(pl.Int64).alias("unclassified_areas")
    out = rural.join(urban, on=by, how="left")
    if keys:
        out = out.join(area_attrs.group_by(keys).agg(is_unclassified), on=keys, how="left")
    else:
        out = out.with_columns(
            pl.lit(area_attrs.select(is_unclassified).item(), dtype=pl.Int64).alias("unclassified_areas")
        )
    return out.select(
        *by,
        "rural_share_planned_hours_pct",
        "rural_share_hours_waiting_pct",
        (pl.col("rural_share_hours_waiting_pct") - pl.col("rural_share_planned_hours_pct")).alias(
            "rural_gap_waiting_share_pp"
        ),
        "rural_median_wait_days",
        "urban_median_wait_days",
        ratio_expr(pl.col("rural_median_wait_days"), pl.col("urban_median_wait_days")).alias(
            "rural_urban_median_wait_ratio"
        ),
        "unclassified_areas",
    ).sort(by)


# One scope rule (analytics.indicators.headline): the rural marts have no service type split
# (the Rural page labels say so).
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return rural_gap_waiting_share_pp, rural_share_planned_hours_pct, rural_share_hours_waiting_pct and
    rural_urban_median_wait_ratio on ``as_of`` (2 dp; None when not computable)."""
    recorded = not staged.requests.is_empty()
    scoped = filter_locality(staged, locality)
    attrs = area_attributes(scoped.areas)
    classes = class_measures(
        enriched_packages(scoped), enriched_requests(scoped), attrs, months_frame(as_of, 1), (), recorded
    )
    row = rural_gap(classes, attrs).row(0, named=True)
    keys = (
        "rural_gap_waiting_share_pp",
        "rural_share_planned_hours_pct",
        "rural_share_hours_waiting_pct",
        "rural_urban_median_wait_ratio",
    )
    return {key: rounded(row[key]) for key in keys}


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_rural_month`` (geography x month x rural class) and ``mart_rural_gap_month``
    (geography x month), for the council and each locality."""
    months = mart_months(staged)
    keys = ["geography_level", "geography"]
    recorded = not staged.requests.is_empty()
    packages = enriched_packages(staged).select(*ME_PACKAGE_COLUMNS, "locality", "rural_class")
    requests = enriched_requests(staged)
    attrs = area_attributes(staged.areas)
    classes, gaps = [], []
    text = ["provider_type", "provider_id", "locality", "rural_class", "geography"]  # Categorical while exploded
    for level in ("council", "locality"):
        level_attrs = with_level(attrs, level)
        measures = class_measures(
            coded(with_level(packages, level), text), with_level(requests, level), level_attrs, months, keys, recorded
        )
        classes.append(measures)
        gaps.append(rural_gap(measures, level_attrs, keys))
    return {"mart_rural_month": pl.concat(classes), "mart_rural_gap_month": pl.concat(gaps)}
