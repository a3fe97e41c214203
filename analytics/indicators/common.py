"""Helpers every indicator module shares: date rules, month grid, locality and geography filters.

Definitions (applied everywhere):

* **Active on day d**: ``start_date <= d`` and (``end_date`` blank or ``end_date >= d``).
* **Waiting on day d**: ``requested_date <= d``, ``sourced_date`` blank or ``> d``, ``closed_date``
  blank or ``> d``, and the request is not ``withdrawn`` without a ``closed_date`` (blank outcome
  counts as not withdrawn). A withdrawn request with no ``closed_date`` cannot be placed in time, so
  it is excluded at every date; with one it waited from ``requested_date`` to the day before.
* **Month grid** (``month_ends``): the last day of each of the last ``months`` calendar months up to
  ``as_of``; the latest month is capped at ``as_of`` itself, so the latest mart row equals the headline.
  Snapshot measures are taken on that day; flows (new, closed, sourced) count events from the first
  of the month to that day inclusive.

Service types (the default rule, one rule for marts, headline and indicator functions):
indicator functions take ``service_types: Sequence[str] | None = None`` where ``None`` means **every
service type in the drop** (home care, supported living, extra care, reablement, other). Headline
figures are therefore for all service types unless the caller passes a filter (``analytics.indicators.headline``
takes ``service_types=``). Marts keep a ``service_type`` column (or ``"all"`` rows) so pages can filter
to ``home_care``, which is what a page should show by default. Requests carry no service type and are
never filtered by it.

Geographies (``geographies``): ``council`` (one row, name ``All``), each ``locality`` (blank locality
is ``Unassigned``, as in ``analytics.indicators.geography``) and each ``rural_class``. Geography-level marts are
grouped, not looped: ``per_level``/``with_level`` label each row with ``geography_level`` and
``geography`` for one level at a time, so one ``group_by`` per level gives every geography of that level
and distinct counts (people, providers) are exact at every level, never summed across areas.
(``with_geographies`` does all levels at once by repeating rows; fine for small frames, but it triples
memory on package-month snapshots.) The result is the same as filtering
with ``filter_areas``/``filter_locality`` and computing the headline (tests check this). No mart loops
over geographies any more (that rescanned the whole drop once per geography and grew with the square
of it); the looping helpers ``geographies`` + ``per_geography`` remain as the oracle
``tests/test_marts_grouped.py`` compares the grouped marts with (``by_level_and_service_type``,
``geography_grid`` and ``fill_in_order`` build them, in the loop's row order).

Package-month frames (millions of rows for a region) carry their text keys as Categorical
(``coded``, back to text with ``as_text``) or as sortable whole-number codes (``sort_codes``,
``decoded``) while exploded to months, and measures that add up (hours, counts, rates x hours) are
first summed into small cells (locality x rural class x service type x month) that every geography
is summed from; distinct counts (people, providers) are counted per geography from the rows.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from analytics.indicators.geography import RURAL_CLASSES, with_rural_class
from analytics.ingest.staged import Staged

FAR_FUTURE = date(9999, 12, 31)
Frame = pl.DataFrame | pl.LazyFrame
"""A frame an aggregation accepts: eager, or lazy to run later with others (``collected``)."""
COUNCIL, ALL = "council", "All"
UNASSIGNED = "Unassigned"
ALL_SERVICE_TYPES = "all"
GEOGRAPHY_LEVELS = ("council", "locality", "rural_class")


# --- date rules --------------------------------------------------------------------------------


def active_expr(d: date, start: str = "start_date", end: str = "end_date") -> pl.Expr:
    """Return a boolean expression: the row is active on ``d`` (start on or before, end blank or on/after)."""
    return (pl.col(start) <= pl.lit(d)) & (pl.col(end).is_null() | (pl.col(end) >= pl.lit(d)))


def active_on(frame: pl.DataFrame, d: date, start: str = "start_date", end: str = "end_date") -> pl.DataFrame:
    """Return the rows of ``frame`` active on day ``d`` (see module docstring for the rule)."""
    return frame.filter(active_expr(d, start, end))


def not_withdrawn_expr() -> pl.Expr:
    """Return a boolean expression: the request's outcome is not ``withdrawn`` (blank counts as not)."""
    return pl.col("outcome").is_null() | (pl.col("outcome") != "withdrawn")


