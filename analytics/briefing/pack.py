"""The briefing pack: chosen charts as a PDF and a PowerPoint for cabinet papers (public documents).

A pack opens on its summary (page 1, slide 1: council, as-of date, scope, 8 headline tiles with
change and RAG, 3 to 6 key messages, the protective marking), then one page (slide) per chart that
says something and a closing section (charts left out and why, sources, the small-numbers rule,
plain-English definitions). Each chart page has the chart's headline once, its picture (the text
alternative is the picture's alt text / description), the source line, optional commentary and a
small table, newest rows first. **Suppression is always on**: every chart goes through
``chart_registry.build_published`` (``analytics.publish.publication``), whatever the dashboard's
publication switch says. Two audiences: ``public`` (the default: no chart naming a provider,
marked OFFICIAL) and ``internal`` (provider charts kept, OFFICIAL-SENSITIVE on every page and
slide).

::

    items = [BriefItem("waiting-people", filters), BriefItem("coverage-map-people-waiting", filters)]
    pack = make_pack(cur, items, title="Home care market: October 2026")   # pictures cached, else one batch
    Path("pack.pdf").write_bytes(pack_pdf(pack)); Path("pack.pptx").write_bytes(pack_pptx(pack))

or ``python -m analytics brief --charts waiting-people,rural-waits --out out/ [--audience internal]``.
Text in the pack's tables goes through ``exports.neutralise``: a provider name starting ``=`` reads
``'=...`` if someone pastes the table into a spreadsheet.

This module is the way in: it writes the files (``write_pack``), runs the ``brief`` command
(``run_brief``) and renders page previews, and re-exports the rest. The work is in
``briefing.assembly`` (what a pack holds and how it is built), ``briefing.pdf_writer`` and
``briefing.pptx_writer`` (drawing it).
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from analytics.briefing import registry
from analytics.briefing.assembly import (
    AUDIENCES,
    COUNCIL_LEVEL_NOTE,
    DEFAULT_AUDIENCE,
    MARKINGS,
    SHORTHAND,
    SOURCES_TITLE,
    TABLE_COLUMNS,
    TABLE_ROWS,
    BriefItem,
    LeftOut,
    Pack,
    PackChart,
    PackFiles,
    PackStats,
    default_title,
    filters_text,
    list_charts,
    make_pack,
    pack_chart,
    pack_from_specs,
    pack_table,
    plotted_columns,
    table_columns,
)
from analytics.briefing.pdf_writer import pack_pdf
from analytics.briefing.pptx_writer import pack_pptx, sources_paragraphs
from analytics.views.filters import Filters

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
    seconds = time.perf_counter() - start
    return PackFiles(pdf_path, pptx_path, pages, slides, seconds, write_s=seconds, stats=pack.stats)


def resolve_filters(
    cur: duckdb.DuckDBPyConnection, *, locality: str | None = None, month: str | None = None
) -> Filters:
    """Return the dashboard's default filters with ``locality`` and ``month`` (``YYYY-MM``) applied.

    Raises ``store.queries.ScopeError`` (a ``ValueError``) naming the choices when the locality or
    month is not in the live data (``check_scope``, the check every command shares).
    """
    from analytics.store.queries import check_scope, filter_options
    from analytics.views.filters import from_query_params

    options = filter_options(cur)
    check_scope(options, locality, month)
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
    audience: str = DEFAULT_AUDIENCE,
    progress: Callable[[int, int, str], None] | None = None,
) -> PackFiles:
    """Build the pack of ``chart_ids`` from the live data store and write both files (``brief`` command).

    ``audience``: ``public`` (default; charts naming providers are left out) or ``internal``.
    Pictures drawn for this snapshot before (an earlier pack, a download) are read from the data
    store's picture cache (``analytics.publish.pictures``); ``PackFiles.stats`` says how many.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    from analytics.store.snapshots import market_cursor, open_live

    for chart_id in chart_ids:
        registry.entry(chart_id)  # fail before any work on an unknown id
    start = time.perf_counter()
    con = open_live(data_dir)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur, locality=locality, month=month)
        items = [BriefItem(c, filters) for c in chart_ids]
        pack = make_pack(cur, items, title=title or "", audience=audience, progress=progress)
    finally:
        con.close()
    files = write_pack(pack, out_dir)
    return replace(files, seconds=time.perf_counter() - start)


def render_pack_previews(
    pdf_path: Path | str,
    out_dir: Path | str,
    *,
    pages: Sequence[int] | None = None,
    width: int = 620,
    prefix: str = "pack-page",
) -> list[Path]:
    """Save PNG previews of the PDF's pages (``pack-page-1.png``...) for the documentation.

    Rasterised with PDFium (``pypdfium2``, a test dependency) and scaled to ``width`` pixels
    (palette PNG, well under 200 KB). ``pages`` are 1-based (default: every page).
    """
    import pypdfium2 as pdfium
    from PIL import Image

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = pdfium.PdfDocument(str(pdf_path))
    saved = []
    try:
        wanted = list(pages) if pages is not None else list(range(1, len(doc) + 1))
        for number in wanted:
            page = doc[number - 1]
            img = page.render(scale=width * 2 / page.get_width()).to_pil().convert("RGB")
            img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
            path = out / f"{prefix}-{number}.png"
            img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
            saved.append(path)
    finally:
        doc.close()
    return saved


