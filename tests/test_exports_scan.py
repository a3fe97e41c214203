"""Every chart's downloads on the demo council carry no small count of people.

Downloads always leave in publication form. For every registered chart, for the whole council and
for one locality, the CSV and Excel tables are read back and every cell of every person-count
column is checked: 0, ``[c]``, ``[x]`` or a multiple of 5 of at least the threshold. Two charts are
also drawn as PNG and SVG (one kaleido browser for the module): the PNG is twice the figure size and
not blank, the SVG holds the headline, ``[c]`` where a bar is hidden and the rule in the footnote.
Without Chromium the picture tests skip locally but FAIL when ``CI`` is set.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from PIL import Image, ImageStat

from analytics.briefing import registry as chart_registry
from analytics.briefing.pack import resolve_filters
from analytics.publish.exports import browser_path, chart_csv, chart_xlsx, export_server, figure_png, figure_svg
from analytics.publish.suppression import Suppressed, rule

LOCALITIES = (None, "Fellside", "North Coast")


@pytest.fixture(scope="module")
def published(demo_store: Path) -> dict[tuple[str, str | None], object]:
    """Every chart published for the whole council and two localities: (id, locality) -> spec."""
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        cur = market_cursor(con)
        base = resolve_filters(cur)
        return {
            (chart_id, locality): chart_registry.build_published(cur, chart_id, replace(base, locality=locality))
            for locality in LOCALITIES
            for chart_id in chart_registry.chart_ids()
        }
    finally:
        con.close()


def assert_safe(value: object, where: str) -> None:
    """A published count of people: 0, [c], [x], or a multiple of the base at or above the threshold."""
    r = rule()
    if value is None or value in (r.symbol, "[x]", ""):
        return
    number = float(str(value).replace(",", ""))
    assert number == 0 or number >= r.threshold, f"{where}: a count of {value} people"
    assert number % r.base == 0, f"{where}: {value} is not rounded to the nearest {r.base}"


def test_csv_and_xlsx_downloads_show_no_small_count_of_people(published):
    scanned = 0
    for (chart_id, locality), spec in published.items():
        if not isinstance(spec.data, Suppressed):
            continue
        counts = list(spec.data.count_cols)
        rows = list(csv.reader(io.StringIO(chart_csv(spec).decode("utf-8-sig"), newline="")))
        header = rows[0]
        for column in counts:
            j = header.index(column)
            for k, row in enumerate(rows[1:], start=2):
                assert_safe(row[j], f"{chart_id} ({locality or 'council'}) CSV row {k} {column}")
                scanned += 1
        sheet = openpyxl.load_workbook(io.BytesIO(chart_xlsx(spec)))["Data"]
        names = [c.value for c in sheet[4]]
        for column in counts:
            j = names.index(column) + 1
            for r in range(5, sheet.max_row + 1):
                cell = sheet.cell(row=r, column=j)
                assert cell.data_type != "f"
                assert_safe(cell.value, f"{chart_id} ({locality or 'council'}) XLSX {cell.coordinate}")
                scanned += 1
    assert scanned > 500, f"only {scanned} person-count cells were checked"


def test_small_counts_exist_before_publication(demo_store):
    """The scan above means something: the demo council's raw tables do hold counts of 1 to 7."""
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    try:
        cur = market_cursor(con)
        filters = replace(resolve_filters(cur), locality="Fellside")
        raw = chart_registry.build(cur, "waiting-areas", filters).data
    finally:
        con.close()
    values = raw["people_waiting"].to_list()
    assert any(0 < v < rule().threshold for v in values)


def test_xlsx_notes_state_the_rule(published):
    spec = published[("waiting-areas", "Fellside")]
    notes = openpyxl.load_workbook(io.BytesIO(chart_xlsx(spec)))["Notes"]
    details = {row[0].value: row[1].value for row in notes.iter_rows(min_row=4) if row[0].value}
    assert "shown as [c]" in details["Small numbers"]
    assert "Synthetic demo data" in details


# --- pictures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if browser_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is missing: install the Debian chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with export_server():
        yield


def test_png_is_twice_the_figure_and_not_blank(published, browser):
    spec = published[("waiting-areas", "Fellside")]
    with Image.open(io.BytesIO(figure_png(spec.figure, scale=2))) as img:
        width = spec.figure.layout.width or 900
        height = spec.figure.layout.height or 520
        assert img.size == (2 * width, 2 * height)
        assert max(ImageStat.Stat(img.convert("RGB")).stddev) > 10


def test_svg_keeps_the_wording_and_the_c_labels(published, browser):
    spec = published[("rural-ruc21-waits", "Fellside")]
    svg = figure_svg(spec.figure).decode("utf-8")
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:500]
    assert spec.title.split(":")[0][:30] in svg
    assert "[c]" in svg
    assert "shown as [c]" in svg  # the footnote states the rule
    assert "Synthetic demo data" in svg
