"""Typed, validated drop tables as Polars frames: the input every indicator function takes.

The store writes one DuckDB table per contract file, ``stg_<file>`` (for example
``stg_packages``), with exactly the contract's columns and types (str -> VARCHAR,
int -> BIGINT, float -> DOUBLE, date -> DATE; ``person_id`` already pseudonymised).
Optional files that were not in the drop are still present, with no rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import duckdb
import polars as pl

from analytics.contract import FILES, FileSpec

POLARS_TYPES = {"str": pl.String, "int": pl.Int64, "float": pl.Float64, "date": pl.Date}
DUCKDB_TYPES = {"str": "VARCHAR", "int": "BIGINT", "float": "DOUBLE", "date": "DATE"}


def polars_schema(spec: FileSpec) -> dict[str, type[pl.DataType]]:
    """Return the Polars schema (column -> dtype) of a staged contract file."""
    return {c.name: POLARS_TYPES[c.dtype] for c in spec.columns}


def empty_frame(name: str) -> pl.DataFrame:
    """Return a frame with no rows and the staged schema of contract file ``name``."""
    return pl.DataFrame(schema=polars_schema(FILES[name]))


@dataclass(frozen=True)
class Staged:
    """Every staged table of one drop, plus the drop's ``as_of`` date."""

    as_of: date
    areas: pl.DataFrame
    providers: pl.DataFrame
    packages: pl.DataFrame
    requests: pl.DataFrame
    delivery: pl.DataFrame
    workforce: pl.DataFrame
    contracts: pl.DataFrame
    milestones: pl.DataFrame

    @classmethod
    def from_frames(cls, as_of: date, **frames: pl.DataFrame) -> Staged:
        """Build from any subset of frames; missing files become empty frames (handy in tests).

        Given frames are cast to the staged schema, so fixtures may omit optional columns.
        """
        built = {}
        for f in fields(cls):
            if f.name == "as_of":
                continue
            frame = frames.get(f.name)
            built[f.name] = conform(f.name, frame) if frame is not None else empty_frame(f.name)
        return cls(as_of=as_of, **built)


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with every staged column of file ``name`` present, in order and typed."""
    schema = polars_schema(FILES[name])
    return frame.select(
        [
            (pl.col(col).cast(dtype) if col in frame.columns else pl.lit(None, dtype=dtype)).alias(col)
            for col, dtype in schema.items()
        ]
    )


class _ArrowStream:
    """A Polars frame seen only through the Arrow C stream interface (``__arrow_c_stream__``).

    DuckDB reads such an object directly; handing it the frame itself makes DuckDB convert it with
    pyarrow, whose import (with NumPy's) costs more than a small council's whole write.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._frame.__arrow_c_stream__(requested_schema)


def write_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> int:
    """Create or replace DuckDB table ``name`` (trusted: the caller checks it) holding ``frame``; return its rows.

    Column names and types carry over (String -> VARCHAR, Int64 -> BIGINT, Float64 -> DOUBLE,
    Date -> DATE); a column of the Null type (built from nothing but blanks, e.g. a manifest without
    a council code) becomes VARCHAR, since the Arrow stream of a Null column cannot be read as such.
    """
    nulls = [c for c, t in frame.schema.items() if t == pl.Null]
    frame = frame.with_columns(pl.col(nulls).cast(pl.String)) if nulls else frame
    stream = _ArrowStream(frame)  # noqa: F841 - read by name in the SQL below
    con.execute(f'create or replace table "{name}" as select * from stream')
    return frame.height


def load_staged(cur: duckdb.DuckDBPyConnection, as_of: date | None = None) -> Staged:
    """Read every ``stg_*`` table through ``cur`` into a ``Staged`` (as_of from ``meta_drop`` if not given)."""
    if as_of is None:
        as_of = cur.sql("select as_of from meta_drop").fetchall()[0][0]
    frames = {name: cur.sql(f"select * from stg_{name}").pl() for name in FILES}
    return Staged(as_of=as_of, **frames)
