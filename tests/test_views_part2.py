"""Views of the second half of the pages: rural gaps, waiting, workforce and fees, provider exit and demand.

Most tests run the view functions on the demo store (``demo_store``) and check them against the
marts they read (the rural split sums to the total, absorbed + uncovered = displaced, titles state the
figure they are about). Title and helper functions are also tested on small hand-made frames.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from analytics.formatting import fmt_gbp, fmt_int, fmt_pct
from analytics.indicators import exit_stress
from analytics.indicators.marts import read_mart
from analytics.indicators.price import WEEKS_PER_YEAR
from analytics.store import snapshots as store
from analytics.views import common, exit_demand, rural, waiting, workforce_fees
from analytics.views.filters import Filters

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def cur(demo_store: Path):
    con = store.open_live(demo_store)
    yield store.market_cursor(con)
    con.close()


@pytest.fixture(scope="module")
def localities(cur) -> list[str]:
    return sorted(read_mart(cur, "mart_rural_gap_month", geography_level="locality")["geography"].unique().to_list())


def council(month: date = AS_OF, **kwargs) -> Filters:
    return Filters(month=month, **kwargs)


# --- shared helpers --------------------------------------------------------------------------------


def test_months_before_steps_back_to_month_ends() -> None:
    assert common.months_before(date(2026, 10, 31), 1) == date(2026, 9, 30)
    assert common.months_before(date(2026, 10, 31), 12) == date(2025, 10, 31)
    assert common.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert common.months_before(date(2026, 1, 31), 1) == date(2025, 12, 31)
    assert common.months_before(date(2026, 10, 17), 0) == date(2026, 10, 31)


def test_geography_is_locality_or_council() -> None:
    assert common.geography(council()) == {"geography_level": "council", "geography": "All"}
    assert common.geography(council(locality="Fellside")) == {"geography_level": "locality", "geography": "Fellside"}


def test_ignored_note_with_covers_names_the_values_of_filters_set_and_unsupported() -> None:
    note = common.ignored_note(council(locality="Fellside", funding="self_funded"), covers=common.EVERY_BREAKDOWN)
    assert note == (
        "These figures ignore the service type (Home care) and funding (Self funded) filters: "
        f"they cover {common.EVERY_BREAKDOWN}."
    )
    assert common.ignored_note(council(service_type=None), covers="all") is None
    assert common.ignored_note(council(), supported=("locality", "service_type"), covers="all") is None


def test_value_at_reads_none_for_a_missing_month() -> None:
    frame = pl.DataFrame({"month": [date(2026, 9, 30)], "x": [1.5]})
    assert common.value_at(frame, "x", date(2026, 9, 30)) == 1.5
    assert common.value_at(frame, "x", date(2026, 10, 31)) is None


# --- rural gaps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locality", [None, "Fellside", "Riverside"])
def test_rural_split_sums_to_the_total(cur, locality: str | None) -> None:
    frame = rural.split(cur, council(locality=locality))
    assert frame.get_column("measure_id").to_list() == [m[0] for m in rural.MEASURES]
    for row in frame.iter_rows(named=True):
        parts = [row[c] or 0.0 for c in rural.CLASSES]
        if row["measure_id"] in rural.ADDITIVE:
            assert sum(parts) == pytest.approx(row["total"]), row["measure_id"]
        elif row["measure_id"] in ("providers_active", "microenterprises_active"):
            # Distinct counts: a provider working in rural and urban areas counts in both classes.
            assert max(parts) <= row["total"] <= sum(parts), row["measure_id"]


def test_rural_split_matches_the_rural_gap_mart(cur) -> None:
    frame = rural.split(cur, council())
    hours = {r["measure_id"]: r for r in frame.iter_rows(named=True)}["planned_hours_per_week"]
    gap = read_mart(cur, "mart_rural_gap_month", geography_level="council", month=AS_OF).row(0, named=True)
    assert hours["rural"] * 100 / (hours["rural"] + hours["urban"]) == pytest.approx(
        gap["rural_share_planned_hours_pct"]
    )


def test_rural_share_chart_title_states_the_shares(cur) -> None:
    frame = rural.split(cur, council())
    rows = {r["measure_id"]: r for r in frame.iter_rows(named=True)}
    pop = (
        rows["population_65_plus"]["rural"]
        * 100
        / (rows["population_65_plus"]["rural"] + rows["population_65_plus"]["urban"])
    )
    wait = rows["hours_waiting"]["rural"] * 100 / (rows["hours_waiting"]["rural"] + rows["hours_waiting"]["urban"])
    chart = rural.share_chart(cur, council(), frame)
    assert fmt_pct(pop, 0) in chart.title and fmt_pct(wait, 0) in chart.title
    assert "aged 65 years and over" in chart.title
    assert "whole council" in chart.subtitle and "October 2026" in chart.subtitle
    assert chart.synthetic and chart.as_of == AS_OF
    assert chart.alt_text.startswith("Rural areas have")


def test_rural_shares_treat_a_class_without_areas_as_zero() -> None:
    frame = pl.DataFrame(
        {
            "measure_id": ["population_65_plus", "hours_waiting"],
            "rural": [None, 0.0],
            "urban": [1000.0, 50.0],
        }
    )
    data = rural.shares(frame)
    rural_pop = data.filter((pl.col("area_type") == "Rural") & (pl.col("measure") == rural.SHARE_MEASURES[0][1]))
    assert rural_pop.item(0, "share_pct") == 0.0
    assert rural.share_title(data) == "No area here is classified as rural"


def test_rural_gap_chart_counts_months_above_zero(cur) -> None:
    series = rural.gap_series(cur, council())
    gaps = series.get_column("rural_gap_waiting_share_pp").drop_nulls()
    above = int((gaps > 0).sum())
    chart = rural.gap_chart(cur, council(), series)
    assert f"in {above} of {gaps.len()} months" in chart.title
    assert series.get_column("month").max() == AS_OF
    assert "percentage points" in chart.subtitle


def test_rural_gap_title_for_an_all_rural_locality() -> None:
    series = pl.DataFrame(
        {
            "month": [date(2026, 9, 30), date(2026, 10, 31)],
            "rural_share_planned_hours_pct": [100.0, 100.0],
            "rural_gap_waiting_share_pp": [0.0, 0.0],
        }
    )
    assert rural.gap_title(series) == "Every classified area here is rural, so there is no rural-urban gap to measure"


@pytest.mark.parametrize(
    ("rural_days", "urban_days", "title"),
    [
        (32.0, 4.5, "Rural waits so far are 7.1 times as long as urban waits"),
        (13.0, 10.0, "Rural waits so far are 30% longer than urban waits"),
        (10.0, 10.0, "Rural waits so far are about as long as urban waits"),
        (5.0, 10.0, "Rural waits so far are shorter than urban waits"),
        (None, None, "Nobody is waiting in a rural or urban area"),
        (35.0, None, "Only rural areas here have people waiting (median 35 days so far)"),
    ],
)
def test_rural_wait_title(rural_days, urban_days, title) -> None:
    assert rural.wait_title(rural_days, urban_days) == title


def test_ruc21_waits_add_up_to_people_waiting(cur) -> None:
    frame = rural.ruc21_waits(cur, council())
    mart = read_mart(cur, "mart_waiting_month", geography_level="council", month=AS_OF).row(0, named=True)
    assert frame.get_column("people_waiting").sum() == mart["people_waiting"]
    assert frame.get_column("hours_waiting").sum() == pytest.approx(mart["hours_waiting"])
    assert frame.get_column("ruc21").to_list()[:2] == ["UN1", "UF1"]
    assert frame.get_column("areas").sum() == 30
    top = frame.drop_nulls("median_wait_days").sort("median_wait_days", descending=True).row(0, named=True)
    assert f"({top['median_wait_days']:.0f} days)" in rural.ruc21_chart(cur, council(), frame).title


def test_rural_page_under_a_locality(cur) -> None:
    page = rural.rural_page(cur, council(locality="Fellside"))
    assert "Fellside locality" in page.share_chart.subtitle
    assert page.split_display.columns == ["Measure", "Rural", "Urban", "Unclassified", "Total"]
    assert any("service type" in n for n in page.notes)
    tile = page.tiles[0]
    assert tile.label == "Rural waiting gap (all service types)"  # home care chosen: the label says so
    assert tile.shown_label == "Rural waiting gap (all service types, percentage points)"


# --- waiting ---------------------------------------------------------------------------------------


def test_waiting_series_starts_with_the_first_complete_month_of_requests(cur) -> None:
    """The grid has 36 months, but the demo's requests start on 1 November 2023: a month-end count of
    people waiting that month would miss everyone who asked earlier, so the series starts in December."""
    frame = waiting.series(cur, council())
    assert frame.height == 35 and frame.get_column("month").min() == date(2023, 12, 31)
    assert waiting.series(cur, council(month=date(2025, 10, 31))).get_column("month").max() == date(2025, 10, 31)


def test_people_waiting_title_describes_the_rise_and_the_recent_fall(cur) -> None:
    """The demo's waiting rose to a peak two months ago and fell since: the title says both."""
    frame = waiting.series(cur, council())
    chart = waiting.people_chart(cur, council(), frame)
    values = frame.get_column("people_waiting")
    peak_month = frame.filter(pl.col("people_waiting") == values.max()).get_column("month").max()
    assert chart.title == (
        f"People waiting: {fmt_int(values[-1])}, down from a peak of {fmt_int(values.max())} in "
        f"{peak_month.strftime('%b %Y')}, up from {fmt_int(values[0])} in Dec 2023"
    )