def _may_wait_expr() -> pl.Expr:
    """Not withdrawn, or withdrawn with a ``closed_date`` (so its waiting time is known)."""
    return not_withdrawn_expr() | pl.col("closed_date").is_not_null()


def _waiting_ends(frame: pl.DataFrame) -> pl.Expr:
    """The first day a request no longer waits: the earlier of ``sourced_date`` and ``closed_date``."""
    if "closed_date" not in frame.columns:
        return pl.col("sourced_date")
    return pl.min_horizontal("sourced_date", "closed_date")


def waiting_expr(d: date) -> pl.Expr:
    """Return a boolean expression: the request is waiting on day ``d`` (needs ``closed_date``)."""
    sourced, closed = pl.col("sourced_date"), pl.col("closed_date")
    return (
        (pl.col("requested_date") <= pl.lit(d))
        & _may_wait_expr()
        & (sourced.is_null() | (sourced > pl.lit(d)))
        & (closed.is_null() | (closed > pl.lit(d)))
    )


def with_closed_date(requests: pl.DataFrame) -> pl.DataFrame:
    """Return ``requests`` with a Date ``closed_date`` (blank when the frame has none, e.g. an older drop)."""
    if "closed_date" not in requests.columns:
        return requests.with_columns(pl.lit(None, dtype=pl.Date).alias("closed_date"))
    if requests.schema["closed_date"] != pl.Date:
        return requests.with_columns(pl.col("closed_date").cast(pl.String).str.to_date(strict=False))
    return requests


def waiting_on(requests: pl.DataFrame, d: date) -> pl.DataFrame:
    """Return the requests waiting on day ``d`` (requested by ``d``, not withdrawn, not sourced by ``d``)."""
    return with_closed_date(requests).filter(waiting_expr(d))


def month_end(d: date) -> date:
    """Return the last day of the month containing ``d``."""
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def month_ends(as_of: date, months: int = 36) -> list[date]:
    """Return the snapshot dates of the last ``months`` calendar months up to ``as_of``, oldest first.

    Each is the month's last day except the latest, which is ``as_of`` itself (a month part-way
    through is measured on the data's own date). ``month_ends(date(2025, 3, 17), 3)`` is
    ``[2025-01-31, 2025-02-28, 2025-03-17]``.
    """
    out: list[date] = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        out.append(min(month_end(date(year, month, 1)), as_of))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def months_frame(as_of: date, months: int = 36) -> pl.DataFrame:
    """Return ``month`` (snapshot date) and ``month_start`` (first of that month) for ``month_ends``."""
    ends = month_ends(as_of, months)
    return pl.DataFrame(
        {"month": ends, "month_start": [d.replace(day=1) for d in ends]},
        schema={"month": pl.Date, "month_start": pl.Date},
    )


def active_at_months(
    frame: pl.DataFrame, months: pl.DataFrame, start: str = "start_date", end: str = "end_date"
) -> pl.DataFrame:
    """Return one row per (row of ``frame``, month) where the row is active on the month's snapshot date.

    ``months`` is a ``months_frame``; the result has every column of ``frame`` plus ``month``.
    """
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Date).alias("month")).clear()
    if months.height == 1:  # a single day (the headline): a plain filter is much faster than a join
        d = months.item(0, "month")
        return frame.filter(active_expr(d, start, end)).with_columns(pl.lit(d, dtype=pl.Date).alias("month"))
    grid = months.get_column("month").sort()
    frame = frame.filter(pl.col(start).is_not_null())
    first = grid.search_sorted(frame.get_column(start), side="left")  # first month on or after the start
    after = grid.search_sorted(frame.get_column(end).fill_null(FAR_FUTURE), side="right")  # past the end
    return _explode_months(frame, grid, first, after)


def _explode_months(frame: pl.DataFrame, grid: pl.Series, first: pl.Series, after: pl.Series) -> pl.DataFrame:
    """Return one row per (row of ``frame``, month ``grid[i]``) for ``first[row] <= i < after[row]``.

    The months a row is active (or waiting) in are one run of the sorted grid, found with two binary
    searches (``search_sorted``); exploding the run gives the same rows as a range join
    (``join_where``), many times faster and in a fixed order (row by row, months oldest first).
    """
    index = pl.int_ranges(pl.lit(first), pl.max_horizontal(pl.lit(first), pl.lit(after)), dtype=pl.UInt32)
    return (
        frame.with_columns(index.alias("__month"))
        .explode("__month")
        .filter(pl.col("__month").is_not_null())
        .with_columns(pl.lit(grid).gather(pl.col("__month")).alias("month"))
        .drop("__month")
    )


