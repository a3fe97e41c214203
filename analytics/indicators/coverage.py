"""Coverage: how many providers actually deliver in each area, and where demand has too few.

Per area on a snapshot date: providers_active (distinct providers with an active package there),
microenterprises_active, people_in_service, planned_hours_per_week, people_waiting, hours_waiting,
has_demand (an active package or someone waiting), under_min_providers (demand but fewer than
``config.toml thresholds.min_providers_per_area`` providers, 2 by default, a local choice:
below 2 there is no alternative if one fails), single_provider (exactly one provider), and planned
hours a week per 1,000 residents aged 65+ (null when the area has no population figure or a population of 0).

Provider counts come from where packages are delivered (the person's area), never from a provider's
office postcode (the CQC register gives a home care provider's branch office).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import (
    MICROENTERPRISE,
    active_at_months,
    all_and_each_service_type,
    area_attributes,
    as_text,
    coded,
    enriched_packages,
    filter_locality,
    mart_months,
    months_frame,
    per_level,
    ratio_expr,
    service_type_frame,
    waiting_at_months,
)
from analytics.ingest.staged import Staged

#: Counts and sums of an area x month: 0, never blank, where nothing is active or waiting.
COUNT_COLUMNS = (
    "providers_active",
    "microenterprises_active",
    "people_in_service",
    "planned_hours_per_week",
    "people_waiting",
    "hours_waiting",
)
AREA_COLUMNS = (
    *COUNT_COLUMNS,
    "has_demand",
    "under_min_providers",
    "single_provider",
    "population_65_plus",
    "hours_per_1000_65_plus",
)


def min_providers() -> int:
    """Return ``config.toml thresholds.min_providers_per_area``."""
    return int(settings()["thresholds"]["min_providers_per_area"])


def _area_supply(snapshot: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    return snapshot.group_by(by).agg(
        pl.col("provider_id").n_unique().cast(pl.Int64).alias("providers_active"),
        pl.col("provider_id")
        .filter(pl.col("provider_type") == MICROENTERPRISE)
        .n_unique()
        .cast(pl.Int64)
        .alias("microenterprises_active"),
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("planned_hours_per_week"),
    )


def coverage_by_area_month(
    packages: pl.DataFrame,
    requests: pl.DataFrame,
    areas: pl.DataFrame,
    months: pl.DataFrame,
    minimum: int | None = None,
    by_service_type: bool = False,
) -> pl.DataFrame:
    """Return one row per area x month (every area of ``areas``, every month of ``months``).

    ``packages`` must carry ``provider_type`` (``common.enriched_packages``). Columns: month,
    area_code, area_name, locality, rural_class, [service_type,] then ``AREA_COLUMNS``. Counts are 0
    where there is nothing; people_waiting and hours_waiting are 0 too (pass no requests to mean none
    recorded). ``by_service_type`` adds ``service_type`` (``all`` and each type present); waiting is
    the same in every service-type row (requests have no service type).
    """
    minimum = min_providers() if minimum is None else minimum
    by = ["month", "area_code"]
    grid = months.select("month").join(area_attributes(areas), how="cross")
    text = ["area_code", "service_type", "provider_id", "provider_type"]  # Categorical while exploded
    columns = ["person_id", "planned_hours_per_week", "start_date", "end_date"]
    filled = packages.select(*text, *columns).with_columns(pl.col("service_type").fill_null("home_care"))
    snapshot = active_at_months(coded(filled, text), months)
    if by_service_type:
        grid = grid.join(service_type_frame(packages), how="cross")
        supply = as_text(all_and_each_service_type(snapshot.lazy(), by, _area_supply), text).collect()
        keys = [*by, "service_type"]
    else:
        supply, keys = as_text(_area_supply(snapshot.lazy(), by), text).collect(), by
    waiting = (
        waiting_at_months(requests, months)
        .group_by(by)
        .agg(
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people_waiting"),
            pl.col("hours_per_week").sum().cast(pl.Float64).alias("hours_waiting"),
        )
    )
    out = (
        grid.join(supply, on=keys, how="left")
        .join(waiting, on=by, how="left")
        .with_columns(pl.col(COUNT_COLUMNS).fill_null(0))
        .with_columns(((pl.col("people_in_service") > 0) | (pl.col("people_waiting") > 0)).alias("has_demand"))
        .with_columns(
            (pl.col("has_demand") & (pl.col("providers_active") < minimum)).alias("under_min_providers"),
            (pl.col("providers_active") == 1).alias("single_provider"),
            ratio_expr(pl.col("planned_hours_per_week"), pl.col("population_65_plus"), 1000).alias(
                "hours_per_1000_65_plus"
            ),
        )
    )
    extra = ["service_type"] if by_service_type else []
    return out.select("month", "area_code", "area_name", "locality", "rural_class", *extra, *AREA_COLUMNS).sort(
        *extra, "month", "area_code"
    )


def coverage_on(
    packages: pl.DataFrame, requests: pl.DataFrame, areas: pl.DataFrame, d: date, minimum: int | None = None
) -> pl.DataFrame:
    """Return ``coverage_by_area_month`` for the single day ``d`` (``month`` = ``d``)."""
    return coverage_by_area_month(packages, requests, areas, months_frame(d, 1), minimum)


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return areas_with_demand, areas_with_demand_under_2_providers (threshold from config) and
    areas_single_provider on ``as_of``; None when there are no areas in scope."""
    scoped = filter_locality(staged, locality)
    if scoped.areas.is_empty():
        return {"areas_with_demand": None, "areas_with_demand_under_2_providers": None, "areas_single_provider": None}
    per_area = coverage_on(enriched_packages(scoped), scoped.requests, scoped.areas, as_of)
    return {
        "areas_with_demand": int(per_area.get_column("has_demand").sum()),
        "areas_with_demand_under_2_providers": int(per_area.get_column("under_min_providers").sum()),
        "areas_single_provider": int(per_area.get_column("single_provider").sum()),
    }