@pytest.mark.parametrize(
    ("now", "before", "expected"),
    [
        (110, 100, "People waiting: 110, up from 100 in Oct 2025"),
        (101, 100, "People waiting: 101, about the same as in Oct 2025 (100)"),
        (50, 100, "People waiting: 50, down from 100 in Oct 2025"),
        (5, None, "People waiting: 5 in Oct 2026"),
        (5, 0, "People waiting: 5, up from 0 in Oct 2025"),
    ],
)
def test_trend_title(now, before, expected) -> None:
    months = [date(2026, 10, 31)] + ([date(2025, 10, 31)] if before is not None else [])
    values = [now] + ([before] if before is not None else [])
    frame = pl.DataFrame({"month": months, "people_waiting": values})
    assert waiting.trend_title(frame, "people_waiting", "People waiting", fmt_int, AS_OF) == expected


def test_current_waits_cover_every_request_waiting(cur) -> None:
    for locality in (None, "Fellside"):
        frame = waiting.current_waits(cur, council(locality=locality))
        mart = read_mart(cur, "mart_waiting_month", **common.geography(council(locality=locality)), month=AS_OF)
        assert frame.get_column("waited").to_list() == [b[0] for b in waiting.WAIT_BINS]
        assert frame.get_column("requests").sum() == mart.item(0, "requests_waiting")
        assert frame.get_column("hours_waiting").sum() == pytest.approx(mart.item(0, "hours_waiting"))


