"""Waiting: people and hours waiting for home care, how long they have waited, how fast requests are sourced.

Snapshot on each month's snapshot date (``common.waiting_expr``): requests_waiting, people_waiting
(distinct ``person_id``), hours_waiting (sum of ``hours_per_week``), and median and 90th percentile of
days waited so far (snapshot date minus ``requested_date``, per request). Flow within the period (first
of the month to the snapshot date): requests sourced (not withdrawn, ``sourced_date`` in the period),
median and 90th percentile of days to source (``sourced_date - requested_date``) and the % sourced
within 7, 14 and 28 days (days <= N).

Percentiles use linear interpolation between order statistics (numpy's default, Excel's
PERCENTILE.INC); the median of an even count is the mean of the middle two.

No data: when the drop has no requests at all (the file is optional), every waiting measure is null,
not 0. When it has requests, counts are 0 where nobody waits and the day-based measures are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from analytics.indicators.common import (
    GEOGRAPHY_LEVELS,
    days_between,
    enriched_requests,
    fill_grid,
    filter_locality,
    geography_frame,
    mart_months,
    months_frame,
    not_withdrawn_expr,
    period_of,
    rounded,
    waiting_at_months,
    with_level,
)
from analytics.ingest.staged import Staged

SNAPSHOT_COUNTS = ("requests_waiting", "people_waiting", "hours_waiting")
SNAPSHOT_DAYS = ("median_wait_days", "p90_wait_days")
FLOW_COUNTS = ("requests_sourced",)
FLOW_MEASURES = (
    "median_days_to_source",
    "p90_days_to_source",
    "sourced_within_7_days_pct",
    "sourced_within_14_days_pct",
    "sourced_within_28_days_pct",
)
COLUMNS = SNAPSHOT_COUNTS + SNAPSHOT_DAYS + FLOW_COUNTS + FLOW_MEASURES


def waiting_stats(waiting: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Return snapshot counts and wait-day percentiles of ``waiting`` (from ``waiting_at_months``) by ``by``."""
    days = pl.col("days_waited").cast(pl.Float64)
    return waiting.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("requests_waiting"),
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people_waiting"),
        pl.col("hours_per_week").sum().cast(pl.Float64).alias("hours_waiting"),
        days.median().alias("median_wait_days"),
        days.quantile(0.9, "linear").alias("p90_wait_days"),
    )


