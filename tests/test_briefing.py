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
    Pack,
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
    pack: object = None


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with export_server():
        yield


@pytest.fixture(scope="module")
def built(demo_store: Path, tmp_path_factory: pytest.TempPathFactory, browser) -> Built:
    """The internal pack, made through the command line in-process (one kaleido browser for the module)."""
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
                "--audience",
                "internal",
            ]
        )
    finally:
        sys.stdout = stdout
    assert code == 0, buffer.getvalue()
    seconds = time.perf_counter() - start
    print(f"\npack of {len(CHARTS)} charts made in {seconds:.1f} s")
    return Built(out / "home-care-in-fellside.pdf", out / "home-care-in-fellside.pptx", seconds, buffer.getvalue())


def demo_pack(
    demo_store: Path, charts: list[str], *, title: str = "", locality: str | None = None, texts: dict | None = None
) -> Pack:
    """``make_pack`` on the demo store's live data; ``texts`` maps a chart id to its commentary."""
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        cur = market_cursor(con)
        filters = resolve_filters(cur, locality=locality)
        items = [BriefItem(c, filters) for c in charts]
        by_key = {i.key: (texts or {})[i.chart_id] for i in items if i.chart_id in (texts or {})}
        return make_pack(cur, items, title=title, texts=by_key)
    finally:
        con.close()


@pytest.fixture(scope="module")
def public(demo_store: Path, tmp_path_factory: pytest.TempPathFactory, browser) -> Built:
    """The public pack of the same charts, made in-process (so the ``Pack`` can be read too)."""
    from analytics.briefing.pack import write_pack

    pack = demo_pack(demo_store, CHARTS, title="Home care in Fellside", locality=LOCALITY)
    files = write_pack(pack, tmp_path_factory.mktemp("public"))
    return Built(files.pdf, files.pptx, files.seconds, "", pack)


@pytest.fixture(scope="module")
def provider_names(demo_store: Path) -> list[str]:
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        rows = market_cursor(con).sql("select distinct provider_name from stg_providers").fetchall()
    finally:
        con.close()
    return [r[0] for r in rows if r[0]]


def contents(pages) -> list[str]:
    """The chart titles listed on the contents page (page 2), in order."""
    text = pages[1].extract_text()
    titles = []
    for line in text.splitlines():
        hit = re.match(r"^(\d+)\. (.+)$", line.strip())
        if hit and int(hit.group(1)) == len(titles) + 1 and SOURCES_TITLE not in line:
            titles.append(hit.group(2))
    return titles


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


def slide_text(slide) -> str:
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return " ".join(parts)


@pytest.mark.parametrize("which", ["built", "public"])
def test_page_and_slide_one_are_the_summary(which, request):
    pack = request.getfixturevalue(which)
    first = " ".join(pdf_pages(pack.pdf)[0].extract_text().split())
    assert "Home care in Fellside" in first and "Data as at 31 October 2026" in first
    assert "Northdale" in first and "Fellside locality, October 2026" in first
    assert "Headline figures" in first and "Key messages" in first and "People waiting" in first
    assert "on September 2026" in first, "tiles show their change on last month"
    slide = pptx_slides(pack.pptx)[0]
    text = slide_text(slide)
    assert slide.shapes.title.text == "Home care in Fellside"
    assert "Key messages" in text and "People receiving care" in text and "on October 2025" in text
    bullets = [line for line in text.splitlines() if line.startswith("• ")]
    assert 3 <= len(bullets) <= 6


def test_every_page_and_slide_carries_the_marking(built, public):
    for page in pdf_pages(built.pdf):
        assert page.extract_text().count("OFFICIAL-SENSITIVE") >= 2  # head and foot
    for slide in pptx_slides(built.pptx):
        assert "OFFICIAL-SENSITIVE" in slide_text(slide)
    for page in pdf_pages(public.pdf):
        text = page.extract_text()
        assert "OFFICIAL" in text and "OFFICIAL-SENSITIVE" not in text
    for slide in pptx_slides(public.pptx):
        assert "OFFICIAL" in slide_text(slide) and "OFFICIAL-SENSITIVE" not in slide_text(slide)


