"""Which months each source file covers, and the marts masked to them: no month outside the data is a zero.

A drop's files need not start together: a council's packages may start in 2024 and its requests in
mid-2025, while the marts' month grid (``common.month_ends``) always runs back 36 months. Without
this, every month before a file starts would read as 0 people waiting or 0 packages.

**Coverage of a file** (``source_coverage``, stored at refresh as the ``meta_coverage`` table):

* ``first_date`` / ``last_date``: the earliest and latest date of the file's own date column
  (``DATE_COLUMNS``); a file with no rows has no coverage (every month uncovered).
* ``first_month``: the snapshot date (``common.month_ends``) of the first month whose figures are
  complete. For files of *events* (packages, requests) a month-end snapshot (people in service,
  people waiting) also counts everything started earlier and still open, which the file cannot hold
  before it starts, so their first complete month is the month **after** the earliest event
  (the demo's requests start on 1 November 2023: 34 people "waiting" on 30 November were only
  November's requests). Files of *periods* (workforce months, delivery weeks) cover their first
  month. The latest month of the grid (the drop's as-of month) is always covered when the file
  has rows: it is the drop's own statement of now, the figure the headline reports.
* ``last_month``: the snapshot date of the month of ``last_date``, at most the as-of date (events
  and open packages run on to the as-of date, so packages and requests cover up to it).

**Masking** (``mask_marts``): every mart with a ``month`` column maps its measure columns to the
files they come from (``MART_SOURCES``). A month before a source's ``first_month`` is removed
from single-source marts and set to null (no data, never 0) in mixed ones; a column built from
two files (areas with demand: packages or people waiting) needs both. Months after ``last_month``
are kept: a monthly return that stopped early is shown as stopping (no rows), not extended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from analytics.indicators.common import MART_MONTHS, month_end, month_ends
from analytics.ingest.staged import Staged

# The date column that places each dated file's rows in time, and whether its rows are events
# (open items carried forward in month-end snapshots) or periods (one figure per week or month).
DATE_COLUMNS = {
    "packages": "start_date",
    "requests": "requested_date",
    "delivery": "period_start",
    "workforce": "month",
}
EVENT_FILES = frozenset({"packages", "requests"})

COVERAGE_SCHEMA = {
    "file": pl.String,
    "first_date": pl.Date,
    "last_date": pl.Date,
    "first_month": pl.Date,
    "last_month": pl.Date,
}


@dataclass(frozen=True)
class Coverage:
    """One file's coverage: first and last dates in it, first and last complete month (snapshot dates)."""

    file: str
    first_date: date | None
    last_date: date | None
    first_month: date | None
    last_month: date | None

    def covers(self, month: date) -> bool:
        """Whether ``month`` (a snapshot date) is on or after the first complete month."""
        return self.first_month is not None and month >= self.first_month


def _next_month_end(d: date) -> date:
    start = month_end(d)
    return month_end(date(start.year + (start.month == 12), start.month % 12 + 1, 1))


def file_coverage(file: str, dates: pl.Series, as_of: date) -> Coverage:
    """Return the coverage of ``file`` whose dates are ``dates`` (nulls ignored) on a drop of ``as_of``."""
    known = dates.drop_nulls()
    if known.is_empty():
        return Coverage(file, None, None, None, None)
    first, last = known.min(), known.max()
    latest = min(month_end(as_of), as_of)  # the grid's last snapshot date
    start = _next_month_end(first) if file in EVENT_FILES else month_end(first)
    start = min(start, latest)  # the as-of month is always shown (see the module docstring)
    end = latest if file in EVENT_FILES else min(month_end(last), latest)
    return Coverage(file, first, last, start, max(start, end))


def source_coverage(staged: Staged) -> dict[str, Coverage]:
    """Return each dated file's ``Coverage`` in ``staged`` (keys: ``DATE_COLUMNS``)."""
    return {
        file: file_coverage(file, getattr(staged, file).get_column(column), staged.as_of)
        for file, column in DATE_COLUMNS.items()
    }


def coverage_frame(coverage: dict[str, Coverage]) -> pl.DataFrame:
    """Return ``coverage`` as the ``meta_coverage`` table: ``file, first_date, last_date, first_month, last_month``."""
    rows = [
        {"file": c.file, "first_date": c.first_date, "last_date": c.last_date, "first_month": c.first_month,
         "last_month": c.last_month}
        for c in coverage.values()
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=COVERAGE_SCHEMA)


