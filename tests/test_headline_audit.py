"""Headlines agree with their charts, and no month outside a file's coverage is shown as zero.

``headline_audit.audit_spec`` checks every chart of the registry: on the demo (whole council and a
locality) and on a variant of the demo whose packages start in January 2024 and whose requests
start in July 2025, as a council with a short history would send. The variant also shows coverage
at work: charts start with the data, changes against months before it say "no comparison".
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from headline_audit import audit_spec

from analytics.briefing import registry
from analytics.briefing.view_charts import ChartUnavailable
from analytics.indicators.common import waiting_at_months
from analytics.publish.chart_style import ChartSpec
from analytics.publish.headlines import trend_headline
from analytics.store import snapshots as store
from analytics.views import overview, waiting
from analytics.views.filters import Filters

AS_OF = date(2026, 10, 31)
PACKAGES_FROM, REQUESTS_FROM = date(2024, 1, 1), date(2025, 7, 1)
OVERDUE_AS_OF = date(2024, 8, 31)


def _audit_registry(cur, filters: Filters) -> tuple[int, int]:
    charts = checks = 0
    for chart_id in registry.chart_ids():
        try:
            spec = registry.build(cur, chart_id, filters)
        except ChartUnavailable:
            continue
        checks += audit_spec(spec)
        charts += 1
    return charts, checks


@pytest.fixture(scope="module")
def demo_cur(demo_store: Path):
    return store.market_cursor(store.open_live(demo_store))


@pytest.fixture(scope="module")
def late_store(demo_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo drop with packages starting from January 2024 and requests from July 2025, refreshed."""
    folder = tmp_path_factory.mktemp("late") / "drop"
    shutil.copytree(demo_drop, folder)
    starts = (("packages", "start_date", PACKAGES_FROM), ("requests", "requested_date", REQUESTS_FROM))
    for name, column, start in starts:
        frame = pl.read_csv(folder / f"{name}.csv", infer_schema=False)
        frame.filter(pl.col(column) >= start.isoformat()).write_csv(folder / f"{name}.csv")
    kept = set(pl.read_csv(folder / "packages.csv", infer_schema=False).get_column("package_id").to_list())
    delivery = pl.read_csv(folder / "delivery.csv", infer_schema=False)
    delivery.filter(pl.col("package_id").is_null() | pl.col("package_id").is_in(list(kept))).write_csv(
        folder / "delivery.csv"
    )
    data_dir = tmp_path_factory.mktemp("late-store")
    outcome = store.refresh(folder, data_dir, loaded_by="tests")
    assert outcome.accepted, outcome.result.errors[:5]
    return data_dir


@pytest.fixture(scope="module")
def late_cur(late_store: Path):
    return store.market_cursor(store.open_live(late_store))


@pytest.fixture(scope="module")
def overdue_cur(tmp_path_factory: pytest.TempPathFactory):
    """A small council (5% of people) as at 31 August 2024 with no milestones file: eight contract decisions
    overdue, three of the ten largest providers rated within the year (found by tests/fuzz_councils.py)."""
    from analytics.demo import CouncilShape, generate_drop

    folder = tmp_path_factory.mktemp("overdue")
    shape = CouncilShape(omit=frozenset({"milestones"}), people_share=0.05)
    generate_drop(folder / "drop", as_of=OVERDUE_AS_OF, shape=shape)
    assert store.refresh(folder / "drop", folder / "store", loaded_by="tests").accepted
    return store.market_cursor(store.open_live(folder / "store"))


@pytest.mark.parametrize(
    ("chart_id", "said", "column", "value"),
    [
        ("contracts-hours-share", r"one of (\d+) overdue", "decision", "overdue"),
        ("quality-largest-ratings", r"one of (\d+) large providers rated", "rated in the last year", "yes"),
    ],
)
@pytest.mark.parametrize("locality", [None, "Riverside"])
def test_a_count_in_a_headline_is_a_count_of_the_chart_s_own_rows(overdue_cur, chart_id, said, column, value, locality):
    """ "one of 8 overdue" is the chart's own rows marked overdue, not a number the data holds by chance
    (the fuzz sweep found "(7 more overdue)" and "one of 3 large providers" with nothing in the chart saying so)."""
    spec = registry.build(overdue_cur, chart_id, Filters(month=OVERDUE_AS_OF, locality=locality))
    count = re.search(said, spec.title)
    assert count, spec.title
    assert int(count[1]) == spec.data.filter(pl.col(column) == value).height > 1
    assert audit_spec(spec) >= 1


