"""Publication mode: small counts of people are protected in a chart's table, figure and words.

Hand-made frames (values worked out by hand) for the rule's edges; then every registered chart on
the demo council, whole council and one locality; then the Streamlit switch on a small harness app.
No browser is needed here.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest

from analytics.briefing import registry as chart_registry
from analytics.briefing.pack import plotted_columns
from analytics.publish.charts import ChartSpec, bar_chart, choropleth_map, line_chart
from analytics.publish.publication import (
    derived_columns,
    is_council_level,
    person_count_columns,
    publish,
    small_counts,
)
from analytics.publish.suppression import Suppressed, rule, suppression_rule_text
from analytics.views.filters import Filters

AS_OF = date(2026, 10, 31)
RAW_SMALL = (1, 2, 3, 4, 5, 6, 7)


def spec(id: str, title: str, subtitle: str) -> ChartSpec:
    return ChartSpec(id=id, title=title, subtitle=subtitle, source="Council data drop", as_of=AS_OF, synthetic=True)


def wards() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ward": ["Abbey", "Brook", "Castle", "Dale"],
            "people_waiting": [0, 3, 12, 40],
            "hours_waiting": [0.0, 10.5, 30.0, 100.0],
        }
    )


def ward_chart(title: str = "Dale has the most people waiting") -> ChartSpec:
    base = spec("waiting-by-ward", title, "People waiting for care, by ward, Fellside locality, October 2026")
    return bar_chart(wards(), "ward", "people_waiting", spec=base, measure="the number of people waiting")


def bar_values(fig: go.Figure) -> list[list]:
    return [list(t.y) for t in fig.data if t.type == "bar"]


def drawn_traces(fig: go.Figure) -> go.Figure:
    """The traces that draw values (not the text-only [c] labels)."""
    return go.Figure([t for t in fig.data if getattr(t, "mode", None) != "text"])


def numbers_in(fig: go.Figure) -> list[float]:
    """Every number drawn by a trace (bars, lines, map values), as floats."""
    out = []
    for t in fig.data:
        for attr in ("x", "y", "z"):
            values = getattr(t, attr, None)
            if values is not None and not isinstance(values, str):
                out += [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return out


# --- which columns -----------------------------------------------------------------------------


def test_person_count_columns_follow_the_naming_convention_and_leave_providers_alone():
    frame = pl.DataFrame(
        {
            "area": ["A"],
            "people_waiting": [1],
            "microenterprise_customers": [1],
            "requests_sourced": [1],
            "packages_active": [1],
            "providers_active": [1],
            "customers_per_microenterprise": [1.0],
            "people_share_pct": [1.0],
            "hours_waiting": [1.0],
        }
    )
    assert person_count_columns(frame) == [
        "people_waiting",
        "microenterprise_customers",
        "requests_sourced",
        "packages_active",
    ]


def test_catalogue_flags_name_a_generic_value_column_as_a_count():
    frame = pl.DataFrame({"ward": ["A", "B"], "value": [3, 20]})
    assert person_count_columns(frame) == []
    assert person_count_columns(frame, ["people_waiting"]) == ["value"]
    assert person_count_columns(frame, ["providers_active"]) == []


def test_derived_columns_rest_on_the_count_sharing_a_word():
    frame = pl.DataFrame(
        {
            "ward": ["A"],
            "people_waiting": [1],
            "requests_sourced": [1],
            "hours_waiting": [1.0],
            "median_wait_days": [1.0],
            "sourced_within_28_days_pct": [1.0],
            "providers_active": [1],
        }
    )
    counts = person_count_columns(frame)
    assert derived_columns(frame, counts) == {
        "hours_waiting": "people_waiting",
        "median_wait_days": "people_waiting",
        "sourced_within_28_days_pct": "requests_sourced",
    }


def test_council_level_needs_the_whole_council_and_no_split():
    trend = pl.DataFrame({"month": [AS_OF], "people_waiting": [3]})
    council = replace(spec("t", "T", "People waiting, whole council, October 2026"), data=trend)
    locality = replace(council, subtitle="People waiting, Fellside locality, October 2026")
    split = replace(council, data=pl.DataFrame({"area_type": ["Rural"], "people_waiting": [3]}))
    by_statistic = replace(council, data=pl.DataFrame({"statistic": ["Median"], "people_waiting": [3]}))
    assert is_council_level(council)
    assert not is_council_level(locality)
    assert not is_council_level(split)
    assert is_council_level(by_statistic)


# --- the table and the figure ------------------------------------------------------------------


def test_small_counts_show_c_in_the_table_and_are_never_drawn_as_zero():
    published = publish(ward_chart())
    assert isinstance(published.data, Suppressed)
    table = published.table
    # 3 is hidden; 12 is hidden too (with the council total, one [c] could be worked out); 40 stays.
    assert table["people_waiting"].to_list() == ["0", "[c]", "[c]", "40"]
    assert table["hours_waiting"].to_list() == ["0.0", "[c]", "[c]", "100.0"]
    assert small_counts(published.data) == []
    # The bars: the true zero stays 0, hidden bars are missing (None), never 0.
    assert bar_values(published.figure) == [[0, None, None, 40]]
    markers = [t for t in published.figure.data if t.type == "scatter" and t.mode == "text"]
    assert len(markers) == 1 and list(markers[0].x) == ["Brook", "Castle"] and set(markers[0].text) == {"[c]"}
    assert list(markers[0].y) == [0, 0]  # the label sits at the axis; no bar is drawn there
    drawn = numbers_in(drawn_traces(published.figure))
    assert 3 not in drawn and 12 not in drawn
    hover = [h for t in published.figure.data if t.type == "bar" for h in t.hovertext]
    assert hover[1].endswith("[c]") and hover[2].endswith("[c]")
    assert published.suppression_note == suppression_rule_text()
    assert suppression_rule_text().rstrip(".").split(" (")[0][1:] in published.footnote


def test_rounding_reaches_labels_hover_and_text_alternative():
    frame = pl.DataFrame({"ward": ["Abbey", "Brook"], "people_waiting": [12, 43]})
    base = spec("w", "Brook has 43 people waiting", "People waiting, by ward, Fellside locality, October 2026")
    chart = bar_chart(frame, "ward", "people_waiting", spec=base, measure="the number of people waiting")
    published = publish(chart)
    assert bar_values(published.figure) == [[10, 45]]
    bar = published.figure.data[0]
    assert list(bar.text) == ["10", "45"]
    assert bar.hovertext[1].endswith(": 45")
    assert "43" not in published.alt_text and "12" not in published.alt_text
    assert "45" in published.alt_text
    assert "43" not in published.title  # the headline quoted a figure no longer shown


def test_a_headline_quoting_a_hidden_figure_is_replaced():
    published = publish(ward_chart("Castle has 12 people waiting"))
    assert "12" not in published.title
    assert published.figure.layout.title.text == published.title
    for raw in ("12", " 3 ", "(3)"):
        assert raw not in published.alt_text
    assert "2 are shown as [c]" in published.alt_text


def test_a_locality_trend_has_gaps_not_zeros():
    months = [date(2026, m, 28) for m in range(1, 7)]
    frame = pl.DataFrame({"month": months, "people_waiting": [9, 5, 0, 12, 2, 20]})
    base = spec("trend", "People waiting", "People waiting, Fellside locality, January to June 2026")
    published = publish(line_chart(frame, "month", "people_waiting", spec=base, measure="people waiting"))
    line = published.figure.data[0]
    assert list(line.y) == [10, None, 0, 10, None, 20]
    assert line.connectgaps is False
    assert published.table["people_waiting"].to_list() == ["10", "[c]", "0", "10", "[c]", "20"]


def test_the_whole_council_is_left_alone():
    months = [date(2026, m, 28) for m in range(1, 4)]
    frame = pl.DataFrame({"month": months, "people_waiting": [3, 5, 7]})
    base = spec("trend", "People waiting", "People waiting, whole council, January to March 2026")
    chart = line_chart(frame, "month", "people_waiting", spec=base, measure="people waiting")
    published = publish(chart)
    assert published.data is chart.data  # the numbers are left alone...
    assert list(published.figure.data[0].y) == [3, 5, 7]
    # ...and the footnote still says which rule the chart was checked against.
    footnote = next(a.text for a in published.figure.layout.annotations if a.name == "footnote")
    assert "below council level, so none is needed" in footnote.replace("<br>", " ")
    assert list(publish(chart, council_level=False).figure.data[0].y) == [None, None, None]


def test_a_hidden_map_area_turns_grey_and_leaves_the_shaded_layer():
    square = lambda x: [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]  # noqa: E731
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": c}, "geometry": {"type": "Polygon", "coordinates": square(i)}}
            for i, c in enumerate(["W1", "W2", "W3"])
        ],
    }
    frame = pl.DataFrame({"code": ["W1", "W2", "W3"], "ward": ["A", "B", "C"], "people_waiting": [4, 30, 16]})
    base = spec("map", "B has the most", "People waiting, by ward, Fellside locality, October 2026")
    chart = choropleth_map(geojson, frame, "code", "people_waiting", spec=base, measure="people waiting", name="ward")
    published = publish(chart)
    shaded, grey = published.figure.data[0], published.figure.data[-1]
    assert list(shaded.locations) == ["W2", "W3"] and list(shaded.z) == [30, 15]
    assert list(grey.locations) == ["W1"] and grey.showscale is False
    assert "[c]" in grey.hovertext[0]
    assert 4 not in numbers_in(published.figure) and 16 not in numbers_in(published.figure)


def test_a_chart_type_that_cannot_be_patched_is_withheld():
    frame = pl.DataFrame({"ward": ["A", "B"], "people_waiting": [3, 30]})
    fig = go.Figure(go.Heatmap(z=[[3, 30]], x=["A", "B"], y=["people"]))
    base = replace(spec("heat", "Heat", "People waiting, by ward, Fellside locality, October 2026"), data=frame)
    base = replace(base, figure=base.style(fig))
    published = publish(base)
    assert not any(t.type == "heatmap" for t in published.figure.data)
    assert "cannot hide small numbers" in published.figure.layout.annotations[0].text
    assert published.table["people_waiting"].to_list() == ["[c]", "[c]"]  # 30 hidden too: secondary


def test_already_suppressed_data_is_kept_and_the_rule_stated():
    from analytics.publish.suppression import suppress

    data = suppress(wards(), count_cols=["people_waiting"])
    base = spec("w", "T", "People waiting, by ward, Fellside locality, October 2026")
    chart = bar_chart(data, "ward", "people_waiting", spec=replace(base, suppression_note=None), measure="people")
    published = publish(chart)
    assert published.data is data
    assert published.suppression_note


# --- every registered chart on the demo council ------------------------------------------------


@pytest.fixture(scope="module")
def cur(demo_store: Path):
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    yield market_cursor(con)
    con.close()


@pytest.fixture(scope="module")
def filters(cur) -> Filters:
    from analytics.briefing.pack import resolve_filters

    return resolve_filters(cur)


def test_chart_ids_are_stable_slugs_and_unique():
    ids = chart_registry.chart_ids()
    assert len(ids) == len(set(ids)) >= 30
    for chart_id in ids:
        assert chart_id == chart_id.lower() and " " not in chart_id and "_" not in chart_id
    for expected in ("waiting-people", "coverage-map-people-waiting", "rural-waits", "exit-map", "fees-gap-cost"):
        assert expected in ids


def test_every_chart_is_the_figure_plotly_validation_would_store(cur, filters):
    """Figures are built without Plotly's per-property validation (``new_figure``, ``merge_layout``,
    for speed): every registered chart, as drawn and as published, must hold exactly what a validated
    copy holds (no bare-string title, no unknown property), so browsers and pictures get the same JSON."""
    for chart_id in chart_registry.chart_ids():
        spec = chart_registry.build(cur, chart_id, filters)
        published = chart_registry.publish_spec(cur, chart_id, spec, filters)
        for figure in (spec.figure, published.figure):
            if figure is not None:
                shown = json.loads(pio.to_json(figure))
                assert shown == json.loads(pio.to_json(go.Figure(figure.to_dict()))), chart_id


@pytest.mark.parametrize("locality", [None, "Fellside"])
def test_every_chart_builds_and_publishes_without_small_counts(cur, filters, locality):
    chosen = replace(filters, locality=locality)
    for chart_id in chart_registry.chart_ids():
        entry = chart_registry.entry(chart_id)
        spec = chart_registry.build(cur, chart_id, chosen)
        assert spec.id == entry.view_id, chart_id
        published = chart_registry.publish_spec(cur, chart_id, spec, chosen)
        if isinstance(published.data, Suppressed):
            assert small_counts(published.data) == [], chart_id
            raw = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
            if published.figure is None:
                continue
            drawn = set(numbers_in(drawn_traces(published.figure)))
            shown = {
                float(v)
                for c, t in published.data.values.schema.items()
                if t.is_numeric()
                for v in published.data.values[c].to_list()
                if v is not None
            }
            for c in set(published.data.count_cols) & set(plotted_columns(published)) & set(raw.columns):
                flags = published.data.values[f"{c}_suppressed"].to_list()
                hidden = {float(v) for v, h in zip(raw[c].to_list(), flags, strict=True) if h and v}
                # A hidden count is never drawn (nor its 0 in its place: true zeros are not hidden).
                assert not (hidden & drawn) - shown, (chart_id, c)
        elif not entry.council_level(chosen):
            assert not person_count_columns(published.data, entry.indicator_ids), chart_id


def test_resolve_finds_the_variant_and_the_page_choices():
    entry, params = chart_registry.resolve("coverage-map", {"coverage_measure": "people_waiting"})
    assert entry.id == "coverage-map-people-waiting" and params == {}
    entry, params = chart_registry.resolve("coverage-map", {})
    assert entry.id == "coverage-map"
    entry, params = chart_registry.resolve("exit-map", {"exit_provider": "P001"})
    assert entry.id == "exit-map" and params == {"provider_id": "P001"}
    assert chart_registry.resolve("not-a-chart", {}) is None
    with pytest.raises(chart_registry.UnknownChart):
        chart_registry.entry("not-a-chart")


# --- the switch in the app ---------------------------------------------------------------------

HARNESS = """
import streamlit as st
from analytics.views import rural
from ui import modes, render, shared

