"""Assembling a briefing pack: the charts chosen, published, pictured and tabled, ready to write.

A ``Pack`` holds everything a pack shows: title, council, data date and one ``PackChart`` per chosen
chart (the published ``ChartSpec``, its PNG picture, a small text table and the words around it).
``make_pack`` builds it from ``BriefItem``s (chart id + filters) through
``chart_registry.build_published``, so **suppression is always on**; ``pack_from_specs`` from specs
already published. ``briefing.pdf_writer`` and ``briefing.pptx_writer`` draw a ``Pack``;
``briefing.pack`` is the way in (files, the ``brief`` command, previews).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from analytics.briefing import registry
from analytics.formatting import MISSING, fmt_date, fmt_month, fmt_number
from analytics.indicators import catalogue
from analytics.publish.charts import ChartSpec
from analytics.publish.exports import export_server, figure_png, neutralise
from analytics.publish.suppression import Suppressed, suppression_rule_text
from analytics.views.filters import Filters

TABLE_ROWS = 12  # most rows in a chart page's table (the full table is in the Excel download)
TABLE_COLUMNS = 6
SOURCES_TITLE = "Sources, definitions and small numbers"
SHORTHAND = "[c] = confidential: hidden to protect privacy (never a zero); [x] = not available."
COUNCIL_LEVEL_NOTE = (
    "Figures for the whole council are not small-area statistics and are shown unrounded; counts of "
    "providers and other organisations are public facts and are not suppressed."
)
DARK_BLUE = (0x12, 0x43, 0x6D)
GREY_TEXT = (0x50, 0x5A, 0x5F)


@dataclass(frozen=True)
class BriefItem:
    """One chart chosen for a pack: registry id, the filters it was drawn with, and page choices.

    ``params`` are the page's widget choices the chart depends on (a provider, a growth rate), as
    sorted ``(name, value)`` pairs so the item is hashable and can live in session state.
    """

    chart_id: str
    filters: Filters
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """A stable text key for widgets and caches."""
        f = self.filters
        parts = [self.chart_id, f.month.isoformat(), f.locality, f.service_type, f.client_group, f.funding]
        parts += [f.provider_type, *(f"{k}={v}" for k, v in self.params)]
        return "|".join("" if p is None else str(p) for p in parts)


@dataclass(frozen=True)
class PackChart:
    """A chart ready for the pack: the published spec, its picture, table and words."""

    spec: ChartSpec
    png: bytes
    table: list[list[str]]  # header row first, every cell text
    table_note: str | None
    text: str
    filters_text: str
    indicator_ids: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    """Everything a pack shows; ``pack_pdf`` and ``pack_pptx`` draw it."""

    title: str
    council_name: str
    as_of: date
    synthetic: bool
    charts: list[PackChart]
    generated: date = field(default_factory=date.today)

    @property
    def definitions(self) -> list[catalogue.Indicator]:
        """The catalogue entries of every indicator the charts show (first use order)."""
        known = catalogue.load_catalogue()
        ids = dict.fromkeys(i for c in self.charts for i in c.indicator_ids if i in known)
        return [known[i] for i in ids]

    @property
    def sources(self) -> list[str]:
        """The charts' sources, each once."""
        return list(dict.fromkeys(c.spec.source for c in self.charts))

    @property
    def rule_text(self) -> str:
        return suppression_rule_text()


@dataclass(frozen=True)
class PackFiles:
    """A pack written to disk: paths, page and slide counts, seconds taken."""

    pdf: Path
    pptx: Path
    pages: int
    slides: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------


def list_charts() -> list[tuple[str, str]]:
    """Return (chart id, title) of every chart the pack can hold, in page order."""
    return [(e.id, e.title) for e in registry.REGISTRY.values()]


def filters_text(filters: Filters) -> str:
    """Return the filters in words: "Fellside locality, October 2026, home care"."""
    parts = [filters.area_label().capitalize(), fmt_month(filters.month)]
    for value in (filters.service_type, filters.client_group, filters.funding, filters.provider_type):
        if value:
            parts.append(value.replace("_", " "))
    return ", ".join(parts)


def _cell(value: object, column: str) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return fmt_month(value) if "month" in column.lower() else fmt_date(value)
    if isinstance(value, int):
        return fmt_number(value, 0)
    if isinstance(value, float):
        if value != value:
            return MISSING
        return fmt_number(value, 0 if value.is_integer() else 1)
    return str(value)


