"""The briefing pack on the demo council: real files, real Chromium, read back with pypdf and python-pptx.

One pack of eight charts for a locality (where small numbers are common) is made once per module
through the command line (``python -m analytics brief``), with one kaleido browser for the module.
Without Chromium these tests skip locally but FAIL when ``CI`` is set.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from PIL import Image, ImageStat

from analytics.briefing import registry as chart_registry
from analytics.briefing.pack import (
    SOURCES_TITLE,
    BriefItem,
    make_pack,
    pack_from_specs,
    pack_pdf,
    pack_pptx,
    resolve_filters,
)
from analytics.publish.charts import ChartSpec, bar_chart
from analytics.publish.exports import browser_path, export_server
from analytics.publish.publication import publish
from analytics.publish.suppression import rule

LOCALITY = "Fellside"
CHARTS = (
    "waiting-people",
    "coverage-map-people-waiting",
    "waiting-areas",
    "waiting-days",
    "rural-waits",
    "rural-ruc21-waits",
    "providers-share",
    "exit-outcome",
)
HOSTILE = '=HYPERLINK("http://example.invalid","click")'
COUNT_HEADING = re.compile(r"^(people|requests|packages)|customers", re.IGNORECASE)


def require_browser() -> None:
    if browser_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is missing: install the Debian chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@dataclass
class Built:
    pdf: Path
    pptx: Path
    seconds: float
    output: str


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with export_server():
        yield


@pytest.fixture(scope="module")
def built(demo_store: Path, tmp_path_factory: pytest.TempPathFactory, browser) -> Built:
    """The pack, made through the command line in-process (one kaleido browser for the module)."""
    from analytics.cli import main

    out = tmp_path_factory.mktemp("pack")
    start = time.perf_counter()
    buffer = io.StringIO()
    stdout, sys.stdout = sys.stdout, buffer
    try:
        code = main(
            [
                "brief",
                "--charts",
                ",".join(CHARTS),
                "--out",
                str(out),
                "--data-dir",
                str(demo_store),
                "--locality",
                LOCALITY,
                "--title",
                "Home care in Fellside",
            ]
        )
    finally:
        sys.stdout = stdout
    assert code == 0, buffer.getvalue()
    seconds = time.perf_counter() - start
    print(f"\npack of {len(CHARTS)} charts made in {seconds:.1f} s")
    return Built(out / "home-care-in-fellside.pdf", out / "home-care-in-fellside.pptx", seconds, buffer.getvalue())


@pytest.fixture(scope="module")
def expected_titles(demo_store: Path) -> list[str]:
    """The published headline of each chart, built the same way without pictures."""
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur, locality=LOCALITY)
        return [chart_registry.build_published(cur, c, filters).title for c in CHARTS]
    finally:
        con.close()


def pptx_slides(path: Path):
    from pptx import Presentation

    return list(Presentation(str(path)).slides)


def pdf_pages(path: Path):
    from pypdf import PdfReader

    return PdfReader(str(path)).pages


def assert_not_blank(img: Image.Image, where: str) -> None:
    rgb = img.convert("RGB")
    assert rgb.width > 200 and rgb.height > 100, where
    stat = ImageStat.Stat(rgb)
    assert max(stat.stddev) > 10, f"{where}: the image is blank"
    assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 20, f"{where}: too few colours for a chart"


def count_cells(rows: list[list[str]]) -> list[str]:
    """The cells of person-count columns (by heading) of a table given as rows of text."""
    header = rows[0]
    columns = [
        j for j, h in enumerate(header) if COUNT_HEADING.search(h.strip()) and "(%)" not in h and " per " not in h
    ]
    return [row[j] for row in rows[1:] for j in columns]


def assert_safe_count(cell: str, where: str) -> None:
    text = cell.strip()
    if text in ("[c]", "[x]", ""):
        return
    value = float(text.replace(",", ""))
    assert value == 0 or value >= rule().threshold, f"{where}: a count of {text} people is shown"
    assert value == 0 or value % rule().base == 0, f"{where}: {text} is not rounded to {rule().base}"


# --- the files ----------------------------------------------------------------------------------


def test_pdf_has_a_title_page_a_page_per_chart_and_the_sources(built, expected_titles):
    pages = pdf_pages(built.pdf)
    n = len(CHARTS)
    assert n + 2 <= len(pages) <= n + 3, len(pages)
    first = pages[0].extract_text()
    assert "Home care in Fellside" in first and "Data as at 31 October 2026" in first
    assert "Northdale" in first and "Synthetic demo data" in first
    for k, title in enumerate(expected_titles, start=1):
        text = " ".join(pages[k].extract_text().split())
        assert f"{k}. {' '.join(title.split())}" in text, (k, title)
        assert "Text alternative:" in text
    closing = " ".join(" ".join(p.extract_text().split()) for p in pages[n + 1 :])
    assert SOURCES_TITLE in closing and "Definitions" in closing
    assert "shown as [c]" in closing and "rounded to the nearest 5" in closing


def test_pptx_has_the_expected_slides_and_titles(built, expected_titles):
    slides = pptx_slides(built.pptx)
    n = len(CHARTS)
    titles = [s.shapes.title.text for s in slides]
    assert titles[0] == "Home care in Fellside"
    assert titles[1 : n + 1] == [f"{k}. {t}" for k, t in enumerate(expected_titles, start=1)]
    assert len(slides) >= n + 2 and all(t.startswith(SOURCES_TITLE) for t in titles[n + 1 :])
    for slide in slides[1 : n + 1]:
        pictures = [s for s in slide.shapes if s.shape_type == 13]
        assert len(pictures) == 1
        assert pictures[0]._element.nvPicPr.cNvPr.get("descr"), "the picture needs its text alternative"
        assert "Text alternative:" in slide.notes_slide.notes_text_frame.text or slide.has_notes_slide


def test_every_embedded_image_decodes_and_is_not_blank(built):
    for k, slide in enumerate(pptx_slides(built.pptx)[1 : len(CHARTS) + 1], start=1):
        for shape in slide.shapes:
            if shape.shape_type == 13:
                with Image.open(io.BytesIO(shape.image.blob)) as img:
                    assert img.width >= 1800, "pictures are drawn at twice the screen size"
                    assert_not_blank(img, f"slide {k + 1}")
    seen = 0
    for k, page in enumerate(pdf_pages(built.pdf)[1 : len(CHARTS) + 1], start=2):
        images = list(page.images)
        assert len(images) == 1, f"page {k} should hold one chart"
        assert_not_blank(images[0].image, f"page {k}")
        seen += 1
    assert seen == len(CHARTS)


def test_pack_tables_show_no_small_count_of_people(built):
    checked = 0
    for k, slide in enumerate(pptx_slides(built.pptx), start=1):
        for shape in slide.shapes:
            if shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                for cell in count_cells(rows):
                    assert_safe_count(cell, f"slide {k}")
                    checked += 1
    assert checked > 20, "the pack should hold person-count columns to check"


def test_pdf_tables_match_the_slides(built):
    """Every short cell of each slide's table is on the matching PDF page (same table, same values)."""
    slides = pptx_slides(built.pptx)
    pages = pdf_pages(built.pdf)
    for k in range(1, len(CHARTS) + 1):
        tables = [s.table for s in slides[k].shapes if s.has_table]
        if not tables:
            continue
        text = " ".join(pages[k].extract_text().split())
        rows = [[cell.text for cell in row.cells] for row in tables[0].rows]
        for row in rows[1:]:
            for cell in row:
                if len(cell) <= 20:
                    assert cell in text, (k, cell)
        for cell in count_cells(rows):
            assert_safe_count(cell, f"page {k + 1}")


