"""Importers for public and standard files that can ride along in a drop.

* ``cqc`` — the CQC care directory ("HSCA active locations" ``.xlsx``/``.ods``, the deactivated
  locations file) or the weekly CQC directory CSV: fills or checks ``providers`` ratings and registration.
* ``ruc`` — ONS Rural Urban Classification LSOA lookups (2011 or 2021): fills ``areas.ruc11``/``ruc21``.
* ``cld`` — NHS England Adult Social Care Client Level Data: long-term community home care service
  events mapped to ``packages``.

Every importer is a pure function (paths or frames in, frames out). ``detect_public_file`` tells the
drop reader which importer, if any, a file in a drop belongs to. This module also holds the small
file-reading helpers the importers share: every value is read as text, and each importer types it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    from analytics.ingest.importers.cld import cld_to_packages
    from analytics.ingest.importers.cqc import CqcDirectory, apply_cqc, read_cqc_directory
    from analytics.ingest.importers.ruc import apply_ruc, read_ruc_lookup

__all__ = [
    "CqcDirectory",
    "ImportFileError",
    "apply_cqc",
    "apply_ruc",
    "cld_to_packages",
    "detect_public_file",
    "read_cqc_directory",
    "read_ruc_lookup",
]

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt")
HEADER_SEARCH_ROWS = 20
"""How many rows from the top of a sheet or CSV are searched for the header row."""

_LAZY = {
    "CqcDirectory": "cqc",
    "read_cqc_directory": "cqc",
    "apply_cqc": "cqc",
    "read_ruc_lookup": "ruc",
    "apply_ruc": "ruc",
    "cld_to_packages": "cld",
}


def __getattr__(name: str) -> Any:
    # The submodules import the helpers below, so they are loaded on first use, not at import.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"analytics.ingest.importers.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'analytics.ingest.importers' has no attribute {name!r}")


class ImportFileError(ValueError):
    """The file cannot be read, or is not in a format the importer recognises (CLI exit code 2)."""


# -- reading ----------------------------------------------------------------------------------------


def read_text(path: str | Path) -> str:
    """Return a text file's content: UTF-8 (a BOM is dropped), else Windows-1252."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    return read_text_bytes(data, partial=False)


def csv_head(text: str, rows: int = HEADER_SEARCH_ROWS) -> list[tuple[list[str], int]]:
    """Return the first ``rows`` CSV records of ``text``, each with the number of lines before it."""
    # Only the start of the text is needed (a 1 MB slice, cut at a line end, avoids copying it all).
    if len(text) > 1_000_000:
        text = text[: text.rfind("\n", 0, 1_000_000) + 1] or text[:1_000_000]
    reader = csv.reader(io.StringIO(text))
    head: list[tuple[list[str], int]] = []
    lines_before = 0
    try:
        for record in reader:
            head.append(([cell.strip() for cell in record], lines_before))
            lines_before = reader.line_num
            if len(head) >= rows:
                break
    except csv.Error as exc:
        raise ImportFileError(f"not a readable CSV file ({exc})") from exc
    return head


def read_csv_frame(text: str, lines_before_header: int = 0) -> pl.DataFrame:
    """Return the CSV in ``text`` as all-text columns, the header being after ``lines_before_header`` lines."""
    try:
        frame = pl.read_csv(
            text.encode("utf-8"),
            skip_lines=lines_before_header,
            infer_schema=False,
            truncate_ragged_lines=True,
        )
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise ImportFileError(f"not a readable CSV file ({exc})") from exc
    return frame.rename({c: c.strip() for c in frame.columns})


class Workbook:
    """A spreadsheet (``.xlsx`` or ``.ods``) opened once with calamine; sheets are read as text.

    Opening parses the file, which for CQC's full ``.ods`` register is slow, so each importer opens
    a workbook once and reads every sheet it needs from it.
    """

    def __init__(self, path: str | Path) -> None:
        import fastexcel

        self.path = Path(path)
        try:
            self._reader = fastexcel.read_excel(str(self.path))
        except Exception as exc:  # fastexcel raises its own error types for every kind of bad file
            raise ImportFileError(f"{self.path.name}: cannot open the spreadsheet ({exc})") from exc
        self.sheet_names: list[str] = list(self._reader.sheet_names)

    def raw(self, sheet: str | int, n_rows: int | None = None) -> pl.DataFrame:
        """Return one sheet as text, no header: frame row ``i`` is spreadsheet row ``i + 1``."""
        try:
            loaded = self._reader.load_sheet(sheet, header_row=None, skip_rows=0, n_rows=n_rows, dtypes="string")
            return loaded.to_polars()
        except Exception as exc:
            raise ImportFileError(f"{self.path.name}: cannot read sheet {sheet!r} ({exc})") from exc


def find_header_row(raw: pl.DataFrame, is_header: Callable[[list[str]], bool]) -> int | None:
    """Return the index of the first of the top ``HEADER_SEARCH_ROWS`` rows for which ``is_header`` holds."""
    for index, row in enumerate(raw.head(HEADER_SEARCH_ROWS).iter_rows()):
        cells = [str(v).strip() for v in row if v is not None]
        if is_header(cells):
            return index
    return None


def frame_from_header(raw: pl.DataFrame, header_index: int) -> pl.DataFrame:
    """Return the rows of ``raw`` below row ``header_index``, named by that row (blank names dropped)."""
    header = [None if v is None else str(v).strip() for v in raw.row(header_index)]
    keep: dict[str, str] = {}
    seen: set[str] = set()
    for column, name in zip(raw.columns, header, strict=True):
        if not name or name in seen:
            continue
        seen.add(name)
        keep[column] = name
    body = raw.slice(header_index + 1).select(list(keep))
    return body.rename(keep)


