"""Tests of the page views (overview, coverage, providers, microenterprises) and their shared pieces.

Small hand-made frames with expected values worked out by hand, plus checks on the demo store that
the views agree with the marts they read.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from analytics.formatting import fmt_pct
from analytics.indicators.marts import read_mart
from analytics.store import snapshots as store
from analytics.views import common, coverage, microenterprises, overview, providers
from analytics.views.common import DropInfo
from analytics.views.filters import Filters

ROOT = Path(__file__).resolve().parents[1]
INFO = DropInfo(as_of=date(2026, 10, 31), synthetic=True)
OCT, SEP = date(2026, 10, 31), date(2026, 9, 30)
COUNCIL = Filters(month=OCT)
FELLSIDE = Filters(month=OCT, locality="Fellside")


@pytest.fixture(scope="module")
def cur(demo_store: Path):
    """A cursor on the demo store's live snapshot."""
    return store.market_cursor(store.open_live(demo_store))


# --- common -------------------------------------------------------------------------------------


def test_change_sentence_states_the_move() -> None:
    assert common.change_sentence("People waiting", 81, 64, SEP) == (
        "People waiting: 81, up from 64 in September 2026 (+26.6%)."
    )
    assert common.change_sentence("People waiting", 48, 64, SEP) == (
        "People waiting: 48, down from 64 in September 2026 (-25.0%)."
    )
    assert "about the same as in September 2026 (64)" in common.change_sentence("People waiting", 65, 64, SEP)
    assert common.change_sentence("People waiting", None, 64, SEP) is None


def test_change_text_signs_and_missing() -> None:
    assert common.change_text(81, 64) == "+17 (+26.6%)"
    assert common.change_text(60, 64) == "-4 (-6.2%)"
    assert common.change_text(64, 64) == "no change"
    assert common.change_text(10.02, 10.0, common.fmt_points, percent=False) == "no change"  # prints 0.0
    assert common.change_text(8.341, 8.339, lambda v: f"£{v:.2f}") == "no change"
    assert common.change_text(12.5, 10.0, common.fmt_points, percent=False) == "+2.5 percentage points"
    assert common.change_text(None, 3) is None
    assert common.change_text(5, 0) == "+5"  # no relative change from zero


def test_month_offsets() -> None:
    months = [date(2025, m, 28) for m in range(1, 13)] + [date(2026, 1, 31)]
    assert common.month_offsets(months, date(2026, 1, 31)) == (date(2025, 12, 28), date(2025, 1, 28))
    assert common.month_offsets(months, date(2025, 1, 28)) == (None, None)
    assert common.month_offsets(months, date(2030, 1, 1)) == (None, None)


def test_make_tile_rag_and_direction() -> None:
    tile = common.make_tile(
        "Median days waited", 35, indicator_id="median_wait_days", last_month=22, higher_is_worse=True
    )
    assert tile.rag == "red"  # above wait_median_red_days (28)
    assert tile.delta_colour == "inverse"
    assert tile.delta_month == "+13 (+59.1%)" and tile.delta_year is None
    assert tile.help  # the catalogue definition
    assert common.make_tile("Unknown", 3, indicator_id="not_in_catalogue").rag is None


def test_ignored_note_names_the_filters() -> None:
    filters = Filters(month=OCT, client_group="older_people", funding="council")
    note = common.ignored_note(filters, supported=("locality", "service_type"))
    assert note and "client group and funding filters" in note
    assert common.ignored_note(COUNCIL, supported=("locality", "service_type")) is None


# --- overview -----------------------------------------------------------------------------------


def headline_frame(**changes: tuple[float, float]) -> pl.DataFrame:
    """Two months of every overview measure: 100 then 100, except ``column=(before, now)``."""
    data = {"month": [SEP, OCT]}
    for m in overview.MEASURES:
        data[m.column] = [float(v) for v in changes.get(m.column, (100, 100))]
    return pl.DataFrame(data)


