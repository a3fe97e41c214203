"""House chart style, chart builders, text alternatives and number formatting."""

from __future__ import annotations

import json
from datetime import date, datetime

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest
from builders_support import NORTHDALE_AS_OF as AS_OF
from builders_support import northdale_spec

from analytics.formatting import (
    fmt_date,
    fmt_gbp,
    fmt_hours,
    fmt_int,
    fmt_month,
    fmt_month_range,
    fmt_number,
    fmt_pct,
)
from analytics.publish.charts import (
    BLANK_MAP_STYLE,
    CATEGORICAL,
    DUO,
    FOCUS,
    FOCUS_OTHER,
    TEMPLATE_NAME,
    ChartSpec,
    bar_chart,
    bubble_map,
    choropleth_map,
    describe_extremes,
    describe_trend,
    focus_colours,
    footnote_text,
    house_figure,
    line_chart,
    series_colours,
    stacked_bar,
)
from analytics.publish.suppression import suppress, suppression_rule_text

SPEC = northdale_spec(
    "waiting-by-ward",
    "Most people waiting live in two wards",
    "People waiting for home care, by ward, Northdale, October 2026",
    "Northdale Council brokerage records",
)


def footnote(fig: go.Figure) -> str:
    notes = [a.text for a in fig.layout.annotations if a.name == "footnote"]
    assert len(notes) == 1
    return notes[0].replace("<br>", " ")


def styled_bar() -> go.Figure:
    fig = go.Figure(go.Bar(x=["A", "B"], y=[5, 10]))
    return house_figure(
        fig,
        title=SPEC.title,
        subtitle=SPEC.subtitle,
        source=SPEC.source,
        as_of=AS_OF,
        synthetic=True,
        suppression_note=suppression_rule_text(),
    )


# --- house_figure ---------------------------------------------------------------------------


def test_house_figure_has_title_subtitle_and_footnote():
    fig = styled_bar()
    assert fig.layout.title.text == "Most people waiting live in two wards"
    assert fig.layout.title.subtitle.text == "People waiting for home care, by ward, Northdale, October 2026"
    text = footnote(fig)
    assert text.startswith("Source: Northdale Council brokerage records; data as at 31 October 2026; ")
    assert "counts of people from 1 to 7 are shown as [c]" in text
    assert text.endswith("; Synthetic demo data")


def test_footnote_says_synthetic_only_when_it_is():
    real = footnote_text(source="CQC care directory", as_of=AS_OF, synthetic=False)
    assert real == "Source: CQC care directory; data as at 31 October 2026"
    fig = house_figure(
        go.Figure(go.Bar(x=["A"], y=[1])), title="t", subtitle="s", source="CQC", as_of=AS_OF, synthetic=False
    )
    assert "Synthetic" not in footnote(fig)


def test_house_figure_uses_the_house_template_and_palette():
    fig = styled_bar()
    assert fig.layout.template.layout.colorway == CATEGORICAL
    assert pio.templates[TEMPLATE_NAME].layout.colorway == CATEGORICAL
    template = fig.layout.template.layout
    assert template.plot_bgcolor == "white" and template.paper_bgcolor == "white"
    assert template.yaxis.showgrid is True and template.xaxis.showgrid is False
    assert template.xaxis.tickangle == 0 and template.yaxis.tickangle == 0
    assert template.legend.orientation == "h" and template.legend.yanchor == "bottom"
    assert "sans-serif" in template.font.family


def test_bar_value_axis_starts_at_zero():
    assert styled_bar().layout.yaxis.rangemode == "tozero"
    horizontal = house_figure(
        go.Figure(go.Bar(x=[5, 10], y=["A", "B"], orientation="h")),
        title="t",
        subtitle="s",
        source="x",
        as_of=AS_OF,
        synthetic=False,
    )
    assert horizontal.layout.xaxis.rangemode == "tozero"
    assert horizontal.layout.xaxis.showgrid is True and horizontal.layout.yaxis.showgrid is False


def test_styling_twice_keeps_one_footnote():
    fig = styled_bar()
    SPEC.style(fig)
    footnote(fig)  # asserts exactly one


def test_palettes_are_the_analysis_function_ones():
    assert CATEGORICAL == ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
    assert series_colours(2) == ["#12436D", "#F46A25"] == list(DUO)
    assert series_colours(3) == ["#12436D", "#28A197", "#801650"]
    assert series_colours(3, ordered=True) == ["#12436D", "#2073BC", "#6BACE6"]
    assert focus_colours(["A", "B", "C"], ["B"]) == [FOCUS_OTHER, FOCUS, FOCUS_OTHER]
    with pytest.raises(ValueError, match="palette"):
        series_colours(7)


# --- builders -------------------------------------------------------------------------------


