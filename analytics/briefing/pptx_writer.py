"""The briefing pack as a 16:9 PowerPoint (python-pptx): title slide, a slide per chart, sources.

``pack_pptx(pack)`` returns the bytes; ``sources_paragraphs(pack)`` is the closing text (sources,
the small-numbers rule, definitions), split over as many slides as it needs.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from analytics.briefing.assembly import (
    COUNCIL_LEVEL_NOTE,
    DARK_BLUE,
    GREY_TEXT,
    SHORTHAND,
    SOURCES_TITLE,
    Pack,
)
from analytics.formatting import fmt_date

SLIDE_TABLE_ROWS = 10

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


__all__ = ["pack_pptx", "sources_paragraphs"]