def render_slide_previews(
    pptx_path: Path | str, out_dir: Path | str, *, slides: Sequence[int], width: int = 960, prefix: str = "deck-slide"
) -> list[Path]:
    """Save PNG previews of slides: through LibreOffice when installed, else a drawing of the slide.

    Without LibreOffice, each slide is drawn with Pillow from its shapes (text boxes, tables as
    text, pictures as they are embedded), so the preview shows the layout and the real picture but
    not PowerPoint's exact typesetting. Returns the files written.
    """
    import shutil
    import subprocess
    import tempfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [office, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(pptx_path)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            pdf = next(Path(tmp).glob("*.pdf"))
            return render_pack_previews(pdf, out, pages=slides, width=width, prefix=prefix)
    return [_draw_slide(pptx_path, n, out / f"{prefix}-{n}.png", width) for n in slides]


def _draw_slide(pptx_path: Path | str, number: int, path: Path, width: int) -> Path:
    """Draw slide ``number`` (1-based) with Pillow: text boxes, tables and pictures where they sit."""
    from PIL import Image, ImageDraw, ImageFont
    from pptx import Presentation

    prs = Presentation(str(pptx_path))
    scale = width / prs.slide_width
    img = Image.new("RGB", (width, round(prs.slide_height * scale)), "white")
    draw = ImageDraw.Draw(img)
    slide = prs.slides[number - 1]

    def font(pt: float, bold: bool):
        name = "LiberationSans-Bold.ttf" if bold else "LiberationSans-Regular.ttf"
        size = max(round(pt * 12700 * scale), 6)  # 1 pt = 12,700 EMU
        try:
            return ImageFont.truetype(f"/usr/share/fonts/truetype/liberation/{name}", size)
        except OSError:
            return ImageFont.load_default(size)

    def write(paragraphs, left, top, box_w) -> None:
        y = top
        for paragraph in paragraphs:
            runs = paragraph.runs
            if not runs:
                continue
            pt = runs[0].font.size.pt if runs[0].font.size else 12
            f = font(pt, bool(runs[0].font.bold))
            colour = "#0B0C0C"
            with contextlib.suppress(AttributeError):
                colour = "#" + str(runs[0].font.color.rgb)
            text = "".join(r.text for r in runs)
            line = ""
            for word in text.split():
                trial = f"{line} {word}".strip()
                if draw.textlength(trial, font=f) > box_w and line:
                    draw.text((left, y), line, font=f, fill=colour)
                    y += f.size * 1.2
                    line = word
                else:
                    line = trial
            if line:
                draw.text((left, y), line, font=f, fill=colour)
                y += f.size * 1.25

    for shape in slide.shapes:
        left, top = round(shape.left * scale), round(shape.top * scale)
        w, h = round(shape.width * scale), round(shape.height * scale)
        if shape.shape_type == 13:
            with Image.open(io.BytesIO(shape.image.blob)) as pic:
                img.paste(pic.convert("RGB").resize((w, h), Image.LANCZOS), (left, top))
        elif shape.has_table:
            y = top
            for _r, row in enumerate(shape.table.rows):
                x = left
                rh = round(row.height * scale)
                for c, cell in enumerate(row.cells):
                    cw = round(shape.table.columns[c].width * scale)
                    write(cell.text_frame.paragraphs, x + 3, y + 2, cw - 6)
                    x += cw
                draw.line((left, y + rh, left + w, y + rh), fill="#BFBFBF")
                y += rh
        elif shape.has_text_frame:
            if shape.shape_type == 1:  # a tile's rectangle
                draw.rectangle((left, top, left + w, top + h), outline="#BFBFBF")
            write(shape.text_frame.paragraphs, left + 4, top + 3, w - 8)
    img.save(path, optimize=True)
    return path


__all__ = [
    "AUDIENCES",
    "COUNCIL_LEVEL_NOTE",
    "DEFAULT_AUDIENCE",
    "MARKINGS",
    "LeftOut",
    "SHORTHAND",
    "SOURCES_TITLE",
    "TABLE_COLUMNS",
    "TABLE_ROWS",
    "BriefItem",
    "Pack",
    "PackChart",
    "PackFiles",
    "PackStats",
    "default_title",
    "filters_text",
    "list_charts",
    "make_pack",
    "pack_chart",
    "pack_from_specs",
    "pack_pdf",
    "pack_pptx",
    "pack_table",
    "plotted_columns",
    "render_pack_previews",
    "render_slide_previews",
    "resolve_filters",
    "run_brief",
    "slug",
    "sources_paragraphs",
    "table_columns",
    "write_pack",
]
