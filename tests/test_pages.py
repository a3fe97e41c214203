"""AppTest of every page registered in dashboard.py, plus keyed interaction tests, on the demo store.

Streamlit's legacy pages-folder mode (an entry script beside ``pages/``) is left on a server's first
run by ``ui.shared.run_through_dashboard``; ``steady_navigation`` (conftest.py) keeps it off for
AppTest, which resets it before every run. ``tests/test_e2e_deep_links.py`` checks the first run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from apptest_support import chart_titles
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"
TIMEOUT = 60


def registered_pages() -> list[str]:
    """Return the page paths registered with ``st.Page("pages/...")`` in dashboard.py, in order."""
    tree = ast.parse(DASHBOARD.read_text(encoding="utf-8"))
    pages = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Page"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            pages.append(node.args[0].value)
    return pages


def default_page() -> str:
    """Return the page registered with ``default=True``."""
    tree = ast.parse(DASHBOARD.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "Page"
            and any(k.arg == "default" and getattr(k.value, "value", False) is True for k in node.keywords)
        ):
            return node.args[0].value
    return registered_pages()[0]


PAGES = registered_pages()


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app and switch to ``page`` (the default page needs no switch)."""
    at.run()
    if page != default_page():
        at.switch_page(page).run()
    return at


def test_dashboard_registers_pages() -> None:
    assert len(PAGES) >= 9
    assert default_page() == "pages/overview.py"
    assert all((ROOT / page).is_file() for page in PAGES)


def test_pages_folder_holds_only_registered_pages_named_as_their_urls() -> None:
    """Only pages in pages/, each registered, each file stem equal to its url path.

    The stem rule is what lets ``ui.shared.run_through_dashboard`` reopen the page a fresh server's
    first visitor asked for: Streamlit's legacy runner and st.navigation then give the page the
    same page hash.
    """
    assert sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").iterdir()) == sorted(PAGES)
    tree = ast.parse(DASHBOARD.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            keywords = {k.arg: k.value.value for k in node.keywords}
            if not keywords.get("default"):
                assert keywords["url_path"] == Path(node.args[0].value).stem


def test_every_page_first_makes_sure_it_ran_through_the_dashboard() -> None:
    """The first thing every page does is ``shared.run_through_dashboard`` (or ``render.start_page``,
    which calls it first).

    With the stem rule above, this is what lets a fresh server's first visitor follow a deep link to
    any page: ``tests/test_e2e_deep_links.py`` proves the guard in Chromium on fresh servers for the
    default page, a ``start_page`` page and the pages calling the guard themselves.
    """
    guards = {"start_page", "run_through_dashboard"}
    skipped = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)
    for page in PAGES:
        tree = ast.parse((ROOT / page).read_text(encoding="utf-8"))
        doing = [
            s for s in tree.body if not isinstance(s, skipped) and any(isinstance(n, ast.Call) for n in ast.walk(s))
        ]
        decorated = [s for s in tree.body if isinstance(s, skipped[2:]) and s.decorator_list]
        first = doing[0]
        assert all(s.lineno > first.lineno for s in decorated), f"{page} runs a decorator before its guard"
        called = {
            getattr(n.func, "attr", getattr(n.func, "id", "")) for n in ast.walk(first) if isinstance(n, ast.Call)
        }
        assert called & guards, f"{page}: the first thing it does is line {first.lineno}, not the guard"


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(app: AppTest, page: str) -> None:
    at = open_page(app, page)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title, f"{page} shows no title"
    # dashboard.py ran too: the shared sidebar filters are there on every page.
    assert at.selectbox(key="f_locality").value == "All"


def test_overview_shows_tiles_sentences_and_trends(app: AppTest) -> None:
    at = open_page(app, "pages/overview.py")
    labels = [m.label for m in at.metric]
    assert "People waiting" in labels and "Market concentration (HHI, index 0 to 10,000)" in labels
    assert all(m.delta for m in at.metric[:4]), "tiles show change on last month"
    for m in at.metric:  # no change: no arrow and grey; a change: an arrow its way, coloured by good direction
        if m.delta.startswith("no "):
            assert (m.proto.direction, m.proto.color) == (Metric.NONE, Metric.GRAY), m.label
        elif m.delta:
            assert m.proto.direction == (Metric.DOWN if m.delta.startswith("-") else Metric.UP), m.label
    waiting = next(m for m in at.metric if m.label == "People waiting")
    assert waiting.delta.startswith("-") and waiting.proto.color == Metric.GREEN  # fewer waiting is good
    captions = " ".join(c.value for c in at.caption)
    assert "on October 2025" in captions, "tiles show change on last year"
    assert any(word in captions for word in ("Red", "Amber", "Green")), "RAG mark is text, not colour alone"
    assert any("in September 2026" in m.value for m in at.markdown), "change sentences"
    assert any('data-testid="stMetricLabel"' in h.proto.body for h in at.get("html")), "tile labels wrap, never cut"
    assert len(chart_titles(at)) == 2


