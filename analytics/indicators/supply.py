"""Supply: people in service, active packages, planned hours a week, active providers.

Inputs are staged frames; a package counts on a snapshot date when it is active that day
(``common.active_expr``). Units: people and packages are counts, hours are planned hours a week,
``hours_per_1000_65_plus`` is planned hours a week per 1,000 residents aged 65 years and over (null
when the areas have no population figure). Every service type counts unless the caller filters
(``common`` module docstring).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.indicators.common import (
    SUMMARY_KEYS,
    Frame,
    active_at_months,
    coded,
    decoded,
    dense_months,
    enriched_packages,
    filter_locality,
    geography_population,
    mart_months,
    months_frame,
    population_65_plus,
    ratio_expr,
    rounded,
    safe_div,
    sort_codes,
    summary_by_geography,
)
from analytics.ingest.staged import Staged

COUNTS = ("people_in_service", "active_packages", "planned_hours_per_week", "providers_active")


def supply_stats(snapshot: Frame, by: list[str]) -> Frame:
    """Return supply counts of ``snapshot`` (package rows active at ``month``) grouped by ``by``.

    Lazy in, lazy out: a ``LazyFrame`` (collected with the default engine) takes about half the CPU
    of an eager group_by on millions of package-month rows.

    Columns: ``by`` + people_in_service (distinct ``person_id``), active_packages, planned_hours_per_week
    (sum, Float64), providers_active (distinct ``provider_id``); counts Int64.
    """
    return snapshot.group_by(by).agg(
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service"),
        pl.len().cast(pl.Int64).alias("active_packages"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("planned_hours_per_week"),
        pl.col("provider_id").n_unique().cast(pl.Int64).alias("providers_active"),
    )


def supply_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per month of ``months`` (a ``common.months_frame``) with the ``COUNTS`` columns.

    A month with no active package has 0 people, packages, hours and providers (a true zero: the
    packages file is mandatory).
    """
    stats = supply_stats(active_at_months(packages, months), ["month"])
    return dense_months(stats, months, zero=COUNTS).select("month", *COUNTS)


def supply_on(packages: pl.DataFrame, d: date) -> dict[str, int | float]:
    """Return the ``COUNTS`` of ``packages`` on day ``d`` as a dict (hours unrounded)."""
    row = supply_by_month(packages, months_frame(d, 1)).row(0, named=True)
    return {k: row[k] for k in COUNTS}


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return people_in_service, active_packages, planned_hours_per_week (2 dp), providers_active and
    hours_per_1000_65_plus (2 dp; None without population) on ``as_of`` for ``locality``."""
    scoped = filter_locality(staged, locality)
    row = supply_on(scoped.packages, as_of)
    pop = population_65_plus(scoped.areas)
    return {
        "people_in_service": int(row["people_in_service"]),
        "active_packages": int(row["active_packages"]),
        "planned_hours_per_week": rounded(row["planned_hours_per_week"]),
        "providers_active": int(row["providers_active"]),
        "hours_per_1000_65_plus": rounded(safe_div(row["planned_hours_per_week"], pop, 1000)),
    }


def supply_detail(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return the additive detail mart: supply counts by month, area and package attributes.

    ``packages`` must be ``common.enriched_packages``. Keys: month, area_code, locality, rural_class,
    service_type, funding, client_group, provider_type. Packages and hours add up across rows;
    people and providers are distinct within a row only (a person with two packages in different
    rows counts in each), so use ``mart_supply_summary_month`` for exact totals.
    """
    keys = ["month", "area_code", "locality", "rural_class", "service_type", "funding", "client_group", "provider_type"]
    by = ["month", "area_code", "service_type", "funding", "client_group", "provider_type"]  # an area has one locality
    measures = ["person_id", "provider_id", "planned_hours_per_week", "start_date", "end_date"]
    # keys as sortable codes while exploded to months: grouped and sorted by whole numbers, text again after
    numbered, values = sort_codes(packages.select(*by[1:], *measures), by[1:])
    stats = supply_stats(active_at_months(coded(numbered, ["provider_id"]), months).lazy(), by)
    stats = stats.sort(by, nulls_last=True)
    places = packages.select("area_code", "locality", "rural_class").unique(subset="area_code")
    detail = decoded(stats, values).join(
        places.lazy(), on="area_code", how="left", nulls_equal=True, maintain_order="left"
    )
    return detail.select(*keys, *COUNTS).collect()  # an area has one locality and rural class: sorted by keys


def supply_summary(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return exact supply totals by geography x service type x month.

    Columns: geography_level, geography, service_type (``all`` or one type), month, the ``COUNTS``,
    population_65_plus, hours_per_1000_65_plus. One snapshot, grouped per level (``common.per_level``).
    """
    keys = SUMMARY_KEYS
    out = summary_by_geography(staged, months, supply_stats, zero=COUNTS)
    return (
        out.join(geography_population(staged.areas), on=["geography_level", "geography"], how="left")
        .with_columns(
            ratio_expr(pl.col("planned_hours_per_week"), pl.col("population_65_plus"), 1000).alias(
                "hours_per_1000_65_plus"
            )
        )
        .sort(keys)
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_supply_month`` (additive detail) and ``mart_supply_summary_month`` (exact totals)."""
    months = mart_months(staged)
    return {
        "mart_supply_month": supply_detail(enriched_packages(staged), months),
        "mart_supply_summary_month": supply_summary(staged, months),
    }
