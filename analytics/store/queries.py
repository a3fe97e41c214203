"""Read-only queries pages need about the live drop itself (not indicators).

Every function takes a DuckDB cursor on the live snapshot (``analytics.store.snapshots.open_live`` /
``market_cursor``) and returns plain Python values or Polars frames.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from analytics.contract import CLIENT_GROUPS, FUNDING, PROVIDER_TYPES, SERVICE_TYPES


@dataclass(frozen=True)
class DropSummary:
    """The live drop's identity: id, as-of date, council, whether it is synthetic, who loaded it."""

    drop_id: str
    as_of: date
    council_code: str | None
    council_name: str | None
    synthetic: bool
    loaded_at: str
    loaded_by: str
    source: str


def drop_summary(cur: duckdb.DuckDBPyConnection) -> DropSummary:
    """Return the ``meta_drop`` row of the live snapshot."""
    row = cur.sql(
        "select drop_id, as_of, council_code, council_name, synthetic, loaded_at, loaded_by, source from meta_drop"
    ).fetchall()[0]
    return DropSummary(*row)


def file_summary(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return one row per loaded file: file, filename, format, encoding, rows, sha256."""
    return cur.sql("select file, filename, format, encoding, rows, sha256 from meta_files order by file").pl()


def drop_history(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return the accepted drops recorded in the snapshot's audit table (oldest first)."""
    return cur.sql("select drop_id, as_of, loaded_at, loaded_by, source from audit_drops").pl()


def data_warnings(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return the validation warnings of the live drop (file, row, column, value, rule, expected)."""
    return cur.sql("select * from meta_warnings").pl()


# The boundaries of the last snapshots read (drop id and load time): parsing the JSON of 1,500 wards
# (50x) took 0.1 s each time a map was drawn. Callers only read them (maps take the features they draw).
_BOUNDARIES: dict[tuple[str, str], dict | None] = {}
_BOUNDARIES_KEPT = 2
_boundaries_lock = threading.Lock()


def boundaries(cur: duckdb.DuckDBPyConnection) -> dict | None:
    """Return the drop's GeoJSON boundaries, or None when the drop had none.

    Parsed once per snapshot in this process and shared: treat the result as read-only.
    """
    summary = drop_summary(cur)
    key = (summary.drop_id, summary.loaded_at)
    with _boundaries_lock:
        if key in _BOUNDARIES:
            return _BOUNDARIES[key]
    text = cur.sql("select geojson from meta_boundaries").fetchall()[0][0]
    parsed = json.loads(text) if text else None
    with _boundaries_lock:
        _BOUNDARIES[key] = parsed
        while len(_BOUNDARIES) > _BOUNDARIES_KEPT:
            _BOUNDARIES.pop(next(iter(_BOUNDARIES)))
    return parsed


def table_row_counts(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Return ``{staged table: rows}`` for every ``stg_*`` table."""
    names = [r[0] for r in cur.sql("select table_name from duckdb_tables() where table_name like 'stg_%'").fetchall()]
    return {n: cur.sql(f'select count(*) from "{n}"').fetchall()[0][0] for n in sorted(names)}


@dataclass(frozen=True)
class FilterOptions:
    """The values each sidebar filter can take in the live drop (contract order)."""

    months: list[date]
    localities: list[str]
    service_types: list[str]
    client_groups: list[str]
    funding: list[str]
    provider_types: list[str]


def filter_options(cur: duckdb.DuckDBPyConnection, months: int = 36) -> FilterOptions:
    """Return the filter choices present in the live drop; months are month ends up to ``as_of``."""
    as_of = cur.sql("select as_of from meta_drop").fetchall()[0][0]
    # Every filter's distinct values in one query (a query costs about a millisecond however small).
    rows = cur.sql(
        """
        select 'locality', locality from (select distinct locality from stg_areas)
        union all select 'service_type', service_type from (select distinct service_type from stg_packages)
        union all select 'client_group', client_group from (select distinct client_group from stg_packages)
        union all select 'funding', funding from (select distinct funding from stg_packages)
        union all select 'provider_type', provider_type from (select distinct provider_type from stg_providers)
        """
    ).fetchall()
    values: dict[str, list] = {}
    for name, value in rows:
        values.setdefault(name, []).append(value)

    def present(name: str, order: tuple[str, ...]) -> list[str]:
        found = {v for v in values.get(name, []) if v is not None}
        return [v for v in order if v in found]

    return FilterOptions(
        months=month_ends(as_of, months),
        localities=sorted({v or "Unassigned" for v in values.get("locality", [])}),
        service_types=present("service_type", SERVICE_TYPES),
        client_groups=present("client_group", CLIENT_GROUPS),
        funding=present("funding", FUNDING),
        provider_types=present("provider_type", PROVIDER_TYPES),
    )


class ScopeError(ValueError):
    """A locality or month the live data does not have (``check_scope``): the CLI exits 2 with its message."""


def check_scope(options: FilterOptions, locality: str | None = None, month: str | date | None = None) -> None:
    """Refuse a locality or month the live data does not have; the one check every command uses.

    Inputs: ``filter_options`` of the live drop; a locality name (``None``: whole council); a month
    as ``YYYY-MM`` (or longer ISO text) or a date (``None``: the drop's as-of date). A month is in
    the data when it is one of ``options.months`` (the months the dashboard offers, newest = the
    drop's as-of date); a date may not be after the as-of date. Raises ``ScopeError`` naming the
    choices, e.g. ``no locality 'Nowhere' in the live data; localities: Fellside, North Coast``.
    """
    if locality is not None and locality not in options.localities:
        raise ScopeError(f"no locality {locality!r} in the live data; localities: {', '.join(options.localities)}")
    if month is None:
        return
    wanted = month.isoformat() if isinstance(month, date) else str(month).strip()
    latest, earliest = options.months[0], options.months[-1]
    in_data = any(m.isoformat()[:7] == wanted[:7] for m in options.months)
    if not in_data or (isinstance(month, date) and month > latest):
        raise ScopeError(
            f"no month {wanted!r} in the live data: months {earliest:%Y-%m} to {latest:%Y-%m} "
            f"(the data is as at {latest:%d %B %Y})"
        )


def month_ends(as_of: date, months: int) -> list[date]:
    """Return ``as_of`` then the previous ``months - 1`` month ends, newest first."""
    out = [as_of]
    year, month = as_of.year, as_of.month
    for _ in range(months - 1):
        first = date(year, month, 1)
        prev_end = date.fromordinal(first.toordinal() - 1)
        out.append(prev_end)
        year, month = prev_end.year, prev_end.month
    return out
