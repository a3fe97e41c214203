"""The briefing pack: chosen charts as a PDF and a PowerPoint for cabinet papers (public documents).

A pack is a title page, one page (slide) per chart and a closing page of sources, definitions and
the small-numbers rule. Each chart page has the chart's headline, the chart image exactly as the
dashboard draws it in the house style, its text alternative, optional commentary and a small data
table. **Suppression is always on**: every chart goes through ``chart_registry.build_published``
(``analytics.publish.publication``), whatever the dashboard's publication switch says.

::

    items = [BriefItem("waiting-people", filters), BriefItem("coverage-map-people-waiting", filters)]
    pack = make_pack(cur, items, title="Home care market: October 2026")   # one kaleido browser
    Path("pack.pdf").write_bytes(pack_pdf(pack)); Path("pack.pptx").write_bytes(pack_pptx(pack))

or ``python -m analytics brief --charts waiting-people,rural-waits --out out/`` (``run_brief``).
Text in the pack's tables goes through ``exports.neutralise``: a provider name starting ``=`` reads
``'=...`` if someone pastes the table into a spreadsheet.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterable, Sequence
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
SLIDE_TABLE_ROWS = 10
SOURCES_TITLE = "Sources, definitions and small numbers"
SHORTHAND = "[c] = confidential: hidden to protect privacy (never a zero); [x] = not available."
COUNCIL_LEVEL_NOTE = (
    "Figures for the whole council are not small-area statistics and are shown unrounded; counts of "
    "providers and other organisations are public facts and are not suppressed."
)
FONT_DIRS = ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "": ("LiberationSans-Regular.ttf", "DejaVuSans.ttf"),
    "B": ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
    "I": ("LiberationSans-Italic.ttf", "DejaVuSans-Oblique.ttf"),
}
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
    from analytics.publish.publication import _key

    if spec.figure is None or spec.data is None:
        return []
    frame = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
    labels = [c for c, t in frame.schema.items() if not t.is_numeric()]
    numbers = [c for c, t in frame.schema.items() if t.is_numeric() and not _COORDINATES.match(c)]
    keys = [{_key(v) for v in row} for row in frame.select(labels).iter_rows()] if labels else []
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
            k = _key(cat)
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


# ---------------------------------------------------------------------------------------------
# PDF (fpdf2)
# ---------------------------------------------------------------------------------------------


def _font_files() -> dict[str, Path] | None:
    """Return a Unicode TrueType family (Liberation Sans, else DejaVu Sans) if installed."""
    for pick in range(2):
        found = {}
        for style, names in FONT_FILES.items():
            path = next((Path(d) / names[pick] for d in FONT_DIRS if (Path(d) / names[pick]).exists()), None)
            if path is None:
                break
            found[style] = path
        else:
            return found
    return None


_LATIN1 = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"})


class _PackPDF:
    """An A4 portrait document in the house style (fpdf2)."""

    def __init__(self, pack: Pack):
        from fpdf import FPDF

        self.pack = pack
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.set_title(pack.title)
        pdf.set_author(pack.council_name)
        pdf.set_subject(f"Data as at {fmt_date(pack.as_of)}")
        pdf.set_creator("Home care market sufficiency dashboard")
        pdf.set_lang("en-GB")
        fonts = _font_files()
        if fonts:
            for style, path in fonts.items():
                pdf.add_font("House", style, str(path))
            self.family, self.unicode = "House", True
        else:
            self.family, self.unicode = "helvetica", False
        footer_text = f"{pack.council_name} · data as at {fmt_date(pack.as_of)}"
        if pack.synthetic:
            footer_text += " · Synthetic demo data"
        outer = self

        def footer() -> None:
            pdf.set_y(-12)
            outer.font(8, colour=GREY_TEXT)
            width = pdf.w - pdf.l_margin - pdf.r_margin
            pdf.cell(width - 20, 5, outer.text(footer_text), align="L")
            pdf.cell(20, 5, f"Page {pdf.page_no()}", align="R")

        pdf.footer = footer
        self.pdf = pdf

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, style: str = "", colour=(0x0B, 0x0C, 0x0C)) -> None:
        self.pdf.set_font(self.family, style, size)
        self.pdf.set_text_color(*colour)

    def para(self, value: str, size: float = 10, style: str = "", colour=(0x0B, 0x0C, 0x0C), gap: float = 2) -> None:
        self.font(size, style, colour)
        self.pdf.multi_cell(0, size * 0.48, self.text(value), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.ln(gap)

    # --- pages --------------------------------------------------------------------------------

    def title_page(self) -> None:
        pack, pdf = self.pack, self.pdf
        pdf.add_page()
        pdf.start_section("Title page", level=0)
        if pack.synthetic:
            self.font(11, "B", colour=(0xF4, 0x6A, 0x25))
            pdf.cell(0, 7, self.text("Synthetic demo data: these figures are made up"), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        pdf.ln(30)
        self.para(pack.council_name, 14, colour=GREY_TEXT, gap=4)
        self.para(pack.title, 26, "B", colour=DARK_BLUE, gap=6)
        self.para(f"Data as at {fmt_date(pack.as_of)}", 14, gap=1)
        self.para(f"Prepared {fmt_date(pack.generated)}", 11, colour=GREY_TEXT, gap=10)
        self.para("Contents", 13, "B", gap=2)
        for n, chart in enumerate(pack.charts, start=1):
            self.para(f"{n}. {chart.spec.title}", 10.5, gap=1)
        self.para(f"{len(pack.charts) + 1}. {SOURCES_TITLE}", 10.5, gap=8)
        self.para(
            "Small numbers are protected in every chart and table: " + pack.rule_text + " " + SHORTHAND,
            9.5,
            colour=GREY_TEXT,
        )

    def chart_page(self, n: int, chart: PackChart) -> None:
        pdf, spec = self.pdf, chart.spec
        pdf.add_page()
        pdf.start_section(f"{n}. {spec.title}", level=0)
        self.para(f"{n}. {spec.title}", 15, "B", colour=DARK_BLUE, gap=1)
        self.para(spec.subtitle, 9.5, colour=GREY_TEXT, gap=2)
        width = pdf.w - pdf.l_margin - pdf.r_margin
        if chart.png:
            from PIL import Image

            with Image.open(io.BytesIO(chart.png)) as img:
                ratio = img.height / img.width
            height = min(width * ratio, 125)
            w = height / ratio
            pdf.image(io.BytesIO(chart.png), x=pdf.l_margin, w=w, h=height, alt_text=self.text(spec.alt_text))
            pdf.ln(2)
        self.para("Text alternative: " + spec.alt_text, 9.5, gap=2)
        if chart.filters_text:
            self.para("Chart drawn for: " + chart.filters_text + ".", 8.5, colour=GREY_TEXT, gap=2)
        if chart.text:
            self.para(chart.text, 10.5, gap=3)
        if chart.table:
            self.table(chart.table, chart.table_note)

    def _widths(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def _column_widths(self, ncol: int) -> list[float]:
        width = self._widths()
        if ncol == 1:
            return [width]
        first = min(0.4, 1.6 / ncol)
        return [width * first] + [width * (1 - first) / (ncol - 1)] * (ncol - 1)

    def _row_height(self, row: list[str], widths: list[float], style: str = "") -> float:
        """The height a table row takes: its tallest cell's wrapped lines (padding 1 mm each side)."""
        self.pdf.set_font(self.family, style, 8)
        lines = [
            len(self.pdf.multi_cell(w - 2, 4, self.text(c), dry_run=True, output="LINES") or [""])
            for c, w in zip(row, widths, strict=True)
        ]
        return max(lines) * 4 + 2

    def table(self, rows: list[list[str]], note: str | None) -> None:
        """Draw the small data table, leaving out the last rows if the page would overflow."""
        pdf = self.pdf
        widths = self._column_widths(len(rows[0]))
        room = pdf.page_break_trigger - pdf.get_y() - 14  # keep space for the note under the table
        heights = [self._row_height(rows[0], widths, "B")] + [self._row_height(r, widths) for r in rows[1:]]
        keep = 1
        used = heights[0]
        while keep < len(rows) and used + heights[keep] <= room:
            used += heights[keep]
            keep += 1
        self._draw_table(pdf, rows[:keep] if keep > 1 else rows[:2], note, len(rows) - max(keep, 2))

    def _draw_table(self, pdf, rows: list[list[str]], note: str | None, cut: int) -> None:
        from fpdf.fonts import FontFace

        pdf.set_font(self.family, "", 8)
        pdf.set_text_color(0x0B, 0x0C, 0x0C)
        pdf.set_draw_color(0xBF, 0xBF, 0xBF)
        ncol = len(rows[0])
        width = self._widths()
        widths = self._column_widths(ncol)
        with pdf.table(
            col_widths=widths,
            width=width,
            align="LEFT",
            text_align=["LEFT"] + ["RIGHT"] * (ncol - 1),
            line_height=4,
            headings_style=FontFace(emphasis="BOLD", color=DARK_BLUE),
            borders_layout="HORIZONTAL_LINES",
            padding=1,
        ) as table:
            for row in rows:
                table.row([self.text(c) for c in row])
        shown_note = note
        if cut:
            extra = f"{cut} more row(s) are in the dashboard's Excel download."
            shown_note = f"{note} {extra}" if note else f"Table cut to fit the page: {extra}"
        if shown_note:
            pdf.ln(1)
            pdf.set_font(self.family, "I", 8)
            pdf.set_text_color(*GREY_TEXT)
            pdf.multi_cell(0, 3.8, self.text(shown_note), new_x="LMARGIN", new_y="NEXT", align="L")

    def sources_page(self) -> None:
        pack, pdf = self.pack, self.pdf
        pdf.add_page()
        pdf.start_section(SOURCES_TITLE, level=0)
        self.para(SOURCES_TITLE, 15, "B", colour=DARK_BLUE, gap=3)
        self.para("Sources", 12, "B", gap=1)
        for source in pack.sources:
            self.para(f"- {source}; data as at {fmt_date(pack.as_of)}.", 9.5, gap=1)
        if pack.synthetic:
            self.para("- Synthetic demo data: the figures describe a made-up council, not real people.", 9.5, gap=1)
        pdf.ln(2)
        self.para("Charts", 12, "B", gap=1)
        for n, chart in enumerate(pack.charts, start=1):
            where = f" ({chart.filters_text})" if chart.filters_text else ""
            protected = " Small numbers protected." if chart.spec.suppression_note else ""
            self.para(f"{n}. {chart.spec.title}{where}. Source: {chart.spec.source}.{protected}", 8.5, gap=1)
        pdf.ln(2)
        self.para("Small numbers", 12, "B", gap=1)
        self.para(pack.rule_text + " " + SHORTHAND + " " + COUNCIL_LEVEL_NOTE, 9.5, gap=3)
        if pack.definitions:
            self.para("Definitions", 12, "B", gap=1)
            for item in pack.definitions:
                self.para(item.title, 9.5, "B", gap=0.5)
                self.para(f"{item.definition} Unit: {item.unit}. Caveats: {item.caveats}", 8.5, gap=1.5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def pack_pdf(pack: Pack) -> bytes:
    """Return the pack as a PDF (A4 portrait): title page, a page per chart, sources and definitions."""
    doc = _PackPDF(pack)
    doc.title_page()
    for n, chart in enumerate(pack.charts, start=1):
        doc.chart_page(n, chart)
    doc.sources_page()
    return doc.output()


# ---------------------------------------------------------------------------------------------
# PowerPoint (python-pptx)
# ---------------------------------------------------------------------------------------------


def _rgb(colour: tuple[int, int, int]):
    from pptx.dml.color import RGBColor

    return RGBColor(*colour)


def _set_title(slide, text: str, *, top: float = 0.35, height: float = 0.9, size: int = 24) -> None:
    from pptx.util import Inches, Pt

    shape = slide.shapes.title
    shape.left, shape.top, shape.width, shape.height = Inches(0.4), Inches(top), Inches(12.5), Inches(height)
    shape.text_frame.text = text
    shape.text_frame.word_wrap = True
    for paragraph in shape.text_frame.paragraphs:
        paragraph.alignment = 1  # left
        for run in paragraph.runs:
            run.font.size = Pt(size)
            run.font.bold = True
            run.font.name = "Arial"
            run.font.color.rgb = _rgb(DARK_BLUE)


def _text_box(slide, left, top, width, height, paragraphs: Iterable[tuple[str, int, bool, tuple]]):
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    first = True
    for text, size, bold, colour in paragraphs:
        paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
        first = False
        run = paragraph.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = "Arial"
        run.font.color.rgb = _rgb(colour)
        paragraph.space_after = Pt(4)
    return box


def _footer(slide, pack: Pack) -> None:
    text = f"{pack.council_name} · data as at {fmt_date(pack.as_of)}"
    if pack.synthetic:
        text += " · Synthetic demo data"
    _text_box(slide, 0.4, 7.05, 12.5, 0.35, [(text, 9, False, GREY_TEXT)])


def _add_picture(slide, png: bytes, left: float, top: float, width: float, max_height: float, alt: str):
    from PIL import Image
    from pptx.util import Inches

    with Image.open(io.BytesIO(png)) as img:
        ratio = img.height / img.width
    w = min(width, max_height / ratio)
    pic = slide.shapes.add_picture(io.BytesIO(png), Inches(left), Inches(top), width=Inches(w))
    pic._element.nvPicPr.cNvPr.set("descr", alt)  # the picture's alternative text
    return pic


def _table(slide, rows: list[list[str]], left: float, top: float, width: float, max_height: float) -> None:
    from pptx.util import Inches, Pt

    rows = rows[: SLIDE_TABLE_ROWS + 1]
    ncol = len(rows[0])
    row_h = min(0.3, max_height / len(rows))
    shape = slide.shapes.add_table(len(rows), ncol, Inches(left), Inches(top), Inches(width), Inches(row_h * len(rows)))
    table = shape.table
    first = min(0.45, 1.8 / ncol) if ncol > 1 else 1.0
    table.columns[0].width = Inches(width * first)
    for j in range(1, ncol):
        table.columns[j].width = Inches(width * (1 - first) / (ncol - 1))
    size = 10 if ncol <= 3 else 9 if ncol <= 5 else 8
    for i, row in enumerate(rows):
        table.rows[i].height = Inches(row_h)
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = value
            cell.margin_left = cell.margin_right = Inches(0.04)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            for paragraph in cell.text_frame.paragraphs:
                paragraph.alignment = 1 if j == 0 else 3  # left, right
                for run in paragraph.runs:
                    run.font.size = Pt(size)
                    run.font.name = "Arial"
                    run.font.bold = i == 0


def _chunks(paragraphs: list[tuple[str, int, bool, tuple]], budget: int) -> list[list[tuple[str, int, bool, tuple]]]:
    """Split paragraphs into slides of about ``budget`` characters (a heading stays with what follows)."""
    out: list[list] = [[]]
    used = 0
    for k, para in enumerate(paragraphs):
        size = len(para[0]) + 60
        heading_last = para[2] and k + 1 < len(paragraphs)
        if out[-1] and used + size + (len(paragraphs[k + 1][0]) if heading_last else 0) > budget:
            out.append([])
            used = 0
        out[-1].append(para)
        used += size
    return out


def sources_paragraphs(pack: Pack) -> list[tuple[str, int, bool, tuple]]:
    """Return the closing section as (text, size, bold, colour) paragraphs."""
    black = (0x0B, 0x0C, 0x0C)
    out = [("Sources", 14, True, DARK_BLUE)]
    out += [(f"{s}; data as at {fmt_date(pack.as_of)}.", 11, False, black) for s in pack.sources]
    if pack.synthetic:
        out.append(("Synthetic demo data: the figures describe a made-up council, not real people.", 11, False, black))
    out.append(("Small numbers", 14, True, DARK_BLUE))
    out.append((pack.rule_text + " " + SHORTHAND, 11, False, black))
    out.append((COUNCIL_LEVEL_NOTE, 11, False, black))
    if pack.definitions:
        out.append(("Definitions", 14, True, DARK_BLUE))
        for item in pack.definitions:
            out.append((f"{item.title}: {item.definition} Unit: {item.unit}.", 10, False, black))
    return out


def pack_pptx(pack: Pack) -> bytes:
    """Return the pack as a 16:9 PowerPoint: title slide, a slide per chart, sources and definitions."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    prs.core_properties.title = pack.title
    prs.core_properties.author = pack.council_name
    prs.core_properties.subject = f"Data as at {fmt_date(pack.as_of)}"

    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _set_title(slide, pack.title, top=2.2, height=1.4, size=36)
    lines = [(pack.council_name, 20, False, GREY_TEXT), (f"Data as at {fmt_date(pack.as_of)}", 18, False, GREY_TEXT)]
    lines.append((f"Prepared {fmt_date(pack.generated)}", 14, False, GREY_TEXT))
    if pack.synthetic:
        lines.append(("Synthetic demo data: these figures are made up", 16, True, (0xF4, 0x6A, 0x25)))
    _text_box(slide, 0.4, 3.7, 12.5, 2.4, lines)

    black = (0x0B, 0x0C, 0x0C)
    for n, chart in enumerate(pack.charts, start=1):
        spec = chart.spec
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        _set_title(slide, f"{n}. {spec.title}", size=22 if len(spec.title) < 80 else 18)
        if chart.png:
            pic = _add_picture(slide, chart.png, 0.4, 1.3, 7.9, 4.55, spec.alt_text)
            below = 1.3 + pic.height / 914400 + 0.1
        else:
            below = 1.3
        words = [("Text alternative: " + spec.alt_text, 11, False, black)]
        if chart.text:
            words.append((chart.text, 12, True, black))
        _text_box(slide, 0.4, below, 7.9, max(7.0 - below, 0.6), words)
        side = [(spec.subtitle, 11, False, GREY_TEXT)]
        if chart.filters_text:
            side.append(("Chart drawn for: " + chart.filters_text, 10, False, GREY_TEXT))
        _text_box(slide, 8.6, 1.3, 4.35, 1.2, side)
        if chart.table:
            _table(slide, chart.table, 8.6, 2.6, 4.35, 4.1)
            cut = len(chart.table) - 1 - SLIDE_TABLE_ROWS
            note = chart.table_note or ""
            if cut > 0:
                note = (note + " " if note else "") + f"{cut} more row(s) in the PDF and the Excel download."
            if note:
                _text_box(slide, 8.6, 6.65, 4.35, 0.4, [(note, 8, False, GREY_TEXT)])
        _footer(slide, pack)
        notes = [spec.alt_text, chart.text, spec.footnote]
        slide.notes_slide.notes_text_frame.text = "\n\n".join(t for t in notes if t)

    chunks = _chunks(sources_paragraphs(pack), budget=1500)
    for k, chunk in enumerate(chunks):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        suffix = f" ({k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        _set_title(slide, SOURCES_TITLE + suffix)
        _text_box(slide, 0.4, 1.3, 12.5, 5.6, chunk)
        _footer(slide, pack)

    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Files, the command line and previews
# ---------------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """Return a file-name slug: "Home care: October 2026" -> "home-care-october-2026"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "briefing-pack"


def write_pack(pack: Pack, out_dir: Path | str, *, name: str | None = None) -> PackFiles:
    """Write ``pack`` as PDF and PowerPoint into ``out_dir``; return the paths and counts."""
    from pptx import Presentation
    from pypdf import PdfReader

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = name or slug(pack.title)
    pdf_bytes, pptx_bytes = pack_pdf(pack), pack_pptx(pack)
    pdf_path, pptx_path = out / f"{stem}.pdf", out / f"{stem}.pptx"
    pdf_path.write_bytes(pdf_bytes)
    pptx_path.write_bytes(pptx_bytes)
    pages = len(PdfReader(io.BytesIO(pdf_bytes)).pages)
    slides = len(Presentation(io.BytesIO(pptx_bytes)).slides)
    return PackFiles(pdf_path, pptx_path, pages, slides, time.perf_counter() - start)


def resolve_filters(
    cur: duckdb.DuckDBPyConnection, *, locality: str | None = None, month: str | None = None
) -> Filters:
    """Return the dashboard's default filters with ``locality`` and ``month`` (``YYYY-MM``) applied.

    Raises ``ValueError`` naming the choices when the locality or month is not in the live data.
    """
    from analytics.store.queries import filter_options
    from analytics.views.filters import from_query_params

    options = filter_options(cur)
    if locality is not None and locality not in options.localities:
        raise ValueError(f"no locality {locality!r}; localities: {', '.join(options.localities)}")
    if month is not None and not any(m.isoformat()[:7] == month[:7] for m in options.months):
        raise ValueError(f"no month {month!r} in the live data (latest {options.months[0]:%Y-%m})")
    params = {k: v for k, v in {"locality": locality, "month": month}.items() if v}
    return from_query_params(params, options)


def run_brief(
    chart_ids: Sequence[str],
    out_dir: Path | str,
    *,
    data_dir: Path | str | None = None,
    locality: str | None = None,
    month: str | None = None,
    title: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> PackFiles:
    """Build the pack of ``chart_ids`` from the live data store and write both files (``brief`` command)."""
    from analytics.store.snapshots import market_cursor, open_live

    for chart_id in chart_ids:
        registry.entry(chart_id)  # fail before any work on an unknown id
    start = time.perf_counter()
    con = open_live(data_dir)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur, locality=locality, month=month)
        items = [BriefItem(c, filters) for c in chart_ids]
        pack = make_pack(cur, items, title=title or "", progress=progress)
    finally:
        con.close()
    files = write_pack(pack, out_dir)
    return PackFiles(files.pdf, files.pptx, files.pages, files.slides, time.perf_counter() - start)


def render_pack_previews(
    pdf_path: Path | str, out_dir: Path | str, *, pages: Sequence[int] | None = None, width: int = 620
) -> list[Path]:
    """Save PNG previews of the PDF's pages (``pack-page-1.png``...) for the documentation.

    Rasterised by Chromium's own PDF viewer through Playwright (a test dependency; there is no
    poppler here), then trimmed to the page and scaled to ``width`` pixels (palette PNG, well under
    200 KB). ``pages`` are 1-based (default: every page). Raises ``RuntimeError`` without them.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is in requirements-dev.txt
        raise RuntimeError("render_pack_previews needs playwright (requirements-dev.txt)") from exc
    from PIL import Image
    from pypdf import PdfReader

    from analytics.publish.exports import browser_path

    pdf_path = Path(pdf_path).resolve()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = len(PdfReader(pdf_path).pages)
    wanted = list(pages) if pages is not None else list(range(1, total + 1))
    browser_exe = browser_path()
    if browser_exe is None:
        raise RuntimeError("render_pack_previews needs the Chromium browser")
    saved = []
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_exe, args=args)
        try:
            for number in wanted:
                page = browser.new_page(viewport={"width": 1000, "height": 1400}, device_scale_factor=1)
                page.goto(f"{pdf_path.as_uri()}#page={number}&toolbar=0&navpanes=0&view=Fit")
                page.wait_for_timeout(2500)  # the viewer draws asynchronously
                shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
                page.close()
                box = _page_box(shot)
                img = shot.crop(box) if box else shot
                img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
                path = out / f"pack-page-{number}.png"
                img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
                saved.append(path)
        finally:
            browser.close()
    return saved


def _page_box(img) -> tuple[int, int, int, int] | None:
    """Return the bounding box of the white page on the viewer's dark background."""
    grey = img.convert("L").point(lambda v: 255 if v > 200 else 0)
    return grey.getbbox()


__all__ = [
    "BriefItem",
    "Pack",
    "PackChart",
    "PackFiles",
    "default_title",
    "filters_text",
    "list_charts",
    "make_pack",
    "pack_chart",
    "pack_from_specs",
    "pack_pdf",
    "pack_pptx",
    "pack_table",
    "render_pack_previews",
    "resolve_filters",
    "run_brief",
    "sources_paragraphs",
    "write_pack",
]
