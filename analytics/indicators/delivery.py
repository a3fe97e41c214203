"""Delivery: hours delivered against hours commissioned (as in ADASS snapshot surveys).

Definitions used throughout:

* A ``delivery`` row belongs to the calendar month of its ``period_start`` (a week that starts on
  31 March counts in March). Monthly figures cover rows starting from the month's first day to its
  snapshot date (``common.months_frame``).
* **Delivery rate** = sum(delivered_hours) / sum(commissioned_hours) x 100 over rows that have
  ``commissioned_hours``; rows without it are left out of the rate (``delivered_hours`` still
  reports every row). **Undelivered hours** = commissioned - delivered over the same rows (negative
  when more was delivered than commissioned).
* **Area** of a row: its ``area_code``, else the area of its ``package_id``; rows with neither are
  counted only at council level.
* **RAG** for a provider's month: ``red`` when the rate is below ``[thresholds]
  delivery_rate_red_pct`` (90), ``amber`` below ``delivery_rate_amber_pct`` (95), else ``green``
  (both are local choices).
* **Weekly hours** (``weekly_delivered_by_month``): rows are monthly when every ``period_start`` in
  the frame is a 1st of the month, otherwise weekly. A month's weekly figure = hours in the month /
  weeks covered (days in the month / 7 for monthly rows; the number of distinct week starts reported
  in the month for weekly rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import (
    ALL,
    COUNCIL,
    PROVIDER_MONTH_SCHEMA,
    Frame,
    area_attributes,
    comparable,
    fill_in_order,
    filter_locality,
    geography_grid,
    month_end,
    months_frame,
    per_level,
    period_of,
    ratio_expr,
    rounded,
)
from analytics.ingest.staged import Staged

DEFAULT_AMBER_PCT = 95.0
DEFAULT_RED_PCT = 90.0
PROVIDER_RAG_SCHEMA = {
    **PROVIDER_MONTH_SCHEMA,
    **dict.fromkeys(("commissioned_hours", "delivered_hours", "delivery_rate_pct", "undelivered_hours"), pl.Float64),
    "rag": pl.String,
}


PROVIDER_MONTH_COLUMNS = (
    "month", "provider_id", "provider_name", "commissioned_hours", "delivered_hours",
    "delivery_rate_pct", "undelivered_hours", "rag",
)  # fmt: skip


def _rag_expr(red: float, amber: float) -> pl.Expr:
    """Return ``rag``: red below ``red`` %, amber below ``amber`` %, else green (null without a rate)."""
    rate = comparable(pl.col("delivery_rate_pct"))
    return (
        pl.when(rate.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(rate < red)
        .then(pl.lit("red"))
        .when(rate < amber)
        .then(pl.lit("amber"))
        .otherwise(pl.lit("green"))
        .alias("rag")
    )


def thresholds() -> tuple[float, float]:
    """Return ``(amber, red)`` delivery-rate thresholds in % from config (95 and 90 if absent)."""
    t = settings().get("thresholds", {})
    return float(t.get("delivery_rate_amber_pct", DEFAULT_AMBER_PCT)), float(
        t.get("delivery_rate_red_pct", DEFAULT_RED_PCT)
    )


def with_area(delivery: Frame, packages: Frame) -> Frame:
    """Return ``delivery`` with ``area_code`` filled from the row's package where blank (both frames
    eager or both lazy)."""
    pkg_area = packages.select("package_id", pl.col("area_code").alias("__pkg_area"))
    return (
        delivery.join(pkg_area, on="package_id", how="left")
        .with_columns(pl.coalesce("area_code", "__pkg_area").alias("area_code"))
        .drop("__pkg_area")
    )


def _summed_delivery() -> list[pl.Expr]:
    """``_delivery_aggs`` of rows already holding them (cells): sums add up, ``any`` of ``any``."""
    return [
        pl.col("commissioned_hours", "delivered_hours", "__delivered_matched").sum(),
        pl.col("__any_commissioned").any(),
    ]


def _delivery_aggs() -> list[pl.Expr]:
    has_commissioned = pl.col("commissioned_hours").is_not_null()
    return [
        pl.col("commissioned_hours").sum().cast(pl.Float64).alias("commissioned_hours"),
        pl.col("delivered_hours").sum().cast(pl.Float64).alias("delivered_hours"),
        pl.col("delivered_hours").filter(has_commissioned).sum().cast(pl.Float64).alias("__delivered_matched"),
        has_commissioned.any().alias("__any_commissioned"),
    ]


def _delivery_columns() -> list[pl.Expr]:
    any_commissioned = pl.col("__any_commissioned").fill_null(False)
    return [
        pl.when(any_commissioned).then(pl.col("commissioned_hours")).otherwise(None).alias("commissioned_hours"),
        ratio_expr(pl.col("__delivered_matched"), pl.col("commissioned_hours"), 100.0).alias("delivery_rate_pct"),
        pl.when(any_commissioned)
        .then(pl.col("commissioned_hours") - pl.col("__delivered_matched"))
        .otherwise(None)
        .alias("undelivered_hours"),
    ]


def _in_months(delivery: Frame, months: pl.DataFrame) -> Frame:
    """Return the rows of ``delivery`` whose ``period_start`` falls in a month of ``months`` (consecutive
    months, as ``months_frame``), with that month's ``month`` and ``month_start``: one vectorised
    pass, no range join."""
    return (
        delivery.with_columns(period_of("period_start", months).alias("month"))
        .filter(pl.col("month").is_not_null())
        .with_columns(pl.col("month").dt.truncate("1mo").alias("month_start"))
    )


def delivery_by_month(delivery: pl.DataFrame, months: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """Return commissioned and delivered hours per month (and per ``by`` columns of ``delivery``).

    Inputs: staged ``delivery`` (with ``area_code`` filled, see ``with_area``, if grouping by area);
    ``months`` a ``common.months_frame``; ``by`` extra grouping columns (e.g. ``["provider_id"]``).
    Output: ``month``, ``*by``, ``commissioned_hours`` (null when no row has it),
    ``delivered_hours``, ``delivery_rate_pct`` (%), ``undelivered_hours`` (hours in the month, not a
    week). Without ``by`` there is one row per month and months with no delivery rows are null;
    with ``by`` only groups with rows appear.
    """
    grouped = (
        _in_months(delivery.lazy(), months)  # lazy: about half the CPU of eager on millions of rows
        .group_by("month", *by)
        .agg(_delivery_aggs())
        .with_columns(_delivery_columns())
        .select("month", *by, "commissioned_hours", "delivered_hours", "delivery_rate_pct", "undelivered_hours")
    )
    if not by:
        grouped = months.lazy().select("month").join(grouped, on="month", how="left")
    return grouped.sort("month", *by).collect()


def latest_delivery_month(delivery: pl.DataFrame, as_of: date) -> date | None:
    """Return the first day of the latest month with a delivery row starting on or before ``as_of``."""
    starts = delivery.filter(pl.col("period_start") <= pl.lit(as_of)).get_column("period_start")
    latest = starts.max()
    return None if latest is None else latest.replace(day=1)


def _single_month(d: date) -> pl.DataFrame:
    return pl.DataFrame({"month": [month_end(d)], "month_start": [d.replace(day=1)]})


def provider_rag(
    delivery: pl.DataFrame,
    providers: pl.DataFrame,
    as_of: date,
    amber_pct: float | None = None,
    red_pct: float | None = None,
) -> pl.DataFrame:
    """Return each provider's delivery rate and RAG for the latest month with data on or before ``as_of``.

    Inputs: staged ``delivery`` and ``providers``; thresholds in % (default from config). Output:
    ``month`` (the month's last day), ``provider_id, provider_name, commissioned_hours,
    delivered_hours, delivery_rate_pct, undelivered_hours`` and ``rag`` (``red``/``amber``/``green``,
    null when the provider has no commissioned hours that month); worst rate first. Empty when there
    is no delivery data.
    """
    amber_default, red_default = thresholds()
    amber = amber_default if amber_pct is None else amber_pct
    red = red_default if red_pct is None else red_pct
    latest = latest_delivery_month(delivery, as_of)
    if latest is None:
        return pl.DataFrame(schema=PROVIDER_RAG_SCHEMA)
    window = delivery.filter(pl.col("period_start") <= pl.lit(as_of))
    return (
        delivery_by_month(window, _single_month(latest), ["provider_id"])
        .join(providers.select("provider_id", "provider_name"), on="provider_id", how="left")
        .select(*PROVIDER_MONTH_COLUMNS[:-1], _rag_expr(red, amber))
        .sort(["delivery_rate_pct", "provider_id"], nulls_last=True)
    )


def period_kind(delivery: pl.DataFrame) -> str:
    """Return ``"month"`` when every ``period_start`` is a 1st of the month, else ``"week"``."""
    starts = delivery.get_column("period_start").drop_nulls()
    if starts.is_empty():
        return "week"
    return "month" if bool((starts.dt.day() == 1).all()) else "week"


def weekly_delivered_by_month(
    delivery: pl.DataFrame, months: pl.DataFrame, by: Sequence[str] = (), kind: str | None = None
) -> pl.DataFrame:
    """Return average delivered hours a week per month (and ``by`` columns).

    ``kind`` is ``"month"`` or ``"week"`` (default: ``period_kind(delivery)``).
    Output: ``month``, ``*by``, ``delivered_hours_per_week`` (Float64) and ``weeks`` (weeks covered,
    see module docstring); only groups with delivery rows appear.
    """
    rows = _in_months(delivery.lazy(), months)
    if (kind or period_kind(delivery)) == "month":
        weeks = (pl.col("month_start").dt.month_end().dt.day().cast(pl.Float64) / 7.0).first()
    else:
        weeks = pl.col("period_start").n_unique().cast(pl.Float64)
    return (
        rows.group_by("month", *by)
        .agg(pl.col("delivered_hours").sum().cast(pl.Float64).alias("__hours"), weeks.alias("weeks"))
        .select("month", *by, (pl.col("__hours") / pl.col("weeks")).alias("delivered_hours_per_week"), "weeks")
        .sort("month", *by)
        .collect()
    )


def delivery_by_geography(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return ``delivery_by_month`` for every geography in one grouped pass per geography level.

    Output: ``geography_level, geography, month, commissioned_hours, delivered_hours,
    delivery_rate_pct, undelivered_hours``; every geography and month appears (null where no row).
    The council row counts every delivery row (with no area and no package too); a locality or rural
    class counts rows whose area (``with_area``) is one of its areas.
    """
    rows = _in_months(staged.delivery.lazy(), months).select(
        "area_code", "package_id", "month", "commissioned_hours", "delivered_hours"
    )
    # cells: every measure adds up (sums, any), so each area's month is summed once and every
    # geography from those cells; rows with no area (nor package) stay in a blank-area cell (council)
    cells = with_area(rows, staged.packages.lazy()).group_by("area_code", "month").agg(_delivery_aggs()).collect()
    attrs = area_attributes(staged.areas).select("area_code", "locality", "rural_class")
    located = cells.join(attrs, on="area_code", how="left")
    keys = ["geography_level", "geography", "month"]

    def aggregate(frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.group_by(keys).agg(_summed_delivery())

    council = aggregate(
        cells.lazy().with_columns(pl.lit(COUNCIL).alias("geography_level"), pl.lit(ALL).alias("geography"))
    ).collect()
    areas = per_level(located, aggregate, levels=("locality", "rural_class"))
    stats = pl.concat([council, areas], how="vertical_relaxed").with_columns(_delivery_columns())
    return fill_in_order(geography_grid(staged.areas, months.select("month")), stats, keys).select(
        *keys, "commissioned_hours", "delivered_hours", "delivery_rate_pct", "undelivered_hours"
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the delivery marts.

    * ``mart_delivery_month``: ``geography_level, geography, month, commissioned_hours,
      delivered_hours, delivery_rate_pct, undelivered_hours`` (delivery rows carry no service type).
    * ``mart_delivery_provider_month``: ``month, provider_id, provider_name, commissioned_hours,
      delivered_hours, delivery_rate_pct, undelivered_hours, rag`` (rows only where the provider
      reported that month).
    """
    months = months_frame(staged.as_of)
    amber, red = thresholds()
    monthly = delivery_by_geography(staged, months)
    provider_month = (
        delivery_by_month(staged.delivery, months, ["provider_id"])
        .join(staged.providers.select("provider_id", "provider_name"), on="provider_id", how="left")
        .select(*PROVIDER_MONTH_COLUMNS[:-1], _rag_expr(red, amber))
    )
    return {"mart_delivery_month": monthly, "mart_delivery_provider_month": provider_month}


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | int | None]:
    """Return delivery headline figures for ``locality`` (``None`` = council).

    For the latest month with delivery data on or before ``as_of``: ``delivery_rate_pct`` (%),
    ``undelivered_hours_per_week`` (commissioned - delivered hours in the month / weeks covered),
    ``providers_delivery_red`` and ``providers_delivery_amber`` (providers in each RAG band); figures
    rounded to 2 dp. All
    ``None`` when there is no delivery data (the provider counts also when no row has commissioned
    hours).
    """
    sub = filter_locality(staged, locality)
    empty = {
        "delivery_rate_pct": None,
        "undelivered_hours_per_week": None,
        "providers_delivery_red": None,
        "providers_delivery_amber": None,
    }
    latest = latest_delivery_month(sub.delivery, as_of)
    if latest is None:
        return empty
    month = _single_month(latest)
    window = sub.delivery.filter(pl.col("period_start") <= pl.lit(as_of))
    council = delivery_by_month(window, month).row(0, named=True)
    matched = window.filter(pl.col("commissioned_hours").is_not_null())
    weekly = weekly_delivered_by_month(matched, month, kind=period_kind(staged.delivery))
    weeks = weekly.get_column("weeks").first() if not weekly.is_empty() else None
    undelivered = council["undelivered_hours"]
    rag = provider_rag(window, sub.providers, as_of)
    rated = rag.filter(pl.col("rag").is_not_null())
    return {
        "delivery_rate_pct": rounded(council["delivery_rate_pct"]),
        "undelivered_hours_per_week": None if undelivered is None or not weeks else rounded(undelivered / weeks),
        "providers_delivery_red": int((rated.get_column("rag") == "red").sum()) if not rated.is_empty() else None,
        "providers_delivery_amber": int((rated.get_column("rag") == "amber").sum()) if not rated.is_empty() else None,
    }
