"""Demand projection: weekly hours needed over the next few years against today's capacity.

Method (a simple, stated model; not a forecast of care need):

* **Current hours** = planned hours a week of packages active on ``as_of`` (all client groups).
* **Hours per 1,000 aged 65+** = current hours in areas with a ``population_65_plus`` figure / their
  population x 1,000.
* **Growth**: the population aged 65 years and over grows by ``g`` % a year (config ``[projection]
  growth_65_plus_pct_per_year``, overridable), so in year ``y`` it is ``population x (1 + g/100)^y``,
  and hours needed = hours per 1,000 x that population / 1,000 = current hours x (1 + g/100)^y: the
  rate of use per older resident is held at today's level, and all hours (including those for people
  under 65 and in areas without a population figure) are assumed to grow at the same rate.
* **Capacity** = sum of ``weekly_capacity_hours`` of providers active on ``as_of``
  (``churn.provider_activity``); a provider with no capacity figure counts at its current planned
  hours (that is, with no spare capacity). Capacity is held flat.
* **Shortfall** = hours needed - capacity (positive = not enough capacity; negative = headroom).
  Capacity is per provider, not per area, so it is reported for the whole council only.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import financial_year, settings
from analytics.indicators.churn import providers_active_on
from analytics.indicators.common import (
    ALL,
    COUNCIL,
    active_on,
    area_attributes,
    filter_locality,
    population_65_plus,
    rounded,
)
from analytics.ingest.staged import Staged

DEFAULT_GROWTH_PCT = 1.8
DEFAULT_YEARS = 5
PROJECTION_SCHEMA = {
    "year_offset": pl.Int64,
    "financial_year": pl.String,
    **dict.fromkeys(
        ("population_65_plus", "hours_per_1000_65_plus", "hours_needed", "capacity_hours", "shortfall_hours"),
        pl.Float64,
    ),
}


def projection_settings() -> tuple[int, float]:
    """Return ``(years, growth % a year)`` from config ``[projection]`` (5 and 1.8 if absent)."""
    p = settings().get("projection", {})
    return int(p.get("years", DEFAULT_YEARS)), float(p.get("growth_65_plus_pct_per_year", DEFAULT_GROWTH_PCT))


def current_capacity(staged: Staged, as_of: date) -> dict[str, float | int | list[str] | None]:
    """Return today's weekly capacity of the providers active on ``as_of``.

    Output: ``capacity_hours`` (hours a week; ``None`` when no provider is active),
    ``providers_active`` (count), ``providers_without_capacity`` (ids counted at their current
    planned hours) and ``hours_assumed_for_missing_capacity`` (those planned hours, hours a week).
    """
    active_ids = providers_active_on(staged.providers, staged.packages, as_of)
    if not active_ids:
        return {
            "capacity_hours": None,
            "providers_active": 0,
            "providers_without_capacity": [],
            "hours_assumed_for_missing_capacity": None,
        }
    planned = (
        active_on(staged.packages, as_of)
        .group_by("provider_id")
        .agg(pl.col("planned_hours_per_week").sum().alias("planned"))
    )
    frame = (
        pl.DataFrame({"provider_id": active_ids}, schema={"provider_id": pl.String})
        .join(staged.providers.select("provider_id", "weekly_capacity_hours"), on="provider_id", how="left")
        .join(planned, on="provider_id", how="left")
        .with_columns(pl.col("planned").fill_null(0.0))
    )
    missing = frame.filter(pl.col("weekly_capacity_hours").is_null())
    capacity = frame.select(pl.coalesce("weekly_capacity_hours", "planned").sum()).item()
    return {
        "capacity_hours": float(capacity),
        "providers_active": frame.height,
        "providers_without_capacity": missing.get_column("provider_id").sort().to_list(),
        "hours_assumed_for_missing_capacity": float(missing.get_column("planned").sum()),
    }


def demand_projection(
    staged: Staged,
    as_of: date,
    years: int | None = None,
    growth_pct: float | None = None,
    capacity_hours: float | None = None,
) -> pl.DataFrame:
    """Return hours needed in each year from now (year 0) to ``years`` ahead.

    Inputs: ``staged`` (already restricted to the geography wanted); ``as_of``; ``years`` and
    ``growth_pct`` (% a year) default to config ``[projection]``; ``capacity_hours`` (hours a week) to
    compare against (``None`` = no capacity columns; see ``current_capacity``).
    Output (``PROJECTION_SCHEMA``), one row per year: ``year_offset``, ``financial_year`` (of
    ``as_of`` plus that many years), ``population_65_plus`` (projected; null without population),
    ``hours_per_1000_65_plus`` (today's rate, held), ``hours_needed`` (hours a week; null when no
    package is active), ``capacity_hours`` and ``shortfall_hours`` (needed - capacity).
    """
    active = active_on(staged.packages, as_of)
    hours = float(active.get_column("planned_hours_per_week").sum() or 0.0)
    with_pop = staged.areas.filter(pl.col("population_65_plus").is_not_null())
    pop = population_65_plus(staged.areas)
    hours_in_pop_areas = float(
        active.filter(pl.col("area_code").is_in(with_pop.get_column("area_code").to_list()))
        .get_column("planned_hours_per_week")
        .sum()
        or 0.0
    )
    return projection_rows(hours, hours_in_pop_areas, pop, as_of, years, growth_pct, capacity_hours)


def projection_rows(
    hours: float,
    hours_in_pop_areas: float,
    pop: int | None,
    as_of: date,
    years: int | None = None,
    growth_pct: float | None = None,
    capacity_hours: float | None = None,
) -> pl.DataFrame:
    """Return the ``demand_projection`` rows from its three inputs: ``hours`` (hours a week active on
    ``as_of``), ``hours_in_pop_areas`` (those in areas with a population figure) and ``pop`` (their
    population aged 65+, ``None`` when no area has one)."""
    default_years, default_growth = projection_settings()
    n = default_years if years is None else years
    g = default_growth if growth_pct is None else growth_pct
    rate = hours_in_pop_areas / pop * 1000.0 if pop else None
    rows = []
    for y in range(n + 1):
        factor = (1.0 + g / 100.0) ** y
        needed = hours * factor if hours > 0 else None
        rows.append(
            {
                "year_offset": y,
                "financial_year": financial_year(date(as_of.year + y, as_of.month, 1)),
                "population_65_plus": pop * factor if pop else None,
                "hours_per_1000_65_plus": rate,
                "hours_needed": needed,
                "capacity_hours": capacity_hours,
                "shortfall_hours": None if needed is None or capacity_hours is None else needed - capacity_hours,
            }
        )
    return pl.DataFrame(rows, schema=PROJECTION_SCHEMA)


def projection_assumptions(staged: Staged, as_of: date, growth_pct: float | None = None) -> list[str]:
    """Return the projection's assumptions in plain English (for the page beside the chart)."""
    _, default_growth = projection_settings()
    g = default_growth if growth_pct is None else growth_pct
    cap = current_capacity(staged, as_of)
    out = [
        f"The population aged 65 years and over grows by {g:g}% a year.",
        "Hours of care per 1,000 residents aged 65 and over stay at today's level, and all hours "
        "(including care for people under 65) grow at the same rate.",
        "Capacity is the weekly capacity providers state, held flat; spare capacity may also be used by "
        "self-funders and other councils.",
    ]
    missing = cap["providers_without_capacity"]
    if missing:
        out.append(
            f"{len(missing)} active provider(s) have no capacity figure and are counted at their current "
            f"planned hours ({cap['hours_assumed_for_missing_capacity']:,.1f} hours a week): {', '.join(missing)}."
        )
    return out


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_projection``: ``geography_level, geography`` then ``PROJECTION_SCHEMA`` columns.

    Rows for the council (with capacity and shortfall) and each locality (hours and population only).
    """
    as_of = staged.as_of
    council_capacity = current_capacity(staged, as_of)["capacity_hours"]
    council = demand_projection(staged, as_of, capacity_hours=council_capacity)
    # Localities in one grouped pass: active hours and population per locality, then the same rows.
    attrs = area_attributes(staged.areas)
    pop = pl.col("population_65_plus")
    populations = attrs.group_by("locality").agg(
        pl.when(pop.is_not_null().any()).then(pop.sum()).cast(pl.Int64).alias("pop")
    )
    has_pop = pl.col("population_65_plus").is_not_null()
    hours = (
        active_on(staged.packages.select("area_code", "planned_hours_per_week", "start_date", "end_date"), as_of)
        .join(attrs, on="area_code", how="inner")
        .group_by("locality")
        .agg(
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours"),
            pl.col("planned_hours_per_week").filter(has_pop).sum().cast(pl.Float64).alias("hours_in_pop_areas"),
        )
    )
    inputs = populations.join(hours, on="locality", how="left")
    by_locality = {row["locality"]: row for row in inputs.iter_rows(named=True)}
    frames = [council.select(pl.lit(COUNCIL).alias("geography_level"), pl.lit(ALL).alias("geography"), pl.all())]
    for name in sorted(by_locality):
        row = by_locality[name]
        rows = projection_rows(row["hours"] or 0.0, row["hours_in_pop_areas"] or 0.0, row["pop"], as_of)
        frames.append(
            rows.select(pl.lit("locality").alias("geography_level"), pl.lit(name).alias("geography"), pl.all())
        )
    return {"mart_projection": pl.concat(frames, how="vertical_relaxed")}


# One scope rule (analytics.indicators.headline): the projection grows all hours of care (its page says so).
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | None]:
    """Return projection headline figures for ``locality`` (``None`` = council).

    Keys: ``projection_hours_needed_final_year`` (hours a week in the last projected year),
    ``projection_capacity_hours`` (today's capacity, hours a week; council only) and
    ``projection_shortfall_hours_final_year`` (needed - capacity; council only), rounded to 2 dp.
    ``None`` where there
    is no data, and capacity figures are ``None`` for a locality (capacity is not split by area).
    """
    if locality is None:
        capacity = current_capacity(staged, as_of)["capacity_hours"]
        frame = demand_projection(staged, as_of, capacity_hours=capacity)
    else:
        capacity = None
        frame = demand_projection(filter_locality(staged, locality), as_of)
    last = frame.row(-1, named=True)
    return {
        "projection_hours_needed_final_year": rounded(last["hours_needed"]),
        "projection_capacity_hours": rounded(capacity),
        "projection_shortfall_hours_final_year": rounded(last["shortfall_hours"]),
    }
