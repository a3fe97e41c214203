"""Assembling a briefing pack: the charts chosen, published, pictured and tabled, ready to write.

A ``Pack`` holds everything a pack shows: title, council, data date, audience and protective
marking, the summary (``briefing.summary``: tiles and key messages, drawn first), one
``PackChart`` per chart kept (the published ``ChartSpec``, its PNG picture, a small text table and
the words around it) and the charts left out with one line each saying why. ``make_pack`` builds it
from ``BriefItem``s (chart id + filters) through ``chart_registry.build_published``, so
**suppression is always on**; ``pack_from_specs`` from specs already published.
``briefing.pdf_writer`` and ``briefing.pptx_writer`` draw a ``Pack``; ``briefing.pack`` is the way in.

Only charts that say something go in:

* **Audience.** A ``public`` pack (the default) leaves out every chart that names a provider
  (``ChartEntry.names_providers``); an ``internal`` pack keeps them and is marked OFFICIAL-SENSITIVE
  (Government Security Classifications) on every page and slide.
* **All hidden.** A chart whose every mark would be suppressed (``says_something``) is drawn one
  level up (``ChartEntry.fallback``: by locality instead of by area; or the whole council instead of
  a locality), else left out.
* **Duplicates.** A chart whose published table is the same as an earlier chart's is left out.
* **Provider charts** show the 10 largest and one bar for all the others (``top_categories``).
* **Pictures** (``pack_figure``) have no title or subtitle inside (the page prints them once),
  no footnote (printed as text under the picture), and every text at least ``MIN_FONT_PX`` at
  ``PICTURE_WIDTH``: 10 pt or more in the PDF, 12 pt or more on a slide. They are drawn once per
  snapshot, chart, filters and audience and kept in the data store's picture cache
  (``analytics.publish.pictures``): a pack made again reads them instead of starting Chromium.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import polars as pl

from analytics.briefing import registry
from analytics.briefing.summary import Summary, summary
from analytics.briefing.view_charts import ChartUnavailable
from analytics.formatting import MISSING, fmt_date, fmt_month, fmt_number
from analytics.indicators import catalogue
from analytics.publish import pictures
from analytics.publish.charts import ChartSpec
from analytics.publish.exports import neutralise
from analytics.publish.pictures import Picture, PictureCache
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed, suppression_rule_text
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
MARKING_RED = (0xB1, 0x0E, 0x1E)
BLACK = (0x0B, 0x0C, 0x0C)
RAG_COLOURS = {"red": (0xD4, 0x35, 0x1C), "amber": (0xB5, 0x6A, 0x00), "green": (0x00, 0x70, 0x3C)}

PUBLIC, INTERNAL = "public", "internal"
AUDIENCES = (PUBLIC, INTERNAL)
DEFAULT_AUDIENCE = PUBLIC
# Government Security Classifications (Cabinet Office, 2023): OFFICIAL for what may be published,
# OFFICIAL-SENSITIVE for what names providers (commercially sensitive).
MARKINGS = {PUBLIC: "OFFICIAL", INTERNAL: "OFFICIAL-SENSITIVE"}
MARKING_NOTES = {
    PUBLIC: "Public version: no provider is named and small numbers are protected. May be published.",
    INTERNAL: (
        "Internal version: names providers, their volumes, hand-backs and exit scenarios, which are "
        "commercially sensitive. Not for publication."
    ),
}
PICTURE_WIDTH = 640  # px: the pack's pictures are drawn this wide (times 2 for sharpness)
PICTURE_MAX_HEIGHT = 460  # px: so a picture fills the PDF's width within 125 mm of height
MIN_FONT_PX = 15  # at PICTURE_WIDTH: >= 10 pt in the PDF (174 mm wide), >= 12 pt on a slide (7.8 in)
TOP_PROVIDERS = 10


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
    """A chart ready for the pack: the published spec, its picture, table and words.

    ``note``: why the chart is drawn at another level than asked (one line), or ``None``.
    """

    spec: ChartSpec
    png: bytes
    table: list[list[str]]  # header row first, every cell text
    table_note: str | None
    text: str
    filters_text: str
    indicator_ids: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class LeftOut:
    """A chart asked for but not in the pack, and why (one line)."""

    chart_id: str
    title: str
    reason: str


@dataclass(frozen=True)
class Pack:
    """Everything a pack shows; ``pack_pdf`` and ``pack_pptx`` draw it."""

    title: str
    council_name: str
    as_of: date
    synthetic: bool
    charts: list[PackChart]
    generated: date = field(default_factory=date.today)
    audience: str = DEFAULT_AUDIENCE
    summary: Summary | None = None
    left_out: list[LeftOut] = field(default_factory=list)
    scope: str = ""
    stats: PackStats | None = None

    @property
    def marking(self) -> str:
        """The protective marking printed on every page and slide."""
        return MARKINGS[self.audience]

    @property
    def marking_note(self) -> str:
        return MARKING_NOTES[self.audience]

    @property
    def messages(self) -> list[str]:
        """The key messages: the summary's, else the charts' headlines."""
        if self.summary is not None and self.summary.messages:
            return self.summary.messages
        return [c.spec.title.rstrip(".") + "." for c in self.charts[:6]]

    @property
    def definitions(self) -> list[catalogue.Indicator]:
        """The catalogue entries of every indicator the charts show (first use order)."""
        known = catalogue.load_catalogue()
        ids = dict.fromkeys(i for c in self.charts for i in c.indicator_ids if i in known)
        return [known[i] for i in ids]

    @property
    def plain_definitions(self) -> list[tuple[str, str]]:
        """(title, text) of each definition in plain English: definition, unit and caveats, no internal names."""
        out = []
        for item in self.definitions:
            parts = [plain_words(item.definition), f"Unit: {plain_words(item.unit)}.", plain_words(item.caveats)]
            out.append((item.title, " ".join(p for p in parts if p and p != "Unit: .")))
        return out

    @property
    def sources(self) -> list[str]:
        """The charts' sources, each once."""
        return list(dict.fromkeys(c.spec.source for c in self.charts))

    @property
    def rule_text(self) -> str:
        return suppression_rule_text()


