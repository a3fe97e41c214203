"""Publication mode's tiles, sentences and split tables: only published figures, judged together.

On the demo store: a locality's headline frame published with ``publish_headline`` (people rounded
or ``[c]``, hours and waits hidden with their people), its change sentences quoting only those
figures, the pack summary, and the Rural gaps split table published cell by cell.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from analytics.briefing.pack import resolve_filters
from analytics.briefing.summary import headline_frame, overview_view, summary
from analytics.publish.publication import publish_headline, publish_split
from analytics.views import overview, rural


@pytest.fixture(scope="module")
def cur(demo_store):
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(demo_store)
    yield market_cursor(con)
    con.close()


def test_hours_and_waits_of_hidden_people_are_hidden_too():
    frame = pl.DataFrame(
        {
            "month": [1, 2, 3],
            "people_waiting": [5, 28, 20],
            "hours_waiting": [40.0, 300.0, 210.0],
            "median_wait_days": [12.0, 20.0, 18.0],
            "people_in_service": [300, 301, 302],
            "planned_hours_per_week": [4000.0, 4010.0, 4020.0],
        }
    )
    out = publish_headline(frame).values
    assert out["people_waiting"].to_list() == [None, 30, 20]
    assert out["hours_waiting"].to_list() == [None, 300.0, 210.0]
    assert out["median_wait_days"].to_list() == [None, 20.0, 18.0]
    assert out["people_in_service"].to_list() == [300, 300, 300]


def test_change_sentences_in_publication_mode_quote_only_rounded_counts(cur):
    for locality in ("North Coast", "Fellside", "Riverside"):
        filters = resolve_filters(cur, locality=locality)
        raw = overview.monthly_headline(cur, filters)
        view = overview_view(cur, filters, True)
        published = headline_frame(cur, filters, published=True)
        for sentence in view.sentences:
            if sentence.startswith(("People waiting", "People receiving care")):
                text = re.sub(r"\b(19|20)\d\d\b|\([^)]*\)", "", sentence)  # years and the relative change
                numbers = [int(n.replace(",", "")) for n in re.findall(r"(?<![\d.])\d[\d,]*(?![\d.%])", text)]
                assert numbers and all(n % 5 == 0 for n in numbers), sentence
        for tile in view.tiles:
            if tile.indicator_id in ("people_waiting", "people_in_service") and tile.value is not None:
                assert tile.value % 5 == 0, tile
        assert published.height == raw.height


def test_the_pack_summary_has_tiles_messages_and_published_figures(cur):
    filters = resolve_filters(cur, locality="North Coast")
    s = summary(cur, filters, headlines=("Hours waiting fell", "Rural areas wait longer"))
    assert 6 <= len(s.tiles) <= 8 and 3 <= len(s.messages) <= 6
    people = next(t for t in s.tiles if t.indicator_id == "people_waiting")
    assert people.text == "[c]" or people.value % 5 == 0
    if people.text == "[c]":
        hours = next(t for t in s.tiles if t.indicator_id == "hours_waiting")
        assert hours.text == "[c]"
    assert s.scope.startswith("North Coast locality")


def test_the_rural_split_table_is_published_cell_by_cell(cur):
    from ui.modes import RURAL_SPLIT_KINDS

    for locality in (None, "North Coast"):
        filters = resolve_filters(cur, locality=locality)
        split = rural.split(cur, filters)
        out = publish_split(split, RURAL_SPLIT_KINDS, key="measure_id", columns=list(rural.CLASSES), total="total")
        rows = {r["measure_id"]: r for r in out.iter_rows(named=True)}
        for c in (*rural.CLASSES, "total"):
            people = rows["people_waiting"]
            value = people[c]
            assert value is None or value == 0 or (value >= 8 and value % 5 == 0)
            if people[f"{c}_suppressed"]:
                assert rows["hours_waiting"][f"{c}_suppressed"], "hours of hidden people are hidden"
            raw_people = split.filter(pl.col("measure_id") == "people_waiting")[c][0]
            median_hidden = rows["median_wait_days"][f"{c}_suppressed"]
            assert median_hidden == (raw_people is not None and 0 < raw_people < 8)
        hidden = [c for c in rural.CLASSES if rows["people_waiting"][f"{c}_suppressed"]]
        assert len(hidden) != 1 or rows["people_waiting"]["total_suppressed"], "a total would reveal one"


def test_overview_in_presentation_mode_is_the_summary_and_the_pack_page_asks_the_audience(app):
    app.query_params["present"] = "1"
    app.query_params["locality"] = "North Coast"
    app.run()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert len(labels) == 8 and "People waiting" in labels and "Largest provider's share" in labels
    assert any(h.value == "Key messages" for h in app.subheader)
    assert not app.get("plotly_chart"), "one screen: tiles and messages, no trend charts"
    app.toggle(key="publication_mode").set_value(True).run()
    values = {m.label: m.value for m in app.metric}
    waiting = values["People waiting"]
    assert waiting == "[c]" or int(waiting.replace(",", "")) % 5 == 0
    app.switch_page("pages/briefing.py").run()
    assert not app.exception
    radio = app.radio(key="briefing_audience")
    assert radio.label == "Who is the pack for?" and radio.value == "public"
    assert list(radio.options)[0].startswith("Public")
