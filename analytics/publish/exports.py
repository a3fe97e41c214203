"""Downloads: charts as PNG or SVG (kaleido + Chromium), tables as CSV or Excel.

* ``figure_png`` / ``figure_svg`` render through kaleido, which drives the Debian ``chromium``.
  Each call on its own starts a browser (about 3 to 4 s); inside ``with export_server():`` one
  browser serves every figure (about 0.4 s each after the first). ``draw_many`` draws a batch of
  figures in one call, in ``TABS`` browser tabs at once. ``stay_warm()`` (the dashboard) keeps the
  browser a block started running for the life of the process. ``pictures_drawn()`` counts every
  picture Chromium drew in this process. Pictures are cached on disk by
  ``analytics.publish.pictures``, which goes through these functions.
* ``table_csv`` writes UTF-8 with a byte order mark, so Excel shows "£" correctly.
* ``table_xlsx`` writes one "Data" sheet (title, source line, table) and a "Notes" sheet (source,
  data as at, suppression rule, shorthand, your notes). Strings are always written as strings.

Both table writers neutralise spreadsheet formula injection: a text cell starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` so no spreadsheet runs it (a plain
number such as ``-5`` or ``-£1,200.50`` is left alone: it cannot be a formula). Column names too.

Both accept a ``Suppressed`` result (from ``analytics.publish.suppression.suppress``) as well as a frame:
suppressed cells are written as ``[c]``, missing ones as ``[x]``, numbers as numbers in Excel, and
the flag columns are left out. User documentation: ``docs/exports.md``.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import kaleido
import plotly.graph_objects as go
import polars as pl
import xlsxwriter

from analytics.formatting import MISSING, fmt_date
from analytics.publish.charts import DEFAULT_HEIGHT, ChartSpec
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed

DEFAULT_WIDTH = 900
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain number (optionally signed, with separators, a pound sign or a percent sign) is inert.
_PLAIN_NUMBER = re.compile(r"(?=.*\d)[+-]?£?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?")
_BROWSER_CANDIDATES = ("chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
# Browser tabs drawing at once in a batch (``draw_many``): one per core, at most two (each tab is
# a Chromium renderer of about 150 MB; on two cores a third tab only queues).
TABS = max(1, min(2, os.cpu_count() or 1))
BATCH = 8  # figures per kaleido call in ``draw_many`` (progress is reported after each)

# The kaleido sync server is one browser with one shared result queue: calls must not overlap.
_render_lock = threading.RLock()
_server_lock = threading.Lock()
_server_users = 0
_server_started_here = False
_stay_warm = False
_drawn = 0
_count_lock = threading.Lock()


class ExportUnavailable(RuntimeError):
    """Static chart export cannot run: no Chromium browser was found."""


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------


def browser_path() -> str | None:
    """Return the Chromium kaleido will use (``BROWSER_PATH`` first), or ``None`` if there is none."""
    override = os.environ.get("BROWSER_PATH")
    if override:
        return override if os.path.exists(override) else None
    for candidate in _BROWSER_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _server_running() -> bool:
    from kaleido._sync_server import GlobalKaleidoServer  # kaleido 1.x has no public check

    return GlobalKaleidoServer().is_running()


def _start_server() -> None:
    """Start the process's one kaleido browser: ``TABS`` tabs, no MathJax (no CDN fetch offline)."""
    kaleido.start_sync_server(n=TABS, mathjax=False, silence_warnings=True)


def stay_warm() -> None:
    """Keep the kaleido browser running once started, for the life of the process (the dashboard).

    Without this (the command line), the outermost ``export_server`` block that started the
    browser stops it. Kaleido stops it at exit either way.
    """
    global _stay_warm
    _stay_warm = True


def keep_warm() -> None:
    """Start the process's kaleido browser now if it is not running, and keep it (``stay_warm``)."""
    if browser_path() is None:
        raise ExportUnavailable(_NO_BROWSER)
    stay_warm()
    with _server_lock:
        if not _server_running():
            _start_server()


