"""The briefing pack as a 16:9 PowerPoint (python-pptx): summary slide, a slide per chart, sources.

``pack_pptx(pack)`` returns the bytes. Slide 1 is the summary (council, as-of date, scope, 8
headline tiles with change and RAG, key messages, the protective marking); then a slide per chart
(title once, the picture with its text alternative as the picture's description, subtitle, note,
commentary and a small table, newest rows first, the source line); then the closing slides
(``sources_paragraphs``: charts left out and why, sources, the small-numbers rule, plain-English
definitions). The marking heads and foots every slide; no text is smaller than ``MIN_PT`` (12 pt).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from analytics.briefing import assembly
from analytics.briefing.assembly import BLACK, DARK_BLUE, GREY_TEXT, RAG_COLOURS, Pack, PackChart, marking_colour
from analytics.formatting import fmt_date

SLIDE_TABLE_ROWS = 8
MIN_PT = 12
CHAR_IN = 0.095  # inches a 12 pt Arial character takes at most on average (bold digits and capitals)

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


def _marking(slide, pack: Pack) -> None:
    """The protective marking at the top and bottom centre of the slide."""
    colour = marking_colour(pack, BLACK)
    for top in (0.02, 7.1):
        box = _text_box(slide, 8.9, top, 4.0, 0.35, [(pack.marking, MIN_PT, True, colour)])
        box.text_frame.paragraphs[0].alignment = 3  # right


def _footer(slide, pack: Pack) -> None:
    text = f"{pack.council_name} · data as at {fmt_date(pack.as_of)}"
    if pack.synthetic:
        text += " · Synthetic demo data"
    _text_box(slide, 0.4, 7.1, 8.4, 0.35, [(text, MIN_PT, False, GREY_TEXT)])
    _marking(slide, pack)


def _add_picture(slide, png: bytes, left: float, top: float, width: float, max_height: float, alt: str):
    from PIL import Image
    from pptx.util import Inches

    with Image.open(io.BytesIO(png)) as img:
        ratio = img.height / img.width
    w = min(width, max_height / ratio)
    pic = slide.shapes.add_picture(io.BytesIO(png), Inches(left), Inches(top), width=Inches(w))
    pic._element.nvPicPr.cNvPr.set("descr", alt)  # the picture's alternative text
    return pic


def _fit_columns(rows: list[list[str]], width: float) -> tuple[list[list[str]], list[float]]:
    """Return the table's columns that fit ``width`` inches with no word broken, and their widths."""
    while True:
        ncol = len(rows[0])
        least = [max(len(w) for r in rows for w in (r[j].split() or [" "])) * CHAR_IN + 0.12 for j in range(ncol)]
        if sum(least) <= width or ncol <= 1:
            break
        rows = [r[:-1] for r in rows]
    wants = [max(max(len(r[j]) for r in rows) * CHAR_IN + 0.12, least[j]) for j in range(ncol)]
    spare = max(width - sum(least), 0)
    extra = [w - m for w, m in zip(wants, least, strict=True)]
    total = sum(extra)
    widths = [m + (spare * e / total if total else spare / ncol) for m, e in zip(least, extra, strict=True)]
    return rows, widths