def test_histogram_title() -> None:
    frame = pl.DataFrame({"waited": [b[0] for b in waiting.WAIT_BINS], "requests": [30, 9, 14, 12, 8, 8]})
    assert waiting.histogram_title(frame) == "28 of 81 requests waiting (35%) have waited more than 28 days"
    none_long = frame.with_columns(pl.Series("requests", [4, 0, 2, 0, 0, 0]))
    assert waiting.histogram_title(none_long) == "None of the 6 requests waiting has waited more than 28 days"


def test_sourcing_title_never_says_down_from_the_same_printed_figure() -> None:
    """64.6% now and 65.2% a year before both print 65%: "the same as", never "65%, down from 65%"."""
    year_before = date(2025, 10, 31)

    def frame(now: float, before: float) -> pl.DataFrame:
        return pl.DataFrame({"month": [year_before, AS_OF], "sourced_within_14_days_pct": [before, now]})

    assert waiting.sourcing_title(frame(64.6, 65.2), AS_OF) == (
        "65% of requests found care within 14 days, the same as 65% a year before"
    )
    assert waiting.sourcing_title(frame(64.4, 65.6), AS_OF).endswith("down from 66% a year before")
    assert waiting.sourcing_title(frame(66.0, 64.0), AS_OF).endswith("up from 64% a year before")