modes.read_url()
shared.sidebar_filters()
modes.sidebar_switches()
modes.apply_presentation()
spec = modes.shown(render.cached(rural.wait_chart, shared.current_filters()), ["median_wait_days"])
st.plotly_chart(spec.figure, theme=None, key="chart")
st.caption(spec.alt_text)
render.show_table(spec.table, key="table")
modes.chart_actions(spec)
"""


def test_publication_switch_protects_the_screen_and_presentation_hides_the_buttons(demo_store, tmp_path, monkeypatch):
    import json

    from streamlit.testing.v1 import AppTest

    script = tmp_path / "harness.py"
    script.write_text(textwrap.dedent(HARNESS))
    monkeypatch.setenv("MARKET_DATA_DIR", str(demo_store))
    at = AppTest.from_file(str(script), default_timeout=60).run()
    assert not at.exception
    raw = at.dataframe[0].value
    small = raw[(raw["people_waiting"] > 0) & (raw["people_waiting"] < rule().threshold)]
    assert len(small), "the demo council should have a small count on this chart"
    at.toggle(key="publication_mode").set_value(True).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown.loc[small.index, "people_waiting"]) == {"[c]"}
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [t for t in figure["data"] if t["type"] == "bar"]
    assert any(t.get("text") and "[c]" in t["text"] for t in figure["data"] if t["type"] == "scatter")
    for bar in bars:
        assert "" in bar["text"]  # the hidden bars carry no value label
    assert "[c]" in at.caption[0].value
    # "Add to briefing" stores (chart id, filters) and survives reruns.
    at.button(key="brief_rural-waits").click().run()
    assert [i.chart_id for i in at.session_state["briefing_items"]] == ["rural-waits"]
    # Presentation mode: no action buttons, an exit button, ?present=1 in the address.
    at.toggle(key="presentation_mode").set_value(True).run()
    labels = [b.label for b in at.button]
    assert "Exit presentation" in labels and "Remove from briefing" not in labels
    assert at.query_params.get("present") in ("1", ["1"])
    at.button[labels.index("Exit presentation")].click().run()
    assert at.session_state["presentation_mode"] is False


def test_present_in_the_address_starts_presentation_mode(demo_store, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    script = tmp_path / "harness.py"
    script.write_text(textwrap.dedent(HARNESS))
    monkeypatch.setenv("MARKET_DATA_DIR", str(demo_store))
    at = AppTest.from_file(str(script), default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    assert at.session_state["presentation_mode"] is True
    assert "Exit presentation" in [b.label for b in at.button]


DEFERRED = """
import threading

