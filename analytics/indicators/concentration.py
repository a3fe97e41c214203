"""Concentration: each provider's share of planned hours, CR1, CR3, HHI and the effective number of providers.

Shares are of planned hours a week in active packages on the snapshot date, in percentage points
(0 to 100). ``HHI = sum(share_pct ** 2)`` (0 to 10,000; DOMAIN.md 1.5), ``CR1``/``CR3`` = the largest
1/3 shares summed (CR3 is 100 when there are fewer than 3 providers), effective number of providers =
10,000 / HHI. All are null when there are no planned hours. Bands (descriptive, not legal tests):
HHI above ``thresholds.hhi_concentrated`` is "concentrated", above ``hhi_highly_concentrated`` "highly
concentrated" (UK 2010 merger guidelines).

Ties: providers are ranked by planned hours (rounded to 6 dp, so float summation noise does not
break a true tie) descending, then by ``provider_id`` ascending; rank 1 is "the largest provider".
CR1, CR3 and HHI do not depend on how ties are broken (tied shares are equal); only which provider
is named largest does, and that is the lowest ``provider_id`` among those tied.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import (
    ALL_SERVICE_TYPES,
    MART_MONTHS,
    active_at_months,
    enriched_packages,
    filter_locality,
    geographies,
    months_frame,
    per_geography,
    rounded,
)
from analytics.staged import Staged

SUMMARY = ("providers_active", "cr1_pct", "cr3_pct", "hhi", "effective_providers", "largest_provider_id")


def provider_shares_by_month(snapshot: pl.DataFrame) -> pl.DataFrame:
    """Return each provider's hours and share per month from ``snapshot`` (package rows with ``month``).

    Columns: month, provider_id, people_in_service, planned_hours_per_week, share_pct, rank (1 = largest;
    ties as in the module docstring). Sorted by month then rank.
    """
    per_provider = snapshot.group_by("month", "provider_id").agg(
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people_in_service"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("planned_hours_per_week"),
    )
    return (
        per_provider.with_columns(
            (pl.col("planned_hours_per_week") / pl.col("planned_hours_per_week").sum().over("month") * 100).alias(
                "share_pct"
            ),
            pl.col("planned_hours_per_week").round(6).alias("__rank_hours"),
        )
        .sort(["month", "__rank_hours", "provider_id"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("month").alias("rank"))
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


def concentration_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per month of ``months``: month, ``SUMMARY`` and hhi_band.

    A month with no planned hours has 0 providers and null shares, HHI and band.
    """
    shares = provider_shares_by_month(active_at_months(packages, months))
    summary = concentration_from_shares(shares, ["month"])
    out = (
        months.select("month")
        .join(summary, on="month", how="left")
        .with_columns(pl.col("providers_active").fill_null(0))
    )
    return out.select("month", *SUMMARY, hhi_band_expr())


def hhi_band_expr(hhi: pl.Expr | None = None) -> pl.Expr:
    """Return the HHI band: ``unconcentrated``, ``concentrated`` or ``highly concentrated`` (config
    thresholds ``hhi_concentrated`` and ``hhi_highly_concentrated``, strictly above); null for null."""
    hhi = pl.col("hhi") if hhi is None else hhi
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


def concentration_summary(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return geography (council, locality, rural class) x service_type x month concentration.

    Columns: geography_level, geography, service_type (``all`` or one type), month, ``SUMMARY``, hhi_band.
    """
    packages = enriched_packages(staged)
    types = sorted(packages.get_column("service_type").unique().to_list())

    def compute(geo):
        sub = packages.filter(pl.col("area_code").is_in(list(geo.area_codes)))
        frames = [concentration_by_month(sub, months).select(pl.lit(ALL_SERVICE_TYPES).alias("service_type"), pl.all())]
        frames += [
            concentration_by_month(sub.filter(pl.col("service_type") == t), months).select(
                pl.lit(t).alias("service_type"), pl.all()
            )
            for t in types
        ]
        return pl.concat(frames, how="vertical_relaxed")

    return per_geography(geographies(staged.areas), compute)


def provider_share_mart(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return provider shares by geography (council, locality) x month, all service types.

    Columns: geography_level, geography, month, provider_id, provider_name, provider_type,
    people_in_service, planned_hours_per_week, share_pct, rank.
    """
    packages = enriched_packages(staged)
    names = staged.providers.select("provider_id", "provider_name", "provider_type")

    def compute(geo):
        sub = packages.filter(pl.col("area_code").is_in(list(geo.area_codes)))
        shares = provider_shares_by_month(active_at_months(sub, months))
        return shares.join(names, on="provider_id", how="left").select(
            "month",
            "provider_id",
            "provider_name",
            "provider_type",
            "people_in_service",
            "planned_hours_per_week",
            "share_pct",
            "rank",
        )

    return per_geography(geographies(staged.areas, ("council", "locality")), compute)


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_concentration_month`` and ``mart_provider_share_month``."""
    months = months_frame(staged.as_of, MART_MONTHS)
    return {
        "mart_concentration_month": concentration_summary(staged, months),
        "mart_provider_share_month": provider_share_mart(staged, months),
    }