def test_overview_sentences_reflect_a_constructed_change() -> None:
    frame = headline_frame(people_waiting=(64, 81), planned_hours_per_week=(1000, 1010))
    sentences = overview.change_sentences(frame, OCT)
    assert sentences == ["People waiting: 81, up from 64 in September 2026 (+26.6%)."]


def test_overview_sentences_biggest_move_first_and_flat_month() -> None:
    frame = headline_frame(people_waiting=(64, 81), providers_active=(50, 40))
    assert overview.change_sentences(frame, OCT) == [
        "People waiting: 81, up from 64 in September 2026 (+26.6%).",
        "Active providers: 40, down from 50 in September 2026 (-20.0%).",
    ]
    flat = overview.change_sentences(headline_frame(), OCT)
    assert flat == ["No headline measure moved by 5% or more since September 2026."]
    first = overview.change_sentences(headline_frame(), SEP)
    assert "no month before September 2026" in first[0]


def test_overview_tiles_from_a_constructed_frame() -> None:
    tiles = {t.label: t for t in overview.tiles(headline_frame(people_waiting=(64, 81), hhi=(900, 2100)), OCT)}
    assert tiles["People waiting"].text == "81"
    assert tiles["People waiting"].delta_month == "+17 (+26.6%)"
    assert tiles["Market concentration (HHI)"].rag == "red"  # above hhi_highly_concentrated (2,000)


def test_overview_trend_titles_state_the_finding() -> None:
    months = [date(2025, 10, 31)] + [date(2026, m, 28) for m in range(1, 10)] + [date(2026, 10, 31)]
    months = sorted({*months, date(2025, 11, 30), date(2025, 12, 31)})
    frame = pl.DataFrame(
        {
            "month": months,
            "people_waiting": [float(50 + i * 5) for i in range(len(months))],  # 50 to 110
            "planned_hours_per_week": [1000.0] * len(months),
        }
    )
    panels = overview.trend_charts(frame, COUNCIL, INFO)
    titles = [p.spec.title for p in panels]
    assert titles[0] == "People waiting: 110, up from 50 in Oct 2025"
    assert titles[1] == "Planned hours: 1,000, about the same as in Oct 2025 (1,000)"
    assert "whole council" in panels[0].spec.subtitle and "to October 2026" in panels[0].spec.subtitle


def test_overview_on_demo_store_follows_locality(cur) -> None:
    whole = overview.overview(cur, COUNCIL)
    local = overview.overview(cur, FELLSIDE)
    values = {t.label: t.value for t in whole.tiles}
    local_values = {t.label: t.value for t in local.tiles}
    assert values["People receiving care"] > local_values["People receiving care"] > 0
    supply = read_mart(
        cur, "mart_supply_summary_month", geography_level="locality", geography="Fellside", service_type="home_care"
    ).filter(pl.col("month") == OCT)
    assert local_values["People receiving care"] == supply["people_in_service"][0]
    assert whole.month_label == "September 2026" and whole.year_label == "October 2025"
    assert all(p.spec.figure is not None for p in whole.charts)


def test_overview_planned_hours_follow_supply_only_filters(cur) -> None:
    sliced = Filters(month=OCT, funding="direct_payment", provider_type="agency")
    view = overview.overview(cur, sliced)
    supply = read_mart(
        cur, "mart_supply_month", month=OCT, service_type="home_care", funding="direct_payment", provider_type="agency"
    )
    hours = {t.label: t.value for t in view.tiles}["Planned hours a week"]
    assert hours == pytest.approx(supply["planned_hours_per_week"].sum())
    assert any("funding and provider type filters apply to planned hours" in n for n in view.notes)
    assert "direct payment, agency" in view.charts[1].spec.subtitle


# --- coverage -----------------------------------------------------------------------------------