@contextmanager
def export_server() -> Iterator[None]:
    """Keep one kaleido browser running for the figures exported inside the block.

    Nested or concurrent blocks share the browser; the outermost block that started it stops it
    (unless ``stay_warm()`` was called). A server started elsewhere (``keep_warm``,
    ``kaleido.start_sync_server()``) is used and left running.
    """
    global _server_users, _server_started_here
    if browser_path() is None:
        raise ExportUnavailable(_NO_BROWSER)
    with _server_lock:
        if _server_users == 0 and not _server_running():
            _start_server()
            _server_started_here = True
        _server_users += 1
    try:
        yield
    finally:
        with _server_lock:
            _server_users -= 1
            if _server_users == 0 and _server_started_here and not _stay_warm:
                with _render_lock:
                    kaleido.stop_sync_server(silence_warnings=True)
                _server_started_here = False


_NO_BROWSER = (
    "Chart images need the Chromium browser, which was not found. "
    "Install the Debian package (apt-get install chromium) or set BROWSER_PATH."
)


def picture_size(fig: go.Figure, width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """Return the (width, height) in CSS pixels a picture of ``fig`` is drawn at (before ``scale``)."""
    return int(width or fig.layout.width or DEFAULT_WIDTH), int(height or fig.layout.height or DEFAULT_HEIGHT)


def _counted(n: int) -> None:
    global _drawn
    with _count_lock:
        _drawn += n


def pictures_drawn() -> int:
    """Return how many pictures Chromium has drawn in this process (every ``figure_*`` and ``draw_many``)."""
    return _drawn


def _render(fig: go.Figure, fmt: str, scale: float, width: int | None, height: int | None) -> bytes:
    if browser_path() is None:
        raise ExportUnavailable(_NO_BROWSER)
    width, height = picture_size(fig, width, height)
    with _render_lock, warnings.catch_warnings():
        # plotly passes per-call browser options that a running server ignores; harmless.
        warnings.filterwarnings("ignore", message="The kopts argument is ignored")
        out = fig.to_image(format=fmt, width=width, height=height, scale=scale)
    _counted(1)
    return out


@dataclass(frozen=True)
class Drawing:
    """One picture for ``draw_many``: the figure, ``png`` or ``svg``, scale and size in CSS pixels."""

    figure: go.Figure
    fmt: str = "png"
    scale: float = 2
    width: int | None = None
    height: int | None = None


def draw_many(
    drawings: Sequence[Drawing],
    *,
    workdir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[bytes]:
    """Return the pictures of ``drawings`` (bytes, same order), drawn by one browser in ``TABS`` tabs.

    Kaleido gets ``BATCH`` figures per call and draws them in its tabs at once; ``progress(done,
    total)`` is called after each call. The files are written in a private temporary folder
    inside ``workdir`` (default: the system's) and removed. Uses the running browser
    (``export_server`` / ``keep_warm``) or starts one for the batch.
    """
    if not drawings:
        return []
    if browser_path() is None:
        raise ExportUnavailable(_NO_BROWSER)
    out: list[bytes] = []
    with export_server(), tempfile.TemporaryDirectory(prefix=".drawing-", dir=workdir) as tmp:
        for start in range(0, len(drawings), BATCH):
            chunk = drawings[start : start + BATCH]
            jobs = []
            for k, d in enumerate(chunk, start=start):
                width, height = picture_size(d.figure, d.width, d.height)
                opts = {"format": d.fmt, "scale": d.scale, "width": width, "height": height}
                jobs.append({"fig": d.figure, "path": Path(tmp) / f"{k}.{d.fmt}", "opts": opts})
            with _render_lock:
                kaleido.write_fig_from_object_sync(jobs, cancel_on_error=True)
            for job in jobs:
                out.append(job["path"].read_bytes())
                job["path"].unlink()
            _counted(len(jobs))
            if progress is not None:
                progress(len(out), len(drawings))
    return out


def figure_png(fig: go.Figure, scale: float = 2, *, width: int | None = None, height: int | None = None) -> bytes:
    """Return ``fig`` as PNG bytes: ``width`` x ``height`` (default the figure's, else 900 x 520) times ``scale``."""
    return _render(fig, "png", scale, width, height)


def figure_svg(fig: go.Figure, *, width: int | None = None, height: int | None = None) -> bytes:
    """Return ``fig`` as SVG bytes (text stays text, so it zooms and is searchable)."""
    return _render(fig, "svg", 1, width, height)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """Return ``value`` made inert for spreadsheets: a leading ``'`` if it could start a formula."""
    if value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with every text cell and column name neutralised."""
    text_types = (pl.String, pl.Categorical, pl.Enum)
    out = frame.with_columns(
        pl.col(c).cast(pl.String).map_elements(neutralise, return_dtype=pl.String)
        for c, t in frame.schema.items()
        if isinstance(t, text_types) or t in text_types
    )
    return out.rename({c: neutralise(c) for c in out.columns})


def table_csv(data: pl.DataFrame | Suppressed) -> bytes:
    """Return the table as CSV bytes (UTF-8 with BOM, comma separated, header row, nulls empty).

    A ``Suppressed`` result is written from ``export_frame()``: ``[c]`` and ``[x]`` in place,
    numbers without thousands separators, no flag columns.
    """
    frame = data.export_frame() if isinstance(data, Suppressed) else data
    buffer = io.BytesIO()
    _neutralise_frame(frame).write_csv(buffer, include_bom=True)
    return buffer.getvalue()


def _cells(data: pl.DataFrame | Suppressed) -> tuple[list[str], list[list[object]]]:
    """Return column names and rows of cell values: suppressed cells as ``Suppressed`` markers."""
    if not isinstance(data, Suppressed):
        return data.columns, [list(r) for r in data.iter_rows()]
    flagged = [*data.count_cols, *data.derived_cols]
    columns = data.display.columns
    values = data.values
    rows = []
    for record in values.iter_rows(named=True):
        row = []
        for c in columns:
            if c in flagged and record[f"{c}{SUPPRESSED_SUFFIX}"]:
                row.append(_Symbol(data.symbol))
            elif c in flagged and record[c] is None:
                row.append(_Symbol(MISSING))
            else:
                row.append(record[c])
        rows.append(row)
    return columns, rows


class _Symbol(str):
    """A shorthand symbol (``[c]``, ``[x]``), written as text and never neutralised."""


def _write_cell(sheet, row: int, col: int, value: object, *, number, formats: dict, right) -> None:
    """Write one cell with its native type: text as (neutralised) text, never as a formula."""
    if value is None:
        return
    if isinstance(value, _Symbol):
        sheet.write_string(row, col, str(value), right)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        if math.isfinite(value):
            sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, number)
        else:
            sheet.write_string(row, col, MISSING, right)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), formats["datetime"])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), formats["date"])
    else:
        sheet.write_string(row, col, neutralise(str(value)))


def _sheet_name(name: str) -> str:
    return (re.sub(r"[\[\]:*?/\\]", " ", name).strip("'") or "Data")[:31]


def table_xlsx(
    data: pl.DataFrame | Suppressed,
    *,
    title: str,
    notes: Sequence[str] = (),
    source: str | None = None,
    as_of: date | None = None,
    synthetic: bool = False,
    suppression_note: str | None = None,
    sheet_name: str = "Data",
    number_formats: dict[str, str] | None = None,
) -> bytes:
    """Return an Excel workbook (bytes): a data sheet and a "Notes" sheet.

    Data sheet: the title in A1, a source line in A2 (source, data as at, synthetic, "see Notes"),
    the table from row 4 (bold header, frozen, filter buttons). Numbers are numbers (integers
    ``#,##0``, decimals ``#,##0.0#`` unless ``number_formats`` says otherwise), dates are dates,
    text is text (never a formula; see ``neutralise``). Notes sheet: title, source, data as at,
    the suppression rule (``suppression_note``, else the one carried by a ``Suppressed``), the
    shorthand used, "Synthetic demo data" if so, then each of ``notes``.
    """
    columns, rows = _cells(data)
    if suppression_note is None and isinstance(data, Suppressed):
        suppression_note = data.rule_text
    number_formats = dict(number_formats or {})
    schema = data.values.schema if isinstance(data, Suppressed) else data.schema

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    bold = book.add_format({"bold": True})
    title_fmt = book.add_format({"bold": True, "font_size": 14})
    header_fmt = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    right = book.add_format({"align": "right"})
    formats = {
        "int": book.add_format({"num_format": "#,##0"}),
        "float": book.add_format({"num_format": "#,##0.0#"}),
        "date": book.add_format({"num_format": "d mmmm yyyy"}),
        "datetime": book.add_format({"num_format": "d mmmm yyyy hh:mm"}),
    }
    custom = {c: book.add_format({"num_format": f}) for c, f in number_formats.items()}

    sheet = book.add_worksheet(_sheet_name(sheet_name))
    sheet.write_string(0, 0, neutralise(title), title_fmt)
    source_line = [f"Source: {source}" if source else None, f"data as at {fmt_date(as_of)}" if as_of else None]
    if synthetic:
        source_line.append("Synthetic demo data")
    source_line.append("notes, including what [c] and [x] mean, are on the Notes sheet")
    sheet.write_string(1, 0, neutralise("; ".join(p for p in source_line if p)))

    header_row = 3
    for j, name in enumerate(columns):
        sheet.write_string(header_row, j, neutralise(str(name)), header_fmt)
    for i, row in enumerate(rows, start=header_row + 1):
        for j, value in enumerate(row):
            name = columns[j]
            number = custom.get(name) or formats["int" if schema[name].is_integer() else "float"]
            _write_cell(sheet, i, j, value, number=number, formats=formats, right=right)
    for j, name in enumerate(columns):
        longest = max([len(str(name))] + [len(str(r[j])) for r in rows[:500] if r[j] is not None])
        sheet.set_column(j, j, min(max(longest + 2, 8), 60))
    sheet.freeze_panes(header_row + 1, 0)
    if columns:
        sheet.autofilter(header_row, 0, header_row + len(rows), len(columns) - 1)

    notes_sheet = book.add_worksheet("Notes")
    entries = [("Title", title)]
    if source:
        entries.append(("Source", source))
    if as_of:
        entries.append(("Data as at", fmt_date(as_of)))
    if suppression_note:
        entries.append(("Small numbers", suppression_note))
    entries.append(("Shorthand", "[c] = confidential: hidden to protect privacy (never a zero); [x] = not available"))
    if synthetic:
        entries.append(("Synthetic demo data", "These figures are made up for demonstration, not real people."))
    entries += [(f"Note {k}", note) for k, note in enumerate(notes, start=1)]
    notes_sheet.write_string(0, 0, "Notes", title_fmt)
    notes_sheet.write_string(2, 0, "Item", header_fmt)
    notes_sheet.write_string(2, 1, "Detail", header_fmt)
    for i, (item, detail) in enumerate(entries, start=3):
        notes_sheet.write_string(i, 0, neutralise(item), bold)
        notes_sheet.write_string(i, 1, neutralise(detail))
    notes_sheet.set_column(0, 0, 22)
    notes_sheet.set_column(1, 1, 100, book.add_format({"text_wrap": True, "valign": "top"}))
    book.close()
    return buffer.getvalue()


def chart_xlsx(spec: ChartSpec, notes: Sequence[str] = ()) -> bytes:
    """Return the data table of a completed ``ChartSpec`` as Excel, with its wording as notes."""
    if spec.data is None:
        raise ValueError(f"chart {spec.id!r} has no data table")
    return table_xlsx(
        spec.data,
        title=spec.title,
        notes=[spec.subtitle, *([spec.alt_text] if spec.alt_text else []), *notes],
        source=spec.source,
        as_of=spec.as_of,
        synthetic=spec.synthetic,
        suppression_note=spec.suppression_note,
    )


def chart_csv(spec: ChartSpec) -> bytes:
    """Return the data table of a completed ``ChartSpec`` as CSV."""
    if spec.data is None:
        raise ValueError(f"chart {spec.id!r} has no data table")
    return table_csv(spec.data)


__all__ = [
    "BATCH",
    "TABS",
    "Drawing",
    "ExportUnavailable",
    "browser_path",
    "chart_csv",
    "chart_xlsx",
    "draw_many",
    "export_server",
    "figure_png",
    "figure_svg",
    "keep_warm",
    "neutralise",
    "picture_size",
    "pictures_drawn",
    "stay_warm",
    "table_csv",
    "table_xlsx",
]
