"""Every page on councils shaped unlike the demo: no exception, and plain words for what a drop cannot show.

The councils are ``analytics.demo.SHAPES`` (every optional file absent in turn, no coordinates or
boundaries, one to three months of history, files starting at different dates, one locality and
none, no microenterprises and only microenterprises, RUC 2011 codes only, no populations, a single
provider, 200 providers with long names, providers whose packages have all ended, areas with no
demand, several service types), each loaded once per run when a test first needs it and shared by
the test workers (``conftest.council_stores``).

* Under ``AppTest``: every page registered in dashboard.py, one session per council walking the menu
  (``council_support.shared_walk``: walked once per run, its findings shared with the Chromium sweep).
* In headless Chromium: two servers whose data folders are links switched from council to council
  (a refresh swaps the live file the same way), one browser; no ``stException`` nor JavaScript error
  on the pages each council's shape changes: those whose AppTest structure (element types, chart
  trace types and none/one/many points, empty tables, notices) differs from the demo's, whose every
  page runs in Chromium in tests/test_e2e.py; every page of ``minimal``, the oddest shape.
* Through the chart registry: every chart builds (or says it cannot) and, when
  ``tests/headline_audit.py`` is there, every headline is checked against its chart's data.

The run ends with a table of councils (``council_support.write_summary``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tomllib
from pathlib import Path

import polars as pl
import pytest
from council_support import record, shared_walk
from test_pages import default_page, registered_pages

from analytics.demo import SHAPES
from analytics.views import gaps

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"
COUNCILS = list(SHAPES)
PAGES = registered_pages()
CANNOT = ("can't be shown", "cannot be drawn", "No contracts in this drop")


def _cursor(store: Path):
    from analytics.store import snapshots as store_module

    return store_module.market_cursor(store_module.open_live(store))


def _filters(cur):
    from analytics.store.queries import filter_options
    from analytics.views.filters import default_filters

    return default_filters(filter_options(cur))


def _title_of(page: str) -> str:
    """Return the title page ``page`` starts with (its ``render.start_page`` call)."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return text.split('render.start_page("', 1)[1].split('"', 1)[0]


# ---------------------------------------------------------------------------------------------
# The councils are what their names say


def test_shapes_are_at_least_twelve_distinct_valid_councils(council_stores: dict[str, Path]) -> None:
    assert len(SHAPES) >= 12 and len(set(SHAPES.values())) == len(SHAPES)
    assert set(council_stores) == set(SHAPES)
    omitted = set().union(*(shape.files() for shape in SHAPES.values()))
    assert omitted == {"requests", "delivery", "workforce", "contracts", "milestones", "boundaries"}
    for name in ("no-requests", "no-delivery", "no-workforce", "no-contracts", "no-milestones"):
        # each optional file is absent on its own somewhere (the minimal council lacks them all)
        assert len(SHAPES[name].files() - {"milestones"}) <= 1


def test_generated_drops_have_the_shape_their_names_say(council_stores: dict[str, Path]) -> None:
    def drop(name: str) -> Path:
        return council_stores[name].parent / "drop"

    def read(name: str, file: str) -> pl.DataFrame:
        return pl.read_csv(drop(name) / f"{file}.csv", try_parse_dates=True, infer_schema_length=None)

    assert sorted(p.name for p in drop("minimal").iterdir()) == [
        "areas.csv", "manifest.toml", "packages.csv", "providers.csv"
    ]  # fmt: skip
    assert not (drop("no-requests") / "requests.csv").exists()
    assert not (drop("no-contracts") / "milestones.csv").exists()
    assert read("no-contracts", "packages")["contract_id"].null_count() == read("no-contracts", "packages").height
    assert (drop("no-milestones") / "contracts.csv").exists()
    assert not (drop("no-milestones") / "milestones.csv").exists()
    geo = read("no-geography", "areas")
    assert geo["latitude"].null_count() == geo.height and not (drop("no-geography") / "boundaries.geojson").exists()
    assert read("no-requests", "areas")["locality"].unique().to_list() == ["Northdale"]
    assert read("three-months", "areas")["locality"].null_count() == 30
    ruc11 = read("no-delivery", "areas")
    assert ruc11["ruc21"].null_count() == ruc11.height and ruc11["ruc11"].null_count() < ruc11.height
    assert read("no-workforce", "areas")["population_65_plus"].null_count() == 30
    as_of = tomllib.loads((drop("one-month") / "manifest.toml").read_text())["as_of"]
    one = read("one-month", "requests")["requested_date"]
    assert (one.min().year, one.min().month) == (as_of.year, as_of.month)
    three = read("three-months", "packages")["start_date"].min()
    assert (as_of.year * 12 + as_of.month) - (three.year * 12 + three.month) == 2
    staggered = {f: read("staggered-starts", f) for f in ("packages", "requests", "workforce")}
    assert staggered["packages"]["start_date"].min().year == 2024
    assert staggered["requests"]["requested_date"].min().isoformat() == "2025-07-01"
    assert staggered["workforce"]["month"].min().isoformat() == "2026-01-01"
    only_me = read("only-microenterprises", "providers")["provider_type"].unique().to_list()
    assert only_me == ["microenterprise"] and not (drop("only-microenterprises") / "workforce.csv").exists()
    assert "microenterprise" not in read("no-geography", "providers")["provider_type"].to_list()
    assert read("single-provider", "providers").height == 1
    many = read("many-providers", "providers")
    assert many.height == 200 and many["provider_name"].str.len_chars().max() > 90
    demand = set(read("many-providers", "packages")["area_code"]) | set(read("many-providers", "requests")["area_code"])
    assert len(set(read("many-providers", "areas")["area_code"]) - demand) == 4
    ended = read("no-milestones", "packages")
    agencies = set(read("no-milestones", "providers").filter(pl.col("provider_type") == "agency")["provider_id"])
    open_now = set(ended.filter(pl.col("end_date").is_null())["provider_id"])
    assert len(agencies - open_now) >= 5
    assert set(read("no-contracts", "packages")["service_type"]) >= {"home_care", "other", "supported_living"}
    assert read("minimal", "packages")["service_type"].null_count() == read("minimal", "packages").height