_COORDINATES = re.compile(r"^(lat|latitude|lon|lng|long|longitude)$")


def plotted_columns(spec: ChartSpec) -> list[str]:
    """Return the table's numeric columns the figure plots (most points first).

    A point counts for a column when the row named by the point's category (bar, line or map
    area) holds the point's value in that column.
    """
    from analytics.publish.figure_patch import category_key

    if spec.figure is None or spec.data is None:
        return []
    frame = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
    labels = [c for c, t in frame.schema.items() if not t.is_numeric()]
    numbers = [c for c, t in frame.schema.items() if t.is_numeric() and not _COORDINATES.match(c)]
    keys = [{category_key(v) for v in row} for row in frame.select(labels).iter_rows()] if labels else []
    columns = {c: frame[c].to_list() for c in numbers}
    hits: dict[str, int] = {}
    for trace in spec.figure.data:
        if trace.type in ("choroplethmap", "choropleth"):
            if trace.showscale is False:
                continue  # a grey "not shown" layer or an outline: its z is only a colour index
            cats, vals = trace.locations, trace.z
        elif trace.type in ("bar", "scatter", "scattergl"):
            if trace.type != "bar" and trace.mode == "text":
                continue  # [c] labels
            horizontal = trace.type == "bar" and trace.orientation == "h"
            cats, vals = (trace.y, trace.x) if horizontal else (trace.x, trace.y)
        else:
            continue
        if cats is None or vals is None or isinstance(vals, str):
            continue
        for cat, val in zip(cats, vals, strict=False):
            if not isinstance(val, int | float) or isinstance(val, bool):
                continue
            k = category_key(cat)
            rows = [i for i, row in enumerate(keys) if k in row] if keys else range(frame.height)
            for c in numbers:
                if any(columns[c][i] is not None and abs(float(columns[c][i]) - float(val)) < 1e-9 for i in rows):
                    hits[c] = hits.get(c, 0) + 1
    return sorted(hits, key=lambda c: -hits[c])


_WORDS = {
    "pct": "(%)",
    "pp": "(percentage points)",
    "gbp": "£",
    "hhi": "HHI",
    "p90": "90th percentile",
    "cqc": "CQC",
    "ruc21": "RUC21",
    "me": "microenterprise",
}


