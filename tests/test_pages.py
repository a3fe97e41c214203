"""AppTest of every page registered in dashboard.py, plus keyed interaction tests, on the demo store.

Why ``steady_navigation`` (in conftest.py): the project keeps its page scripts in ``pages/``, so Streamlit's
``PagesManager`` first assumes a v1 multipage app (``uses_pages_directory``) until ``st.navigation``
runs and switches it off for the process. ``AppTest`` resets that flag before *every* run, so a run
whose requested page hash matches a v1 page (a page whose ``url_path`` equals its file stem:
overview, waiting, providers, data) executes the page file alone, without ``dashboard.py`` and its
sidebar. The fixture keeps the flag off, as it is in a running server once ``dashboard.py`` has
run. The locality test also uses two fresh AppTests, so it holds without the fixture.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
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


def chart_titles(at: AppTest) -> dict[str, str]:
    """Return ``{chart title: subtitle}`` of every plotly chart on the page."""
    out = {}
    for element in at.get("plotly_chart"):
        title = json.loads(element.proto.spec)["layout"]["title"]
        out[title["text"]] = title.get("subtitle", {}).get("text", "")
    return out


def test_dashboard_registers_pages() -> None:
    assert len(PAGES) >= 9
    assert default_page() == "pages/overview.py"
    assert all((ROOT / page).is_file() for page in PAGES)


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
    assert "People waiting" in labels and "Market concentration (HHI)" in labels
    assert all(m.delta for m in at.metric[:4]), "tiles show change on last month"
    captions = " ".join(c.value for c in at.caption)
    assert "on October 2025" in captions, "tiles show change on last year"
    assert any(word in captions for word in ("Red", "Amber", "Green")), "RAG mark is text, not colour alone"
    assert any("since September 2026" in m.value for m in at.markdown), "change sentences"
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
    at.switch_page("pages/map_coverage.py").run()
    assert at.selectbox(key="f_locality").value == "Fellside"
    at.switch_page("pages/microenterprises.py").run()
    assert not at.exception
    assert at.selectbox(key="f_locality").value == "Fellside"
    assert any("Fellside locality" in s for s in chart_titles(at).values())


def provider_ids(demo_store: Path) -> dict[str, str]:
    """Return ``{provider name: id}`` of the demo store's latest month, whole council (the drill-down's options)."""
    from analytics import store
    from analytics.filters import default_filters
    from analytics.queries import filter_options
    from analytics.views import providers

    cur = store.market_cursor(store.open_live(demo_store))
    frame = providers.provider_frame(cur, default_filters(filter_options(cur)))
    return {name: pid for pid, name in providers.provider_options(frame).items()}


def test_provider_drilldown_changes_chart(app: AppTest, demo_store: Path) -> None:
    at = open_page(app, "pages/providers.py")
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
    at = open_page(app, "pages/providers.py")
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


def test_coverage_measure_changes_map(app: AppTest) -> None:
    at = open_page(app, "pages/map_coverage.py")
    before = chart_titles(at)
    assert any("fewer than 2 providers" in t for t in before)
    at.selectbox(key="coverage_measure").select("hours_per_1000").run()
    assert not at.exception
    after = chart_titles(at)
    assert any("aged 65 years and over" in s for s in after.values())
    assert before != after


def test_microenterprise_ratio_changes_chart(app: AppTest) -> None:
    at = open_page(app, "pages/microenterprises.py")
    before = chart_titles(at)
    at.selectbox(key="me_ratio").select("hours_per_me").run()
    assert not at.exception
    after = chart_titles(at)
    assert any("hours a week per microenterprise" in t for t in after)
    assert before != after
