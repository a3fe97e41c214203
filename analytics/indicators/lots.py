"""Lots: the market of each lot or zone, and whether its largest providers could carry it alone.

Definitions used throughout (on one date; hours are ``planned_hours_per_week`` of active packages):

* **A package's lot**: its ``lot``; else the ``lot`` of its ``contract_id``'s contract; else its
  provider's ``lot``. When nothing in the drop carries a lot, each package's lot is its area's
  **locality** (``lot_basis`` = ``locality``). Packages left without a lot when others have one are
  ``No lot`` and kept out of the cover check.
* **An area's lot** (for waiting): the lot carrying most of the area's active hours (by name on a
  tie); with the locality basis, its locality. People and hours waiting in a lot are those of
  requests waiting in its areas.
* **Spare capacity** of a provider: ``weekly_capacity_hours`` minus its active hours across the
  whole council, floored at 0; blank capacity counts as no spare (``capacity_known`` false).
  A lot's stated spare capacity sums its providers' spare, so a provider in several lots counts its
  spare in each (an upper bound).
* **Primary cover check** with N primary providers (``config.toml [lots] primary_providers_per_lot``):
  the N providers with the most hours in the lot can carry their own hours there plus all of their
  spare capacity. **Left over** = the lot's hours minus what they can carry (0 when covered). A lot
  **fails** when something is left over. **Providers needed** = the smallest N that leaves nothing
  over (null when all the lot's providers together cannot). The lot that **fails first** needs the
  most providers (never covered first), then has the largest share left over.
* **CR1**: the largest provider's share of the lot's hours, %.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import active_on, area_attributes, filter_locality, waiting_on
from analytics.ingest.staged import Staged

NO_LOT = "No lot"
DEFAULT_PRIMARY = 2
LOT_SCHEMA = {
    "lot": pl.String,
    "lot_basis": pl.String,
    "providers": pl.Int64,
    "hours_per_week": pl.Float64,
    "people": pl.Int64,
    "spare_hours": pl.Float64,
    "people_waiting": pl.Int64,
    "hours_waiting": pl.Float64,
    "cr1_pct": pl.Float64,
    "primary_n": pl.Int64,
    "cover_at_n": pl.Float64,
    "left_over_at_n": pl.Float64,
    "left_over_pct": pl.Float64,
    "fails_at_n": pl.Boolean,
    "providers_needed": pl.Int64,
    "fails_first": pl.Boolean,
}
PROVIDER_SCHEMA = {
    "lot": pl.String,
    "rank": pl.Int64,
    "provider_id": pl.String,
    "provider_name": pl.String,
    "hours_in_lot": pl.Float64,
    "spare_hours": pl.Float64,
    "capacity_known": pl.Boolean,
    "can_carry": pl.Float64,
    "cumulative_can_carry": pl.Float64,
}


def primary_providers() -> int:
    """Return ``[lots] primary_providers_per_lot`` (2 if absent)."""
    return int(settings().get("lots", {}).get("primary_providers_per_lot", DEFAULT_PRIMARY))


def lot_basis(staged: Staged) -> str:
    """Return ``"lot"`` when any package, contract or provider carries a lot, else ``"locality"``."""
    for frame in (staged.packages, staged.contracts, staged.providers):
        if "lot" in frame.columns and frame.get_column("lot").drop_nulls().len() > 0:
            return "lot"
    return "locality"


def with_lot(staged: Staged, packages: pl.DataFrame) -> pl.DataFrame:
    """Return ``packages`` with ``lot`` filled by the module rule (``NO_LOT`` when none)."""
    if lot_basis(staged) == "locality":
        attrs = area_attributes(staged.areas).select("area_code", pl.col("locality").alias("__locality"))
        return (
            packages.join(attrs, on="area_code", how="left")
            .with_columns(pl.col("__locality").fill_null(NO_LOT).alias("lot"))
            .drop("__locality")
        )
    by_contract = staged.contracts.select("contract_id", pl.col("lot").alias("__contract_lot"))
    by_provider = staged.providers.select("provider_id", pl.col("lot").alias("__provider_lot"))
    return (
        packages.join(by_contract, on="contract_id", how="left", maintain_order="left")
        .join(by_provider, on="provider_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("lot", "__contract_lot", "__provider_lot").fill_null(NO_LOT).alias("lot"))
        .drop("__contract_lot", "__provider_lot")
    )


def provider_spare(staged: Staged, d: date) -> pl.DataFrame:
    """Return ``provider_id, provider_name, spare_hours, capacity_known`` on ``d`` (council-wide hours)."""
    hours = (
        active_on(staged.packages, d)
        .group_by("provider_id")
        .agg(pl.col("planned_hours_per_week").sum().alias("__hours"))
    )
    return (
        staged.providers.select("provider_id", "provider_name", "weekly_capacity_hours")
        .join(hours, on="provider_id", how="left")
        .select(
            "provider_id",
            "provider_name",
            (pl.col("weekly_capacity_hours") - pl.col("__hours").fill_null(0.0))
            .clip(lower_bound=0.0)
            .fill_null(0.0)
            .alias("spare_hours"),
            pl.col("weekly_capacity_hours").is_not_null().alias("capacity_known"),
        )
    )


def lot_providers(staged: Staged, d: date, packages: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return each lot's providers ranked by hours in the lot (``PROVIDER_SCHEMA``), ``No lot`` excluded.

    ``packages`` restricts the lot hours (e.g. to one locality); spare capacity is always council-wide.
    """
    active = with_lot(staged, active_on(staged.packages if packages is None else packages, d))
    per = (
        active.filter(pl.col("lot") != NO_LOT)
        .group_by("lot", "provider_id")
        .agg(pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_in_lot"))
    )
    if per.is_empty():
        return pl.DataFrame(schema=PROVIDER_SCHEMA)
    spare = provider_spare(staged, d)
    return (
        per.join(spare, on="provider_id", how="left")
        .with_columns(
            pl.col("spare_hours").fill_null(0.0),
            pl.col("capacity_known").fill_null(False),
        )
        .with_columns((pl.col("hours_in_lot") + pl.col("spare_hours")).alias("can_carry"))
        .sort(["lot", "hours_in_lot", "provider_id"], descending=[False, True, False])
        .with_columns(
            pl.int_range(1, pl.len() + 1).over("lot").cast(pl.Int64).alias("rank"),
            pl.col("can_carry").cum_sum().over("lot").alias("cumulative_can_carry"),
        )
        .select([pl.col(c).cast(t) for c, t in PROVIDER_SCHEMA.items()])
    )


def area_lots(staged: Staged, d: date) -> pl.DataFrame:
    """Return ``area_code, lot``: the lot carrying most of each area's active hours on ``d``."""
    if lot_basis(staged) == "locality":
        return area_attributes(staged.areas).select("area_code", pl.col("locality").fill_null(NO_LOT).alias("lot"))
    active = with_lot(staged, active_on(staged.packages, d)).filter(pl.col("lot") != NO_LOT)
    return (
        active.group_by("area_code", "lot")
        .agg(pl.col("planned_hours_per_week").sum().alias("__hours"))
        .sort(["area_code", "__hours", "lot"], descending=[False, True, False])
        .unique("area_code", keep="first", maintain_order=True)
        .select("area_code", "lot")
    )


def cover_at(providers: pl.DataFrame, hours: pl.DataFrame, n: int) -> pl.DataFrame:
    """Return ``lot, cover_at_n, left_over_at_n, left_over_pct, fails_at_n, providers_needed`` for ``n``.

    ``providers`` is ``lot_providers``; ``hours`` has ``lot, hours_per_week`` (the lot's hours).
    """
    top = providers.filter(pl.col("rank") <= n).group_by("lot").agg(pl.col("can_carry").sum().alias("cover_at_n"))
    needed = (
        providers.join(hours.select("lot", "hours_per_week"), on="lot", how="left")
        .filter(pl.col("cumulative_can_carry") >= pl.col("hours_per_week") - 1e-9)
        .group_by("lot")
        .agg(pl.col("rank").min().cast(pl.Int64).alias("providers_needed"))
    )
    return (
        hours.select("lot", "hours_per_week")
        .join(top, on="lot", how="left")
        .join(needed, on="lot", how="left")
        .with_columns(pl.col("cover_at_n").fill_null(0.0))
        .with_columns((pl.col("hours_per_week") - pl.col("cover_at_n")).clip(lower_bound=0.0).alias("left_over_at_n"))
        .with_columns(
            (pl.col("left_over_at_n") / pl.col("hours_per_week") * 100).alias("left_over_pct"),
            (pl.col("left_over_at_n") > 1e-9).alias("fails_at_n"),
        )
        .drop("hours_per_week")
    )


def lots_table(staged: Staged, d: date, n: int | None = None, packages: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return one row per lot on ``d`` (``LOT_SCHEMA``), the lot that fails first first.

    ``n`` primary providers per lot (default config); ``packages`` restricts the lots' hours (spare
    capacity stays council-wide). People are distinct people with an active package in the lot.
    """
    n = primary_providers() if n is None else n
    source = staged.packages if packages is None else packages
    active = with_lot(staged, active_on(source, d)).filter(pl.col("lot") != NO_LOT)
    if active.is_empty():
        return pl.DataFrame(schema=LOT_SCHEMA)
    ranked = lot_providers(staged, d, source)
    stats = active.group_by("lot").agg(
        pl.col("provider_id").n_unique().cast(pl.Int64).alias("providers"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_per_week"),
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
    )
    lot_extra = ranked.group_by("lot").agg(
        pl.col("spare_hours").sum().alias("spare_hours"), pl.col("hours_in_lot").max().alias("__largest")
    )
    waiting = (
        waiting_on(staged.requests, d)
        .join(area_lots(staged, d), on="area_code", how="inner")
        .group_by("lot")
        .agg(
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people_waiting"),
            pl.col("hours_per_week").sum().cast(pl.Float64).alias("hours_waiting"),
        )
    )
    out = (
        stats.join(lot_extra, on="lot", how="left")
        .join(waiting, on="lot", how="left")
        .join(cover_at(ranked, stats, n), on="lot", how="left")
        .with_columns(
            pl.lit(lot_basis(staged)).alias("lot_basis"),
            pl.col("people_waiting").fill_null(0),
            pl.col("hours_waiting").fill_null(0.0),
            (pl.col("__largest") / pl.col("hours_per_week") * 100).alias("cr1_pct"),
            pl.lit(n, dtype=pl.Int64).alias("primary_n"),
        )
        .sort(
            [pl.col("providers_needed").is_null(), pl.col("providers_needed"), pl.col("left_over_pct"), pl.col("lot")],
            descending=[True, True, True, False],
            nulls_last=True,
        )
    )
    first_fail = out.filter(pl.col("fails_at_n")).head(1).get_column("lot").to_list()
    out = out.with_columns(pl.col("lot").is_in(first_fail).alias("fails_first"))
    return out.select([pl.col(c).cast(t) for c, t in LOT_SCHEMA.items()])


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_lots`` (``lots_table`` on ``as_of``) and ``mart_lot_providers`` (``lot_providers``)."""
    return {
        "mart_lots": lots_table(staged, staged.as_of),
        "mart_lot_providers": lot_providers(staged, staged.as_of),
    }


# One scope rule (analytics.indicators.headline): a lot carries every service type contracted under it.
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, int | None]:
    """Return ``lots_failing_primary_cover``: lots whose N largest providers cannot carry their hours.

    For a locality, each lot's hours are those in the locality. ``None`` when no package is active.
    """
    packages = filter_locality(staged, locality).packages
    table = lots_table(staged, as_of, packages=packages)
    if table.is_empty():
        return {"lots_failing_primary_cover": None}
    return {"lots_failing_primary_cover": int(table.get_column("fails_at_n").sum())}
