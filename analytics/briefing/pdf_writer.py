"""The briefing pack as a PDF (A4 portrait, fpdf2): summary, contents, a page per chart, sources.

``pack_pdf(pack)`` returns the bytes. Page 1 is the summary (council, as-of date, scope, headline
tiles with change and RAG, key messages, the protective marking); page 2 the contents, the charts
left out and why, and the small-numbers rule; then one page per chart (title once, subtitle, the
picture with its text alternative as PDF alt text, the source line, any commentary and a small
table, newest rows first); then sources and plain-English definitions. The marking (OFFICIAL or
OFFICIAL-SENSITIVE) heads and foots every page. No text is smaller than ``MIN_PT`` (10 pt).

Text is set in Liberation Sans (else DejaVu Sans) when installed, so any character prints;
without either, the PDF core font with text folded to Latin-1.
"""

from __future__ import annotations

import io
from pathlib import Path

from analytics.briefing import assembly
from analytics.briefing.assembly import BLACK, DARK_BLUE, GREY_TEXT, RAG_COLOURS, Pack, PackChart, marking_colour
from analytics.formatting import fmt_date

MIN_PT = 10
FONT_DIRS = ("/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "": ("LiberationSans-Regular.ttf", "DejaVuSans.ttf"),
    "B": ("LiberationSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
    "I": ("LiberationSans-Italic.ttf", "DejaVuSans-Oblique.ttf"),
}

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
        pdf.set_margins(18, 20, 18)
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.set_title(pack.title)
        pdf.set_author(pack.council_name)
        pdf.set_subject(f"{pack.marking}. Data as at {fmt_date(pack.as_of)}")
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
        marking_rgb = marking_colour(pack, BLACK)

        def header() -> None:
            pdf.set_y(7)
            outer.font(MIN_PT, "B", colour=marking_rgb)
            pdf.cell(0, 5, pack.marking, align="C")
            pdf.set_y(pdf.t_margin)

        def footer() -> None:
            pdf.set_y(-15)
            outer.font(MIN_PT, "B", colour=marking_rgb)
            pdf.cell(0, 4.5, pack.marking, align="C", new_x="LMARGIN", new_y="NEXT")
            outer.font(MIN_PT, colour=GREY_TEXT)
            width = pdf.w - pdf.l_margin - pdf.r_margin
            pdf.cell(width - 22, 4.5, outer.text(footer_text), align="L")
            pdf.cell(22, 4.5, f"Page {pdf.page_no()}", align="R")

        pdf.header = header
        pdf.footer = footer
        self.pdf = pdf

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, style: str = "", colour=BLACK) -> None:
        self.pdf.set_font(self.family, style, max(size, MIN_PT))
        self.pdf.set_text_color(*colour)

    def para(self, value: str, size: float = 10.5, style: str = "", colour=BLACK, gap: float = 2) -> None:
        size = max(size, MIN_PT)
        self.font(size, style, colour)
        self.pdf.multi_cell(0, size * 0.48, self.text(value), new_x="LMARGIN", new_y="NEXT", align="L")
        self.pdf.ln(gap)

    @property
    def width(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    # --- pages --------------------------------------------------------------------------------

    def summary_page(self) -> None:
        """Page 1: who, when, what; the headline tiles; the key messages; the marking."""
        pack, pdf = self.pack, self.pdf
        pdf.add_page()
        pdf.start_section("Summary", level=0)
        if pack.synthetic:
            self.para("Synthetic demo data: these figures are made up", 11, "B", colour=(0xF4, 0x6A, 0x25), gap=1)
        self.para(pack.council_name, 13, colour=GREY_TEXT, gap=1)
        self.para(pack.title, 22, "B", colour=DARK_BLUE, gap=2)
        scope = f"Data as at {fmt_date(pack.as_of)}"
        if pack.scope:
            scope += f" · {pack.scope}"
        self.para(scope, 12, gap=1)
        self.para(
            f"{pack.marking}. {pack.marking_note}",
            MIN_PT,
            "B",
            colour=marking_colour(pack, GREY_TEXT),
            gap=4,
        )
        summary = pack.summary
        if summary is not None and summary.tiles:
            self.para("Headline figures", 13, "B", colour=DARK_BLUE, gap=2)
            self.tiles(summary)
        self.para("Key messages", 13, "B", colour=DARK_BLUE, gap=2)
        for message in pack.messages:
            self.font(11.5)
            x = pdf.get_x()
            pdf.cell(5, 5.5, self.text("•"))
            pdf.multi_cell(self.width - 5, 5.5, self.text(message), new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(x)
            pdf.ln(1.5)
        pdf.ln(2)
        kept, dropped = len(pack.charts), len(pack.left_out)
        more = f"; {dropped} chart(s) asked for are left out, each with the reason, on page 2" if dropped else ""
        self.para(f"The pack holds {kept} chart(s){more}.", MIN_PT, colour=GREY_TEXT, gap=1)

    def tiles(self, summary) -> None:
        """Draw the headline tiles, two to a row: label and RAG, figure, change on last month and last year."""
        pdf = self.pdf
        cols, gap = 2, 3
        w = (self.width - gap * (cols - 1)) / cols
        h = 24
        top = pdf.get_y()
        pdf.set_draw_color(0xBF, 0xBF, 0xBF)
        for k, tile in enumerate(summary.tiles):
            row, col = divmod(k, cols)
            x, y = pdf.l_margin + col * (w + gap), top + row * (h + gap)
            pdf.rect(x, y, w, h)
            pdf.set_xy(x + 2, y + 1.5)
            self.font(MIN_PT, colour=GREY_TEXT)
            room = w - (24 if tile.rag else 4)
            pdf.cell(room, 4.5, self.text(_fit(self, tile.label, room)))
            if tile.rag:
                self.font(MIN_PT, "B", colour=RAG_COLOURS.get(tile.rag, BLACK))
                pdf.cell(20, 4.5, tile.rag.capitalize(), align="R")
            pdf.set_xy(x + 2, y + 6.5)
            self.font(17, "B", colour=DARK_BLUE)
            pdf.cell(w - 4, 7.5, self.text(tile.text), new_x="LEFT", new_y="NEXT")
            self.font(MIN_PT)
            for line in (
                f"{tile.delta_month} on {summary.month_label}" if tile.delta_month else None,
                f"{tile.delta_year} on {summary.year_label}" if tile.delta_year else None,
            ):
                if line:
                    pdf.set_x(x + 2)
                    pdf.cell(w - 4, 4.4, self.text(_fit(self, line, w - 4)), new_x="LEFT", new_y="NEXT")
        rows = (len(summary.tiles) + cols - 1) // cols
        pdf.set_xy(pdf.l_margin, top + rows * (h + gap) + 2)

    def contents_page(self) -> None:
        """Page 2: the charts in the pack, those left out and why, and the small-numbers rule."""
        pack, pdf = self.pack, self.pdf
        pdf.add_page()
        pdf.start_section("Contents", level=0)
        self.para("Contents", 15, "B", colour=DARK_BLUE, gap=2)
        for n, chart in enumerate(pack.charts, start=1):
            self.para(f"{n}. {chart.spec.title}", MIN_PT, gap=0.6)
        self.para(f"{len(pack.charts) + 1}. {assembly.SOURCES_TITLE}", MIN_PT, gap=4)
        if pack.left_out:
            self.para("Charts left out", 12, "B", colour=DARK_BLUE, gap=1.5)
            for item in pack.left_out:
                self.para(f"{item.title}: left out because {item.reason}.", MIN_PT, gap=0.6)
            pdf.ln(3)
        self.para(
            "Small numbers are protected in every chart and table: " + pack.rule_text + " " + assembly.SHORTHAND,
            MIN_PT,
            colour=GREY_TEXT,
        )

    def chart_page(self, n: int, chart: PackChart) -> None:
        pdf, spec = self.pdf, chart.spec
        pdf.add_page()
        pdf.start_section(f"{n}. {spec.title}", level=0)
        self.para(f"{n}. {spec.title}", 15, "B", colour=DARK_BLUE, gap=1)
        self.para(spec.subtitle, 10.5, colour=GREY_TEXT, gap=1.5)
        if chart.note:
            self.para(chart.note, MIN_PT, "I", colour=GREY_TEXT, gap=1.5)
        if chart.png:
            from PIL import Image

            with Image.open(io.BytesIO(chart.png)) as img:
                ratio = img.height / img.width
            height = min(self.width * ratio, 125)
            w = height / ratio
            pdf.image(io.BytesIO(chart.png), x=pdf.l_margin, w=w, h=height, alt_text=self.text(spec.alt_text))
            pdf.ln(1)
        self.para(spec.footnote, MIN_PT, colour=GREY_TEXT, gap=2)
        if chart.text:
            self.para(chart.text, 11, gap=3)
        if chart.table:
            self.table(chart.table, chart.table_note)

    def _column_widths(self, rows: list[list[str]]) -> list[float] | None:
        """Column widths that break no word: each at least its longest word, the rest shared by text length.

        ``None`` when the columns cannot all fit without breaking a word.
        """
        pdf = self.pdf
        ncol = len(rows[0])
        least, wants = [], []
        for j in range(ncol):
            words, longest = [], 0.0
            for i, row in enumerate(rows):
                pdf.set_font(self.family, "B" if i == 0 else "", MIN_PT)
                words += [pdf.get_string_width(self.text(w)) for w in row[j].split()]
                longest = max(longest, pdf.get_string_width(self.text(row[j])))
            least.append(max(words or [5.0]) + 2.6)
            wants.append(max(longest + 2.6, least[-1]))
        if sum(least) > self.width:
            return None
        spare = self.width - sum(least)
        extra = [max(w - m, 0) for w, m in zip(wants, least, strict=True)]
        total = sum(extra) or 1.0
        return [m + spare * e / total if sum(extra) else self.width / ncol for m, e in zip(least, extra, strict=True)]

    def _row_height(self, row: list[str], widths: list[float], style: str = "") -> float:
        """The height a table row takes: its tallest cell's wrapped lines (padding 1 mm each side)."""
        self.pdf.set_font(self.family, style, MIN_PT)
        lines = [
            len(self.pdf.multi_cell(w - 2, 4.6, self.text(c), dry_run=True, output="LINES") or [""])
            for c, w in zip(row, widths, strict=True)
        ]
        return max(lines) * 4.6 + 2

    def table(self, rows: list[list[str]], note: str | None) -> None:
        """Draw the small data table, leaving out columns that do not fit and rows past the page."""
        pdf = self.pdf
        dropped = 0
        widths = self._column_widths(rows)
        while widths is None and len(rows[0]) > 2:
            rows = [r[:-1] for r in rows]
            dropped += 1
            widths = self._column_widths(rows)
        if widths is None:
            return
        room = pdf.page_break_trigger - pdf.get_y() - 16  # keep space for the note under the table
        heights = [self._row_height(rows[0], widths, "B")] + [self._row_height(r, widths) for r in rows[1:]]
        keep = 1
        used = heights[0]
        while keep < len(rows) and used + heights[keep] <= room:
            used += heights[keep]
            keep += 1
        if keep < 2:
            return  # no room for a row: the Excel download has the table
        if dropped:
            note = ((note or "") + f" {dropped} more column(s) are in the Excel download.").strip()
        self._draw_table(pdf, rows[:keep], widths, note, len(rows) - keep)

    def _draw_table(self, pdf, rows: list[list[str]], widths: list[float], note: str | None, cut: int) -> None:
        from fpdf.fonts import FontFace

        pdf.set_font(self.family, "", MIN_PT)
        pdf.set_text_color(*BLACK)
        pdf.set_draw_color(0xBF, 0xBF, 0xBF)
        ncol = len(rows[0])
        with pdf.table(
            col_widths=widths,
            width=min(sum(widths), self.width - 0.01),
            align="LEFT",
            text_align=["LEFT"] + ["RIGHT"] * (ncol - 1),
            line_height=4.6,
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
            self.font(MIN_PT, "I", colour=GREY_TEXT)
            pdf.multi_cell(0, 4.6, self.text(shown_note), new_x="LMARGIN", new_y="NEXT", align="L")

    def sources_page(self) -> None:
        pack, pdf = self.pack, self.pdf
        pdf.add_page()
        pdf.start_section(assembly.SOURCES_TITLE, level=0)
        self.para(assembly.SOURCES_TITLE, 15, "B", colour=DARK_BLUE, gap=3)
        self.para("Sources", 12, "B", gap=1)
        for source in pack.sources:
            self.para(f"- {source}; data as at {fmt_date(pack.as_of)}.", MIN_PT, gap=1)
        if pack.synthetic:
            self.para("- Synthetic demo data: the figures describe a made-up council, not real people.", MIN_PT, gap=1)
        pdf.ln(2)
        self.para("Small numbers", 12, "B", gap=1)
        self.para(pack.rule_text + " " + assembly.SHORTHAND + " " + assembly.COUNCIL_LEVEL_NOTE, MIN_PT, gap=3)
        if pack.plain_definitions:
            self.para("Definitions", 12, "B", gap=1)
            for title, text in pack.plain_definitions:
                self.para(title, MIN_PT, "B", gap=0.5)
                self.para(text, MIN_PT, gap=1.5)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _fit(doc: _PackPDF, text: str, width: float) -> str:
    """Return ``text`` shortened with "..." to fit ``width`` mm in the current font (tiles' change lines)."""
    if doc.pdf.get_string_width(doc.text(text)) <= width:
        return text
    while text and doc.pdf.get_string_width(doc.text(text + "...")) > width:
        text = text[:-1]
    return text.rstrip() + "..."


def pack_pdf(pack: Pack) -> bytes:
    """Return the pack as a PDF (A4 portrait): summary, contents, a page per chart, sources and definitions."""
    doc = _PackPDF(pack)
    doc.summary_page()
    doc.contents_page()
    for n, chart in enumerate(pack.charts, start=1):
        doc.chart_page(n, chart)
    doc.sources_page()
    return doc.output()


__all__ = ["MIN_PT", "pack_pdf"]
