"""End-to-end: the real app in a real headless Chromium (Debian's package, driven by Playwright).

Starts ``streamlit run dashboard.py`` on a free local port against the demo store, opens every
registered page, waits until the script is idle and the charts are drawn, and saves a 1400x900
screenshot of each into ``build/screenshots/`` (``python -m analytics docs --screenshots`` copies
them small into docs/). Without Chromium these tests skip locally and FAIL when ``CI`` is set.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import IDLE, registered_pages, require_chromium, save_screenshot, streamlit_server, without_charts

# Every chart whose box is in the viewport has drawn its plot (plotly adds .main-svg when it draws).
ALL_VISIBLE_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter(c => { const r = c.getBoundingClientRect(); return r.top < window.innerHeight && r.bottom > 0; })
  .every(c => { const svg = c.querySelector('.main-svg'); return svg && svg.getBoundingClientRect().height > 0; })"""
PAGES = [(url, title) for _, url, title in registered_pages()]

pytestmark = pytest.mark.e2e
require_chromium()


@pytest.fixture(scope="module")
def server(demo_store: Path):
    with streamlit_server(demo_store) as url:
        yield url


@pytest.fixture(scope="module")
def context(browser):
    """One 1400x900 context for the module: its HTTP cache keeps the app's code, which Chromium then
    need not compile again for every page (about 1 s of Chromium CPU a page)."""
    shared = browser.new_context(viewport={"width": 1400, "height": 900})
    yield shared
    shared.close()


@pytest.fixture
def page(context):
    """A tab of its own (a fresh Streamlit session); the test fails if the page raised a JavaScript error."""
    from browser_support import checked_tab

    with checked_tab(context) as opened:
        yield opened


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)  # the page script has started
    page.wait_for_selector(IDLE, timeout=60_000)
    # Lazily loaded element code (charts, tables, widgets) shows grey skeletons until it arrives.
    page.wait_for_selector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]', state="detached",
                           timeout=60_000)  # fmt: skip


@pytest.mark.parametrize(("url_path", "title"), PAGES, ids=[url or "overview" for url, _ in PAGES])
def test_every_page_renders_in_chromium(server: str, page, url_path: str, title: str):
    _open(page, f"{server}/{url_path}")
    assert page.locator('[data-testid="stException"]').count() == 0
    charts = page.locator('[data-testid="stPlotlyChart"]')
    if charts.count():
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', state="visible", timeout=30_000)
        page.wait_for_function(ALL_VISIBLE_CHARTS_DRAWN, timeout=30_000)
    page.wait_for_timeout(800)  # let plotly finish its transitions before the screenshot
    shot = save_screenshot(page, f"{url_path or 'overview'}.png")
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1400, 900)
        assert len(img.convert("L").getcolors(maxcolors=1_000_000) or []) > 10  # not a blank page
    assert page.get_by_text(title).count() >= 1


CUT_TILE_TEXT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"] *, [data-testid="stMetricDelta"] *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""  # clipped: text wider than its box


def test_overview_tiles_are_never_cut_and_no_change_has_no_arrow(server: str, page):
    """Every tile label and change is shown whole (wrapped, never an ellipsis); "no change" has no arrow."""
    without_charts(page)  # tiles only: test_every_page_renders_in_chromium draws the charts
    _open(page, f"{server}/")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    assert page.locator('[data-testid="stMetricLabel"]').count() >= 12
    assert page.evaluate(CUT_TILE_TEXT) == []
    deltas = page.locator('[data-testid="stMetricDelta"]')
    unchanged = [deltas.nth(i) for i in range(deltas.count()) if deltas.nth(i).inner_text().startswith("no ")]
    assert unchanged, "the demo's Overview has tiles with no change"
    changed = [deltas.nth(i) for i in range(deltas.count()) if deltas.nth(i).inner_text()[:1] in "+-"]
    assert changed and all(d.locator("svg").count() >= 1 for d in changed)  # Streamlit's arrow is an svg icon
    assert all(d.locator("svg").count() == 0 for d in unchanged)


def test_locality_filter_changes_overview_in_browser(server: str, page):
    without_charts(page)  # tiles, the link and the menu: test_every_page_renders_in_chromium draws the charts
    _open(page, f"{server}/")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    before = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert before, "the Overview shows headline tiles"
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    page.keyboard.press("ArrowDown")  # the first locality after "All"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*locality=.*"), timeout=30_000)  # the view is shareable as a link
    # The rerun has finished when the subtitle names the locality instead of the whole council.
    page.wait_for_function(
        """() => { const t = document.querySelector('[data-testid="stMain"]').innerText;
                   return !t.includes('Whole council,'); }""",
        timeout=60_000,
    )
    page.wait_for_selector(IDLE, timeout=60_000)
    after = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert after != before
    page.locator('[data-testid="stSidebarNav"] a', has_text="Providers and concentration").click()
    page.wait_for_url(re.compile(r".*/market.*"), timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    shown = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).inner_text()
    assert "All" not in shown  # the filter survived the page switch