def coverage_area_mart(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return area x month x service_type coverage (``all`` plus each service type present).

    Waiting columns are the same in every service-type slice (requests have no service type); they
    are null in every row when the drop has no requests.
    """
    out = coverage_by_area_month(enriched_packages(staged), staged.requests, staged.areas, months, by_service_type=True)
    if staged.requests.is_empty():
        out = out.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("people_waiting"), pl.lit(None, dtype=pl.Float64).alias("hours_waiting")
        )
    return out


def coverage_summary(area_mart: pl.DataFrame) -> pl.DataFrame:
    """Return area counts by geography (council, locality, rural class) x service_type x month.

    Columns: geography_level, geography, service_type, month, areas, areas_with_demand,
    areas_under_min_providers, areas_single_provider, areas_with_demand_no_provider. Area counts are
    additive, so they are summed from ``area_mart``.
    """
    aggs = [
        pl.len().cast(pl.Int64).alias("areas"),
        pl.col("has_demand").sum().cast(pl.Int64).alias("areas_with_demand"),
        pl.col("under_min_providers").sum().cast(pl.Int64).alias("areas_under_min_providers"),
        pl.col("single_provider").sum().cast(pl.Int64).alias("areas_single_provider"),
        (pl.col("has_demand") & (pl.col("providers_active") == 0))
        .sum()
        .cast(pl.Int64)
        .alias("areas_with_demand_no_provider"),
    ]
    by = ["geography_level", "geography", "service_type", "month"]
    return per_level(area_mart, lambda frame: frame.group_by(by).agg(aggs)).sort(by)


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_coverage_area_month`` and ``mart_coverage_month`` (area counts by geography)."""
    area_mart = coverage_area_mart(staged, mart_months(staged))
    return {"mart_coverage_area_month": area_mart, "mart_coverage_month": coverage_summary(area_mart)}