def test_bar_chart_never_draws_a_suppressed_value_as_zero():
    frame = pl.DataFrame({"ward": ["Abbey", "Brook", "Castle", "Dale"], "people": [0, 3, 40, 120]})
    chart = bar_chart(suppress(frame, count_cols=["people"]), "ward", "people", spec=SPEC, measure="people waiting")

    bar, label = chart.figure.data
    assert list(bar.y) == [0, None, 40, 120]
    assert bar.marker.color == FOCUS
    assert list(bar.text) == ["0", "", "40", "120"]
    # The [c] label is text only, in the bar's place: no bar of height 0 is drawn.
    assert (label.type, label.mode, list(label.x), list(label.text)) == ("scatter", "text", ["Brook"], ["[c]"])
    assert label.showlegend is False and chart.figure.layout.showlegend is False
    assert chart.figure.layout.yaxis.rangemode == "tozero"
    # The spec carries the suppression rule, the display table and the text alternative.
    assert chart.suppression_note == suppression_rule_text()
    assert chart.table["people"].to_list() == ["0", "[c]", "40", "120"]
    assert chart.alt_text == (
        "People waiting is highest in Dale (120) and lowest in Abbey (0) across 4 areas; "
        "1 is shown as [c] to protect privacy."
    )


def test_a_chart_spec_survives_the_cache_copy_unchanged_without_revalidation():
    """``st.cache_data`` pickles every view and unpickles it on each read: the figure comes back the
    same (every property, the suppressed table) but rebuilt without Plotly's validation, which was
    half the server time of a page rerun."""
    import copy
    import pickle

    frame = pl.DataFrame({"ward": ["Abbey", "Brook", "Castle", "Dale"], "people": [0, 3, 40, 120]})
    chart = bar_chart(suppress(frame, count_cols=["people"]), "ward", "people", spec=SPEC, measure="people waiting")
    for back in (pickle.loads(pickle.dumps(chart)), copy.deepcopy(chart)):
        assert json.loads(pio.to_json(back.figure)) == json.loads(pio.to_json(chart.figure))
        assert back.table.equals(chart.table) and back.alt_text == chart.alt_text
        assert back.figure.layout.title.text == chart.figure.layout.title.text
        assert back.figure._validate is False  # rebuilt as Plotly loads its own templates


def validated(fig: go.Figure) -> dict:
    """Return ``fig`` as JSON after Plotly checks and coerces every property (raises on an invalid one)."""
    return json.loads(pio.to_json(go.Figure(fig.to_dict())))


def test_builders_give_the_figure_plotly_validation_would_store():
    """Builders skip Plotly's per-property validation (``new_figure``, ``merge_layout``): what they
    store must already be what validation would (no title as a bare string, no unknown property),
    so the JSON a browser or Kaleido gets is the same, property for property."""
    frame = pl.DataFrame({"ward": ["Abbey", "Brook", "Castle", "Dale"], "people": [0, 3, 40, 120]})
    grouped = pl.DataFrame({"ward": ["A", "A", "B", "B"], "year": ["2025", "2026"] * 2, "people": [1, 2, 3, 4]})
    months = [date(2026, m, 1) for m in (7, 8, 9, 10)]
    lines = pl.DataFrame({"month": months * 2, "rate": [1.0, None, 3.0, 4.0] * 2, "kind": ["a"] * 4 + ["b"] * 4})
    charts = [
        bar_chart(suppress(frame, count_cols=["people"]), "ward", "people", spec=SPEC, measure="people waiting"),
        bar_chart(frame, "ward", "people", spec=SPEC, measure="people", orientation="h", value_label="People"),
        bar_chart(frame, "ward", "people", spec=SPEC, measure="people", focus=["Brook"], value_label="People"),
        bar_chart(grouped, "ward", "people", spec=SPEC, measure="people", color="year"),
        line_chart(lines, "month", "rate", spec=SPEC, measure="the rate", color="kind", markers=True, from_zero=True),
        stacked_bar(grouped, "ward", "people", "year", spec=SPEC, measure="people", orientation="h"),
    ]
    for chart in charts:
        assert chart.figure._validate is False
        assert json.loads(pio.to_json(chart.figure)) == validated(chart.figure)
        restyled = chart.style(chart.figure, height=300)  # as views restyle after adding a line
        assert json.loads(pio.to_json(restyled)) == validated(restyled)


