"""Market churn: packages handed back by providers, and providers entering and leaving (CQC register, ADASS).

Definitions used throughout:

* **Hand-back**: a package whose ``end_reason`` is ``provider_handback``; it counts on its
  ``end_date``. Hours are the package's ``planned_hours_per_week`` (hours a week of care that had to
  be found again), summed over the packages.
* **Window "the N months to d"**: ``end_date`` after the same day N calendar months before ``d``
  and on or before ``d`` (so the 3 months to 31 March are 1 January to 31 March).
* **Hand-backs not recorded**: the drop has no packages, or packages have ended but none of them
  carries an end reason. Hand-backs cannot be counted then, so the measures are ``None``.
* **Provider entry / exit**: a provider is active from ``active_from`` (or, when blank, the start of
  its first package) to ``active_to`` (or, when blank, the end of its last package; still active
  while any package is open). It enters in the month of its first active day and exits in the
  month of its last. A provider with neither dates nor packages is never active. For a locality,
  package dates are those of its packages there, so "entry" and "exit" mean starting and stopping
  work in the locality (unless ``active_from``/``active_to`` are given).

Monthly series use ``common.months_frame``: each month runs from its first day to its snapshot date
(the month's last day, or ``as_of`` for the latest month).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import polars as pl

from analytics.indicators.common import (
    ALL_SERVICE_TYPES,
    area_attributes,
    by_level_and_service_type,
    enriched_packages,
    fill_in_order,
    filter_locality,
    geography_grid,
    mart_months,
    period_of,
    rounded,
    service_type_frame,
)
from analytics.ingest.staged import Staged

HANDBACK = "provider_handback"
#: How far after a hand-back a new package for the same person still counts as "re-homed" (days).
#: A later package may also start up to ``REHOME_OVERLAP_DAYS`` before the hand-back ended (handover).
REHOME_WITHIN_DAYS = 90
REHOME_OVERLAP_DAYS = 14


def months_before(d: date, months: int) -> date:
    """Return the same day ``months`` calendar months before ``d`` (clamped to the month's last day)."""
    index = d.year * 12 + (d.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def handbacks_recorded(packages: pl.DataFrame) -> bool:
    """Return whether hand-backs can be counted: there are packages, and ended ones carry end reasons.

    ``False`` when ``packages`` is empty, or when at least one package has ended and no package in
    the frame has an ``end_reason``. (Nothing ended at all is a real zero, so that is ``True``.)
    """
    if packages.is_empty():
        return False
    ended = packages.filter(pl.col("end_date").is_not_null())
    return ended.is_empty() or ended.get_column("end_reason").drop_nulls().len() > 0


def handbacks_in_window(packages: pl.DataFrame, as_of: date, months: int) -> pl.DataFrame:
    """Return the packages handed back in the ``months`` months to ``as_of`` (all package columns)."""
    start = months_before(as_of, months)
    return packages.filter(
        (pl.col("end_reason") == HANDBACK)
        & (pl.col("end_date") > pl.lit(start))
        & (pl.col("end_date") <= pl.lit(as_of))
    )


def _handback_totals() -> list[pl.Expr]:
    return [
        pl.len().cast(pl.Int64).alias("packages_handed_back"),
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people_handed_back"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_handed_back"),
    ]


def handback_totals(packages: pl.DataFrame, as_of: date, months: int) -> dict[str, float | int | None]:
    """Return hand-back totals for the ``months`` months to ``as_of``.

    Inputs: staged ``packages``; ``as_of`` the last day of the window; ``months`` its length.
    Output: ``packages_handed_back`` (count), ``people_handed_back`` (distinct people) and
    ``hours_handed_back`` (hours a week, sum of planned hours). All ``None`` if hand-backs are not
    recorded (see ``handbacks_recorded``).
    """
    if not handbacks_recorded(packages):
        return {"packages_handed_back": None, "people_handed_back": None, "hours_handed_back": None}
    window = handbacks_in_window(packages, as_of, months)
    row = window.select(_handback_totals()).row(0, named=True)
    return {
        "packages_handed_back": int(row["packages_handed_back"]),
        "people_handed_back": int(row["people_handed_back"]),
        "hours_handed_back": float(row["hours_handed_back"] or 0.0),
    }


def handback_summary(
    packages: pl.DataFrame,
    areas: pl.DataFrame,
    as_of: date,
    months: int,
    by: str = "provider_id",
) -> pl.DataFrame:
    """Return hand-backs in the ``months`` months to ``as_of`` grouped by ``by``.

    ``by`` is ``provider_id``, ``area_code`` or ``locality`` (blank locality = ``Unassigned``).
    Output columns: ``by``, ``packages_handed_back`` (Int64), ``people_handed_back`` (Int64, distinct
    people), ``hours_handed_back`` (Float64, hours a week); one row per group with at least one
    hand-back, largest hours first (ties by ``by``).
    """
    if by not in ("provider_id", "area_code", "locality"):
        raise ValueError(f"by must be provider_id, area_code or locality, not {by!r}")
    window = handbacks_in_window(packages, as_of, months)
    if by == "locality":
        window = window.join(area_attributes(areas).select("area_code", "locality"), on="area_code", how="left")
        window = window.with_columns(pl.col("locality").fill_null("Unassigned"))
    return window.group_by(by).agg(_handback_totals()).sort(["hours_handed_back", by], descending=[True, False])


def handbacks_by_month(packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return hand-backs per month (flows from the month's first day to its snapshot date).

    Inputs: staged ``packages``; ``months`` a ``common.months_frame``.
    Output: ``month`` (Date), ``packages_handed_back`` (Int64), ``people_handed_back`` (Int64),
    ``hours_handed_back`` (Float64, hours a week), one row per month. A month with no hand-back is 0
    (a true zero: the packages file is mandatory); a frame where hand-backs are not recorded (see
    ``handbacks_recorded``) gives nulls in every month (no data, not zero).
    """
    schema = {
        "month": pl.Date,
        "packages_handed_back": pl.Int64,
        "people_handed_back": pl.Int64,
        "hours_handed_back": pl.Float64,
    }
    if not handbacks_recorded(packages):
        return months.select("month").with_columns(
            [pl.lit(None, dtype=dtype).alias(name) for name, dtype in schema.items() if name != "month"]
        )
    events = (
        packages.filter(pl.col("end_reason") == HANDBACK)
        .join_where(
            months,
            pl.col("end_date") >= pl.col("month_start"),
            pl.col("end_date") <= pl.col("month"),
        )
        .group_by("month")
        .agg(_handback_totals())
    )
    out = months.select("month").join(events, on="month", how="left")
    return out.with_columns(
        [pl.col(name).fill_null(0).cast(dtype) for name, dtype in schema.items() if name != "month"]
    ).sort("month")


def handback_destinations(packages: pl.DataFrame, as_of: date, months: int = 12) -> pl.DataFrame:
    """Return where people went after a hand-back in the ``months`` months to ``as_of``.

    For each handed-back package, the person's earliest other package with a different provider
    starting between ``REHOME_OVERLAP_DAYS`` before and ``REHOME_WITHIN_DAYS`` after the hand-back's
    end date (and on or before ``as_of``) is taken as where they went.
    Output, one row per (from provider, outcome, to provider): ``from_provider_id``, ``outcome``
    (``re-homed`` or ``no later package found``), ``to_provider_id`` (null when not re-homed),
    ``packages`` (Int64), ``hours_handed_back`` (Float64, hours a week of the handed-back packages).
    """
    window = handbacks_in_window(packages, as_of, months).select(
        "package_id", "person_id", "provider_id", "end_date", "planned_hours_per_week"
    )
    later = packages.select(
        pl.col("package_id").alias("to_package_id"),
        "person_id",
        pl.col("provider_id").alias("to_provider_id"),
        pl.col("start_date").alias("to_start"),
    )
    matched = (
        window.join(later, on="person_id", how="inner")
        .filter(
            (pl.col("to_provider_id") != pl.col("provider_id"))
            & (pl.col("to_start") >= pl.col("end_date") - timedelta(days=REHOME_OVERLAP_DAYS))
            & (pl.col("to_start") <= pl.col("end_date") + timedelta(days=REHOME_WITHIN_DAYS))
            & (pl.col("to_start") <= pl.lit(as_of))
        )
        .sort(["package_id", "to_start", "to_package_id"])
        .unique(subset="package_id", keep="first")
        .select("package_id", "to_provider_id")
    )
    return (
        window.join(matched, on="package_id", how="left")
        .with_columns(
            pl.when(pl.col("to_provider_id").is_null())
            .then(pl.lit("no later package found"))
            .otherwise(pl.lit("re-homed"))
            .alias("outcome")
        )
        .group_by(pl.col("provider_id").alias("from_provider_id"), "outcome", "to_provider_id")
        .agg(
            pl.len().cast(pl.Int64).alias("packages"),
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_handed_back"),
        )
        .sort(["from_provider_id", "outcome", "to_provider_id"], nulls_last=True)
    )


def per_service_type(
    packages: pl.DataFrame, types: Sequence[str], compute: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """Return ``compute(packages)`` for ``all`` then each of ``types``, stacked, led by ``service_type``.

    ``types`` are the service types of the whole drop (so every geography has the same rows); a blank
    ``service_type`` counts as ``home_care``. ``compute`` takes a packages frame.
    """
    typed = packages.with_columns(pl.col("service_type").fill_null("home_care"))
    slices = [(ALL_SERVICE_TYPES, typed)] + [(t, typed.filter(pl.col("service_type") == t)) for t in types]
    return pl.concat(
        [compute(frame).select(pl.lit(name).alias("service_type"), pl.all()) for name, frame in slices],
        how="vertical_relaxed",
    )


def drop_service_types(packages: pl.DataFrame) -> list[str]:
    """Return the sorted service types present in ``packages`` (blank = ``home_care``)."""
    return sorted(packages.get_column("service_type").fill_null("home_care").unique().to_list())


# --- provider entries and exits -----------------------------------------------------------------


def provider_activity(providers: pl.DataFrame, packages: pl.DataFrame) -> pl.DataFrame:
    """Return each provider's first and last active day.

    Inputs: staged ``providers`` and ``packages`` (providers found only in packages are included).
    Output: ``provider_id``, ``first_active`` (Date; ``active_from``, else the first package start;
    null = never seen active) and ``last_active`` (Date; ``active_to``, else the last package end;
    null = still active, i.e. some package is open, or the provider has ``active_from`` and no
    packages).
    """
    from_packages = packages.group_by("provider_id").agg(
        pl.col("start_date").min().alias("__first_start"),
        pl.col("end_date").max().alias("__last_end"),
        pl.col("end_date").is_null().any().alias("__open"),
    )
    ids = pl.concat([providers.select("provider_id"), packages.select("provider_id")]).unique()
    joined = ids.join(providers.select("provider_id", "active_from", "active_to"), on="provider_id", how="left").join(
        from_packages, on="provider_id", how="left"
    )
    first_active = pl.coalesce("active_from", "__first_start")
    last_from_packages = pl.when(pl.col("__open").fill_null(True)).then(None).otherwise(pl.col("__last_end"))
    return joined.select(
        "provider_id",
        first_active.alias("first_active"),
        pl.when(first_active.is_null())
        .then(None)
        .otherwise(pl.coalesce(pl.col("active_to"), last_from_packages))
        .alias("last_active"),
    ).sort("provider_id")


def providers_active_on(providers: pl.DataFrame, packages: pl.DataFrame, d: date) -> list[str]:
    """Return the ids of providers active on ``d`` by ``provider_activity`` (sorted)."""
    activity = provider_activity(providers, packages)
    active = activity.filter(
        pl.col("first_active").is_not_null()
        & (pl.col("first_active") <= pl.lit(d))
        & (pl.col("last_active").is_null() | (pl.col("last_active") >= pl.lit(d)))
    )
    return active.get_column("provider_id").sort().to_list()


def provider_churn_by_month(providers: pl.DataFrame, packages: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return provider entries, exits and stock per month.

    Inputs: staged ``providers`` and ``packages``; ``months`` a ``common.months_frame``.
    Output: ``month``, ``entries`` (first active day in the month), ``exits`` (last active day in
    the month), ``active_providers`` (active on the snapshot date) and ``net_change`` (entries -
    exits), all Int64; null in every column when no provider is known at all.
    """
    activity = provider_activity(providers, packages).filter(pl.col("first_active").is_not_null())
    if activity.is_empty():
        return months.select(
            "month",
            *[pl.lit(None, dtype=pl.Int64).alias(c) for c in ("entries", "exits", "active_providers", "net_change")],
        )
    last = pl.col("last_active").fill_null(date(9999, 12, 31))
    grid = activity.join(months, how="cross")
    counts = grid.group_by("month").agg(
        pl.col("first_active").is_between(pl.col("month_start"), pl.col("month")).sum().cast(pl.Int64).alias("entries"),
        pl.col("last_active").is_between(pl.col("month_start"), pl.col("month")).sum().cast(pl.Int64).alias("exits"),
        ((pl.col("first_active") <= pl.col("month")) & (last >= pl.col("month")))
        .sum()
        .cast(pl.Int64)
        .alias("active_providers"),
    )
    return (
        months.select("month")
        .join(counts, on="month", how="left")
        .with_columns((pl.col("entries") - pl.col("exits")).alias("net_change"))
        .sort("month")
    )


def provider_entries_exits(providers: pl.DataFrame, packages: pl.DataFrame, as_of: date, months: int = 12) -> dict:
    """Return ``{"entries": n, "exits": n}`` for the ``months`` months to ``as_of`` (``None`` if no providers)."""
    activity = provider_activity(providers, packages).filter(pl.col("first_active").is_not_null())
    if activity.is_empty():
        return {"entries": None, "exits": None}
    start = months_before(as_of, months)

    def in_window(col: str) -> pl.Expr:
        return ((pl.col(col) > pl.lit(start)) & (pl.col(col) <= pl.lit(as_of))).sum()

    row = activity.select(in_window("first_active").alias("entries"), in_window("last_active").alias("exits")).row(0)
    return {"entries": int(row[0]), "exits": int(row[1])}


# --- marts and headline ------------------------------------------------------------------------


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the churn marts.

    * ``mart_handbacks_month``: ``geography_level, geography, service_type, month,
      packages_handed_back, people_handed_back, hours_handed_back`` (geography x service type x month).
    * ``mart_handbacks_provider``: ``provider_id, provider_name, packages_3m, hours_3m, packages_12m,
      people_12m, hours_12m`` for providers with a hand-back in the 12 months to ``as_of``.
    * ``mart_handback_destinations``: see ``handback_destinations`` (12 months to ``as_of``).
    * ``mart_provider_churn_month``: council-wide ``month, entries, exits, active_providers, net_change``.
    """
    months = mart_months(staged)
    monthly = handbacks_by_geography(staged, months)
    return {
        "mart_handbacks_month": monthly,
        "mart_handbacks_provider": handbacks_by_provider(staged, staged.as_of),
        "mart_handback_destinations": handback_destinations(staged.packages, staged.as_of, 12),
        "mart_provider_churn_month": provider_churn_by_month(staged.providers, staged.packages, months),
    }


HANDBACK_MONTH_COLUMNS = {
    "packages_handed_back": pl.Int64,
    "people_handed_back": pl.Int64,
    "hours_handed_back": pl.Float64,
}


def handbacks_by_geography(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return ``handbacks_by_month`` for every geography x service type (``all`` and each) in one pass.

    Output: ``geography_level, geography, service_type, month, packages_handed_back,
    people_handed_back, hours_handed_back``; every geography, service type of the drop and month
    appears, in that order. A month with no hand-back is 0; a geography x service type where
    hand-backs are not recorded (``handbacks_recorded`` of its packages) is null in every month.
    """
    packages = enriched_packages(staged).select(
        "locality", "rural_class", "service_type", "person_id", "planned_hours_per_week", "end_date", "end_reason"
    )
    ended = pl.col("end_date").is_not_null()
    recorded = by_level_and_service_type(
        packages,
        lambda f, by: f.group_by(by).agg(
            ((pl.len() > 0) & ((ended.sum() == 0) | (ended & pl.col("end_reason").is_not_null()).any())).alias(
                "__recorded"
            )
        ),
    )
    events = (
        packages.filter(pl.col("end_reason") == HANDBACK)
        .with_columns(period_of("end_date", months).alias("month"))
        .filter(pl.col("month").is_not_null())
    )
    counts = by_level_and_service_type(events, lambda f, by: f.group_by(by).agg(_handback_totals()), ["month"])
    grid = geography_grid(staged.areas, service_type_frame(staged.packages)).join(
        recorded, on=["geography_level", "geography", "service_type"], how="left", maintain_order="left"
    )
    keys = ["geography_level", "geography", "service_type", "month"]
    return fill_in_order(
        grid.join(months.select("month"), how="cross", maintain_order="left_right"), counts, keys
    ).select(
        *keys,
        *[
            pl.when(pl.col("__recorded").fill_null(False)).then(pl.col(name).fill_null(0)).cast(dtype).alias(name)
            for name, dtype in HANDBACK_MONTH_COLUMNS.items()
        ],
    )


def handbacks_by_provider(staged: Staged, as_of: date) -> pl.DataFrame:
    """Return per-provider hand-backs over 3 and 12 months to ``as_of`` (providers with any in 12 months).

    Columns: ``provider_id, provider_name, packages_3m, hours_3m, packages_12m, people_12m, hours_12m``;
    hours are hours a week; sorted by ``hours_12m`` descending then ``provider_id``.
    """
    m12 = handback_summary(staged.packages, staged.areas, as_of, 12, "provider_id")
    m3 = handback_summary(staged.packages, staged.areas, as_of, 3, "provider_id")
    return (
        m12.join(m3, on="provider_id", how="left", suffix="_3m")
        .join(staged.providers.select("provider_id", "provider_name"), on="provider_id", how="left")
        .select(
            "provider_id",
            "provider_name",
            pl.col("packages_handed_back_3m").fill_null(0).alias("packages_3m"),
            pl.col("hours_handed_back_3m").fill_null(0.0).alias("hours_3m"),
            pl.col("packages_handed_back").alias("packages_12m"),
            pl.col("people_handed_back").alias("people_12m"),
            pl.col("hours_handed_back").alias("hours_12m"),
        )
        .sort(["hours_12m", "provider_id"], descending=[True, False])
    )


# One scope rule (analytics.indicators.headline): providers starting and leaving are counted across every service type.
IGNORES_SERVICE_TYPE = frozenset({"provider_entries_12m", "provider_exits_12m"})


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | int | None]:
    """Return churn headline figures for ``locality`` (``None`` = council) at ``as_of``.

    Keys: ``handback_hours_3m`` and ``handback_hours_12m`` (hours a week handed back in the 3 / 12
    months to ``as_of``), ``handback_packages_12m`` (count), ``provider_entries_12m`` and
    ``provider_exits_12m`` (providers). Hours rounded to 2 dp; ``None`` where there is no data.
    """
    sub = filter_locality(staged, locality)
    m3 = handback_totals(sub.packages, as_of, 3)
    m12 = handback_totals(sub.packages, as_of, 12)
    churn = provider_entries_exits(sub.providers, sub.packages, as_of, 12)
    return {
        "handback_hours_3m": rounded(m3["hours_handed_back"]),
        "handback_hours_12m": rounded(m12["hours_handed_back"]),
        "handback_packages_12m": m12["packages_handed_back"],
        "provider_entries_12m": churn["entries"],
        "provider_exits_12m": churn["exits"],
    }