def test_vacancy_title_compares_with_the_national_rate_as_printed() -> None:
    """10.12% prints as the national 10.1%: "level with", never "10.1%, above the national 10.1%"."""
    from analytics.views import workforce

    ref = workforce.national("vacancy")
    assert ref is not None
    frame = pl.DataFrame({"month": [AS_OF], "vacancy_rate_pct": [ref + 0.02]})
    assert workforce.workforce_trend_title(frame, AS_OF).endswith(f", level with the national {fmt_pct(ref)}")
    frame = pl.DataFrame({"month": [AS_OF], "vacancy_rate_pct": [ref + 1]})
    assert workforce.workforce_trend_title(frame, AS_OF).endswith(f", above the national {fmt_pct(ref)}")


def test_waiting_by_area_sums_to_the_locality(cur, localities) -> None:
    for locality in localities:
        filters = council(locality=locality)
        areas = waiting.by_area(cur, filters)
        mart = read_mart(cur, "mart_waiting_month", geography_level="locality", geography=locality, month=AS_OF)
        assert areas.get_column("hours_waiting").sum() == pytest.approx(mart.item(0, "hours_waiting"))
        assert set(areas.get_column("locality").to_list()) == {locality}


def test_waiting_locality_chart_names_the_locality_with_most_hours(cur) -> None:
    frame = waiting.by_locality(cur, council())
    chart = waiting.locality_chart(cur, council(), frame)
    assert chart.title.startswith(frame.item(0, "locality"))
    assert frame.get_column("hours_waiting").is_sorted(descending=True)


def test_waiting_page_notes_the_service_filter(cur) -> None:
    page = waiting.waiting_page(cur, council())
    assert page.notes and "requests carry no service type" in page.notes[0]
    assert not waiting.waiting_page(cur, council(service_type=None)).notes
    assert page.sourcing_chart.title.startswith(
        fmt_pct(common.value_at(waiting.series(cur, council()), "sourced_within_14_days_pct", AS_OF), 0)
    )


# --- workforce and fees ----------------------------------------------------------------------------


def test_council_workforce_rates_match_the_mart(cur) -> None:
    got = workforce_fees.rates(workforce_fees.provider_workforce(cur, council()))
    mart = read_mart(cur, "mart_workforce_month", month=AS_OF).row(0, named=True)
    assert got["vacancy_rate_pct"] == pytest.approx(mart["vacancy_rate_pct"])
    assert got["turnover_rate_pct"] == pytest.approx(mart["turnover_rate_pct"])


def test_rates_are_ratios_of_sums() -> None:
    frame = pl.DataFrame({"filled_posts": [90, 10], "vacancies": [10, None], "leavers_12m": [18, 5]})
    got = workforce_fees.rates(frame)
    assert got["vacancy_rate_pct"] == pytest.approx(10.0)  # 10 / (90 + 10); the provider without vacancies left out
    assert got["turnover_rate_pct"] == pytest.approx(23.0)  # (18 + 5) / (90 + 10)


def test_locality_workforce_uses_only_providers_working_there(cur) -> None:
    whole = workforce_fees.provider_workforce(cur, council())
    fellside = workforce_fees.provider_workforce(cur, council(locality="Fellside"))
    assert 0 < fellside.height < whole.height
    assert set(fellside["provider_id"]) <= set(whole["provider_id"])


def test_vacancy_chart_title_counts_providers_above_the_national_rate(cur) -> None:
    frame = workforce_fees.provider_workforce(cur, council())
    national = workforce_fees.national("vacancy")
    assert national == 10.1
    above = int((frame.get_column("vacancy_rate_pct") > national).sum())
    chart = workforce_fees.provider_chart(cur, council(), "vacancy", frame)
    assert chart.title.startswith(f"{above} of {frame.drop_nulls('vacancy_rate_pct').height} providers")
    assert "10.1%" in chart.title
    assert any(t.name == "England homecare, 10.1%" for t in chart.figure.data), "the national rate is marked"
    turnover = workforce_fees.provider_chart(cur, council(), "turnover", frame)
    assert "24.7%" in turnover.title


