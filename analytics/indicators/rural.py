"""Rural gap: supply, waiting and microenterprise measures split rural / urban / unclassified, and the gaps.

Rural class per area from ``analytics.geography`` (RUC21 ``R*``, else RUC11 D1/D2/E1/E2; neither =
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

from datetime import date

import polars as pl

from analytics.geography import RURAL, RURAL_CLASSES, URBAN
from analytics.indicators.common import (
    MART_MONTHS,
    area_attributes,
    enriched_packages,
    enriched_requests,
    filter_locality,
    geographies,
    months_frame,
    per_geography,
    population_65_plus,
    ratio_expr,
    rounded,
)
from analytics.indicators.microenterprise import microenterprise_by_month
from analytics.indicators.supply import supply_by_month
from analytics.indicators.waiting import waiting_by_month
from analytics.staged import Staged

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


def by_rural_class(
    packages: pl.DataFrame, requests: pl.DataFrame, areas: pl.DataFrame, months: pl.DataFrame, recorded: bool = True
) -> pl.DataFrame:
    """Return one row per month x rural class (all three classes) with ``CLASS_MEASURES`` and ``SHARES``.

    ``packages`` from ``common.enriched_packages``, ``requests`` from ``common.enriched_requests``,
    ``areas`` the areas in scope; ``recorded=False`` (no requests file) makes waiting measures null.
    Shares are within the month, of rural + urban only (null in the unclassified row).
    """
    attrs = area_attributes(areas)
    frames = []
    for cls in RURAL_CLASSES:
        pkg = packages.filter(pl.col("rural_class") == cls)
        req = requests.filter(pl.col("rural_class") == cls)
        pop = population_65_plus(attrs.filter(pl.col("rural_class") == cls))
        supply = supply_by_month(pkg, months)
        waiting = waiting_by_month(req, months, recorded).select(
            "month", "people_waiting", "hours_waiting", "median_wait_days", "p90_wait_days"
        )
        me = microenterprise_by_month(pkg, months).select(
            "month", "microenterprises_active", "microenterprise_customers"
        )
        frames.append(
            supply.join(waiting, on="month")
            .join(me, on="month")
            .with_columns(
                pl.lit(cls).alias("rural_class"),
                pl.lit(pop, dtype=pl.Int64).alias("population_65_plus"),
                ratio_expr(pl.col("planned_hours_per_week"), pl.lit(pop, dtype=pl.Int64), 1000).alias(
                    "hours_per_1000_65_plus"
                ),
            )
        )
    out = pl.concat(frames, how="vertical_relaxed")
    classified = pl.col("rural_class").is_in([RURAL, URBAN])

    def share(column: str) -> pl.Expr:
        total = pl.col(column).filter(classified).sum().over("month")
        return pl.when(classified).then(ratio_expr(pl.col(column), total, 100)).otherwise(None)

    return out.select(
        "month",
        "rural_class",
        *CLASS_MEASURES,
        share("planned_hours_per_week").alias(SHARES[0]),
        share("hours_waiting").alias(SHARES[1]),
        share("population_65_plus").alias(SHARES[2]),
    ).sort("month", "rural_class")


def rural_gap(classes: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    """Return one row per month with ``GAP`` from a ``by_rural_class`` frame and the areas in scope."""
    unclassified = area_attributes(areas).filter(pl.col("rural_class") == "unclassified").height
    rural = classes.filter(pl.col("rural_class") == RURAL).select(
        "month",
        pl.col("share_of_planned_hours_pct").alias("rural_share_planned_hours_pct"),
        pl.col("share_of_hours_waiting_pct").alias("rural_share_hours_waiting_pct"),
        pl.col("median_wait_days").alias("rural_median_wait_days"),
    )
    urban = classes.filter(pl.col("rural_class") == URBAN).select(
        "month", pl.col("median_wait_days").alias("urban_median_wait_days")
    )
    return rural.join(urban, on="month").select(
        "month",
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
        pl.lit(unclassified, dtype=pl.Int64).alias("unclassified_areas"),
    )


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return rural_gap_waiting_share_pp, rural_share_planned_hours_pct, rural_share_hours_waiting_pct and
    rural_urban_median_wait_ratio on ``as_of`` (2 dp; None when not computable)."""
    recorded = not staged.requests.is_empty()
    scoped = filter_locality(staged, locality)
    classes = by_rural_class(
        enriched_packages(scoped), enriched_requests(scoped), scoped.areas, months_frame(as_of, 1), recorded
    )
    row = rural_gap(classes, scoped.areas).row(0, named=True)
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
    months = months_frame(staged.as_of, MART_MONTHS)
    recorded = not staged.requests.is_empty()
    packages, requests = enriched_packages(staged), enriched_requests(staged)
    geos = geographies(staged.areas, ("council", "locality"))
    cache: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}

    def classes_for(geo) -> tuple[pl.DataFrame, pl.DataFrame]:
        key = f"{geo.level}:{geo.name}"
        if key not in cache:
            codes = list(geo.area_codes)
            areas = staged.areas.filter(pl.col("area_code").is_in(codes))
            classes = by_rural_class(
                packages.filter(pl.col("area_code").is_in(codes)),
                requests.filter(pl.col("area_code").is_in(codes)),
                areas,
                months,
                recorded,
            )
            cache[key] = (classes, areas)
        return cache[key]

    return {
        "mart_rural_month": per_geography(geos, lambda g: classes_for(g)[0]),
        "mart_rural_gap_month": per_geography(geos, lambda g: rural_gap(*classes_for(g))),
    }