def test_bar_chart_focus_and_groups():
    frame = pl.DataFrame({"ward": ["A", "B", "C"], "people": [10, 20, 30]})
    focused = bar_chart(frame, "ward", "people", spec=SPEC, measure="people", focus=["B"])
    assert list(focused.figure.data[0].marker.color) == [FOCUS_OTHER, FOCUS, FOCUS_OTHER]

    grouped = pl.DataFrame({"ward": ["A", "A", "B", "B"], "year": ["2025", "2026"] * 2, "people": [1, 2, 3, 4]})
    chart = bar_chart(grouped, "ward", "people", spec=SPEC, measure="people", color="year")
    assert [t.marker.color for t in chart.figure.data] == list(DUO)
    assert chart.figure.layout.barmode == "group"
    assert chart.figure.layout.showlegend is True
    assert chart.alt_text == "People is highest in B, 2026 (4) and lowest in A, 2025 (1) across 4 bars."

    months = pl.DataFrame(
        {"month": [date(2026, 9, 30), date(2026, 10, 31)], "flow": ["leaving", "starting"], "n": [3, 1]}
    )
    by_month = bar_chart(months, "month", "n", spec=SPEC, measure="providers", color="flow")
    assert by_month.alt_text == (  # months as the axis shows them, never "2026-09-30"
        "Providers is highest in September 2026, leaving (3) and lowest in October 2026, starting (1) across 2 bars."
    )


def test_grouped_bar_labels_each_suppressed_bar_in_its_own_group():
    frame = pl.DataFrame(
        {"ward": ["A", "A", "B", "B"], "age": ["18 to 64", "65 and over"] * 2, "people": [3, 9, 20, 30]}
    )
    chart = bar_chart(
        suppress(frame, count_cols=["people"], group_by=["ward"]),
        "ward",
        "people",
        spec=SPEC,
        measure="people",
        color="age",
    )
    texts = [t for t in chart.figure.data if t.type == "scatter"]
    assert [(t.offsetgroup, list(t.x)) for t in texts] == [("0", ["A"]), ("1", ["A"])]
    assert chart.figure.layout.scattermode == "group"
    assert chart.alt_text.endswith("; 2 are shown as [c] to protect privacy.")


def test_value_label_is_level_text_above_a_vertical_chart():
    frame = pl.DataFrame({"ward": ["A", "B"], "people": [10, 20]})
    chart = bar_chart(frame, "ward", "people", spec=SPEC, measure="people", value_label="People waiting")
    label = [a for a in chart.figure.layout.annotations if a.name == "value_label"]
    assert [a.text for a in label] == ["People waiting"]
    assert not chart.figure.layout.yaxis.title.text  # a y-axis title would be rotated


def test_line_chart_series_colours_gaps_and_alt_text():
    frame = pl.DataFrame(
        {
            "month": [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)] * 2,
            "area": ["Rural"] * 3 + ["Urban"] * 3,
            "rate": [91.0, None, 93.5, 88.0, 89.0, 90.0],
        }
    )
    chart = line_chart(
        frame, "month", "rate", spec=SPEC, measure="the delivery rate", color="area", value_format=fmt_pct
    )
    assert [t.line.color for t in chart.figure.data] == list(DUO)
    assert list(chart.figure.data[0].y) == [91.0, None, 93.5]  # a gap, not a zero
    assert chart.figure.layout.xaxis.tickformat == "%b %Y"
    assert chart.alt_text == (
        "For Rural, the delivery rate went from 91.0% in March 2025 to 93.5% in May 2025; "
        "for Urban, the delivery rate went from 88.0% in March 2025 to 90.0% in May 2025."
    )


def test_stacked_bar():
    frame = pl.DataFrame(
        {"ward": ["A", "A", "B", "B"], "rating": ["Good", "Outstanding"] * 2, "providers": [5, 1, 8, 2]}
    )
    chart = stacked_bar(frame, "ward", "providers", "rating", spec=SPEC, measure="providers", noun="wards")
    assert chart.figure.layout.barmode == "stack"
    assert [t.marker.color for t in chart.figure.data] == list(DUO)
    assert chart.figure.layout.yaxis.rangemode == "tozero"
    assert chart.alt_text == "The total of providers is highest in B (10) and lowest in A (6) across 2 wards."


GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"code": f"W{i}"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-3 + i / 10, 54], [-2.9 + i / 10, 54], [-2.9 + i / 10, 54.1], [-3 + i / 10, 54]]],
            },
        }
        for i in range(3)
    ],
}


def test_choropleth_map_is_offline_and_greys_suppressed_areas():
    frame = pl.DataFrame({"code": ["W0", "W1", "W2"], "name": ["Abbey", "Brook", "Castle"], "people": [3, 40, 0]})
    chart = choropleth_map(
        GEOJSON, suppress(frame, count_cols=["people"]), "code", "people", spec=SPEC, measure="people", name="name"
    )
    fig = chart.figure
    assert fig.layout.map.style == BLANK_MAP_STYLE
    assert "http" not in json.dumps(fig.layout.map.to_plotly_json())  # no tile server
    shown, blank = fig.data
    assert list(shown.locations) == ["W1", "W2"] and list(shown.z) == [40, 0]
    assert list(blank.locations) == ["W0"] and list(blank.hovertext) == ["Abbey: [c]"]
    assert blank.colorscale[0][1] == FOCUS_OTHER
    assert 53.9 < fig.layout.map.center.lat < 54.2 and fig.layout.map.zoom > 5
    assert "Synthetic demo data" in footnote(fig)