def test_gap_cost_is_gap_times_hours_times_weeks(cur) -> None:
    prices = workforce_fees.price_series(cur, council())
    row = prices.row(-1, named=True)
    assert row["month"] == AS_OF
    expected = max(row["gap_to_minimum_price"], 0) * row["hours"] * WEEKS_PER_YEAR
    assert row["annual_cost_to_close_minimum_price_gap"] == pytest.approx(expected)
    chart = workforce_fees.gap_cost_chart(cur, council(), prices)
    assert workforce_fees.fmt_gbp_short(expected) in chart.title


def test_rate_title_states_the_gap(cur) -> None:
    prices = workforce_fees.price_series(cur, council())
    gap = prices.item(-1, "gap_to_minimum_price")
    chart = workforce_fees.rate_chart(cur, council(), prices)
    assert chart.title == f"The council pays {fmt_gbp(gap)} an hour below the Homecare Association minimum price"
    assert "home care" in chart.subtitle


def test_fmt_gbp_short() -> None:
    assert workforce_fees.fmt_gbp_short(10_123_456) == "£10.1 million"
    assert workforce_fees.fmt_gbp_short(959_049.4) == "£959,049"
    assert workforce_fees.fmt_gbp_short(None) == "[x]"


def test_workforce_page_notes_missing_benchmark_years(cur) -> None:
    page = workforce_fees.workforce_fees_page(cur, council(month=date(2025, 3, 31)))
    assert any("drop's own date" in n for n in page.notes)
    latest = workforce_fees.workforce_fees_page(cur, council())
    assert any("2026/27 is not in config.toml" in n for n in latest.notes)
    with pytest.raises(ValueError):
        workforce_fees.workforce_fees_page(cur, council(), "sickness")


# --- provider exit and demand ----------------------------------------------------------------------


def test_ranking_from_the_mart_matches_a_fresh_run(cur) -> None:
    mart = exit_demand.ranking(cur, council())
    fresh = exit_stress.difficult_to_replace(exit_demand.market_tables(cur), AS_OF)
    assert mart.select("provider_id", "hours_uncovered").equals(fresh.select("provider_id", "hours_uncovered"))


def test_default_provider_leaves_most_hours_uncovered(cur) -> None:
    view = exit_demand.ranking_view(cur, council())
    top = read_mart(cur, "mart_exit_ranking").sort("hours_uncovered", descending=True).item(0, "provider_id")
    assert view.default_provider == top == view.options[0][0]
    assert all(h > 0 for h in view.ranking.filter(pl.col("provider_id").is_in([o[0] for o in view.options]))["hours"])


def test_ranking_sentence_in_a_month_before_the_data_says_there_is_nothing_to_rank(no_waiting_list_store: Path) -> None:
    cur = store.market_cursor(store.open_live(no_waiting_list_store))
    view = exit_demand.ranking_view(cur, council(date(2025, 10, 31)))
    assert view.options == [] and "0 of 0" not in view.sentence
    assert view.sentence == "No provider has hours in care at the end of October 2025: nothing to rank."
    assert exit_demand.ranking_view(cur, council()).sentence.split(" of ")[1].split()[0] != "0"


@pytest.mark.parametrize("locality", [None, "Fellside"])
def test_exit_absorbed_plus_uncovered_is_displaced(cur, locality: str | None) -> None:
    filters = council(locality=locality)
    for provider_id, _ in exit_demand.ranking_view(cur, filters).options[:4]:
        view = exit_demand.exit_view(cur, filters, provider_id)
        assert view.hours_absorbed + view.hours_uncovered == pytest.approx(view.hours_displaced)
        area = view.by_area
        assert area.get_column("hours_displaced").sum() == pytest.approx(view.hours_displaced)
        parts = area.select(pl.sum_horizontal(p[0] for p in exit_demand.PARTS)).to_series()
        assert parts.to_list() == pytest.approx(area.get_column("hours_displaced").to_list())
        outcome = exit_demand.outcome_by_locality(
            exit_stress.exit_impact(exit_demand.market_tables(cur), provider_id, AS_OF, locality)
        )
        assert outcome.get_column("hours").sum() == pytest.approx(view.hours_displaced)


