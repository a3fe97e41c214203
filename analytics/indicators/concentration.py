"""Concentration: each provider's share of planned hours, CR1, CR3, HHI and the effective number of providers.

Shares are of planned hours a week in active packages on the snapshot date, in percentage points
(0 to 100). ``HHI = sum(share_pct ** 2)`` (0 to 10,000; CMA merger assessment guidelines, CC2/OFT1254),
``CR1``/``CR3`` = the largest 1/3 shares summed (CR3 is 100 when there are fewer than 3 providers),
effective number of providers = 10,000 / HHI. All are null when there are no planned hours. Bands
(descriptive, not legal tests): HHI above ``thresholds.hhi_concentrated`` is "concentrated", above
``hhi_highly_concentrated`` "highly concentrated" (UK 2010 merger guidelines).

Ties: providers are ranked by planned hours (rounded to 6 dp, so float summation noise does not
break a true tie) descending, then by ``provider_id`` ascending; rank 1 is "the largest provider".
CR1, CR3 and HHI do not depend on how ties are broken (tied shares are equal); only which provider
is named largest does, and that is the lowest ``provider_id`` among those tied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import (
    SUMMARY_KEYS,
    active_at_months,
    as_text,
    coded,
    comparable,
    enriched_packages,
    fill_grid,
    filter_locality,
    mart_months,
    months_frame,
    per_level,
    rounded,
    summary_by_geography,
)
from analytics.ingest.staged import Staged

SUMMARY = ("providers_active", "cr1_pct", "cr3_pct", "hhi", "effective_providers", "largest_provider_id")


def provider_shares_by_month(snapshot: pl.DataFrame, keys: Sequence[str] = (), people: bool = True) -> pl.DataFrame:
    """Return each provider's hours and share per month (and per ``keys`` group) from ``snapshot``.

    ``snapshot``: package rows with ``month`` (``common.active_at_months``) and the ``keys`` columns.
    Columns: ``keys``, month, provider_id, people_in_service (left out when ``people`` is false: a
    distinct count the concentration summary does not need), planned_hours_per_week, share_pct, rank
    (1 = largest; ties as in the module docstring). Rows are in rank order within each group (largest
    hours first, ties by provider id) but groups are interleaved: sort the result if its order matters
    (ranking once over the whole frame and numbering within each group is several times cheaper than
    sorting by the group's text keys).
    """
    by = [*keys, "month"]
    people_expr = [pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service")] if people else []
    per_provider = snapshot.group_by(*by, "provider_id").agg(
        *people_expr,
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("planned_hours_per_week"),
    )
    hours = pl.col("planned_hours_per_week")
    return (
        per_provider.with_columns(
            (hours / hours.sum().over(by) * 100).alias("share_pct"),
            hours.round(6).alias("__rank_hours"),
        )
        .sort(["__rank_hours", "provider_id"], descending=[True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("rank"))
        .drop("__rank_hours")
    )


def provider_shares(packages: pl.DataFrame, d: date) -> pl.DataFrame:
    """Return provider shares of planned hours on day ``d`` (``provider_shares_by_month`` without month)."""
    return provider_shares_by_month(active_at_months(packages, months_frame(d, 1))).drop("month")


def concentration_from_shares(shares: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Return ``SUMMARY`` columns by ``by`` from a shares frame (``provider_shares_by_month``)."""
    return shares.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("providers_active"),
        pl.col("share_pct").filter(pl.col("rank") == 1).sum().alias("cr1_pct"),
        pl.col("share_pct").filter(pl.col("rank") <= 3).sum().alias("cr3_pct"),
        (pl.col("share_pct") ** 2).sum().alias("hhi"),
        (10_000 / (pl.col("share_pct") ** 2).sum()).alias("effective_providers"),
        pl.col("provider_id").filter(pl.col("rank") == 1).first().alias("largest_provider_id"),
    )


def concentration_stats(
    packages: pl.DataFrame, months: pl.DataFrame, keys: Sequence[str], grid: pl.DataFrame
) -> pl.DataFrame:
    """Return ``keys``, month, ``SUMMARY`` and hhi_band for every row of ``grid`` (``keys`` + ``month``).

    A group with no planned hours has 0 providers and null shares, HHI and band.
    """
    return concentration_from_snapshot(active_at_months(packages, months), keys, grid)