import streamlit as st
from analytics.views import rural
from ui import modes, render, shared

shared.sidebar_filters()
modes.sidebar_switches()
spec = render.cached(rural.wait_chart, shared.current_filters())
modes.chart_actions(spec)  # draws the download buttons
st.session_state["after_buttons"] = [k for k in modes._cache if k[0] == "published"]
later = modes._publishing(spec)  # what a download's maker runs on Streamlit's download thread
done = {}
worker = threading.Thread(target=lambda: done.update(spec=later(modes._own_cursor)))
worker.start()
worker.join()
st.session_state["from_thread"] = done["spec"]
modes._cache.clear()
st.session_state["in_run"] = modes.published(spec)
"""


def test_download_buttons_publish_on_click_on_their_own_thread(demo_store, tmp_path, monkeypatch):
    """Drawing a chart's download buttons publishes nothing (it was 40% of a page run on a filter
    change); the click's maker publishes on a thread with no session and gets what the page would."""
    import json

    from streamlit.testing.v1 import AppTest

    from ui import modes

    modes._cache.clear()
    script = tmp_path / "deferred.py"
    script.write_text(textwrap.dedent(DEFERRED))
    monkeypatch.setenv("MARKET_DATA_DIR", str(demo_store))
    at = AppTest.from_file(str(script), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["after_buttons"] == []
    thread, run = at.session_state["from_thread"], at.session_state["in_run"]
    assert thread.title == run.title and thread.table.equals(run.table)
    assert json.loads(thread.figure.to_json()) == json.loads(run.figure.to_json())
    assert "[c]" in str(thread.table.to_dicts())  # the demo's waits by RUC class hide a small count