def _heading(name: str) -> str:
    """Return a column name for people: ``share_pct`` -> "Share (%)", ``hours_per_1000_65_plus`` -> ..."""
    text = name.replace("per_1000_65_plus", "per 1,000 aged 65 years and over").replace("_65_plus", " aged 65+")
    text = " ".join(_WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", text) if w)
    text = text.replace("aged 65+", "aged 65 years and over").strip()
    return text[:1].upper() + text[1:]


def table_columns(spec: ChartSpec, frame: pl.DataFrame, max_columns: int = TABLE_COLUMNS) -> list[str]:
    """Return the columns worth showing in a small table: labels, what is plotted, then counts.

    Left out: coordinates, codes when there is a name, flags, and columns with one value for every
    row (the month of a one-month chart: the subtitle says it).
    """
    plotted = [c for c in plotted_columns(spec) if c in frame.columns]
    counts = [*spec.data.count_cols, *spec.data.derived_cols] if isinstance(spec.data, Suppressed) else []
    schema = spec.data.values.schema if isinstance(spec.data, Suppressed) else frame.schema
    has_name = any("name" in c.lower() for c in frame.columns)
    keep = []
    for c in frame.columns:
        dtype = schema.get(c, frame.schema[c])
        if c.endswith("_suppressed") or c == "is_total" or _COORDINATES.match(c):
            continue
        if dtype == pl.Boolean or (has_name and c.lower().endswith("_code")):
            continue
        if frame.height > 1 and frame[c].n_unique() == 1 and c not in plotted and c not in counts:
            continue
        keep.append(c)
    labels = [c for c in keep if not (schema.get(c, frame.schema[c])).is_numeric()]
    ordered = list(dict.fromkeys([*labels[:2], *plotted, *counts, *labels[2:], *keep]))
    return [c for c in ordered if c in keep][:max_columns] or frame.columns[:max_columns]


def pack_table(
    spec: ChartSpec, max_rows: int = TABLE_ROWS, max_columns: int = TABLE_COLUMNS
) -> tuple[list[list[str]], str | None]:
    """Return the chart's data table as text rows (header first) and a note when it was cut.

    The display table of a suppressed chart (``[c]`` in place); every cell neutralised against
    spreadsheet formulas. Columns by ``table_columns``; time series keep their latest rows, other
    tables their first.
    """
    if spec.data is None:
        return [], None
    frame = spec.data.display if isinstance(spec.data, Suppressed) else spec.data
    notes = []
    columns = table_columns(spec, frame, max_columns)
    if len(columns) < frame.width:
        notes.append(f"{len(columns)} of {frame.width} columns")
    frame = frame.select(columns)
    if frame.height > max_rows:
        temporal = [c for c in frame.columns if frame.schema[c].is_temporal()]
        if temporal:
            notes.append(f"latest {max_rows} of {frame.height} rows")
            frame = frame.tail(max_rows)
        else:
            notes.append(f"first {max_rows} of {frame.height} rows")
            frame = frame.head(max_rows)
    rows = [[neutralise(_heading(c)) for c in frame.columns]]
    for record in frame.iter_rows():
        rows.append([neutralise(_cell(v, c)) for v, c in zip(record, frame.columns, strict=True)])
    note = None
    if notes:
        note = "Table shows " + " and the ".join(notes) + "; the full table is in the dashboard's Excel download."
    return rows, note


def pack_chart(spec: ChartSpec, png: bytes, *, filters: Filters | None, text: str = "", indicator_ids=()) -> PackChart:
    """Return a ``PackChart`` for an already published ``spec`` and its picture."""
    table, note = pack_table(spec)
    return PackChart(
        spec=spec,
        png=png,
        table=table,
        table_note=note,
        text=text.strip(),
        filters_text=filters_text(filters) if filters is not None else "",
        indicator_ids=tuple(indicator_ids),
    )


def make_pack(
    cur: duckdb.DuckDBPyConnection,
    items: Sequence[BriefItem],
    *,
    title: str,
    texts: dict[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Pack:
    """Return the pack of ``items``: each chart rebuilt from the live data, published, drawn as PNG.

    ``texts`` maps ``BriefItem.key`` to the user's commentary. One kaleido browser serves every
    picture (``export_server``). ``progress(done, total, chart_id)`` is called after each chart.
    """
    from analytics.store.queries import drop_summary

    summary = drop_summary(cur)
    texts = texts or {}
    charts = []
    with export_server():
        for n, item in enumerate(items, start=1):
            spec = registry.build_published(cur, item.chart_id, item.filters, dict(item.params))
            png = _picture(spec)
            charts.append(
                pack_chart(
                    spec,
                    png,
                    filters=item.filters,
                    text=texts.get(item.key, ""),
                    indicator_ids=registry.entry(item.chart_id).indicator_ids,
                )
            )
            if progress is not None:
                progress(n, len(items), item.chart_id)
    return Pack(
        title=title.strip() or default_title(summary.as_of),
        council_name=summary.council_name or "Council",
        as_of=summary.as_of,
        synthetic=bool(summary.synthetic),
        charts=charts,
    )


def pack_from_specs(
    specs: Sequence[ChartSpec],
    *,
    title: str,
    council_name: str,
    as_of: date,
    synthetic: bool,
    texts: Sequence[str] = (),
    indicator_ids: Sequence[Sequence[str]] = (),
) -> Pack:
    """Return a pack of already published specs (no database; for tests and one-off packs)."""
    charts = []
    with export_server():
        for k, spec in enumerate(specs):
            charts.append(
                pack_chart(
                    spec,
                    _picture(spec),
                    filters=None,
                    text=texts[k] if k < len(texts) else "",
                    indicator_ids=indicator_ids[k] if k < len(indicator_ids) else (),
                )
            )
    return Pack(title=title, council_name=council_name, as_of=as_of, synthetic=synthetic, charts=charts)


def _picture(spec: ChartSpec) -> bytes:
    if spec.figure is None:
        return b""
    return figure_png(spec.figure, scale=2)


def default_title(as_of: date) -> str:
    """Return the pack title used when none is given."""
    return f"Home care market sufficiency: {fmt_month(as_of)}"