def concentration_from_snapshot(snapshot: pl.DataFrame, keys: Sequence[str], grid: pl.DataFrame) -> pl.DataFrame:
    """Return ``concentration_stats`` from package rows already expanded to months (``active_at_months``)."""
    by = [*keys, "month"]
    shares = provider_shares_by_month(snapshot, keys, people=False)
    out = fill_grid(grid, concentration_from_shares(shares, by), by, ["providers_active"])
    return out.select(*by, *SUMMARY, hhi_band_expr())


def concentration_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per month of ``months``: month, ``SUMMARY`` and hhi_band.

    A month with no planned hours has 0 providers and null shares, HHI and band.
    """
    return concentration_stats(packages, months, [], months.select("month"))


def hhi_band_expr(hhi: pl.Expr | None = None) -> pl.Expr:
    """Return the HHI band: ``unconcentrated``, ``concentrated`` or ``highly concentrated`` (config
    thresholds ``hhi_concentrated`` and ``hhi_highly_concentrated``, strictly above); null for null."""
    hhi = comparable(pl.col("hhi") if hhi is None else hhi)
    t = settings()["thresholds"]
    return (
        pl.when(hhi.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(hhi > t["hhi_highly_concentrated"])
        .then(pl.lit("highly concentrated"))
        .when(hhi > t["hhi_concentrated"])
        .then(pl.lit("concentrated"))
        .otherwise(pl.lit("unconcentrated"))
        .alias("hhi_band")
    )


def concentration_on(packages: pl.DataFrame, d: date) -> dict:
    """Return ``SUMMARY`` and hhi_band for day ``d`` as a dict (unrounded)."""
    return concentration_by_month(packages, months_frame(d, 1)).row(0, named=True)


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return hhi, cr1_pct, cr3_pct and effective_providers (2 dp; None with no planned hours) on ``as_of``."""
    row = concentration_on(filter_locality(staged, locality).packages, as_of)
    return {key: rounded(row[key]) for key in ("hhi", "cr1_pct", "cr3_pct", "effective_providers")}


def _concentration(snapshot: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Return ``SUMMARY`` by ``by`` (which includes ``month``) from package-month rows."""
    keys = [k for k in by if k != "month"]
    return concentration_from_shares(provider_shares_by_month(snapshot, keys, people=False), [*keys, "month"])


def _provider_hours(snapshot: pl.DataFrame) -> pl.DataFrame:
    """Return planned hours a week by locality, rural class, service type, month and provider.

    Shares need only each provider's hours, which add up: summing these cells per geography gives
    the same hours as summing the package-month rows, from far fewer rows.
    """
    keys = ["locality", "rural_class", "service_type", "month", "provider_id"]
    return snapshot.group_by(keys).agg(pl.col("planned_hours_per_week").sum())


def concentration_summary(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return geography (council, locality, rural class) x service_type x month concentration.

    Columns: geography_level, geography, service_type (``all`` or one type), month, ``SUMMARY``, hhi_band.
    """
    summary = summary_by_geography(staged, months, _concentration, zero=["providers_active"], cells=_provider_hours)
    largest = pl.col("largest_provider_id").cast(pl.String)  # Categorical in the snapshot
    return summary.with_columns(largest).select(*SUMMARY_KEYS, *SUMMARY, hhi_band_expr())


def provider_share_mart(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return provider shares by geography (council, locality) x month, all service types.

    Columns: geography_level, geography, month, provider_id, provider_name, provider_type,
    people_in_service, planned_hours_per_week, share_pct, rank.
    """
    keys = ["geography_level", "geography"]
    columns = ["locality", "rural_class", "service_type", "person_id", "provider_id"]
    packages = enriched_packages(staged).select(*columns, "planned_hours_per_week", "start_date", "end_date")
    snapshot = active_at_months(coded(packages, ["locality", "rural_class", "service_type", "provider_id"]), months)
    shares = per_level(snapshot, lambda f: provider_shares_by_month(f, keys), ("council", "locality"))
    shares = as_text(shares, ["provider_id"])  # Categorical (sorted as text) while exploded
    names = staged.providers.select("provider_id", "provider_name", "provider_type")
    return (
        shares.join(names, on="provider_id", how="left")
        .select(
            *keys,
            "month",
            "provider_id",
            "provider_name",
            "provider_type",
            "people_in_service",
            "planned_hours_per_week",
            "share_pct",
            "rank",
        )
        .sort(*keys, "month", "rank")
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_concentration_month`` and ``mart_provider_share_month``."""
    months = mart_months(staged)
    return {
        "mart_concentration_month": concentration_summary(staged, months),
        "mart_provider_share_month": provider_share_mart(staged, months),
    }
