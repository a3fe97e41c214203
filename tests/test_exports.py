"""Table exports (CSV, Excel: formula injection, BOM, notes) and chart images (PNG, SVG).

The image tests need Chromium. Without it they skip locally but FAIL when ``CI`` is set, so a CI
image that lost its browser cannot pass quietly.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import date

import openpyxl
import polars as pl
import pytest
from builders_support import NORTHDALE_AS_OF as AS_OF
from builders_support import northdale_spec
from PIL import Image

from analytics.publish.charts import bar_chart
from analytics.publish.exports import (
    ExportUnavailable,
    _server_running,
    browser_path,
    chart_csv,
    chart_xlsx,
    export_server,
    figure_png,
    figure_svg,
    neutralise,
    table_csv,
    table_xlsx,
)
from analytics.publish.suppression import suppress, suppression_rule_text

SPEC = northdale_spec(
    "hours-by-provider",
    "Two providers deliver most of the hours",
    "Home care hours delivered, by provider, Northdale, October 2026",
    "Northdale Council provider returns",
)
HOSTILE = '=HYPERLINK("http://example.invalid","click")'


def providers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": [HOSTILE, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTabbed", "Care & Co £"],
            "note": ["-5", "-£1,200.50", "+3.5", "12%", "ok", "\rcr"],
            "people": [3, 40, 12, 0, 25, 100],
            "fee": [24.1, 25.0, 26.5, 23.95, 24.0, 30.0],
        }
    )


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- neutralise -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-5", "-5"),
        ("-1,234.5", "-1,234.5"),
        ("-£1,200.50", "-£1,200.50"),
        ("+12%", "+12%"),
        ("Care & Co", "Care & Co"),
        ("", ""),
        ("-", "'-"),
    ],
)
def test_neutralise(raw, safe):
    assert neutralise(raw) == safe


# --- CSV ------------------------------------------------------------------------------------


def test_csv_neutralises_formulas_and_keeps_pounds():
    rows = read_csv(table_csv(providers()))
    assert rows[0] == ["provider", "note", "people", "fee"]
    assert [r[0] for r in rows[1:]] == [
        "'" + HOSTILE,
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTabbed",
        "Care & Co £",
    ]
    assert [r[1] for r in rows[1:]] == ["-5", "-£1,200.50", "+3.5", "12%", "ok", "'\rcr"]
    assert rows[1][2:] == ["3", "24.1"]  # numbers are written untouched


def test_csv_neutralises_column_names_too():
    rows = read_csv(table_csv(pl.DataFrame({"=bad": ["x"]})))
    assert rows[0] == ["'=bad"]


def test_csv_of_a_suppressed_table_shows_symbols_not_zeros():
    result = suppress(providers().select("provider", "people"), count_cols=["people"])
    rows = read_csv(table_csv(result))
    assert rows[0] == ["provider", "people"]
    assert [r[1] for r in rows[1:]] == ["[c]", "40", "10", "0", "25", "100"]
    assert rows[1][0] == "'" + HOSTILE


# --- Excel ----------------------------------------------------------------------------------


def open_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_writes_hostile_text_as_inert_strings_never_formulas():
    book = open_xlsx(table_xlsx(providers(), title="Providers", source="Provider returns", as_of=AS_OF))
    sheet = book["Data"]
    assert sheet["A1"].value == "Providers"
    assert sheet["A4"].value == "provider"  # header row
    cell = sheet["A5"]
    assert cell.value == "'" + HOSTILE
    assert cell.data_type == "s"
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
    # Numbers stay numbers; plain-number text stays as it was.
    assert sheet["C5"].value == 3 and sheet["C5"].data_type == "n"
    assert sheet["D5"].value == pytest.approx(24.1)
    assert sheet["B5"].value == "-5"


def test_xlsx_of_a_suppressed_table_has_symbols_numbers_and_notes():
    result = suppress(providers().select("provider", "people"), count_cols=["people"])
    book = open_xlsx(
        table_xlsx(
            result,
            title="People by provider",
            source="Provider returns",
            as_of=AS_OF,
            synthetic=True,
            notes=["Provider-level figures are commercially sensitive."],
        )
    )
    data = book["Data"]
    assert [c.value for c in data[4]] == ["provider", "people"]
    people = [data.cell(row=r, column=2).value for r in range(5, 11)]
    assert people == ["[c]", 40, 10, 0, 25, 100]
    assert "data as at 31 October 2026" in data["A2"].value
    assert "Synthetic demo data" in data["A2"].value
    notes = {row[0].value: row[1].value for row in book["Notes"].iter_rows(min_row=4) if row[0].value}
    assert notes["Data as at"] == "31 October 2026"
    assert notes["Small numbers"] == suppression_rule_text()
    assert notes["Shorthand"].startswith("[c] = confidential")
    assert notes["Note 1"] == "Provider-level figures are commercially sensitive."
    assert "Synthetic demo data" in notes


def test_xlsx_writes_dates_as_dates():
    frame = pl.DataFrame({"month": [date(2025, 3, 1)], "hours": [1234.5]})
    sheet = open_xlsx(table_xlsx(frame, title="Hours"))["Data"]
    assert sheet["A5"].is_date
    assert sheet["B5"].value == 1234.5


def test_chart_table_exports_carry_the_chart_wording():
    frame = pl.DataFrame({"provider": ["A", "B"], "people": [5, 50]})
    chart = bar_chart(suppress(frame, count_cols=["people"]), "provider", "people", spec=SPEC, measure="people")
    book = open_xlsx(chart_xlsx(chart))
    assert book["Data"]["A1"].value == SPEC.title
    notes = [row[1].value for row in book["Notes"].iter_rows(min_row=4)]
    assert SPEC.subtitle in notes and chart.alt_text in notes
    assert read_csv(chart_csv(chart))[1:] == [["A", "[c]"], ["B", "50"]]


# --- chart images ---------------------------------------------------------------------------


def require_browser() -> None:
    if browser_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is missing: install the Debian chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


def chart_figure():
    frame = pl.DataFrame({"provider": ["Alpha Care", "Beta Homecare", "Gamma"], "people": [3, 120, 45]})
    return bar_chart(suppress(frame, count_cols=["people"]), "provider", "people", spec=SPEC, measure="people").figure


def test_missing_browser_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(ExportUnavailable, match="apt-get install chromium"):
        figure_png(chart_figure())
    with pytest.raises(ExportUnavailable), export_server():
        pass


def test_svg_without_a_server():
    require_browser()
    assert not _server_running()
    svg = figure_svg(chart_figure())
    assert b"<svg" in svg[:500]
    assert b"Two providers deliver most of the hours" in svg


class TestWithServer:
    @pytest.fixture(autouse=True, scope="class")
    def server(self):
        require_browser()
        with export_server():
            yield

    def test_png_decodes_at_scale_two_and_is_not_blank(self):
        png = figure_png(chart_figure(), scale=2)
        image = Image.open(io.BytesIO(png))
        image.load()
        assert image.format == "PNG"
        assert image.size == (1800, 1040)  # 900 x 520 at scale 2
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 1
        # The house dark blue bars are really drawn.
        assert any(abs(r - 0x12) < 8 and abs(g - 0x43) < 8 and abs(b - 0x6D) < 8 for _, (r, g, b) in colours or [])

    def test_png_size_follows_width_height_and_scale(self):
        image = Image.open(io.BytesIO(figure_png(chart_figure(), scale=1, width=600, height=400)))
        assert image.size == (600, 400)

    def test_svg_contains_the_title_and_footnote(self):
        svg = figure_svg(chart_figure()).decode("utf-8")
        assert "Two providers deliver most of the hours" in svg
        assert "Synthetic demo data" in svg
        assert "[c]" in svg

    def test_nested_servers_share_one_browser(self):
        assert _server_running()
        with export_server():
            figure_png(chart_figure(), scale=1)
        assert _server_running()  # the inner block did not stop the outer one's browser