def areas(n: int = 4, *, centroids: bool = True) -> pl.DataFrame:
    """``n`` areas; the first has demand and 1 provider (thin); people waiting 3, 10, 20, 30."""
    waiting = [3, 10, 20, 30][:n]
    return pl.DataFrame(
        {
            "area_code": [f"A{i}" for i in range(n)],
            "area_name": [f"Area {chr(65 + i)}" for i in range(n)],
            "locality": ["North"] * n,
            "rural_class": ["rural", "urban", "urban", "rural"][:n],
            "providers_active": [1, 4, 6, 8][:n],
            "people_in_service": [20, 40, 60, 80][:n],
            "planned_hours_per_week": [200.0, 400.0, 600.0, 800.0][:n],
            "hours_per_1000_65_plus": [100.0, 200.0, 300.0, 400.0][:n],
            "people_waiting": waiting,
            "hours_waiting": [float(w * 10) for w in waiting],
            "microenterprise_customers": [0, 9, 0, 12][:n],
            "has_demand": [True] * n,
            "under_min_providers": [True, False, False, False][:n],
            "thin": [True, False, False, False][:n],
            "latitude": [54.5 + i / 10 if centroids else None for i in range(n)],
            "longitude": [-3.0 + i / 10 if centroids else None for i in range(n)],
        },
        schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64},
    )


