"""End-to-end: the first visitor of a freshly started server follows a deep link to a page.

Streamlit treats an entry script beside a ``pages/`` folder as a legacy (v1) multipage app until
``st.navigation`` has run once in the process; the first visitor's run would then execute the page
file alone, with a folder-style menu and without ``dashboard.py``'s sidebar filters. For every
registered page, and for both ways of starting the app (``streamlit run dashboard.py`` and
``dev.py serve``), a *fresh* server's first request is the deep link; the page must open with the
dashboard's own menu (page titles, never file names such as ``dashboard``) and its filters.
Each case starts its own server, so the cases run on any test worker, one after another.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_support import IDLE, registered_pages, require_chromium, streamlit_server, without_charts

pytestmark = pytest.mark.e2e
require_chromium()

PAGES = registered_pages()
TITLES = [title for _, _, title in PAGES]


# Every page with a plain `streamlit run dashboard.py`; `dev.py serve` runs the same command in-process,
# so the root page and one deep link are enough there.
CASES = [("streamlit run", *p) for p in PAGES] + [("dev.py serve", *p) for p in PAGES if p[1] in ("", "briefing")]


@pytest.mark.parametrize(
    ("how", "file", "url_path", "title"), CASES, ids=[f"{h}-{u or 'overview'}" for h, _, u, _ in CASES]
)
def test_deep_link_on_a_fresh_server_opens_the_page_with_the_dashboard_around_it(
    demo_store: Path, page, how: str, file: str, url_path: str, title: str
):
    with streamlit_server(demo_store, how) as server:  # started for this case: the deep link is its first visit
        _check_deep_link(page, server, how, url_path, title)


def _check_deep_link(page, server: str, how: str, url_path: str, title: str) -> None:
    without_charts(page.context)  # what is checked is around the charts; test_e2e.py draws them
    page.goto(f"{server}/{url_path}", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    heading = page.locator('[data-testid="stMain"] h1').first.inner_text()
    assert heading == title, f"{how}: /{url_path} opened {heading!r}"
    menu = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert all(t in menu for t in TITLES), f"{how}: the menu is not the dashboard's: {menu!r}"
    links = page.locator('[data-testid="stSidebarNav"] a')
    hrefs = sorted(urlparse(links.nth(i).get_attribute("href")).path.strip("/") for i in range(links.count()))
    # The dashboard's pages and nothing else (a legacy folder menu would list "dashboard" itself).
    assert hrefs == sorted(u for _, u, _ in PAGES), f"{how}: menu links {hrefs}"
    # dashboard.py ran around the page: its sidebar filters and the data-as-at caption are there.
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "data as at" in sidebar, f"{how}: /{url_path} ran without dashboard.py"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert urlparse(page.url).path.strip("/") == url_path, page.url
