"""End-to-end: the first visitor of a freshly started server follows a deep link to a page.

Streamlit treats an entry script beside a ``pages/`` folder as a legacy (v1) multipage app until
``st.navigation`` has run once in the process; the first visitor's run would then execute the page
file alone, with a folder-style menu and without ``dashboard.py``'s sidebar filters. For every
registered page, and for both ways of starting the app (``streamlit run dashboard.py`` and
``dev.py serve``), a *fresh* server's first request is the deep link; the page must open with the
dashboard's own menu (page titles, never file names such as ``dashboard``) and its filters.
Each case starts its own server (about 5 s of server CPU and 3 s of Chromium CPU a case).

The cases are the two ways the guard is reached, on both ways of starting the app: the default page
(no url path) and a page through ``render.start_page`` (Map and coverage), and the two pages that call
``shared.run_through_dashboard`` themselves (Data, Briefing pack). What makes any other page's deep
link work is the same guard, reached the same way; ``tests/test_pages.py`` checks statically that
every registered page calls it before anything else and that every page's file stem is its url path
(the two things a page of its own could get wrong), so a fresh server per page adds no check.
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


# `streamlit run dashboard.py`: the default page, a `render.start_page` page, and both pages calling
# `shared.run_through_dashboard` themselves; `dev.py serve` runs the same command in-process, so the
# root page and one deep link are enough there.
CASES = [("streamlit run", *p) for p in PAGES if p[1] in ("", "coverage", "data", "briefing")] + [
    ("dev.py serve", *p) for p in PAGES if p[1] in ("", "briefing")
]


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