def marking_colour(pack: Pack, default: tuple[int, int, int]) -> tuple[int, int, int]:
    """RGB for the protective marking: red on the internal pack (names providers), else ``default``."""
    return MARKING_RED if pack.audience == INTERNAL else default


@dataclass(frozen=True)
class PackFiles:
    """A pack written to disk: paths, page and slide counts, seconds taken.

    ``write_s``: seconds writing the PDF and PowerPoint; ``stats``: how the pack was made
    (``make_pack``'s ``Pack.stats``), when known.
    """

    pdf: Path
    pptx: Path
    pages: int
    slides: int
    seconds: float
    write_s: float = 0.0
    stats: PackStats | None = None


# ---------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------


_INTERNAL_SENTENCE = re.compile(r"config\.toml|\bmart_\w+|\bstg_\w+|\[[a-z_.]+\]")
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def plain_words(text: str | None) -> str:
    """Return catalogue text without internal names, for a cabinet paper.

    Sentences (or semicolon clauses) naming the configuration file, a mart or a staged table are
    left out; a remaining ``snake_case`` column name reads as words ("end date"). Empty when nothing
    is left.
    """
    if not text:
        return ""
    sentences = re.split(r"(?<=[.;])\s+", text.strip())
    kept = [t for t in sentences if not _INTERNAL_SENTENCE.search(t)]
    out = " ".join(kept).strip()
    out = re.sub(r"\s*\([^()]*\)", lambda m: "" if _INTERNAL_SENTENCE.search(m.group(0)) else m.group(0), out)
    out = _IDENTIFIER.sub(lambda m: m.group(0).replace("_", " "), out)
    out = out.rstrip(";").strip()
    if out and out[-1] not in ".?!":
        out += "."
    return out


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
    spreadsheet formulas. Columns by ``table_columns``; time series show their latest rows, newest
    first (so any cut keeps the latest month); other tables their first rows.
    """
    if spec.data is None:
        return [], None
    frame = spec.data.display if isinstance(spec.data, Suppressed) else spec.data
    notes = []
    columns = table_columns(spec, frame, max_columns)
    if len(columns) < frame.width:
        notes.append(f"{len(columns)} of {frame.width} columns")
    frame = frame.select(columns)
    temporal = [c for c in frame.columns if frame.schema[c].is_temporal()]
    if temporal:
        frame = frame.reverse()  # time series are oldest first: newest first reads better and cuts safely
    if frame.height > max_rows:
        if temporal:
            notes.append(f"latest {max_rows} of {frame.height} rows, newest first")
            frame = frame.head(max_rows)
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


def pack_chart(
    spec: ChartSpec,
    png: bytes,
    *,
    filters: Filters | None,
    text: str = "",
    indicator_ids=(),
    note: str | None = None,
    max_rows: int = TABLE_ROWS,
) -> PackChart:
    """Return a ``PackChart`` for an already published ``spec`` and its picture."""
    table, table_note = pack_table(spec, max_rows=max_rows)
    return PackChart(
        spec=spec,
        png=png,
        table=table,
        table_note=table_note,
        text=text.strip(),
        filters_text=filters_text(filters) if filters is not None else "",
        indicator_ids=tuple(indicator_ids),
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Which charts say something
# ---------------------------------------------------------------------------------------------


def _mark_values(fig: go.Figure) -> list[float]:
    """Return the numbers the figure draws as data marks (bars, points, shaded areas, circles).

    Left out: ``[c]`` text markers, grey "not shown" map layers and outlines (no colour scale).
    """
    out: list[float] = []
    for trace in fig.data:
        kind = trace.type
        if kind in ("bar", "scatter", "scattergl"):
            if kind != "bar" and (trace.mode == "text" or (trace.name or "").endswith("[c] marker")):
                continue
            horizontal = kind == "bar" and trace.orientation == "h"
            values = trace.x if horizontal else trace.y
        elif kind in ("choroplethmap", "choropleth"):
            if trace.showscale is False:
                continue
            values = trace.z
        elif kind in ("scattermap", "scattermapbox"):
            values = trace.marker.size if trace.marker is not None else None
        else:
            continue
        if values is None or isinstance(values, str | int | float):
            continue
        out += [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool) and v == v]
    return out


def says_something(spec: ChartSpec) -> bool:
    """Whether a published chart still shows something: not every mark of its counts hidden.

    ``False`` when the chart hid some cells and none of its drawn marks is a shown, non-zero figure
    of a protected column (the maps that are all grey; the bar chart of ``[c]`` on an empty axis).
    """
    data = spec.data
    if spec.figure is None or not isinstance(data, Suppressed):
        return True
    watched = [*data.count_cols, *data.derived_cols]
    values = data.values
    if not any(values[f"{c}{SUPPRESSED_SUFFIX}"].any() for c in watched):
        return True
    shown = {
        float(v)
        for c in watched
        for v, hidden in zip(values[c].to_list(), values[f"{c}{SUPPRESSED_SUFFIX}"].to_list(), strict=True)
        if not hidden and v is not None and v != 0
    }
    return any(any(math.isclose(m, v, rel_tol=1e-9, abs_tol=1e-9) for v in shown) for m in _mark_values(spec.figure))


def table_digest(spec: ChartSpec) -> str:
    """Return a digest of what a chart shows (its published table and drawn marks), to find repeats."""
    frame = spec.table
    marks = sorted(round(v, 6) for v in _mark_values(spec.figure)) if spec.figure is not None else []
    if frame is None:
        return hashlib.blake2b(spec.title.encode(), digest_size=8).hexdigest()
    text = repr((frame.columns, frame.rows(), marks))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# ---------------------------------------------------------------------------------------------
# Pictures for the pack
# ---------------------------------------------------------------------------------------------


def top_categories(spec: ChartSpec, n: int = TOP_PROVIDERS, noun: str = "providers") -> tuple[ChartSpec, int]:
    """Return ``spec`` with a horizontal bar chart cut to its first ``n`` bars and one for all the others.

    The bars keep the chart's order (largest first). "All other N providers" is their sum, or their
    simple average when the measure is a rate, a price or a "per" figure (which do not add up).
    Points of other traces on the left-out categories go too. Returns (spec, number left out).
    """
    if spec.figure is None:
        return spec, 0
    bars = [t for t in spec.figure.data if t.type == "bar" and t.orientation == "h" and t.y is not None]
    cats = list(dict.fromkeys(c for t in bars for c in t.y))
    if len(cats) <= n + 1:
        return spec, 0
    keep, rest = set(cats[:n]), cats[n:]
    words = f"{spec.subtitle} {spec.title}".lower()
    average = bool(re.search(r"\brate|£|\bper\b|average|mean|median", words))
    label = f"All other {len(rest)} {noun}" + (" (average)" if average else "")
    fig = go.Figure(spec.figure)
    for trace in fig.data:
        ys = list(trace.y) if trace.y is not None and not isinstance(trace.y, str) else None
        if ys is None or not any(y in keep or y in rest for y in ys):
            continue
        kept = [i for i, y in enumerate(ys) if y in keep]
        other = [i for i, y in enumerate(ys) if y not in keep]

        def pick(values, extra, kept=kept):
            if values is None or isinstance(values, str | int | float):
                return values
            values = list(values)
            return [values[i] for i in kept] + ([extra] if extra is not None else [])

        if trace.type == "bar" and trace.orientation == "h":
            xs = list(trace.x)
            nums = [xs[i] for i in other if isinstance(xs[i], int | float)]
            agg = None if not nums else (sum(nums) / len(nums) if average else sum(nums))
            shown = "" if agg is None else fmt_number(agg, 0 if float(agg).is_integer() else 1)
            trace.x = [xs[i] for i in kept] + [agg]
            trace.y = [ys[i] for i in kept] + [label]
            if trace.text is not None and not isinstance(trace.text, str):
                trace.text = pick(trace.text, shown)
            if trace.hovertext is not None and not isinstance(trace.hovertext, str):
                trace.hovertext = pick(trace.hovertext, f"{label}: {shown}")
            if trace.customdata is not None:
                trace.customdata = None
            colours = trace.marker.color if trace.marker is not None else None
            if colours is not None and not isinstance(colours, str):
                trace.marker.color = pick(colours, "#BFBFBF")
        else:
            trace.y = [ys[i] for i in kept]
            if trace.x is not None and not isinstance(trace.x, str):
                trace.x = pick(trace.x, None)
            for attr in ("text", "hovertext"):
                value = getattr(trace, attr)
                if value is not None and not isinstance(value, str):
                    setattr(trace, attr, pick(value, None))
    order = fig.layout.yaxis.categoryarray
    if order is not None:
        fig.update_yaxes(categoryarray=[c for c in order if c in keep] + [label])
    alt = f"{spec.alt_text} The chart shows the {n} largest; the other {len(rest)} are one bar.".strip()
    return replace(spec, figure=fig, alt_text=alt), len(rest)


def _font(obj, min_px: int, default: int) -> None:
    """Set ``obj.font.size`` (or ``obj.size`` for a font) to at least ``min_px``."""
    if obj is None:
        return
    current = obj.size
    if isinstance(current, list | tuple):
        obj.size = [max(v or default, min_px) for v in current]
    else:
        obj.size = max(current or default, min_px)


def legible(fig: go.Figure, min_px: int = MIN_FONT_PX) -> go.Figure:
    """Set every text of ``fig`` (in place) to at least ``min_px`` pixels, explicitly; return it.

    The base font, axis ticks and titles, legend, colour bars, annotations and trace labels.
    """
    _font(fig.layout.font, min_px, 14)
    for name in fig.layout:
        if name.startswith(("xaxis", "yaxis")):
            axis = fig.layout[name]
            _font(axis.tickfont, min_px, 14)
            _font(axis.title.font, min_px, 14)
    _font(fig.layout.legend.font, min_px, 14)
    if fig.layout.coloraxis is not None and fig.layout.coloraxis.colorbar is not None:
        _font(fig.layout.coloraxis.colorbar.tickfont, min_px, 14)
    for annotation in fig.layout.annotations:
        _font(annotation.font, min_px, 14)
    for trace in fig.data:
        if hasattr(trace, "textfont") and (trace.text is not None or trace.texttemplate is not None):
            _font(trace.textfont, min_px, 14)
        if hasattr(trace, "colorbar") and trace.colorbar is not None:
            _font(trace.colorbar.tickfont, min_px, 14)
            _font(trace.colorbar.title.font, min_px, 14)
        if hasattr(trace, "insidetextfont") and trace.type == "bar":
            _font(trace.insidetextfont, min_px, 14)
            _font(trace.outsidetextfont, min_px, 14)
    return fig


def font_sizes(fig: go.Figure) -> list[float]:
    """Return every explicit font size of ``fig`` (after ``legible``: every text's size)."""
    sizes = [fig.layout.font.size]
    for name in fig.layout:
        if name.startswith(("xaxis", "yaxis")):
            sizes += [fig.layout[name].tickfont.size, fig.layout[name].title.font.size]
    sizes.append(fig.layout.legend.font.size)
    sizes += [a.font.size for a in fig.layout.annotations]
    for trace in fig.data:
        if hasattr(trace, "textfont") and (trace.text is not None or trace.texttemplate is not None):
            size = trace.textfont.size
            sizes += list(size) if isinstance(size, list | tuple) else [size]
    return [float(v) for v in sizes if v is not None]


def pack_figure(fig: go.Figure) -> go.Figure:
    """Return a copy of a house-styled figure for the pack: no title, subtitle or footnote inside, legible.

    The page prints the title, subtitle and footnote once as text; the picture is ``PICTURE_WIDTH``
    wide, at most ``PICTURE_MAX_HEIGHT`` high, every text at least ``MIN_FONT_PX``.
    """
    fig = go.Figure(fig)
    subtitle = fig.layout.title.subtitle.text or "" if fig.layout.title is not None else ""
    sub_lines = subtitle.count("<br>") + 1 if subtitle else 0
    foot = next((a for a in fig.layout.annotations if a.name == "footnote"), None)
    foot_lines = (foot.text or "").count("<br>") + 1 if foot is not None else 0
    top = (fig.layout.margin.t or 80) - 30 - 20 * sub_lines
    bottom = (fig.layout.margin.b or 60) - 16 * foot_lines
    fig.layout.annotations = [a for a in fig.layout.annotations if a.name != "footnote"]
    fig.update_layout(
        title={"text": "", "subtitle": {"text": ""}},
        margin={"t": max(top, 16), "b": max(bottom, 16), "r": max(fig.layout.margin.r or 24, 60)},
        width=PICTURE_WIDTH,
        height=min(fig.layout.height or PICTURE_MAX_HEIGHT, PICTURE_MAX_HEIGHT),
    )
    return legible(fig)


def pack_picture(spec: ChartSpec, *, scope: str, audience: str) -> Picture:
    """Return the picture a pack draws of a published ``spec`` (``pack_figure``, PNG at scale 2).

    ``scope`` is the filters and page choices (``pictures.scope_text``); with ``audience`` it keys the
    picture in the cache, so a public pack never reads a picture an internal pack drew.
    """
    return Picture(pack_figure(spec.figure), chart_id=spec.id, scope=scope, audience=audience, fmt="png", scale=2)


# ---------------------------------------------------------------------------------------------
# Building the pack
# ---------------------------------------------------------------------------------------------

ALL_HIDDEN = (
    "every figure it would show is a count of fewer than 8 people (or rests on one), so all of it "
    "would be hidden, and no chart one level up says more"
)


def _published(cur, chart_id: str, filters: Filters, params: dict) -> ChartSpec | None:
    try:
        return registry.build_published(cur, chart_id, filters, params)
    except ChartUnavailable:
        return None


def publishable(
    cur: duckdb.DuckDBPyConnection, item: BriefItem
) -> tuple[ChartSpec | None, str | None, str | None, Filters]:
    """Return (published spec, note, reason left out, filters drawn with) for one chosen chart.

    A chart whose every mark would be hidden is drawn one level up: its entry's ``fallback`` (by
    locality instead of by area), else the same chart for the whole council when it was asked for a
    locality. ``note`` then says so in one line; ``reason`` says why a chart is left out.
    """
    entry = registry.entry(item.chart_id)
    try:
        spec = registry.build_published(cur, item.chart_id, item.filters, dict(item.params))
    except ChartUnavailable as exc:
        return None, None, f"nothing to draw: {exc}", item.filters
    if says_something(spec):
        return spec, None, None, item.filters
    if entry.fallback is not None:
        up = _published(cur, entry.fallback, item.filters, {})
        if up is not None and says_something(up):
            note = f"Drawn by locality: {entry.title.lower()} would be hidden for every area to protect small numbers."
            return up, note, None, item.filters
    if item.filters.locality is not None:
        council = replace(item.filters, locality=None)
        up = _published(cur, item.chart_id, council, dict(item.params))
        if up is not None and says_something(up):
            note = (
                f"Drawn for the whole council: in {item.filters.locality} every figure would be hidden "
                "to protect small numbers."
            )
            return up, note, None, council
    return None, None, ALL_HIDDEN, item.filters


@dataclass(frozen=True)
class PackStats:
    """How a pack was made: seconds building charts and drawing pictures, pictures drawn and reused."""

    build_s: float = 0.0
    pictures_s: float = 0.0
    drawn: int = 0
    reused: int = 0


@dataclass(frozen=True)
class _Planned:
    spec: ChartSpec
    drawn: Filters | None
    text: str
    indicator_ids: tuple[str, ...]
    note: str | None
    max_rows: int
    picture: Picture | None


def _draw_pictures(
    planned: Sequence[_Planned],
    cache: PictureCache | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[bytes], int, int]:
    """Return the PNG of each planned chart (``b""`` without a figure), drawn pictures, reused pictures."""
    wanted = [p.picture for p in planned if p.picture is not None]
    before = (cache.drawn, cache.reused) if cache is not None else (0, 0)
    made = iter(pictures.draw(wanted, cache, progress=progress))
    pngs = [next(made) if p.picture is not None else b"" for p in planned]
    if cache is None:
        return pngs, len(wanted), 0
    return pngs, cache.drawn - before[0], cache.reused - before[1]


def make_pack(
    cur: duckdb.DuckDBPyConnection,
    items: Sequence[BriefItem],
    *,
    title: str,
    audience: str = DEFAULT_AUDIENCE,
    texts: dict[str, str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cache: PictureCache | None | bool = True,
) -> Pack:
    """Return the pack of ``items`` for ``audience``: summary first, then each chart that says something.

    Each chart is rebuilt from the live data and published; then the pictures: those drawn before
    for this snapshot, chart, filters and audience are read from the picture cache
    (``analytics.publish.pictures``, in the data store folder), the others drawn by one kaleido
    browser in one batch. ``cache``: ``True`` (the cache of the snapshot ``cur`` reads), a
    ``PictureCache``, or ``False``/``None`` (draw every picture). Left out, each with one line in
    ``Pack.left_out``: charts naming providers in a ``public`` pack, charts with nothing to draw,
    charts whose every mark would be hidden even one level up (``publishable``), and charts showing
    the same table as an earlier one. ``texts`` maps ``BriefItem.key`` to the user's commentary;
    ``progress(done, total, what)`` is called after each chart is built and as pictures are drawn
    (``what`` says which, in words). The summary is for the first item's filters (whole council,
    latest month when there is none). ``Pack.stats`` says how long each part took.
    """
    from analytics.store.queries import drop_summary

    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    started = time.perf_counter()
    if cache is True:
        cache = pictures.for_cursor(cur)
    cache = cache or None
    drop = drop_summary(cur)
    texts = texts or {}
    planned: list[_Planned] = []
    left_out: list[LeftOut] = []
    seen: dict[str, int] = {}
    total = 2 * len(items)  # building each chart, then (at most) drawing its picture
    for n, item in enumerate(items, start=1):
        entry = registry.entry(item.chart_id)
        if audience == PUBLIC and entry.names_providers:
            left_out.append(LeftOut(item.chart_id, entry.title, "it names providers: in the internal pack only"))
        else:
            spec, note, reason, drawn = publishable(cur, item)
            digest = table_digest(spec) if spec is not None else ""
            if spec is None:
                left_out.append(LeftOut(item.chart_id, entry.title, reason or "nothing to draw"))
            elif digest in seen:
                same = seen[digest]
                left_out.append(LeftOut(item.chart_id, entry.title, f"it shows the same figures as chart {same}"))
            else:
                cut = 0
                if entry.names_providers:
                    spec, cut = top_categories(spec)
                seen[digest] = len(planned) + 1
                scope = pictures.scope_text(drawn, item.params)
                planned.append(
                    _Planned(
                        spec,
                        drawn,
                        texts.get(item.key, ""),
                        tuple(entry.indicator_ids),
                        note,
                        TOP_PROVIDERS if cut else TABLE_ROWS,
                        pack_picture(spec, scope=scope, audience=audience) if spec.figure is not None else None,
                    )
                )
        if progress is not None:
            progress(n, total, f"Built {item.chart_id} ({n} of {len(items)} charts)")
    built = time.perf_counter()

    def drawing(done: int, missing: int) -> None:
        if progress is not None:
            progress(total - missing + done, total, f"Drew {done} of {missing} pictures")

    pngs, n_drawn, n_reused = _draw_pictures(planned, cache, drawing)
    drew = time.perf_counter()
    if progress is not None:
        progress(total, total, f"{len(planned)} pictures ready")
    charts = [
        pack_chart(
            p.spec, png, filters=p.drawn, text=p.text, indicator_ids=p.indicator_ids, note=p.note, max_rows=p.max_rows
        )
        for p, png in zip(planned, pngs, strict=True)
    ]
    filters = items[0].filters if items else None
    pack_summary = None
    scope = ""
    if filters is not None:
        pack_summary = summary(cur, filters, published=True, headlines=tuple(c.spec.title for c in charts))
        scope = pack_summary.scope
    build_s = (built - started) + (time.perf_counter() - drew)
    stats = PackStats(build_s=build_s, pictures_s=drew - built, drawn=n_drawn, reused=n_reused)
    return Pack(
        title=title.strip() or default_title(drop.as_of),
        council_name=drop.council_name or "Council",
        as_of=drop.as_of,
        synthetic=bool(drop.synthetic),
        charts=charts,
        audience=audience,
        summary=pack_summary,
        left_out=left_out,
        scope=scope,
        stats=stats,
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
    audience: str = DEFAULT_AUDIENCE,
) -> Pack:
    """Return a pack of already published specs (no database, no summary tiles, no picture cache).

    For tests and one-off packs: every picture is drawn, in one batch.
    """
    planned = [
        _Planned(
            spec,
            None,
            texts[k] if k < len(texts) else "",
            tuple(indicator_ids[k]) if k < len(indicator_ids) else (),
            None,
            TABLE_ROWS,
            pack_picture(spec, scope="", audience=audience) if spec.figure is not None else None,
        )
        for k, spec in enumerate(specs)
    ]
    pngs, _, _ = _draw_pictures(planned, None, None)
    charts = [
        pack_chart(p.spec, png, filters=None, text=p.text, indicator_ids=p.indicator_ids)
        for p, png in zip(planned, pngs, strict=True)
    ]
    return Pack(
        title=title, council_name=council_name, as_of=as_of, synthetic=synthetic, charts=charts, audience=audience
    )


def default_title(as_of: date) -> str:
    """Return the pack title used when none is given."""
    return f"Home care market sufficiency: {fmt_month(as_of)}"