@pytest.mark.parametrize("locality", [None, "Fellside"])
def test_every_demo_headline_agrees_with_its_chart(demo_cur, locality) -> None:
    charts, checks = _audit_registry(demo_cur, Filters(month=AS_OF, locality=locality))
    print(f"demo {locality or 'council'}: {charts} charts, {checks} headline checks")
    assert charts >= 45 and checks >= 90


def test_demo_waiting_headline_describes_the_rise_and_the_recent_fall(demo_cur) -> None:
    page = waiting.waiting_page(demo_cur, Filters(month=AS_OF))
    title = page.people_chart.title
    assert title.startswith("People waiting: 81, down from a peak of 133 in Aug 2026, up from ")
    assert overview.overview(demo_cur, Filters(month=AS_OF)).charts[0].spec.title == title
    assert audit_spec(page.people_chart) >= 5
    lines = page.hours_chart.figure.layout.title.text.split("<br>")  # a long headline wraps, never cut off
    assert len(lines) == 2 and all(len(line) <= 64 for line in lines)
    assert " ".join(lines) == page.hours_chart.title


def test_coverage_is_stored_and_charts_start_with_the_data(late_cur) -> None:
    coverage = {r["file"]: r for r in late_cur.sql("select * from meta_coverage").pl().iter_rows(named=True)}
    assert coverage["packages"]["first_month"] == date(2024, 2, 29)  # the month after the first start
    assert coverage["requests"]["first_month"] == date(2025, 8, 31)
    assert coverage["requests"]["last_month"] == AS_OF
    filters = Filters(month=AS_OF)
    page = waiting.waiting_page(late_cur, filters)
    drawn = page.people_chart.table
    assert drawn.get_column("month").min() == date(2025, 8, 31)  # no zeros from 2023
    assert "none" not in page.people_chart.title and "from 0 " not in page.people_chart.title
    june = Filters(month=date(2026, 6, 30))  # a year before is June 2025, before the requests start
    tiles = {t.indicator_id: t for t in overview.overview(late_cur, june).tiles}
    assert tiles["people_waiting"].delta_year == "no comparison: data starts August 2025"
    assert tiles["people_waiting"].delta_year_sign == 0
    assert tiles["people_waiting"].delta_month and tiles["people_waiting"].delta_month[0] in "+-n"
    assert tiles["people_in_service"].delta_year[0] in "+-n"  # packages cover June 2025
    hours = overview.overview(late_cur, filters).charts[1].spec.table
    assert hours.get_column("month").min() == date(2024, 2, 29)


def test_every_variant_headline_agrees_with_its_chart(late_cur) -> None:
    for locality in (None, "Fellside"):
        charts, checks = _audit_registry(late_cur, Filters(month=AS_OF, locality=locality))
        print(f"late-start variant {locality or 'council'}: {charts} charts, {checks} headline checks")
        assert charts >= 40 and checks >= 70
    first = Filters(month=date(2025, 8, 31))  # the first covered month of requests: nothing to compare
    sentences = overview.overview(late_cur, first).sentences
    assert any("no comparison: data starts August 2025" in s for s in sentences)
    assert not any("People waiting" in s and " from " in s for s in sentences)