def square(code: str, x: float) -> dict:
    ring = [[x, 54.0], [x + 0.1, 54.0], [x + 0.1, 54.1], [x, 54.1], [x, 54.0]]
    return {
        "type": "Feature",
        "properties": {"area_code": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


GEOJSON = {"type": "FeatureCollection", "features": [square(f"A{i}", -3 + i / 10) for i in range(4)]}


def test_coverage_map_choropleth_with_boundaries() -> None:
    chart = coverage.coverage_map(areas(), COUNCIL, "providers", INFO, GEOJSON)
    assert chart.figure.data[0].type == "choroplethmap"
    assert chart.title == "Area A has fewer than 2 providers"
    assert any(t.name == "Demand but fewer than 2 providers" for t in chart.figure.data)
    assert "Area A is outlined" in chart.alt_text


def test_coverage_map_falls_back_to_bubbles_without_boundaries() -> None:
    chart = coverage.coverage_map(areas(), COUNCIL, "people_waiting", INFO, None)
    assert {t.type for t in chart.figure.data} == {"scattermap"}
    # 3 is hidden ([c]); the title never reveals it and names the largest shown count (30).
    assert chart.title == "Area D has the most people waiting: 30"
    assert any(t.name == "Not shown ([c] or [x])" for t in chart.figure.data)


def test_coverage_map_note_without_centroids() -> None:
    chart = coverage.coverage_map(areas(centroids=False), COUNCIL, "providers", INFO, None)
    assert chart.figure is None
    assert "no area boundaries and no area centroids" in chart.alt_text


def test_coverage_title_never_reveals_a_hidden_count() -> None:
    small = areas().with_columns(pl.Series("people_waiting", [3, 2, 1, 0]))
    chart = coverage.coverage_map(small, COUNCIL, "people_waiting", INFO, None)
    assert chart.title == "3 of 4 areas have people waiting; counts too small to show by area"


def test_coverage_area_table_thin_first_and_suppressed() -> None:
    table = coverage.area_table(areas().reverse())
    assert table["Area"][0] == "Area A"
    assert table["Demand and under 2 providers"].to_list() == ["Yes", "No", "No", "No"]
    assert table["People waiting"][0] == "[c]"  # 3 people
    assert table["Hours a week waiting"][0] == "[c]"  # hidden with the count it rests on


def test_coverage_on_demo_store(cur) -> None:
    view = coverage.coverage(cur, COUNCIL, "providers")
    mart = read_mart(cur, "mart_coverage_month", geography_level="council", month=OCT, service_type="home_care")
    assert view.map.spec.title.startswith(f"{mart['areas_under_min_providers'][0]} of ")
    assert view.table.height == 30
    assert view.map.spec.figure is not None


def test_coverage_never_counts_areas_with_demand_it_cannot_tell(no_waiting_list_store: Path) -> None:
    """No waiting list: which areas have demand is unknown, so no "0 of 0 areas with demand" and no "Every
    area with demand has at least 2 providers"; a month before the data: no area figures, said so."""
    cur = store.market_cursor(store.open_live(no_waiting_list_store))
    view = coverage.coverage(cur, COUNCIL, "providers")
    assert view.summary.startswith("Areas with demand can't be counted for October 2026"), view.summary
    frame = coverage.area_frame(cur, COUNCIL)
    few = frame.filter(pl.col("providers_active") < 2).height
    assert view.map.spec.title.startswith(f"{few} of {frame.height} areas have fewer than 2 providers")
    assert view.table.get_column("Demand and under 2 providers").null_count() == view.table.height  # blank, not "No"
    before = coverage.coverage(cur, Filters(month=date(2025, 10, 31)), "providers")
    assert before.summary == "No area figures for October 2025: the drop's data does not cover that month."
    assert before.map.spec.title == "No area figures for this month" and before.table.is_empty()


def test_coverage_with_no_demand_anywhere_says_so() -> None:
    """Every area known to have no one in care or waiting: no "0 of 0 areas with demand", no "Every area
    with demand has at least 2 providers" (found by tests/fuzz_councils.py on a single provider whose
    packages had all ended)."""
    frame = pl.DataFrame(
        {"area_name": ["A", "B"], "has_demand": [False, False], "under_min_providers": [False, False]}
    ).with_columns(thin=pl.lit(False), providers_active=pl.lit(0))
    assert coverage.coverage_summary(frame, COUNCIL) == (
        "No one is in home care or waiting for care in any area at the end of October 2026."
    )
    assert coverage.coverage_summary(frame, FELLSIDE).endswith("in any area of Fellside at the end of October 2026.")
    assert coverage._title(frame, frame, coverage.MEASURES["providers"]) == "No area has anyone in care or waiting"
    some = frame.with_columns(has_demand=pl.Series([True, False]), thin=pl.Series([True, False]))
    assert coverage.coverage_summary(some, COUNCIL).startswith("1 of 1 areas with demand have fewer than 2")


def test_microenterprise_customers_by_area_add_up_to_the_mart(cur) -> None:
    by_area = coverage.area_frame(cur, Filters(month=OCT, service_type=None))
    mart = read_mart(cur, "mart_microenterprise_month", geography_level="locality", month=OCT)
    summed = by_area.group_by("locality").agg(pl.col("microenterprise_customers").sum())
    joined = mart.join(summed, left_on="geography", right_on="locality", suffix="_areas")
    assert (joined["microenterprise_customers"] == joined["microenterprise_customers_areas"]).all()


# --- providers ----------------------------------------------------------------------------------


def test_share_chart_title_names_the_leader() -> None:
    frame = pl.DataFrame({"provider_name": ["Alpha Care", "Beta Care", "Gamma Care"], "share_pct": [50.0, 30.0, 20.0]})
    chart = providers.share_chart(frame, COUNCIL, INFO)
    assert chart.title == "Alpha Care has the largest share: 50.0% of planned hours"
    assert "largest 3 providers have 100.0%" in chart.alt_text


def test_concentration_chart_title_and_bands() -> None:
    frame = pl.DataFrame(
        {
            "area": ["Whole council", "Fellside", "Riverside"],
            "geography_level": ["council", "locality", "locality"],
            "hhi": [900.0, 2480.0, 1200.0],
        }
    )
    chart = providers.concentration_chart(frame, FELLSIDE, INFO)
    assert chart.title == "Fellside has the most concentrated market: HHI 2,480 (highly concentrated)"
    assert {t.name for t in chart.figure.data if t.type == "scatter"} == {
        "Concentrated: HHI above 1,000",
        "Highly concentrated: HHI above 2,000",
    }
    assert "Above 1,000" in providers.band_explanation() and "not a test" in providers.band_explanation()


def test_provider_table_filters_and_suppression() -> None:
    frame = pl.DataFrame(
        {
            **{c: [None, None] for c in providers.TABLE_COLUMNS},
            "rank": [1, 2],
            "provider_name": ["Alpha", "Beta"],
            "provider_type": ["Agency", "Microenterprise"],
            "cqc_rating": ["Good", None],
            "share_pct": [70.0, 30.0],
            "planned_hours_per_week": [700.0, 300.0],
            "people_in_service": [50, 3],
            "handback_packages_12m": [10, 0],
            "handback_hours_12m": [100.0, 0.0],
            "provider_id": ["P1", "P2"],
        }
    )
    assert providers.filter_table(frame, types=["Microenterprise"])["provider_name"].to_list() == ["Beta"]
    assert providers.filter_table(frame, ratings=["Not rated"])["provider_name"].to_list() == ["Beta"]
    table = providers.provider_table(frame)
    assert table["People receiving care"].to_list() == ["50", "[c]"]
    assert providers.table_choices(frame) == (["Agency", "Microenterprise"], ["Good", "Not rated"])


def test_provider_drilldown_on_demo_store(cur) -> None:
    frame = providers.provider_frame(cur, COUNCIL)
    assert frame["share_pct"].sum() == pytest.approx(100.0)
    first, second = list(providers.provider_options(frame))[:2]
    a = providers.provider_trend(cur, COUNCIL, first)
    b = providers.provider_trend(cur, COUNCIL, second)
    assert len(a) == 3 and a[0].spec.subtitle != b[0].spec.subtitle


def test_handbacks_by_month_match_the_mart(cur) -> None:
    months = sorted(
        read_mart(cur, "mart_supply_summary_month", geography_level="council", service_type="all")["month"].to_list()
    )
    mart = read_mart(cur, "mart_handbacks_provider")
    everything = Filters(month=OCT, service_type=None)
    for pid, hours in zip(mart["provider_id"], mart["hours_12m"], strict=True):
        series = providers.handbacks_by_month(cur, pid, everything, months)
        assert series.tail(12)["hours_handed_back"].sum() == pytest.approx(hours)


# --- microenterprises ---------------------------------------------------------------------------


def test_comparators_from_config() -> None:
    refs = microenterprises.comparators()
    assert refs["Westmorland and Furness"] == {"customers_per_me": 3.9, "hours_per_customer": 3.2, "hours_per_me": 12.6}
    assert refs["Cumberland"] == {"customers_per_me": 6.3, "hours_per_customer": 4.5, "hours_per_me": 28.4}


@pytest.mark.parametrize(
    ("value", "words"),
    [(2.0, ", below both comparators"), (5.0, ", between the two comparators"), (7.0, ", above both comparators")],
)
def test_ratio_title_against_comparators(value: float, words: str) -> None:
    frame = pl.DataFrame({"month": [SEP, OCT], "customers_per_microenterprise": [1.0, value]})
    chart = microenterprises.ratio_chart(frame, COUNCIL, INFO, "customers_per_me")
    assert chart.title == f"{value:.1f} customers per microenterprise{words}"
    assert len(chart.figure.layout.shapes) == 2  # a reference line per comparator


def test_comparison_table_rows() -> None:
    frame = pl.DataFrame(
        {
            "month": [OCT],
            "customers_per_microenterprise": [4.44],
            "hours_per_microenterprise_customer": [4.0],
            "hours_per_microenterprise": [17.76],
        }
    )
    table = microenterprises.comparison_table(frame, FELLSIDE)
    assert table["Programme"].to_list() == ["Fellside locality, October 2026", "Westmorland and Furness", "Cumberland"]
    assert table["Customers per microenterprise"].to_list() == [4.4, 3.9, 6.3]


def test_microenterprises_on_demo_store(cur) -> None:
    view = microenterprises.microenterprises(cur, FELLSIDE, "hours_per_me")
    assert "hours a week per microenterprise" in view.ratio.spec.title
    assert "Fellside locality" in view.count.spec.subtitle
    assert view.areas_sentence.endswith("rural.") or view.areas_sentence.startswith("Every area")
    rural_first = view.areas_without["Rural class"].to_list()
    assert rural_first == sorted(rural_first, key=lambda c: c != "rural")


# --- the house rules ----------------------------------------------------------------------------


def test_views_do_not_import_streamlit() -> None:
    for path in (ROOT / "analytics" / "views").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(n.split(".")[0] == "streamlit" for n in names), path.name


@pytest.mark.parametrize("page", ["overview.py", "coverage.py", "market.py", "microenterprises.py"])
def test_pages_are_thin(page: str) -> None:
    text = (ROOT / "pages" / page).read_text(encoding="utf-8")
    tree = ast.parse(text)
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"polars", "duckdb", "pathlib", "analytics.indicators.marts"}, imported
    assert "select " not in text.lower() and "read_mart" not in text


def test_movement_names_the_direction_and_the_change_in_per_cent() -> None:
    assert common.movement(100, 101, steady_pct=2) == ("steady", 1.0)
    assert common.movement(100, 150, steady_pct=2) == ("rose", 50.0)
    assert common.movement(80, 60, steady_pct=5) == ("fell", -25.0)
    assert common.movement(-100, -150, steady_pct=2) == ("fell", -50.0)


def test_no_change_tile_has_no_arrow_and_no_colour() -> None:
    """A change that prints as zero is "no change", grey and without an arrow (sign 0), even in points."""
    pct = common.make_tile("Largest provider's share", 23.84, fmt_pct, indicator_id="cr1_pct", last_month=23.81)
    assert pct.delta_month == "no change" and pct.delta_month_sign == 0
    assert pct.change_colour(pct.delta_month_sign) == "gray"
    waiting_up = common.make_tile("People waiting", 81, indicator_id="people_waiting", last_month=64, last_year=90)
    assert (waiting_up.delta_month_sign, waiting_up.change_colour(1)) == (1, "red")  # good direction: down
    assert (waiting_up.delta_year_sign, waiting_up.change_colour(-1)) == (-1, "green")
    sourced = common.make_tile(
        "Sourced within 28 days", 83.0, lambda v: fmt_pct(v, 0), indicator_id="sourced_within_28_days_pct", last_year=80
    )
    assert sourced.delta_year == "+3.0 percentage points" and sourced.change_colour(1) == "green"
    neutral = common.make_tile("People receiving care", 1870, indicator_id="people_in_service", last_month=1800)
    assert neutral.change_colour(1) == "gray"  # good_direction "none": growth is not good or bad in itself


def test_every_tile_shows_its_unit(cur) -> None:
    """Every tile on the Overview says what it counts, in its label or its value."""
    for tile in overview.overview(cur, COUNCIL).tiles:
        assert tile.unit, tile.label
        assert common.unit_shown(tile.shown_label, tile.text, tile.unit), (tile.shown_label, tile.text, tile.unit)
    hhi = next(t for t in overview.overview(cur, COUNCIL).tiles if t.indicator_id == "hhi")
    assert hhi.shown_label == "Market concentration (HHI, index 0 to 10,000)"


def test_area_suppression_protects_each_locality_total_not_only_the_councils() -> None:
    """The council's areas with one hidden area in each of two localities: the council line has two
    hidden, but each locality's published planned hours (exact) minus its shown areas gave the hidden
    area's hours away (fuzz sweep, a 14% council: 569.5 - 523.0 = 46.5 hours in Skelby Sands). Each
    locality now has a second area hidden, with its hours."""
    frame = pl.DataFrame(
        {
            "area_name": ["A", "B", "C", "D", "E"],
            "locality": ["X", "X", "X", "Y", "Y"],
            "people_in_service": [3, 10, 12, 4, 20],
            "people_waiting": [0, 0, 0, 0, 0],
            "microenterprise_customers": [0, 0, 0, 0, 0],
            "planned_hours_per_week": [30.5, 100.0, 122.5, 40.0, 196.0],
            "hours_per_1000_65_plus": [1.0, 2.0, 3.0, 4.0, 5.0],
            "hours_waiting": [0.0, 0.0, 0.0, 0.0, 0.0],
        }
    )
    values = coverage.suppressed_areas(frame).values
    for column in ("people_in_service", "planned_hours_per_week"):
        hidden = values.group_by("locality").agg(pl.col(f"{column}_suppressed").sum()).sort("locality")
        assert hidden[f"{column}_suppressed"].to_list() == [2, 2], column
    assert values.filter(pl.col("area_name") == "C")["planned_hours_per_week"].item() == 122.5
