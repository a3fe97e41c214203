"""Text stays text: names from a drop never become links, bold or formulas on screen or in a chart.

Plotly renders an HTML subset in titles, labels and hover text; Streamlit renders Markdown in
``st.markdown``, captions and metric labels; the table toolbar would export cells as they are.
Checked here: ``publish.chart_style.plain_label`` through ``house_figure`` (every text label of a real
figure, rendered to SVG by Kaleido), ``formatting.markdown_text`` (rendered by Streamlit in an
``AppTest``) and the Streamlit setting that removes the toolbar's CSV download.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import polars as pl
from streamlit.testing.v1 import AppTest

from analytics.formatting import markdown_text
from analytics.publish.charts import ChartSpec, bar_chart

ROOT = Path(__file__).resolve().parents[1]
LINK = '<a href="https://evil.example">Click</a>'
BOLD = "<b>Best</b> Care"


def test_chart_labels_hover_and_titles_show_markup_as_text():
    spec = ChartSpec(
        id="hostile",
        title=f"{LINK} has the most hours",
        subtitle=f"Hours by provider, {BOLD}",
        source="test",
        as_of=date(2026, 10, 31),
        synthetic=True,
    )
    frame = pl.DataFrame({"provider": [LINK, BOLD, "Plain Care"], "hours": [30.0, 20.0, 10.0]})
    fig = bar_chart(frame, "provider", "hours", spec=spec, measure="Hours", orientation="h").figure
    as_json = fig.to_json()
    assert "<a href" not in as_json and "<b>Best" not in as_json
    assert "&lt;a href" in as_json and "&lt;b&gt;Best" in as_json
    assert fig.layout.title.text.startswith("&lt;a href")
    svg = fig.to_image(format="svg").decode()
    assert "<a " not in svg and 'xlink:href="https://evil' not in svg


def test_markdown_text_escapes_links_emphasis_and_streamlit_directives():
    from markdown_it import MarkdownIt

    name = "[Click](https://evil.example) **Fells** _x_ `code` <https://evil.example> ![i](x.png)"
    escaped = markdown_text(name)
    html = MarkdownIt("commonmark").render(escaped)  # CommonMark, as Streamlit's renderer follows
    for element in ("<a ", "<strong>", "<em>", "<code>", "<img"):
        assert element not in html, html
    assert "Click" in html and "Fells" in html  # the words are all still there, as text
    assert MarkdownIt("commonmark").render(markdown_text("# Fells")).startswith("<p>")  # no heading
    for directive in (":red[alarm]", "$x^2$", "~~gone~~"):  # Streamlit's own extensions
        assert "\\" in markdown_text(directive)
    assert markdown_text("Abbey-upon-Tyne (North). Fine!") == "Abbey-upon-Tyne (North). Fine!"
    script = f"import streamlit as st\nst.markdown({escaped!r})\nst.caption({escaped!r})"
    at = AppTest.from_string(script).run()
    assert not at.exception and at.markdown[0].value == escaped


def test_table_toolbar_has_no_csv_download():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