def waiting_at_months(requests: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (request, month) where the request is waiting on the month's snapshot date.

    Adds ``month`` and ``days_waited`` (snapshot date minus ``requested_date``, in days, Int64).
    """
    requests = with_closed_date(requests)
    live = requests.filter(_may_wait_expr())
    if live.is_empty():
        return live.with_columns(
            pl.lit(None, dtype=pl.Date).alias("month"), pl.lit(None, dtype=pl.Int64).alias("days_waited")
        ).clear()
    if months.height == 1:  # a single day (the headline): a plain filter
        d = months.item(0, "month")
        joined = live.filter(waiting_expr(d)).with_columns(pl.lit(d, dtype=pl.Date).alias("month"))
        return joined.with_columns(days_between("requested_date", "month").alias("days_waited"))
    grid = months.get_column("month").sort()
    live = live.filter(pl.col("requested_date").is_not_null())
    first = grid.search_sorted(live.get_column("requested_date"), side="left")  # first month on/after the request
    ends = live.select(_waiting_ends(live).fill_null(FAR_FUTURE)).to_series()  # sourced or closed
    after = grid.search_sorted(ends, side="left")  # months before the request stopped waiting
    joined = _explode_months(live, grid, first, after)
    return joined.with_columns(days_between("requested_date", "month").alias("days_waited"))


def days_between(earlier: str, later: str) -> pl.Expr:
    """Return ``later - earlier`` in whole days as Int64."""
    return (pl.col(later) - pl.col(earlier)).dt.total_days().cast(pl.Int64)


# --- filters -----------------------------------------------------------------------------------


def filter_service_types(staged: Staged, service_types: Sequence[str] | None) -> Staged:
    """Return ``staged`` with packages restricted to ``service_types`` (``None`` = all, unchanged).

    A blank service type counts as ``home_care`` (the contract default).
    """
    if service_types is None:
        return staged
    kept = staged.packages.filter(pl.col("service_type").fill_null("home_care").is_in(list(service_types)))
    return replace(staged, packages=kept)


def locality_areas(areas: pl.DataFrame, locality: str) -> pl.DataFrame:
    """Return the areas in ``locality`` (a blank locality matches ``Unassigned``)."""
    return areas.filter(pl.col("locality").fill_null(UNASSIGNED) == locality)


def filter_areas(staged: Staged, area_codes: Iterable[str]) -> Staged:
    """Return ``staged`` restricted to ``area_codes``.

    Areas, packages and requests keep rows in those areas; providers keep those with a package
    there (at any date); workforce and contracts keep those providers; delivery keeps rows whose
    ``area_code`` is in the areas, or, when blank, whose ``package_id`` is a kept package.
    """
    codes = list(area_codes)
    packages = staged.packages.filter(pl.col("area_code").is_in(codes))
    provider_ids = packages.get_column("provider_id").unique().to_list()
    package_ids = packages.get_column("package_id").to_list()
    delivery = staged.delivery.filter(
        pl.col("area_code").is_in(codes) | (pl.col("area_code").is_null() & pl.col("package_id").is_in(package_ids))
    )
    return replace(
        staged,
        areas=staged.areas.filter(pl.col("area_code").is_in(codes)),
        packages=packages,
        requests=staged.requests.filter(pl.col("area_code").is_in(codes)),
        providers=staged.providers.filter(pl.col("provider_id").is_in(provider_ids)),
        workforce=staged.workforce.filter(pl.col("provider_id").is_in(provider_ids)),
        contracts=staged.contracts.filter(pl.col("provider_id").is_in(provider_ids)),
        delivery=delivery,
    )


def filter_locality(staged: Staged, locality: str | None) -> Staged:
    """Return ``staged`` restricted to one locality (``None`` = whole council, unchanged).

    Areas are those of the locality; packages and requests those in the areas; providers those
    with packages there (see ``filter_areas``). An unknown locality gives empty frames.
    """
    if locality is None:
        return staged
    codes = locality_areas(staged.areas, locality).get_column("area_code").to_list()
    return filter_areas(staged, codes)


# --- geographies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geography:
    """A set of areas a measure is reported for: ``level`` (council/locality/rural_class), ``name``."""

    level: str
    name: str
    area_codes: tuple[str, ...]


def area_attributes(areas: pl.DataFrame) -> pl.DataFrame:
    """Return ``area_code, area_name, locality, rural_class, population_65_plus`` for each area.

    ``locality`` blanks become ``Unassigned``; ``rural_class`` is rural/urban/unclassified.
    """
    return with_rural_class(areas).select("area_code", "area_name", "locality", "rural_class", "population_65_plus")


def geographies(areas: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS) -> list[Geography]:
    """Return the geographies of ``areas``: the council, each locality (sorted), each rural class.

    Every rural class is returned even when it has no areas (so marts always have the three rows).
    """
    attrs = area_attributes(areas)
    out: list[Geography] = []
    if "council" in levels:
        out.append(Geography(COUNCIL, ALL, tuple(attrs.get_column("area_code").to_list())))
    if "locality" in levels:
        grouped = attrs.group_by("locality", maintain_order=True).agg(
            pl.col("area_code")
        )  # one pass, not one per locality
        codes = dict(
            zip(grouped.get_column("locality").to_list(), grouped.get_column("area_code").to_list(), strict=True)
        )
        out.extend(Geography("locality", name, tuple(codes[name])) for name in sorted(codes))
    if "rural_class" in levels:
        for name in RURAL_CLASSES:
            codes = attrs.filter(pl.col("rural_class") == name).get_column("area_code").to_list()
            out.append(Geography("rural_class", name, tuple(codes)))
    return out


def per_geography(
    geos: Sequence[Geography],
    compute: Callable[[Geography], pl.DataFrame],
) -> pl.DataFrame:
    """Return ``compute(geo)`` for each geography, stacked, led by ``geography_level`` and ``geography``."""
    frames = [
        compute(geo).select(
            pl.lit(geo.level).alias("geography_level"),
            pl.lit(geo.name).alias("geography"),
            pl.all(),
        )
        for geo in geos
    ]
    return pl.concat(frames, how="vertical_relaxed")


def geography_map(areas: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS) -> pl.DataFrame:
    """Return ``geography_level, geography, area_code``: each area once per level (its council, its
    locality, its rural class). Join it to any frame with ``area_code`` to group by geography in one
    pass instead of looping over ``geographies`` (see ``with_geographies``)."""
    attrs = area_attributes(areas)
    columns = {"council": pl.lit(ALL), "locality": pl.col("locality"), "rural_class": pl.col("rural_class")}
    parts = [
        attrs.select(pl.lit(level).alias("geography_level"), columns[level].alias("geography"), "area_code")
        for level in GEOGRAPHY_LEVELS
        if level in levels
    ]
    schema = {"geography_level": pl.String, "geography": pl.String, "area_code": pl.String}
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def geography_frame(areas: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS) -> pl.DataFrame:
    """Return ``geography_level, geography`` for every geography of ``geographies`` (same order)."""
    geos = geographies(areas, levels)
    return pl.DataFrame(
        {"geography_level": [g.level for g in geos], "geography": [g.name for g in geos]},
        schema={"geography_level": pl.String, "geography": pl.String},
    )


def with_geographies(
    frame: pl.DataFrame, areas: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS
) -> pl.DataFrame:
    """Return ``frame`` with ``geography_level`` and ``geography`` added, each row repeated once per level.

    Grouping the result by ``[geography_level, geography, ...]`` gives exact per-geography figures
    (distinct counts included) in one pass. Rows whose ``area_code`` is not in ``areas`` are dropped.
    """
    return frame.join(geography_map(areas, levels), on="area_code", how="inner")


def with_level(frame: Frame, level: str) -> Frame:
    """Return ``frame`` (carrying ``locality`` and ``rural_class``, e.g. ``enriched_packages``) with
    ``geography_level`` = ``level`` and ``geography`` = its locality, rural class or ``All``.

    Rows whose area is not in the areas file (null ``rural_class``) are dropped, as in ``with_geographies``.
    A ``LazyFrame`` stays lazy (the filter is part of its plan).
    """
    geography = {"council": pl.lit(ALL), "locality": pl.col("locality"), "rural_class": pl.col("rural_class")}[level]
    # eager: a copy of millions of rows only when there is a row to drop; lazy: the filter is free
    if isinstance(frame, pl.LazyFrame) or frame.get_column("rural_class").null_count():
        frame = frame.filter(pl.col("rural_class").is_not_null())
    return frame.with_columns(pl.lit(level).alias("geography_level"), geography.cast(pl.String).alias("geography"))


def collected(frames: Sequence[Frame]) -> list[pl.DataFrame]:
    """Return ``frames`` as DataFrames, the lazy ones collected together (``pl.collect_all``).

    Polars' default engine for a lazy query (streaming, on this version) aggregates millions of
    package-month rows with about half the CPU of the eager ``DataFrame.group_by``. Collecting a
    level's queries together was 4 to 10% faster than one at a time at every scale, with the same
    peak memory (benchmarks/refresh.md).
    """
    lazy = [i for i, f in enumerate(frames) if isinstance(f, pl.LazyFrame)]
    done = dict(zip(lazy, pl.collect_all([frames[i] for i in lazy]), strict=True)) if lazy else {}
    return [done.get(i, f) for i, f in enumerate(frames)]


def per_level(
    frame: Frame,
    compute: Callable[[pl.LazyFrame], Frame],
    levels: Sequence[str] = GEOGRAPHY_LEVELS,
) -> pl.DataFrame:
    """Return ``compute(with_level(frame, level))`` for each level, stacked.

    ``compute`` groups by ``geography_level, geography`` (plus whatever it needs). It is given a
    ``LazyFrame`` and may return one (its query then runs with the others, ``collected``) or a
    DataFrame. No join, no copy per level: the way to build geography marts from millions of
    package-month rows. Exact distinct counts at every level.
    """
    lazy = frame.lazy()
    parts = [compute(with_level(lazy, level)) for level in levels if level in GEOGRAPHY_LEVELS]
    return pl.concat(collected(parts), how="vertical_relaxed")


def by_level_and_service_type(
    frame: pl.DataFrame,
    aggregate: Callable[[pl.DataFrame, list[str]], pl.DataFrame],
    by: Sequence[str] = (),
    levels: Sequence[str] = GEOGRAPHY_LEVELS,
) -> pl.DataFrame:
    """Return ``aggregate(frame, keys)`` for every geography and service type in one grouped pass per level.

    ``frame`` carries ``locality``, ``rural_class`` and ``service_type`` with no blanks (as
    ``enriched_packages``); ``keys`` is ``geography_level, geography[, service_type], *by``. Rows are
    labelled ``service_type`` = ``all`` and each type (``all_and_each_service_type``). The result is
    the same as filtering each geography (``filter_areas``) and each type and aggregating, without the
    loop.
    """
    keys = ["geography_level", "geography", *by]
    return per_level(frame, lambda f: all_and_each_service_type(f, keys, aggregate), levels)


def geography_grid(
    areas: pl.DataFrame, *dimensions: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS
) -> pl.DataFrame:
    """Return ``geography_frame(areas, levels)`` crossed with each frame of ``dimensions`` in turn.

    Row order is geography first (as ``geographies``), then each dimension in its own order, the
    order the old one-geography-at-a-time loop produced, so a mart reads the same top to bottom.
    """
    grid = geography_frame(areas, levels)
    for dimension in dimensions:
        grid = grid.join(dimension, how="cross", maintain_order="left_right")
    return grid


def fill_in_order(
    grid: pl.DataFrame, stats: pl.DataFrame, keys: Sequence[str], zero: Sequence[str] = ()
) -> pl.DataFrame:
    """Return ``grid`` left-joined to ``stats`` on ``keys``, keeping the grid's row order.

    Columns in ``zero`` (counts, sums) become 0 where ``stats`` has no row; other measures stay null.
    """
    out = grid.join(stats, on=list(keys), how="left", maintain_order="left")
    return out.with_columns(pl.col(list(zero)).fill_null(0)) if zero else out


def fill_geography_months(
    staged: Staged, months: pl.DataFrame, stats: pl.DataFrame, *dimensions: pl.DataFrame, zero: Sequence[str] = ()
) -> pl.DataFrame:
    """Return every geography x service type of ``staged`` x month of ``months`` (x each of ``dimensions``).

    The grid (``geography_grid`` with ``service_type_frame`` of the packages) is left-joined to ``stats``
    on all its columns (``fill_in_order``: grid order kept, ``zero`` columns 0 where ``stats`` has no row).
    """
    grid = geography_grid(staged.areas, service_type_frame(staged.packages), months.select("month"), *dimensions)
    return fill_in_order(grid, stats, grid.columns, zero)


def all_and_each_service_type(frame: Frame, by: Sequence[str], aggregate: Callable[[Frame, list[str]], Frame]) -> Frame:
    """Return ``aggregate(frame, by)`` labelled ``service_type`` = ``all`` stacked on
    ``aggregate(frame, by + ["service_type"])`` (``frame`` needs ``service_type`` with no blanks).

    Lazy in, lazy out: ``aggregate`` must then use only what a ``LazyFrame`` has (group_by, filter, ...).
    """
    whole = aggregate(frame, list(by)).with_columns(pl.lit(ALL_SERVICE_TYPES).alias("service_type"))
    each = aggregate(frame, [*by, "service_type"]).with_columns(pl.col("service_type").cast(pl.String))
    names = each.collect_schema().names() if isinstance(each, pl.LazyFrame) else each.columns
    return pl.concat([whole.select(names), each])


def geography_population(areas: pl.DataFrame, levels: Sequence[str] = GEOGRAPHY_LEVELS) -> pl.DataFrame:
    """Return ``geography_level, geography, population_65_plus`` (Int64; null when no area of the
    geography has a population figure, as ``population_65_plus``)."""
    pop = pl.col("population_65_plus")
    summed = (
        with_geographies(areas.select("area_code", "population_65_plus"), areas, levels)
        .group_by("geography_level", "geography")
        .agg(
            pl.when(pop.is_not_null().any()).then(pop.sum()).otherwise(None).cast(pl.Int64).alias("population_65_plus")
        )
    )
    return geography_frame(areas, levels).join(summed, on=["geography_level", "geography"], how="left")


def with_all_service_types(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` twice: once with ``service_type`` = ``all`` and once as it is (blank = home care).

    Grouping by ``service_type`` then gives the all-types figure and each type's in one pass.
    """
    typed = frame.with_columns(pl.col("service_type").fill_null("home_care"))
    return pl.concat([typed.with_columns(pl.lit(ALL_SERVICE_TYPES).alias("service_type")), typed])


def service_type_frame(packages: pl.DataFrame) -> pl.DataFrame:
    """Return ``service_type``: ``all`` then each type present in ``packages`` (blank = home care), sorted."""
    types = sorted(packages.get_column("service_type").fill_null("home_care").unique().to_list())
    return pl.DataFrame({"service_type": [ALL_SERVICE_TYPES, *types]}, schema={"service_type": pl.String})


def period_of(column: str, months: pl.DataFrame) -> pl.Expr:
    """Return the snapshot date (``month``) of the period of ``months`` that contains date ``column``.

    Periods run from the first of each month to its snapshot date (the latest capped at as_of);
    dates outside the grid give null.
    """
    first, last = months.get_column("month_start").min(), months.get_column("month").max()
    day = pl.col(column)
    return (
        pl.when((day >= pl.lit(first)) & (day <= pl.lit(last)))
        .then(pl.min_horizontal(day.dt.month_end(), pl.lit(last)))
        .otherwise(pl.lit(None, dtype=pl.Date))
    )


def sorted_by_keys(frame: pl.DataFrame, keys: Sequence[str], nulls_last: bool = False) -> pl.DataFrame:
    """Return ``frame`` sorted by ``keys`` ascending, exactly as ``frame.sort(keys, nulls_last=...)``.

    Each text key is first swapped for its position among its own distinct values (``sort_codes``:
    a few dozen areas or providers, sorted once), so the rows are sorted by whole numbers: sorting
    hundreds of thousands of rows by several text columns is many times slower. Key rows must be
    unique (as after a ``group_by``) so the order is fully determined.
    """
    coded_frame, values = sort_codes(frame, [k for k in keys if frame.schema[k] == pl.String])
    return decoded(coded_frame.sort(list(keys), nulls_last=nulls_last), values)


def sort_codes(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Return ``frame`` with each text column of ``columns`` swapped for its position (UInt32) among
    its own distinct values sorted, and those values (to ``decoded`` with).

    Codes group like the text and sort like it (nulls stay null), so a frame exploded to months can
    be grouped and sorted by whole numbers and decoded once it is small.
    """
    values = {c: frame.get_column(c).drop_nulls().unique().sort() for c in columns}
    codes = [
        pl.col(c).replace_strict(v, pl.Series(range(v.len()), dtype=pl.UInt32), default=None, return_dtype=pl.UInt32)
        for c, v in values.items()
    ]
    return frame.with_columns(codes), values


def decoded(frame: Frame, values: dict[str, pl.Series]) -> Frame:
    """Return ``frame`` with the columns coded by ``sort_codes`` back as their text."""
    return frame.with_columns(pl.lit(v).gather(pl.col(c)).alias(c) for c, v in values.items())


def fill_grid(grid: pl.DataFrame, stats: pl.DataFrame, keys: Sequence[str], zero: Sequence[str] = ()) -> pl.DataFrame:
    """Return ``grid`` (every key combination wanted) left-joined to ``stats`` on ``keys``, sorted by ``keys``.

    Columns in ``zero`` (counts, sums) become 0 where ``stats`` has no row; other measures stay null.
    """
    out = sorted_by_keys(grid.join(stats, on=list(keys), how="left"), keys)
    return out.with_columns(pl.col(list(zero)).fill_null(0)) if zero else out


# --- arithmetic that never invents a zero -----------------------------------------------------


def safe_div(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    """Return ``scale * numerator / denominator``, or ``None`` if either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return scale * numerator / denominator


def ratio_expr(numerator: pl.Expr, denominator: pl.Expr, scale: float = 1.0) -> pl.Expr:
    """Return ``scale * numerator / denominator`` as Float64, null where the denominator is 0 or null."""
    return (
        pl.when(denominator.is_null() | (denominator == 0))
        .then(pl.lit(None, dtype=pl.Float64))
        .otherwise(numerator.cast(pl.Float64) * scale / denominator.cast(pl.Float64))
    )


THRESHOLD_DECIMALS = 6
"""Decimal places a measure is compared with a threshold at: far finer than any figure shown, and
coarse enough that the last bits of a sum (which depend on the order the rows were added, e.g.
11.4 against 11.399999999999999 hours) never move a provider or area across a band."""


def comparable(measure: pl.Expr) -> pl.Expr:
    """Return ``measure`` rounded to ``THRESHOLD_DECIMALS`` for comparing with a threshold (RAG, bands, points)."""
    return measure.round(THRESHOLD_DECIMALS)


def rounded(value: float | None, ndigits: int = 2) -> float | None:
    """Return ``value`` rounded to ``ndigits`` (``None`` stays ``None``) as a plain float."""
    return None if value is None else round(float(value), ndigits)


def population_65_plus(areas: pl.DataFrame) -> int | None:
    """Return total residents aged 65+ of ``areas``; ``None`` if no area has a population figure."""
    pop = areas.get_column("population_65_plus").drop_nulls()
    return None if pop.is_empty() else int(pop.sum())


# --- shared frame preparation -----------------------------------------------------------------

MART_MONTHS = 36
MICROENTERPRISE = "microenterprise"


def mart_months(staged: Staged) -> pl.DataFrame:
    """Return the months the marts cover: ``months_frame`` of the ``MART_MONTHS`` months to ``staged.as_of``."""
    return months_frame(staged.as_of, MART_MONTHS)


def enriched_packages(staged: Staged) -> pl.DataFrame:
    """Return packages with ``locality``, ``rural_class`` (from the area) and ``provider_type``,
    ``provider_name`` (from the provider); a blank ``service_type`` becomes ``home_care``.

    ``person_id`` becomes Categorical: distinct counts over millions of package-month rows are
    several times faster, and no mart ever outputs a person identifier.
    """
    attrs = area_attributes(staged.areas).select("area_code", "locality", "rural_class")
    providers = staged.providers.select("provider_id", "provider_name", "provider_type")
    return (
        staged.packages.with_columns(
            pl.col("service_type").fill_null("home_care"), pl.col("person_id").cast(pl.Categorical)
        )
        .join(attrs, on="area_code", how="left")
        .join(providers, on="provider_id", how="left")
    )


def coded(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Return ``frame`` with the text ``columns`` as Categorical, to explode to months: 4 bytes a row
    instead of a 16-byte string view, so a national drop's package-month frame is far smaller.
    Aggregate, then turn the keys back into text with ``as_text``."""
    return frame.with_columns(pl.col(*columns).cast(pl.Categorical))


def as_text(frame: Frame, columns: Sequence[str]) -> Frame:
    """Return ``frame`` with those of ``columns`` that are Categorical (``coded``) back as String."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    back = [c for c in columns if c in schema and schema[c] == pl.Categorical]
    return frame.with_columns(pl.col(back).cast(pl.String)) if back else frame


def enriched_requests(staged: Staged) -> pl.DataFrame:
    """Return requests with ``locality`` and ``rural_class`` of their area (``person_id`` Categorical)."""
    attrs = area_attributes(staged.areas).select("area_code", "locality", "rural_class")
    return staged.requests.with_columns(pl.col("person_id").cast(pl.Categorical)).join(
        attrs, on="area_code", how="left"
    )


def dense_months(stats: pl.DataFrame, months: pl.DataFrame, zero: Sequence[str] = ()) -> pl.DataFrame:
    """Return ``stats`` (one row per ``month``) with a row for every month of ``months``.

    Columns named in ``zero`` are counts or sums: a month with no rows gets 0 there; every other
    measure stays null (no data).
    """
    out = months.select("month").join(stats, on="month", how="left").sort("month")
    return out.with_columns(pl.col(list(zero)).fill_null(0)) if zero else out


SUMMARY_KEYS = ["geography_level", "geography", "service_type", "month"]
PROVIDER_MONTH_SCHEMA = {"month": pl.Date, "provider_id": pl.String, "provider_name": pl.String}
"""The leading columns of a table with one row per provider per month (delivery, workforce, early warning)."""
_SNAPSHOT_COLUMNS = (
    "locality", "rural_class", "service_type", "person_id", "provider_id",
    "planned_hours_per_week", "start_date", "end_date",
)  # fmt: skip
_CODED = ("locality", "rural_class", "service_type", "provider_id")
"""Text columns a package-month snapshot carries as Categorical: 4 bytes a row instead of a 16-byte
string view, so the snapshot of a national drop (15 million rows) is about half the size."""


def summary_by_geography(
    staged: Staged,
    months: pl.DataFrame,
    stats: Callable[[pl.DataFrame, list[str]], pl.DataFrame],
    zero: Sequence[str] = (),
    cells: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Return ``stats`` of the packages active at each month, by geography x service type x month.

    One package-month snapshot, grouped per geography level (``per_level``) for all service types
    and each one; every geography x service type x month appears (``fill_grid``: ``zero`` columns
    are 0 where nothing was active, the rest null). ``stats(frame, by)`` aggregates snapshot rows.
    ``cells``, when given, first collapses the snapshot into smaller rows that ``stats`` can add up
    again (e.g. hours by locality, rural class, service type, month and provider: a fraction of the
    package-month rows when only additive measures are needed). Columns: ``SUMMARY_KEYS`` then
    whatever ``stats`` returns. ``person_id`` and ``provider_id`` reach ``stats`` as Categorical (sorted
    as text): cast back to String anything that outputs an identifier.
    """
    packages = enriched_packages(staged)
    # text as Categorical (person_id already is): smaller, and groups and distinct counts over whole numbers
    snapshot = active_at_months(coded(packages.select(*_SNAPSHOT_COLUMNS), _CODED), months)
    if cells is not None:
        snapshot = cells(snapshot)
    by_level = per_level(
        snapshot, lambda f: all_and_each_service_type(f, ["geography_level", "geography", "month"], stats)
    )
    grid = (
        geography_frame(staged.areas)
        .join(service_type_frame(packages), how="cross")
        .join(months.select("month"), how="cross")
    )
    return fill_grid(grid, by_level, SUMMARY_KEYS, zero)