def test_exit_view_returns_raw_people_counts_by_area(cur) -> None:
    view = exit_demand.exit_view(cur, council(), "AG17")
    assert view.by_area.schema["people"] == pl.Int64
    assert view.by_area.get_column("people").sum() == view.people_displaced  # one area per person
    assert view.by_area.height == 30, "every area is listed, 0 where the provider has no packages"
    assert (
        view.title == f"Other providers could absorb all {view.hours_displaced:,.0f} hours a week of Greystone Homecare"
    )
    assert view.assumptions and view.assumptions[0].startswith("Every package of Greystone Homecare")
    assert view.map_chart.figure.data[0].type == "choroplethmap"


def test_exit_title_for_a_provider_with_uncovered_hours(cur) -> None:
    view = exit_demand.exit_view(cur, council(), "AG01")
    pct = view.hours_uncovered * 100 / view.hours_displaced
    assert view.title == (
        f"If Fellcare Homecare Ltd left, {view.hours_uncovered:,.0f} hours a week ({pct:.0f}% of its hours) "
        "would have no provider"
    )
    assert view.outcome_chart.title.endswith("a week") and "most uncovered hours" in view.outcome_chart.title


def test_exit_view_rejects_an_unknown_provider(cur) -> None:
    with pytest.raises(KeyError):
        exit_demand.exit_view(cur, council(), "NOPE")


def test_projection_at_the_default_growth_matches_the_mart(cur) -> None:
    mart = read_mart(cur, "mart_projection", geography_level="council").sort("year_offset")
    got = exit_demand.projection(cur, council())
    assert got.get_column("hours_needed").to_list() == pytest.approx(mart.get_column("hours_needed").to_list())
    assert got.get_column("shortfall_hours").to_list() == pytest.approx(mart.get_column("shortfall_hours").to_list())


def test_projection_growth_changes_hours_needed(cur) -> None:
    flat = exit_demand.projection_view(cur, council(), 0.0)
    fast = exit_demand.projection_view(cur, council(), 4.0)
    today = flat.frame.item(0, "hours_needed")
    assert flat.final_hours_needed == pytest.approx(today)
    assert fast.final_hours_needed == pytest.approx(today * 1.04**5)
    assert "pass today's capacity" in fast.chart.title and "4.0% growth" in fast.chart.title
    assert "still cover demand" in flat.chart.title


def test_projection_for_a_locality_has_no_capacity(cur) -> None:
    view = exit_demand.projection_view(cur, council(locality="Fellside"), 1.8)
    assert view.frame.get_column("capacity_hours").is_null().all()
    assert view.chart.title.startswith("At 1.8% growth a year, Fellside would need")
    assert any("whole council only" in a for a in view.assumptions)


# --- what a page caches its views on ------------------------------------------------------------


def test_filters_only_keeps_the_month_and_the_filters_named() -> None:
    full = Filters(AS_OF, "Fellside", "home_care", "older_people", "self_funded", "microenterprise")
    assert full.only("locality") == Filters(AS_OF, "Fellside", None, None, None, None)
    assert full.only() == Filters(AS_OF, None, None, None, None, None)
    narrowed = full.only("service_type", "provider_type")
    assert narrowed == Filters(AS_OF, None, "home_care", None, None, "microenterprise")
    with pytest.raises(ValueError, match="not a filter: month"):
        full.only("month")


def _shown(value: object) -> object:
    """What a view's result shows, comparable: charts as wording, parsed figure and table; notes left out
    (they name the filters a view ignores, so pages take them from the full filters)."""
    import dataclasses
    import json

    from analytics.publish.charts import ChartSpec

    if isinstance(value, ChartSpec):
        figure = json.loads(value.figure.to_json()) if value.figure is not None else None
        return (value.id, value.title, value.subtitle, value.alt_text, figure, _shown(value.table))
    if isinstance(value, pl.DataFrame):
        return (value.columns, value.rows())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _shown(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "notes"}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