def test_provider_names_are_in_the_internal_pack_only(built, public, provider_names):
    def everything(pack) -> str:
        text = " ".join(p.extract_text() for p in pdf_pages(pack.pdf))
        for slide in pptx_slides(pack.pptx):
            text += " " + slide_text(slide) + " " + slide.notes_slide.notes_text_frame.text
        return " ".join(text.split())

    internal, shown = everything(built), everything(public)
    assert any(name in internal for name in provider_names), "the internal pack names providers"
    assert [n for n in provider_names if n in shown] == []
    assert {i.chart_id for i in public.pack.left_out} >= {"providers-share", "exit-outcome"}
    assert "it names providers" in shown


def test_no_chart_is_all_suppressed_and_none_is_repeated(public):
    from analytics.briefing.assembly import says_something, table_digest

    assert public.pack.charts, "the public pack keeps charts"
    for chart in public.pack.charts:
        assert says_something(chart.spec), chart.spec.title
    digests = [table_digest(c.spec) for c in public.pack.charts]
    assert len(digests) == len(set(digests))
    kept = {c.spec.id for c in public.pack.charts}
    dropped = {i.chart_id: i.reason for i in public.pack.left_out}
    # People waiting by area in a locality is all [c]: drawn by locality instead, or left out with why.
    assert "waiting-localities" in kept or "coverage-map-people-waiting" in dropped
    assert "coverage-map-people-waiting" not in kept or says_something(public.pack.charts[0].spec)
    assert all(reason for reason in dropped.values())


def test_titles_once_and_the_text_alternative_is_alt_text_not_body_text(built, public):
    for pack in (built, public):
        pages = pdf_pages(pack.pdf)
        titles = contents(pages)
        assert titles, "the contents page lists the charts"
        for k, title in enumerate(titles, start=1):
            text = " ".join(pages[k + 1].extract_text().split())
            assert text.count(f"{k}. {title}") == 1, (k, title)
            assert "Text alternative" not in text
        raw = pack.pdf.read_bytes()
        assert raw.count(b"/Alt") >= len(titles), "each chart picture carries PDF alt text"
        slides = pptx_slides(pack.pptx)
        for slide in slides[1 : len(titles) + 1]:
            pictures = [s for s in slide.shapes if s.shape_type == 13]
            assert len(pictures) == 1
            assert pictures[0]._element.nvPicPr.cNvPr.get("descr"), "the picture needs its text alternative"
            assert "Text alternative" not in slide_text(slide)


def test_text_is_at_least_10_pt_in_the_pdf_and_12_pt_on_slides(public):
    from analytics.briefing.assembly import MIN_FONT_PX, PICTURE_WIDTH, font_sizes, pack_figure

    sizes = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            sizes.append(font_size * scale)

    for page in pdf_pages(public.pdf):
        page.extract_text(visitor_text=visit)
    assert sizes and min(sizes) >= 9.9, min(sizes)
    for slide in pptx_slides(public.pptx):
        for shape in slide.shapes:
            frames = [shape.text_frame] if shape.has_text_frame else []
            if shape.has_table:
                frames += [cell.text_frame for row in shape.table.rows for cell in row.cells]
            for frame in frames:
                for paragraph in frame.paragraphs:
                    for run in paragraph.runs:
                        if run.text.strip():
                            assert run.font.size is not None and run.font.size.pt >= 12, run.text
    for chart in public.pack.charts:
        fig = pack_figure(chart.spec.figure)
        assert min(font_sizes(fig)) >= MIN_FONT_PX
        with Image.open(io.BytesIO(chart.png)) as img:
            assert img.width == 2 * PICTURE_WIDTH and img.height / img.width <= 0.72
    # 15 px on a 640 px picture 174 mm wide in the PDF: 15 * 493 / 640 = 11.6 pt; on a slide at least 7.8 in wide:
    assert MIN_FONT_PX * (174 / 25.4 * 72) / PICTURE_WIDTH >= 10
    assert MIN_FONT_PX * (7.78 * 72) / PICTURE_WIDTH >= 12