@dataclass(frozen=True)
class HeaderTable:
    """A table found in a CSV or spreadsheet by its header row (see ``find_table``).

    ``frame`` has all-text columns named by the header; ``header_row`` is the header's record
    number in the CSV or its row number in the sheet (1-based, as Excel shows it); ``sheet`` is
    ``None`` for a CSV; ``above`` holds the CSV records above the header (title lines); ``book``
    is the opened spreadsheet (``None`` for a CSV), for importers that read other sheets too.
    """

    frame: pl.DataFrame
    header_row: int
    sheet: str | None = None
    above: list[list[str]] = field(default_factory=list)
    book: Workbook | None = None


def find_table(
    path: str | Path,
    is_header: Callable[[list[str]], bool],
    expected: str,
    missing: Callable[[list[str] | None], str] | None = None,
    sheet_order: Callable[[list[str]], Iterable[str]] = list,
) -> HeaderTable | None:
    """Return the table whose header row ``is_header`` finds in the top ``HEADER_SEARCH_ROWS`` rows.

    Inputs: a ``.csv``/``.txt`` file (its first records) or a spreadsheet (each sheet, in
    ``sheet_order``); ``expected`` names the file wanted in the error for another suffix
    (``"{name}: expected {expected}, not .pdf"``). When no header is found, raises
    ``ImportFileError`` with ``missing(sheet names, or None for a CSV)`` as its message, or returns
    ``None`` when ``missing`` is not given. Raises ``ImportFileError`` for a missing file.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        text = read_text(path)
        head = csv_head(text)
        for index, (cells, lines_before) in enumerate(head):
            if is_header(cells):
                above = [record for record, _ in head[:index]]
                return HeaderTable(read_csv_frame(text, lines_before), index + 1, above=above)
        sheets = None
    elif suffix in SPREADSHEET_SUFFIXES:
        book = Workbook(path)
        for sheet in sheet_order(book.sheet_names):
            index = find_header_row(book.raw(sheet, n_rows=HEADER_SEARCH_ROWS + 5), is_header)
            if index is not None:
                return HeaderTable(frame_from_header(book.raw(sheet), index), index + 1, sheet=sheet, book=book)
        sheets = book.sheet_names
    else:
        raise ImportFileError(f"{path.name}: expected {expected}, not {suffix or 'no extension'}")
    if missing is None:
        return None
    raise ImportFileError(missing(sheets))


def lower_cells(cells: list[str]) -> set[str]:
    return {c.strip().lower() for c in cells if c}


# -- values -----------------------------------------------------------------------------------------


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Strip spaces; an empty string becomes null."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Parse a text date: ISO (``2024-05-01``, with or without a time), UK ``01/05/2024`` or ``1 May 2024``."""
    text = clean_text(expr)
    first10 = text.str.slice(0, 10)
    return pl.coalesce(
        first10.str.to_date("%Y-%m-%d", strict=False),
        first10.str.to_date("%d/%m/%Y", strict=False),
        text.str.to_date("%d %B %Y", strict=False),
        text.str.to_date("%d %b %Y", strict=False),
    )


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_long_date(text: str) -> Any:
    """Return ``date`` for text like ``01 September 2026`` (``None`` if it is not one)."""
    from datetime import date

    match = re.search(r"(\d{1,2})[\s_]+([A-Za-z]+)[\s_]+(\d{4})", text)
    if not match:
        return None
    day, month, year = match.groups()
    if month.lower()[:3] not in _MONTHS:
        return None
    try:
        return date(int(year), _MONTHS.index(month.lower()[:3]) + 1, int(day))
    except ValueError:
        return None


def normalise_header(name: str) -> str:
    """``Cost Frequency (Unit Type)`` and ``[Cost_Frequency_(Unit_Type)]`` -> ``cost_frequency_unit_type``."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


# -- sniffing ---------------------------------------------------------------------------------------


def _kind_of_header(cells: list[str]) -> str | None:
    from analytics.ingest.importers import cld, cqc, ruc

    if cqc.is_cqc_header(cells):
        return "cqc"
    if ruc.is_ruc_header(cells):
        return "ruc"
    if cld.is_cld_header(cells):
        return "cld"
    return None


def detect_public_file(path: str | Path) -> str | None:
    """Return ``"cqc"``, ``"ruc"`` or ``"cld"`` if ``path`` looks like that public file, else ``None``.

    Looks only at headers (the first ``HEADER_SEARCH_ROWS`` rows of a CSV, or of each sheet of a
    spreadsheet); never raises for an unreadable or unrelated file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            with path.open("rb") as fh:
                text = read_text_bytes(fh.read(256 * 1024))
            # The last line may be cut mid-record, so only whole lines are sniffed.
            text = text.rsplit("\n", 1)[0] if "\n" in text else text
            if text.lstrip().startswith("CQC Locations data"):
                return "cqc"
            for cells, _ in csv_head(text):
                kind = _kind_of_header(cells)
                if kind:
                    return kind
            return None
        if suffix in SPREADSHEET_SUFFIXES:
            book = Workbook(path)
            for sheet in book.sheet_names:
                raw = book.raw(sheet, n_rows=HEADER_SEARCH_ROWS)
                for row in raw.iter_rows():
                    kind = _kind_of_header([str(v).strip() for v in row if v is not None])
                    if kind:
                        return kind
            return None
    except (ImportFileError, OSError):
        return None
    return None


def read_text_bytes(data: bytes, partial: bool = True) -> str:
    """Decode bytes as UTF-8 (dropping a BOM), else Windows-1252.

    ``partial`` says ``data`` is the start of a file, so a character cut at its end is not an error.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a partial read is still UTF-8.
        if partial and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
        return data.decode("cp1252", errors="replace")