def test_a_view_is_the_same_for_the_filters_its_page_does_not_cache_it_on(cur, localities) -> None:
    """Pages cache a view on ``filters.only(...)``: the filters left out must not change what it shows,
    or a page would show the view of the first choice made for them (the numbers would be wrong)."""
    from analytics.store.queries import filter_options
    from analytics.views import providers, quality

    options = filter_options(cur)
    full = Filters(
        month=options.months[2],
        locality=localities[0],
        service_type=options.service_types[0],
        client_group=options.client_groups[-1],
        funding=options.funding[-1],
        provider_type=options.provider_types[0],
    )
    provider = providers.provider_frame(cur, full.only("locality", "service_type"))["provider_id"][0]
    cached_on = [  # (view, the filters its page keys it on: pages/*.py)
        (waiting.waiting_page, ("locality",)),
        (quality.area_part, ("locality", "service_type")),
        (quality.council_part, ()),
        (workforce_fees.workforce_part, ("locality",)),
        (lambda c, f: workforce_fees.provider_part(c, f, "turnover"), ("locality",)),
        (workforce_fees.fees_part, ("locality", "service_type")),
        (providers.providers, ("locality", "service_type", "provider_type")),
        (lambda c, f: providers.provider_trend(c, f, provider), ("locality", "service_type")),
        (exit_demand.ranking_view, ("locality",)),
        (lambda c, f: exit_demand.exit_view(c, f, exit_demand.ranking_view(c, f).default_provider), ("locality",)),
        (lambda c, f: exit_demand.projection_view(c, f, 1.5), ("locality",)),
    ]
    for view, fields in cached_on:
        assert _shown(view(cur, full)) == _shown(view(cur, full.only(*fields))), (view, fields)


def test_exit_view_published_hides_a_small_count_of_people_displaced_and_their_hours(cur) -> None:
    """Publication mode on the exit page: a provider displacing 1 to 7 people in a locality shows
    ``[c]`` for them, their packages, hours and cover ratio, in tiles, headline and assumptions; a larger
    count is rounded to 5 (fuzz sweep: "People displaced 3" and "3 packages, 68.2 hours" were shown)."""
    from analytics.publish.suppression import rule

    r = rule()
    filters = council(locality="Fellside")
    seen = set()
    for provider_id, _ in exit_demand.ranking_view(cur, filters).options:
        raw = exit_demand.exit_view(cur, filters, provider_id)
        small = 0 < raw.people_displaced < r.threshold
        if small in seen or raw.people_displaced == 0:
            continue
        seen.add(small)
        view = exit_demand.exit_view(cur, filters, provider_id, published=True)
        assert not any("not suppressed" in n for n in view.notes), "the page no longer says it is unprotected"
        tiles = {t.label: t for t in view.tiles}
        if small:
            assert {t.text for t in view.tiles} == {r.symbol}, view.tiles
            assert all(t.value is None for t in view.tiles)
            assert "hidden to protect small numbers" in view.title
            assert view.assumptions[0].endswith(f": {r.symbol} packages, {r.symbol} hours a week.")
            for text in [view.title, *view.assumptions]:
                assert f"{raw.people_displaced} " not in text and f"{raw.hours_displaced:,.1f}" not in text
        else:
            assert tiles["People displaced"].value % r.base == 0
            assert tiles["Hours displaced"].value == raw.hours_displaced  # hours are not rounded
            assert view.title == raw.title
        if seen == {True, False}:
            break
    assert seen == {True, False}, "Fellside should have a provider displacing a few people and one displacing many"


def test_rating_mix_sentence_of_a_single_month_names_it_once(cur) -> None:
    from analytics.views import quality

    mix = quality.quality_mix(cur, council())
    one = mix.filter(pl.col("month") == mix["month"].max())
    alt = quality.rating_mix_chart(cur, council(), one).alt_text
    assert alt.count("October 2026") == 1 and " and " not in alt.split(";")[0]  # not "57% in Oct and 57% in Oct"
    assert " and " in quality.rating_mix_chart(cur, council(), mix).alt_text.split(";")[0]  # first and last months
