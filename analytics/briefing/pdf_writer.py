"""The briefing pack as a PDF (A4 portrait, fpdf2): title page, a page per chart, sources and definitions.

``pack_pdf(pack)`` returns the bytes. Text is set in Liberation Sans (else DejaVu Sans) when
installed, so any character prints; without either, the PDF core font with text folded to Latin-1.
"""

from __future__ import annotations

import io
from pathlib import Path

from analytics.briefing.assembly import (
    COUNCIL_LEVEL_NOTE,
    DARK_BLUE,
    GREY_TEXT,
    SHORTHAND,
    SOURCES_TITLE,
    Pack,
    PackChart,
)
from analytics.formatting import fmt_date

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


__all__ = ["pack_pdf"]