def sourced_in_months(requests: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (request, month) sourced in that month's period, with ``days_to_source``."""
    sourced = requests.filter(not_withdrawn_expr() & pl.col("sourced_date").is_not_null())
    if sourced.is_empty():
        return sourced.with_columns(
            pl.lit(None, dtype=pl.Date).alias("month"), pl.lit(None, dtype=pl.Int64).alias("days_to_source")
        ).clear()
    # each period is one calendar month (the latest ending at as_of), so a date falls in at most one:
    # the same rows as a range join on month_start <= sourced_date <= month, without the join
    hits = sourced.with_columns(period_of("sourced_date", months).alias("month")).filter(pl.col("month").is_not_null())
    return hits.with_columns(days_between("requested_date", "sourced_date").alias("days_to_source"))


def sourced_stats(sourced: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Return requests_sourced and days-to-source measures of ``sourced`` (``sourced_in_months``) by ``by``."""
    days = pl.col("days_to_source").cast(pl.Float64)
    return sourced.group_by(by).agg(
        pl.len().cast(pl.Int64).alias("requests_sourced"),
        days.median().alias("median_days_to_source"),
        days.quantile(0.9, "linear").alias("p90_days_to_source"),
        *[((days <= n).mean() * 100).alias(f"sourced_within_{n}_days_pct") for n in (7, 14, 28)],
    )


def waiting_stats_grid(
    requests: pl.DataFrame, months: pl.DataFrame, keys: Sequence[str], grid: pl.DataFrame, recorded: bool = True
) -> pl.DataFrame:
    """Return ``COLUMNS`` for every row of ``grid`` (columns ``keys`` + ``month``).

    ``requests`` must carry the ``keys`` columns. ``recorded=False`` (the drop has no requests file)
    makes every measure null.
    """
    by = [*keys, "month"]
    if not recorded:
        counts = ("requests_waiting", "people_waiting", "requests_sourced")
        return grid.select(
            *by, *[pl.lit(None, dtype=pl.Int64 if c in counts else pl.Float64).alias(c) for c in COLUMNS]
        ).sort(by)
    snap = waiting_stats(waiting_at_months(requests, months), by)
    flow = sourced_stats(sourced_in_months(requests, months), by)
    out = fill_grid(grid, snap, by, SNAPSHOT_COUNTS).join(flow, on=by, how="left")
    return out.with_columns(pl.col(*FLOW_COUNTS).fill_null(0)).select(*by, *COLUMNS).sort(by)


def waiting_by_month(requests: pl.DataFrame, months: pl.DataFrame, recorded: bool = True) -> pl.DataFrame:
    """Return one row per month of ``months`` with ``COLUMNS``.

    ``recorded=False`` (the drop has no requests file) makes every measure null.
    """
    return waiting_stats_grid(requests, months, [], months.select("month"), recorded)


def waiting_on(requests: pl.DataFrame, d: date, recorded: bool = True) -> dict:
    """Return ``COLUMNS`` for day ``d`` (flows from the first of ``d``'s month to ``d``) as a dict."""
    return waiting_by_month(requests, months_frame(d, 1), recorded).row(0, named=True)


def headline(staged: Staged, as_of: date, locality: str | None) -> dict:
    """Return people_waiting, requests_waiting, hours_waiting (2 dp), median_wait_days and p90_wait_days
    on ``as_of``; all None when the drop has no requests."""
    recorded = not staged.requests.is_empty()
    row = waiting_on(filter_locality(staged, locality).requests, as_of, recorded)
    return {
        "people_waiting": row["people_waiting"],
        "requests_waiting": row["requests_waiting"],
        "hours_waiting": rounded(row["hours_waiting"]),
        "median_wait_days": rounded(row["median_wait_days"]),
        "p90_wait_days": rounded(row["p90_wait_days"]),
    }


def waiting_detail(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return the additive detail mart: month, area_code, locality, rural_class, requests_waiting,
    people_waiting, hours_waiting, requests_sourced (only area-months with any of them)."""
    requests = enriched_requests(staged)
    keys = ["month", "area_code", "locality", "rural_class"]
    snap = waiting_stats(waiting_at_months(requests, months), keys).select(*keys, *SNAPSHOT_COUNTS)
    flow = sourced_stats(sourced_in_months(requests, months), keys).select(*keys, "requests_sourced")
    out = snap.join(flow, on=keys, how="full", coalesce=True).with_columns(
        pl.col(*SNAPSHOT_COUNTS, "requests_sourced").fill_null(0)
    )
    return out.select(*keys, *SNAPSHOT_COUNTS, "requests_sourced").sort(keys, nulls_last=True)


def waiting_summary(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return ``COLUMNS`` by geography (council, locality, rural class) x month."""
    keys = ["geography_level", "geography"]
    requests = enriched_requests(staged)
    grid = geography_frame(staged.areas).join(months.select("month"), how="cross")
    recorded = not staged.requests.is_empty()
    frames = [
        waiting_stats_grid(
            with_level(requests, level), months, keys, grid.filter(pl.col("geography_level") == level), recorded
        )
        for level in GEOGRAPHY_LEVELS
    ]
    return pl.concat(frames).sort(*keys, "month")


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_waiting_area_month`` (additive detail) and ``mart_waiting_month`` (by geography)."""
    months = mart_months(staged)
    return {
        "mart_waiting_area_month": waiting_detail(staged, months),
        "mart_waiting_month": waiting_summary(staged, months),
    }