# ---------------------------------------------------------------------------------------------
# AppTest: every page, every council


def _walk(council: str, council_stores, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Every page of ``council`` walked in one AppTest session (shared by the AppTest and Chromium sweeps)."""
    return shared_walk(tmp_path_factory, council, council_stores[council], PAGES, default_page(), DASHBOARD)


@pytest.mark.parametrize("council", COUNCILS)
def test_every_page_runs_and_says_what_it_cannot_show(
    council: str, council_stores: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    lacking = gaps.missing(_cursor(council_stores[council]))
    walked = _walk(council, council_stores, tmp_path_factory)
    assert list(walked) == PAGES
    failures, notes = [], 0
    for page in PAGES:
        failures += [f"{page}: {e}" for e in walked[page]["exceptions"]]
        shown = walked[page]["messages"]
        notes += sum(any(c in m for c in CANNOT) for m in shown)
        title = _title_of(page) if "start_page" in (ROOT / page).read_text() else ""
        for gap in gaps.PAGE_NEEDS.get(title, ()):
            if gap in lacking:  # the page leads with what it cannot show and why
                assert any(gaps.NOTES[gap][:40] in m.replace("\\", "") for m in shown), (council, page, gap)
        if "requests" in lacking and page == "pages/waiting.py":
            assert walked[page]["charts"] == [], "no invented zeros: nothing is charted without a waiting list"
    record(council, apptest_pages=len(PAGES), apptest_exceptions=len(failures), cannot_show=notes)
    assert failures == []


# ---------------------------------------------------------------------------------------------
# The chart registry: every chart of the pack builds on every council; headlines agree with data


@pytest.mark.parametrize("council", COUNCILS)
def test_every_chart_builds_and_its_headline_matches_its_data(council: str, council_stores: dict[str, Path]) -> None:
    from analytics.briefing import registry
    from analytics.briefing.view_charts import ChartUnavailable

    audit = None
    if importlib.util.find_spec("headline_audit") is not None:  # tests/headline_audit.py (issue 10, part 3)
        from headline_audit import audit_spec as audit
    cur = _cursor(council_stores[council])
    filters = _filters(cur)
    lacking = gaps.missing(cur)
    built, checked = 0, 0
    for chart_id in registry.chart_ids():
        try:
            spec = registry.build(cur, chart_id, filters)
        except ChartUnavailable:
            continue
        built += 1
        if spec.figure is None:
            assert spec.alt_text, f"{chart_id} draws nothing and says nothing"
            continue
        needed = (*gaps.needs(spec.id), *gaps.needs(chart_id))
        assert not any(key in lacking for key in needed), f"{chart_id} drawn from a missing source"
        if audit is not None:
            checked += audit(spec)
    record(council, charts=built, headlines=checked if audit is not None else 0)
    assert built >= len(registry.chart_ids()) // 2


# ---------------------------------------------------------------------------------------------
# Headless Chromium: two servers, one browser, the pages each council's shape changes

SERVERS = 2
"""Councils shown at once (one server each: two processes use both cores); one tab per server walks its council."""
DEMO = "northdale"
BROWSER_COUNCILS = [c for c in COUNCILS if c != DEMO]  # the demo's every page runs in Chromium in tests/test_e2e.py
GROUPS = [tuple(BROWSER_COUNCILS[k : k + SERVERS]) for k in range(0, len(BROWSER_COUNCILS), SERVERS)]
FULL_WALKS = ("minimal",)
"""Councils walked on every page whatever their pages look like: the oddest shape (six files absent), so
the menu is clicked through to every page on a council unlike the demo."""


def chromium_pages(council: str, council_stores, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Return the pages (files, menu order) the Chromium sweep walks for ``council``.

    Every page whose AppTest ``structure`` (element types in order, chart trace types with none/one/many
    points and boundaries, tables empty or not, notices' texts) differs from the demo's on that page;
    every page for ``FULL_WALKS``. A page built the same way as the demo's is drawn by the browser the
    same way, and the demo's pages run in Chromium in tests/test_e2e.py.
    """
    if council in FULL_WALKS:
        return list(PAGES)
    demo = _walk(DEMO, council_stores, tmp_path_factory)
    mine = _walk(council, council_stores, tmp_path_factory)
    return [page for page in PAGES if mine[page]["structure"] != demo[page]["structure"]]


def test_chromium_walks_every_page_a_shape_changes(
    council_stores: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The selection is not empty where it must not be: a page that names a file the council lacks is walked.

    Checked from the data (``gaps.PAGE_NEEDS``, the files a drop lacks), not from ``structure``: a page that
    leads with a 'cannot show' notice the demo does not have must be among the pages walked in Chromium.
    """
    must = {}
    for council in BROWSER_COUNCILS:
        lacking = gaps.missing(_cursor(council_stores[council]))
        must[council] = [
            page
            for page in PAGES
            if "start_page" in (ROOT / page).read_text()
            and any(gap in lacking for gap in gaps.PAGE_NEEDS.get(_title_of(page), ()))
        ]
        walked = chromium_pages(council, council_stores, tmp_path_factory)
        assert set(must[council]) <= set(walked), (council, sorted(set(must[council]) - set(walked)))
    assert len(must["minimal"]) >= 4 and all(must[c] for c in ("no-requests", "no-delivery", "no-workforce"))
    demo = _walk(DEMO, council_stores, tmp_path_factory)
    assert all(demo[page]["structure"] for page in PAGES), "every page draws something to compare"


@pytest.fixture(scope="module")
def council_servers(council_stores: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """``SERVERS`` dashboard servers, each on a data folder that is a link; ``switch(k, name)`` points one at a council.

    Switching the link is what a refresh does to the live file: the server sees a new snapshot.
    """
    from browser_support import require_chromium, streamlit_servers

    require_chromium()
    root = tmp_path_factory.mktemp("council-servers")
    links = [root / f"data{k}" for k in range(SERVERS)]

    def switch(k: int, name: str) -> None:
        tmp = links[k].with_name(f"{links[k].name}.new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(council_stores[name], target_is_directory=True)
        os.replace(tmp, links[k])  # atomic, as a refresh swaps the live file

    for k in range(SERVERS):
        switch(k, BROWSER_COUNCILS[k])
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(streamlit_servers(link, 1))[0] for link in links]
        yield urls, switch


@pytest.fixture(scope="module")
def tabs(browser):
    """``SERVERS`` tabs of one 1400x900 context, and the JavaScript errors they raise."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    opened = []
    for _ in range(SERVERS):
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append(tab)
    yield opened, errors
    context.close()


@pytest.mark.e2e
@pytest.mark.parametrize("councils", GROUPS, ids=["+".join(g) for g in GROUPS])
def test_every_page_renders_in_chromium(
    councils: tuple[str, ...], council_servers, tabs, council_stores, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each council's pages unlike the demo's (``chromium_pages``) show their title and no exception in Chromium."""
    from browser_support import IDLE
    from browser_support import registered_pages as menu

    urls, switch = council_servers
    opened, errors = tabs
    by_file = {file: (file, path, title) for file, path, title in menu()}
    walks = []  # (tab, url, council, the pages it walks)
    for k, council in enumerate(councils):
        switch(k, council)
        walks.append(
            (
                opened[k],
                urls[k],
                council,
                [by_file[f] for f in chromium_pages(council, council_stores, tmp_path_factory)],
            )
        )
    failures: dict[str, list[str]] = {c: [] for c in councils}
    rendered = dict.fromkeys(councils, 0)
    for step in range(max(len(w[3]) for w in walks)):
        batch = [(tab, url, council, share[step]) for tab, url, council, share in walks if step < len(share)]
        for tab, url, _, (_, path, _) in batch:
            if step == 0:  # a fresh session on the council now live
                tab.goto(f"{url}/{path}", wait_until="commit")
            else:  # the menu, as a user moves between pages
                tab.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
        for tab, _, council, (_, path, title) in batch:
            heading = tab.locator('[data-testid="stMain"] h1', has_text=title)
            heading.first.wait_for(timeout=60_000)  # this page's script has started
            tab.wait_for_selector(IDLE, timeout=60_000)
            for box in tab.locator('[data-testid="stException"]').all():
                failures[council].append(f"/{path}: {box.inner_text()[:300]}")
            rendered[council] += heading.count() > 0
    for council in councils:
        record(council, chromium_pages=rendered[council], chromium_exceptions=len(failures[council]))
    assert all(f == [] for f in failures.values()) and errors == [], (failures, errors)
    assert {c: rendered[c] for c in councils} == {c: len(share) for _, _, c, share in walks}, (
        "pages that showed their title"
    )