def test_locality_filter_changes_overview(demo_store: Path) -> None:
    council = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT).run()
    local = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT)
    local.query_params["locality"] = "Fellside"
    local.run()
    assert not council.exception and not local.exception
    assert local.selectbox(key="f_locality").value == "Fellside"
    whole = {m.label: m.value for m in council.metric}
    fellside = {m.label: m.value for m in local.metric}
    assert whole["People receiving care"] != fellside["People receiving care"]
    assert whole["People waiting"] != fellside["People waiting"]
    assert any("Fellside locality" in s for s in chart_titles(local).values())


def test_filter_state_survives_page_switch(app: AppTest) -> None:
    at = app.run()
    at.selectbox(key="f_locality").select("Fellside").run()
    assert at.selectbox(key="f_locality").value == "Fellside"
    at.switch_page("pages/coverage.py").run()
    assert at.selectbox(key="f_locality").value == "Fellside"
    at.switch_page("pages/microenterprises.py").run()
    assert not at.exception
    assert at.selectbox(key="f_locality").value == "Fellside"
    assert any("Fellside locality" in s for s in chart_titles(at).values())


def provider_ids(demo_store: Path) -> dict[str, str]:
    """Return ``{provider name: id}`` of the demo store's latest month, whole council (the drill-down's options)."""
    from analytics.store import snapshots as store
    from analytics.store.queries import filter_options
    from analytics.views import providers
    from analytics.views.filters import default_filters

    cur = store.market_cursor(store.open_live(demo_store))
    frame = providers.provider_frame(cur, default_filters(filter_options(cur)))
    return {name: pid for pid, name in providers.provider_options(frame).items()}


def test_provider_drilldown_changes_chart(app: AppTest, demo_store: Path) -> None:
    at = open_page(app, "pages/market.py")
    box = at.selectbox(key="provider_drilldown")
    first, second = box.options[0], box.options[1]  # labels (provider names)
    before = chart_titles(at)
    assert any(first in s for s in before.values())
    box.select(provider_ids(demo_store)[second]).run()
    assert not at.exception
    after = chart_titles(at)
    assert any(second in s for s in after.values())
    assert not any(first in s for t, s in after.items() if t not in before)
    assert before != after


def test_provider_table_filters(app: AppTest) -> None:
    at = open_page(app, "pages/market.py")
    rows_before = _providers_rows(at)
    at.multiselect(key="providers_type").select("Microenterprise").run()
    assert not at.exception
    rows_after = _providers_rows(at)
    assert 0 < rows_after < rows_before


def _providers_rows(at: AppTest) -> int:
    for frame in at.dataframe:
        if "Provider" in frame.value.columns and "CQC rating" in frame.value.columns:
            return len(frame.value)
    raise AssertionError("no provider table")


@pytest.mark.parametrize(
    ("page", "key", "choice", "before_text", "after_text"),
    [
        ("pages/coverage.py", "coverage_measure", "hours_per_1000", "fewer than 2 providers", "aged 65 years and over"),
        ("pages/microenterprises.py", "me_ratio", "hours_per_me", None, "hours a week per microenterprise"),
    ],
)
def test_choosing_a_measure_changes_the_chart(app: AppTest, page, key, choice, before_text, after_text) -> None:
    at = open_page(app, page)
    before = chart_titles(at)
    assert before_text is None or any(before_text in t for t in before)
    at.selectbox(key=key).select(choice).run()
    assert not at.exception
    after = chart_titles(at)
    assert any(after_text in f"{t} {s}" for t, s in after.items())
    assert before != after


def test_chart_data_table_is_drawn_when_its_expander_opens(app: AppTest, demo_store: Path) -> None:
    """Every chart keeps its "Data table" expander; the table is drawn only once it is opened.

    A data grid in a closed expander costs a new visitor's browser its code and layout for nothing
    (``benchmarks/browser.md``), so the expander reruns its fragment on opening and draws the table then.
    """
    from analytics.store import snapshots as store
    from analytics.store.queries import filter_options
    from analytics.views import waiting
    from analytics.views.filters import default_filters
    from ui.render import table_key

    at = open_page(app, "pages/waiting.py")
    charts = at.get("plotly_chart")
    assert [e.label for e in at.expander].count("Data table") == len(charts) == 7
    assert len(at.dataframe) == 0  # every table on this page is a chart's, and none is open
    cur = store.market_cursor(store.open_live(demo_store))
    spec = waiting.waiting_page(cur, default_filters(filter_options(cur))).people_chart
    at.session_state[table_key(spec)] = True  # what opening the expander sets
    at.run()
    assert not at.exception
    assert len(at.dataframe) == 1 and len(at.get("plotly_chart")) == 7
    shown = at.dataframe[0].value
    assert list(shown.columns) == spec.table.columns and len(shown) == spec.table.height