def test_pack_timing_is_reasonable(built):
    assert built.seconds < 60, f"a pack of {len(CHARTS)} charts took {built.seconds:.1f} s"
    assert "PDF:" in built.output and "PowerPoint:" in built.output


# --- hostile text and the command line ------------------------------------------------------------


def test_a_provider_name_starting_with_equals_is_inert_in_the_pack(browser):
    frame = pl.DataFrame({"provider_name": [HOSTILE, "Beta Homecare", "Gamma Care"], "people_in_service": [3, 40, 25]})
    spec = ChartSpec(
        id="people-by-provider",
        title="Beta Homecare has the most people",
        subtitle="People receiving care, by provider, Fellside locality, October 2026",
        source="Council data drop",
        as_of=date(2026, 10, 31),
        synthetic=True,
    )
    chart = publish(bar_chart(frame, "provider_name", "people_in_service", spec=spec, measure="people"))
    pack = pack_from_specs([chart], title="Hostile", council_name="Northdale", as_of=date(2026, 10, 31), synthetic=True)
    assert pack.charts[0].table[1][0] == "'" + HOSTILE
    from pptx import Presentation
    from pypdf import PdfReader

    slides = list(Presentation(io.BytesIO(pack_pptx(pack))).slides)
    cells = [
        cell.text for s in slides for sh in s.shapes if sh.has_table for row in sh.table.rows for cell in row.cells
    ]
    assert "'" + HOSTILE in cells and HOSTILE not in [c for c in cells if not c.startswith("'")]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pack_pdf(pack))).pages)
    assert "'=HYPERLINK" in text.replace("\n", "")
    for cell in count_cells(pack.charts[0].table):
        assert_safe_count(cell, "hostile pack")


def test_brief_list_prints_ids_one_per_line_id_first(capsys):
    from analytics.cli import main

    assert main(["brief", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [line.split("\t")[0] for line in lines]
    assert ids == chart_registry.chart_ids()
    for line in lines:
        chart_id, title = line.split("\t")
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", chart_id) and title


def test_brief_rejects_an_unknown_chart_before_any_work(tmp_path):
    from analytics.cli import main

    assert main(["brief", "--charts", "waiting-people,not-a-chart", "--out", str(tmp_path)]) == 1
    assert not list(tmp_path.iterdir())


def test_make_pack_keeps_the_order_and_the_text(demo_store, browser):
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur)
        items = [BriefItem("waiting-localities", filters), BriefItem("waiting-people", filters)]
        pack = make_pack(cur, items, title="", texts={items[1].key: "Waiting is falling."})
    finally:
        con.close()
    assert [c.spec.id for c in pack.charts] == ["waiting-localities", "waiting-people"]
    assert pack.title == "Home care market sufficiency: October 2026"
    assert pack.charts[1].text == "Waiting is falling."
    assert "whole council" in pack.charts[0].filters_text.lower()