# Marts with a month column: the file every measure comes from, and the measure columns that come
# from other files (a tuple: needs all of them). Columns not listed take the mart's file; key columns
# (geography, month, area, provider, service type) are never masked.
_REQUESTS_IN_RURAL = (
    "people_waiting", "hours_waiting", "median_wait_days", "p90_wait_days", "share_of_hours_waiting_pct",
)  # fmt: skip
MART_SOURCES: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "mart_waiting_month": ("requests", {}),
    "mart_waiting_area_month": ("requests", {}),
    "mart_workforce_month": ("workforce", {}),
    "mart_workforce_provider_month": ("workforce", {"hours_per_week": ("packages",)}),
    "mart_delivery_month": ("delivery", {}),
    "mart_delivery_provider_month": ("delivery", {}),
    "mart_supply_month": ("packages", {}),
    "mart_supply_summary_month": ("packages", {}),
    "mart_concentration_month": ("packages", {}),
    "mart_handbacks_month": ("packages", {}),
    "mart_microenterprise_month": ("packages", {}),
    "mart_me_programme_month": ("packages", {}),
    "mart_provider_churn_month": ("packages", {}),
    "mart_provider_share_month": ("packages", {}),
    "mart_quality_mix": ("packages", {}),
    "mart_price_month": ("packages", {}),
    "mart_early_warning_month": ("packages", {}),
    "mart_rural_month": ("packages", {c: ("requests",) for c in _REQUESTS_IN_RURAL}),
    "mart_rural_gap_month": (
        "requests",
        {"rural_share_planned_hours_pct": ("packages",), "unclassified_areas": ()},
    ),
    "mart_coverage_area_month": (
        "packages",
        {
            "people_waiting": ("requests",),
            "hours_waiting": ("requests",),
            "has_demand": ("packages", "requests"),
            "under_min_providers": ("packages", "requests"),
            "single_provider": ("packages", "requests"),
            "population_65_plus": (),
        },
    ),
    "mart_coverage_month": (
        "packages",
        {
            "areas": (),
            "areas_with_demand": ("packages", "requests"),
            "areas_under_min_providers": ("packages", "requests"),
            "areas_single_provider": ("packages", "requests"),
            "areas_with_demand_no_provider": ("packages", "requests"),
        },
    ),
}
KEY_COLUMNS = frozenset(
    {
        "geography_level", "geography", "service_type", "month", "area_code", "area_name", "locality",
        "rural_class", "provider_id", "provider_name", "provider_type", "funding", "client_group", "rating",
    }
)  # fmt: skip


def _start(coverage: dict[str, Coverage], files: tuple[str, ...]) -> date | None:
    """Return the first month every file of ``files`` covers (``date.min`` for none; ``None``: never)."""
    starts = [coverage[f].first_month if f in coverage else date.min for f in files]
    return None if any(s is None for s in starts) else max(starts, default=date.min)


def mask_mart(name: str, frame: pl.DataFrame, coverage: dict[str, Coverage]) -> pl.DataFrame:
    """Return mart ``name`` with every month before its sources' coverage removed or set to null.

    Marts not in ``MART_SOURCES`` (or without a ``month`` column) are returned unchanged.
    """
    if name not in MART_SOURCES or "month" not in frame.columns or frame.is_empty():
        return frame
    source, overrides = MART_SOURCES[name]
    month = pl.col("month")
    if not overrides:
        start = _start(coverage, (source,))
        return frame.clear() if start is None else frame.filter(month >= start)
    measures = [c for c in frame.columns if c not in KEY_COLUMNS]
    masked = []
    for column in measures:
        start = _start(coverage, overrides.get(column, (source,)))
        if start == date.min:
            continue
        keep = pl.lit(False) if start is None else month >= start
        masked.append(pl.when(keep).then(pl.col(column)).otherwise(None).alias(column))
    out = frame.with_columns(masked) if masked else frame
    sourced = [c for c in measures if overrides.get(c, (source,))]
    return out.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in sourced)) if sourced else out


def mask_marts(marts: dict[str, pl.DataFrame], coverage: dict[str, Coverage]) -> dict[str, pl.DataFrame]:
    """Return every mart masked to its sources' coverage (``mask_mart``)."""
    return {name: mask_mart(name, frame, coverage) for name, frame in marts.items()}


def grid_months(as_of: date) -> list[date]:
    """Return the marts' month grid for a drop of ``as_of`` (``common.month_ends`` of ``MART_MONTHS``)."""
    return month_ends(as_of, MART_MONTHS)


__all__ = [
    "DATE_COLUMNS",
    "MART_SOURCES",
    "Coverage",
    "coverage_frame",
    "file_coverage",
    "grid_months",
    "mask_mart",
    "mask_marts",
    "source_coverage",
]