def test_tables_show_the_latest_month_first_and_definitions_are_plain(public):
    trend = next(c for c in public.pack.charts if c.spec.id == "waiting-people")
    assert trend.table[1][0] == "October 2026", trend.table[:3]
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf_pages(public.pdf))
    assert "config.toml" not in text and "mart_" not in text and "thresholds." not in text


def test_every_embedded_image_decodes_and_is_not_blank(built):
    slides = pptx_slides(built.pptx)
    n = len(contents(pdf_pages(built.pdf)))
    for k, slide in enumerate(slides[1 : n + 1], start=1):
        for shape in slide.shapes:
            if shape.shape_type == 13:
                with Image.open(io.BytesIO(shape.image.blob)) as img:
                    assert img.width >= 1280, "pictures are drawn at twice their size"
                    assert_not_blank(img, f"slide {k + 1}")
    for k, page in enumerate(pdf_pages(built.pdf)[2 : n + 2], start=3):
        images = list(page.images)
        assert len(images) == 1, f"page {k} should hold one chart"
        assert_not_blank(images[0].image, f"page {k}")


def test_pack_tables_show_no_small_count_of_people(built, public):
    checked = 0
    for pack in (built, public):
        for k, slide in enumerate(pptx_slides(pack.pptx), start=1):
            for shape in slide.shapes:
                if shape.has_table:
                    rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                    for cell in count_cells(rows):
                        assert_safe_count(cell, f"slide {k}")
                        checked += 1
    assert checked > 10, "the pack should hold person-count columns to check"


def test_pdf_tables_match_the_slides(built):
    """Every short cell of each slide's table is on the matching PDF page (same table, same values)."""
    slides = pptx_slides(built.pptx)
    pages = pdf_pages(built.pdf)
    for k in range(1, len(contents(pages)) + 1):
        tables = [s.table for s in slides[k].shapes if s.has_table]
        if not tables:
            continue
        text = " ".join(pages[k + 1].extract_text().split())
        rows = [[cell.text for cell in row.cells] for row in tables[0].rows]
        # The PDF page fits as many rows as its room allows (newest first) and says how many more
        # are in the Excel download; the rows it shows are the slide's, in the same order.
        shown = [row for row in rows[1:] if all(cell in text for cell in row if len(cell) <= 20)]
        assert rows[1] in shown, (k, rows[1])
        assert shown == rows[1 : 1 + len(shown)], (k, shown)
        if len(shown) < len(rows) - 1:
            assert "more row(s) are in the dashboard's Excel download" in text, k
        for cell in count_cells(rows):
            assert_safe_count(cell, f"page {k + 2}")


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
    pack = demo_pack(
        demo_store, ["waiting-localities", "waiting-people"], texts={"waiting-people": "Waiting is falling."}
    )
    assert [c.spec.id for c in pack.charts] == ["waiting-localities", "waiting-people"]
    assert pack.summary is not None and 6 <= len(pack.summary.tiles) <= 8
    assert pack.title == "Home care market sufficiency: October 2026"
    assert pack.charts[1].text == "Waiting is falling."
    assert "whole council" in pack.charts[0].filters_text.lower()


def test_a_repeated_chart_is_left_out_with_the_reason(demo_store, browser):
    pack = demo_pack(demo_store, ["overview-people-waiting", "waiting-people"])
    assert len(pack.charts) == 1
    assert pack.left_out[0].reason == "it shows the same figures as chart 1"
