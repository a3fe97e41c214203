"""Small builders the unit tests share, so that hand-made fixtures read as data, not boilerplate.

- ``dates("2025-03-31 - 2025-04-01")``: a list of ``datetime.date`` (``-`` for ``None``) from ISO
  dates separated by spaces, so a date column of a hand-made frame fits on one line.
- ``rows(columns, *rows)``: a Polars frame from one tuple per row (the way a table is read), with
  integers as Int64, floats as Float64 and strings as String.
- ``zip_folder(folder)``: the bytes of a zip holding every file of ``folder`` by name, as an analyst
  uploads a drop.
- ``northdale_spec(id, title, subtitle, source)``: a synthetic Northdale ``ChartSpec`` as of
  31 October 2026.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl

from analytics.publish.charts import ChartSpec

NORTHDALE_AS_OF = date(2026, 10, 31)


def dates(iso: str) -> list[date | None]:
    """ISO dates ("YYYY-MM-DD") separated by spaces, "-" for a missing one -> list of date or None."""
    return [None if text == "-" else date.fromisoformat(text) for text in iso.split()]


def rows(columns: list[str], *values: tuple) -> pl.DataFrame:
    """Column names and one tuple per row -> Polars frame (types inferred per column)."""
    return pl.DataFrame(list(values), schema=columns, orient="row")


def zip_folder(folder: Path) -> bytes:
    """Folder -> zip bytes (deflated) holding its files by name, sorted."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buf.getvalue()


def northdale_spec(id: str, title: str, subtitle: str, source: str) -> ChartSpec:  # noqa: A002 (ChartSpec's name)
    """A synthetic Northdale chart spec dated ``NORTHDALE_AS_OF``."""
    return ChartSpec(id=id, title=title, subtitle=subtitle, source=source, as_of=NORTHDALE_AS_OF, synthetic=True)
