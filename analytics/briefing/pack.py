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

This module is the way in: it writes the files (``write_pack``), runs the ``brief`` command
(``run_brief``) and renders page previews, and re-exports the rest. The work is in
``briefing.assembly`` (what a pack holds and how it is built), ``briefing.pdf_writer`` and
``briefing.pptx_writer`` (drawing it).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from analytics.briefing import registry
from analytics.briefing.assembly import (
    COUNCIL_LEVEL_NOTE,
    SHORTHAND,
    SOURCES_TITLE,
    TABLE_COLUMNS,
    TABLE_ROWS,
    BriefItem,
    Pack,
    PackChart,
    PackFiles,
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
    return PackFiles(pdf_path, pptx_path, pages, slides, time.perf_counter() - start)


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
    "COUNCIL_LEVEL_NOTE",
    "SHORTHAND",
    "SOURCES_TITLE",
    "TABLE_COLUMNS",
    "TABLE_ROWS",
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
    "plotted_columns",
    "render_pack_previews",
    "resolve_filters",
    "run_brief",
    "slug",
    "sources_paragraphs",
    "table_columns",
    "write_pack",
]