def _spec(title: str, values: list[float]) -> ChartSpec:
    months = [date(2026, m, 28) for m in range(1, len(values) + 1)]
    frame = pl.DataFrame({"month": months, "people_waiting": values})
    return ChartSpec("t", title, "People waiting, whole council", "test", AS_OF, True, data=frame)


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("People waiting fell to 81", None),
        ("People waiting: 81, up from 133 in Aug 2026", "up from 133"),
        ("People waiting: 81, down from a peak of 120 in Aug 2026", "not in the chart's data"),
        ("People waiting: 81, down from 58 in Jan 2026", "down from 58"),
        ("People waiting: 82, up from 58 in Jan 2026", "82 is not in the chart's data"),
        ("People waiting: 81, down from a peak of 90 in Jul 2026", "not the highest"),
        ("People waiting rose from 133 to 81", "rose from 133"),
    ],
)
def test_the_audit_catches_contradictions(title, message) -> None:
    spec = _spec(title, [58, 90, 70, 133, 81])
    if message is None:
        assert audit_spec(spec) == 1
        return
    with pytest.raises(AssertionError, match=message):
        audit_spec(spec)


def test_the_writer_passes_its_own_audit_on_shapes_of_series() -> None:
    shapes = {
        "rise then fall": [58, 90, 70, 133, 81],
        "fall then rise": [133, 90, 40, 70, 81],
        "steady": [80, 81, 80, 81, 80],
        "only rising": [1, 2, 3, 4, 5],
        "from zero": [0, 0, 3, 9, 12],
        "one month": [16],
    }
    for name, values in shapes.items():
        frame = pl.DataFrame({"month": [date(2026, m, 28) for m in range(1, len(values) + 1)], "v": values})
        title = trend_headline(frame, "v", "People waiting")
        spec = ChartSpec("t", title, "s", "test", AS_OF, True, data=frame)
        assert audit_spec(spec) >= 1, name
    assert trend_headline(pl.DataFrame({"month": [date(2026, 1, 28)], "v": [16]}), "v", "People waiting") == (
        "People waiting: 16 in Jan 2026"
    )


def test_closed_date_places_a_withdrawn_request_in_time() -> None:
    """A withdrawn request with a closed_date waited until the day before; without one it never counts."""
    requests = pl.DataFrame(
        {
            "requested_date": [date(2026, 1, 10), date(2026, 1, 10), date(2026, 1, 10)],
            "sourced_date": [None, None, None],
            "outcome": ["withdrawn", "withdrawn", None],
            "closed_date": [date(2026, 3, 5), None, date(2026, 2, 1)],
        },
        schema_overrides={"sourced_date": pl.Date, "closed_date": pl.Date},
    )
    months = pl.DataFrame({"month": [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]})
    counts = waiting_at_months(requests, months).group_by("month").len().sort("month")
    assert dict(counts.iter_rows()) == {date(2026, 1, 31): 2, date(2026, 2, 28): 1}


def test_every_headline_agrees_with_its_chart_on_the_small_hand_made_drop(tmp_path: Path) -> None:
    """The hand-made drop (3 areas, 5 packages, 4 requests): tiny numbers, few months."""
    from small_drop import write_small_drop

    outcome = store.refresh(write_small_drop(tmp_path / "drop"), tmp_path / "store", loaded_by="tests")
    assert outcome.accepted, outcome.result.errors[:5]
    cur = store.market_cursor(store.open_live(tmp_path / "store"))
    as_of = cur.sql("select as_of from meta_drop").fetchall()[0][0]
    charts, checks = _audit_registry(cur, Filters(month=as_of, service_type=None))
    print(f"small hand-made drop: {charts} charts, {checks} headline checks")
    assert charts >= 30 and checks >= 30


def test_a_fall_past_a_peak_and_below_the_start_names_both_in_one_clause():
    """7,611 -> peak 8,475 -> 6,083: down from the peak *and* from the start, not "down from ..., down from ..."."""
    frame = pl.DataFrame(
        {"month": [date(2024, 2, 29), date(2025, 5, 31), date(2026, 10, 31)], "hours": [7611.0, 8475.0, 6083.0]}
    )
    title = trend_headline(frame, "hours", "Planned hours a week")
    assert title == "Planned hours a week: 6,083, down from a peak of 8,475 in May 2025 and from 7,611 in Feb 2024"