def _lines(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a cell ``width`` inches wide at ``MIN_PT`` (words kept whole)."""
    per_line = max(int((width - 0.1) / CHAR_IN), 1)
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > per_line:
            lines, used = lines + 1, len(word)
        else:
            used += (1 if used else 0) + len(word)
    return lines


def _table(slide, rows: list[list[str]], left: float, top: float, width: float) -> tuple[float, int]:
    """Draw the table at ``MIN_PT``; return (its height in inches, columns left out)."""
    from pptx.util import Inches, Pt

    rows = rows[: SLIDE_TABLE_ROWS + 1]
    before = len(rows[0])
    rows, widths = _fit_columns(rows, width)
    ncol = len(rows[0])
    heights = []
    for row in rows:
        lines = max(_lines(c, w) for c, w in zip(row, widths, strict=True))
        heights.append(0.1 + 0.22 * lines)
    size = Inches(sum(widths)), Inches(sum(heights))
    shape = slide.shapes.add_table(len(rows), ncol, Inches(left), Inches(top), *size)
    table = shape.table
    for j, w in enumerate(widths):
        table.columns[j].width = Inches(w)
    for i, row in enumerate(rows):
        table.rows[i].height = Inches(heights[i])
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = value
            cell.margin_left = cell.margin_right = Inches(0.05)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.text_frame.word_wrap = True
            for paragraph in cell.text_frame.paragraphs:
                paragraph.alignment = 1 if j == 0 else 3  # left, right
                for run in paragraph.runs:
                    run.font.size = Pt(MIN_PT)
                    run.font.name = "Arial"
                    run.font.bold = i == 0
    return sum(heights), before - ncol


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
    out = []
    if pack.left_out:
        out.append(("Charts left out", 16, True, DARK_BLUE))
        out += [(f"{i.title}: left out because {i.reason}.", MIN_PT, False, BLACK) for i in pack.left_out]
    out.append(("Sources", 16, True, DARK_BLUE))
    out += [(f"{s}; data as at {fmt_date(pack.as_of)}.", MIN_PT, False, BLACK) for s in pack.sources]
    if pack.synthetic:
        note = "Synthetic demo data: the figures describe a made-up council, not real people."
        out.append((note, MIN_PT, False, BLACK))
    out.append(("Small numbers", 16, True, DARK_BLUE))
    out.append((pack.rule_text + " " + assembly.SHORTHAND, MIN_PT, False, BLACK))
    out.append((assembly.COUNCIL_LEVEL_NOTE, MIN_PT, False, BLACK))
    if pack.plain_definitions:
        out.append(("Definitions", 16, True, DARK_BLUE))
        for title, text in pack.plain_definitions:
            out.append((f"{title}: {text}", MIN_PT, False, BLACK))
    return out


def _summary_slide(prs, pack: Pack) -> None:
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches, Pt

    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _set_title(slide, pack.title, top=0.35, height=0.7, size=28)
    line = f"{pack.council_name} · data as at {fmt_date(pack.as_of)}"
    if pack.scope:
        line += f" · {pack.scope}"
    lines = [(line, 16, False, GREY_TEXT)]
    colour = marking_colour(pack, GREY_TEXT)
    lines.append((f"{pack.marking}. {pack.marking_note}", MIN_PT, True, colour))
    if pack.synthetic:
        lines.append(("Synthetic demo data: these figures are made up", MIN_PT, True, (0xF4, 0x6A, 0x25)))
    _text_box(slide, 0.4, 1.05, 12.5, 0.9, lines)
    summary = pack.summary
    top = 2.1
    if summary is not None and summary.tiles:
        cols, gap, w, h = 4, 0.13, 3.03, 1.5
        for k, tile in enumerate(summary.tiles[:8]):
            row, col = divmod(k, cols)
            x, y = 0.4 + col * (w + gap), top + row * (h + gap)
            box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(x), Inches(y), Inches(w), Inches(h))
            box.fill.background()
            box.line.color.rgb = _rgb((0xBF, 0xBF, 0xBF))
            paras = [(tile.label, MIN_PT, False, GREY_TEXT)]
            paras.append((tile.text, 24, True, DARK_BLUE))
            if tile.delta_month:
                paras.append((f"{tile.delta_month} on {summary.month_label}", MIN_PT, False, BLACK))
            if tile.delta_year:
                paras.append((f"{tile.delta_year} on {summary.year_label}", MIN_PT, False, BLACK))
            text = _text_box(slide, x + 0.05, y + 0.02, w - 0.1, h - 0.04, paras)
            for paragraph in text.text_frame.paragraphs:
                paragraph.space_after = Pt(0)
            if tile.rag:
                first = text.text_frame.paragraphs[0]
                first.runs[0].text = tile.label + " · "
                rag = first.add_run()
                rag.text = tile.rag.capitalize()
                rag.font.size, rag.font.bold, rag.font.name = Pt(MIN_PT), True, "Arial"
                rag.font.color.rgb = _rgb(RAG_COLOURS.get(tile.rag, BLACK))
        rows = (min(len(summary.tiles), 8) + cols - 1) // cols
        top += rows * (h + gap) + 0.05
    messages = [("Key messages", 16, True, DARK_BLUE)] + [(f"• {m}", 14, False, BLACK) for m in pack.messages]
    _text_box(slide, 0.4, top, 12.5, max(7.0 - top, 0.8), messages)
    _footer(slide, pack)


def _chart_slide(prs, pack: Pack, n: int, chart: PackChart) -> None:
    spec = chart.spec
    slide = prs.slides.add_slide(prs.slide_layouts[5])
    _set_title(slide, f"{n}. {spec.title}", top=0.35, height=0.85, size=22 if len(spec.title) < 80 else 18)
    if chart.png:
        _add_picture(slide, chart.png, 0.4, 1.3, 8.4, 5.4, spec.alt_text)
    side = [(spec.subtitle, MIN_PT, False, GREY_TEXT)]
    if chart.note:
        side.append((chart.note, MIN_PT, False, GREY_TEXT))
    if chart.text:
        side.append((chart.text, MIN_PT, True, BLACK))
    words = sum(len(t) for t, *_ in side)
    side_h = 0.3 + 0.2 * (words // 45 + len(side))
    _text_box(slide, 9.0, 1.3, 3.95, side_h, side)
    if chart.table:
        table_top = 1.3 + side_h + 0.1
        height, dropped = _table(slide, chart.table, 9.0, table_top, 3.95)
        cut = len(chart.table) - 1 - SLIDE_TABLE_ROWS
        notes = []
        if cut > 0:
            notes.append(f"{cut} more row(s) in the PDF and the Excel download.")
        if dropped:
            notes.append(f"{dropped} more column(s) in the PDF and the Excel download.")
        if notes:
            _text_box(slide, 9.0, table_top + height + 0.05, 3.95, 0.5, [(" ".join(notes), MIN_PT, False, GREY_TEXT)])
    source = f"Source: {spec.source}; data as at {fmt_date(pack.as_of)}."
    if spec.suppression_note:
        source += " Small numbers protected (the rule is on the last slides)."
    _text_box(slide, 0.4, 6.72, 12.5, 0.35, [(source, MIN_PT, False, GREY_TEXT)])
    _footer(slide, pack)
    notes = [spec.alt_text, chart.note, chart.text, spec.footnote]
    slide.notes_slide.notes_text_frame.text = "\n\n".join(t for t in notes if t)


def pack_pptx(pack: Pack) -> bytes:
    """Return the pack as a 16:9 PowerPoint: summary slide, a slide per chart, sources and definitions."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    prs.core_properties.title = pack.title
    prs.core_properties.author = pack.council_name
    prs.core_properties.subject = f"{pack.marking}. Data as at {fmt_date(pack.as_of)}"
    prs.core_properties.category = pack.marking

    _summary_slide(prs, pack)
    for n, chart in enumerate(pack.charts, start=1):
        _chart_slide(prs, pack, n, chart)

    chunks = _chunks(sources_paragraphs(pack), budget=1300)
    for k, chunk in enumerate(chunks):
        slide = prs.slides.add_slide(prs.slide_layouts[5])
        suffix = f" ({k + 1} of {len(chunks)})" if len(chunks) > 1 else ""
        _set_title(slide, assembly.SOURCES_TITLE + suffix)
        _text_box(slide, 0.4, 1.3, 12.5, 5.6, chunk)
        _footer(slide, pack)

    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


__all__ = ["MIN_PT", "pack_pptx", "sources_paragraphs"]
