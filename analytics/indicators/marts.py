"""Marts: small derived tables materialised at refresh so pages only filter and sum.

``build_marts`` reads the staged tables, asks every indicator module that defines
``build_marts(staged) -> dict[str, pl.DataFrame]`` for its frames (see ``analytics.indicators``)
and writes each as a DuckDB table called ``mart_<something>``. Pages read them with ``read_mart``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import date

import duckdb
import polars as pl

from analytics.config import settings
from analytics.indicators import modules_with
from analytics.indicators.periods import coverage_frame, mask_mart, source_coverage
from analytics.ingest.staged import Staged, load_staged, write_frame

MART_NAME = re.compile(r"^mart_[a-z0-9_]+$")
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MartError(ValueError):
    """An indicator module returned a bad mart (name, duplicate, or not a DataFrame)."""


def module_marts(staged: Staged, workers: int | None = None) -> Iterator[tuple[str, dict[str, pl.DataFrame]]]:
    """Yield ``(module name, its marts)`` for every indicator module, in module order, as each is built.

    Modules run side by side on ``workers`` threads (default ``default_workers``): Polars
    releases the interpreter lock while it computes, and much of each module is steps that use one
    core, so two cores are kept busy; the caller can write one module's marts while the next are
    built. Each module's marts depend only on ``staged``, never on another module or on the order
    they run in, so the result is the same with any number of workers. Each module's frames are
    checked (``mart_`` names, DataFrames); Null-typed columns (no rows, untyped literal) become
    String so DuckDB can store them.
    """
    modules = modules_with("build_marts")
    workers = max(1, workers or default_workers(staged))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(module.build_marts, staged) for module in modules]
        try:
            for module, future in zip(modules, futures, strict=True):
                yield module.__name__, _checked(module.__name__, future.result())
        finally:
            for future in futures:
                future.cancel()


def default_workers(staged: Staged) -> int:
    """Return ``[store] mart_workers``, or 1 when ``staged`` has more rows than ``parallel_marts_max_rows``."""
    store = settings()["store"]
    rows = sum(getattr(staged, f.name).height for f in fields(staged) if f.name != "as_of")
    if rows > int(store.get("parallel_marts_max_rows", 2_000_000)):
        return 1
    return int(store.get("mart_workers", 1))


def _checked(owner: str, frames: dict) -> dict[str, pl.DataFrame]:
    out = {}
    for name, frame in frames.items():
        if not MART_NAME.match(name):
            raise MartError(f"{owner}: mart name {name!r} must match {MART_NAME.pattern}")
        if not isinstance(frame, pl.DataFrame):
            raise MartError(f"{owner}: mart {name!r} is not a polars DataFrame")
        nulls = [c for c, t in frame.schema.items() if t == pl.Null]
        out[name] = frame.with_columns(pl.col(nulls).cast(pl.String)) if nulls else frame
    return out


def collect_marts(staged: Staged, workers: int | None = None) -> dict[str, pl.DataFrame]:
    """Return every module's marts for ``staged`` (``module_marts``), checked to be uniquely named."""
    out: dict[str, pl.DataFrame] = {}
    owner: dict[str, str] = {}
    for module, frames in module_marts(staged, workers):
        for name, frame in frames.items():
            if name in out:
                raise MartError(f"{module}: mart {name!r} already built by {owner[name]}")
            out[name], owner[name] = frame, module
    return out


def write_mart(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> int:
    """Create or replace DuckDB table ``name`` holding ``frame``; return its row count."""
    if not MART_NAME.match(name):
        raise MartError(f"mart name {name!r} must match {MART_NAME.pattern}")
    return write_frame(con, name, frame)


COVERAGE_TABLE = "meta_coverage"


def build_marts(
    con: duckdb.DuckDBPyConnection, as_of: date | None = None, staged: Staged | None = None
) -> dict[str, int]:
    """Build every mart from the ``stg_*`` tables of ``con`` and return ``{mart name: row count}``.

    ``as_of`` is the drop's date (``None`` reads it from ``meta_drop``). Each source file's covered
    months are written as ``meta_coverage`` and every mart is masked to them
    (``analytics.indicators.periods``: no month before a file starts reads as zero). Tables are
    written in name order through ``con`` (the caller owns the transaction and the connection).
    ``staged``, when given, is the ``stg_*`` tables already in memory (a refresh passes the frames it
    has just written, so they are not read back).
    """
    staged = staged if staged is not None else load_staged(con, as_of)
    coverage = source_coverage(staged)
    frame = coverage_frame(coverage)
    write_frame(con, COVERAGE_TABLE, frame)
    rows: dict[str, int] = {}
    for module, frames in module_marts(staged):  # written while the next modules are still being built
        for name in sorted(frames):
            if name in rows:
                raise MartError(f"{module}: mart {name!r} already built by another module")
            rows[name] = write_mart(con, name, mask_mart(name, frames[name], coverage))
    return dict(sorted(rows.items()))


def read_mart(cur: duckdb.DuckDBPyConnection, name: str, **filters: object) -> pl.DataFrame:
    """Return mart ``name`` as a polars frame, filtered by ``column=value`` keyword arguments.

    A value may be a scalar (equality), a list/tuple/set (membership) or ``None`` (``is null``).
    Values are bound as parameters; names are checked against the mart and column patterns.
    ``read_mart(cur, "mart_supply_summary_month", geography_level="locality", service_type="home_care")``.
    """
    if not MART_NAME.match(name):
        raise MartError(f"mart name {name!r} must match {MART_NAME.pattern}")
    clauses: list[str] = []
    params: list[object] = []
    for column, value in filters.items():
        if not COLUMN_NAME.match(column):
            raise MartError(f"bad column name {column!r}")
        if value is None:
            clauses.append(f'"{column}" is null')
        elif isinstance(value, list | tuple | set | frozenset):
            values = list(value)
            if not values:
                clauses.append("false")
                continue
            clauses.append(f'"{column}" in ({", ".join("?" for _ in values)})')
            params.extend(values)
        else:
            clauses.append(f'"{column}" = ?')
            params.append(value)
    where = f" where {' and '.join(clauses)}" if clauses else ""
    return cur.sql(f'select * from "{name}"{where}', params=params or None).pl()