def test_bubble_map_sizes_by_area_on_a_blank_map():
    frame = pl.DataFrame({"name": ["P1", "P2"], "lat": [54.0, 54.1], "lon": [-3.0, -2.8], "hours": [100.0, 400.0]})
    chart = bubble_map(frame, "lat", "lon", "hours", spec=SPEC, measure="hours", name="name", outline=GEOJSON)
    trace = chart.figure.data[0]
    assert trace.type == "scattermap" and trace.marker.sizemode == "area"
    assert chart.figure.layout.map.style == BLANK_MAP_STYLE
    assert chart.figure.layout.map.layers[0].type == "line"
    assert chart.alt_text == "Hours is highest in P2 (400) and lowest in P1 (100) across 2 locations."


def test_chart_spec_keeps_its_own_alt_text():
    frame = pl.DataFrame({"ward": ["A"], "people": [10]})
    spec = ChartSpec(**{**SPEC.__dict__, "alt_text": "Written by hand."})
    assert bar_chart(frame, "ward", "people", spec=spec, measure="people").alt_text == "Written by hand."


# --- text alternatives ----------------------------------------------------------------------


def test_describe_extremes_handles_ties_single_rows_and_all_suppressed():
    frame = pl.DataFrame({"ward": ["A", "B"], "n": [5, 5]})
    assert describe_extremes(frame, "ward", "n", measure="people") == "People is 5 in each of the 2 areas shown."
    one = pl.DataFrame({"ward": ["A", "B"], "n": [12, None]})
    assert describe_extremes(one, "ward", "n", measure="people", suppressed=1) == (
        "People is 12 in A; 1 is shown as [c] to protect privacy."
    )
    empty = pl.DataFrame({"ward": ["A"], "n": [None]}, schema={"ward": pl.String, "n": pl.Int64})
    assert describe_extremes(empty, "ward", "n", measure="people", suppressed=1) == (
        "People has no value to show; 1 is shown as [c] to protect privacy."
    )


def test_describe_trend_single_series():
    frame = pl.DataFrame({"m": [date(2025, 1, 1), date(2025, 2, 1)], "v": [1000, 1500]})
    assert describe_trend(frame, "m", "v", measure="hours delivered") == (
        "Hours delivered went from 1,000 in January 2025 to 1,500 in February 2025."
    )
    flat = pl.DataFrame({"m": [date(2025, 1, 1), date(2025, 2, 1)], "v": [1000.2, 999.8]})
    assert describe_trend(flat, "m", "v", measure="hours delivered") == (
        "Hours delivered was 1,000 in both January 2025 and February 2025."  # never "went from 1,000 to 1,000"
    )


# --- formatting -----------------------------------------------------------------------------


def test_number_formatting():
    assert fmt_int(1234567) == "1,234,567"
    assert fmt_int(0) == "0"
    assert fmt_int(-1234) == "-1,234"
    assert fmt_int(None) == "[x]"
    assert fmt_int(float("nan")) == "[x]"
    assert fmt_number(-0.04, 1) == "0.0"
    assert fmt_hours(1234.56) == "1,234.6 hours"
    assert fmt_hours(1, 0) == "1 hour"
    assert fmt_hours(14.38, unit=False) == "14.4"
    assert fmt_pct(95.23) == "95.2%"
    assert fmt_pct(10, 0) == "10%"
    assert fmt_gbp(24.1) == "£24.10"
    assert fmt_gbp(1500000, 0) == "£1,500,000"
    assert fmt_gbp(-5) == "-£5.00"
    assert fmt_gbp(-0.001) == "£0.00"


def test_date_formatting():
    assert fmt_month(date(2025, 3, 14)) == "March 2025"
    assert fmt_date(date(2026, 10, 31)) == "31 October 2026"
    assert fmt_date(datetime(2025, 3, 1, 12, 0)) == "1 March 2025"
    assert fmt_date(None) == "[x]"
    assert fmt_month_range(date(2025, 1, 1), date(2025, 3, 1)) == "January to March 2025"
    assert fmt_month_range(date(2024, 11, 1), date(2025, 1, 1)) == "November 2024 to January 2025"
    assert fmt_month_range(date(2025, 3, 1), date(2025, 3, 31)) == "March 2025"
