"""End-to-end: the real app in a real headless Chromium (Debian's package, driven by Playwright).

Starts ``streamlit run dashboard.py`` on a free local port against the demo store, opens every
registered page, waits until the script is idle and the charts are drawn, and saves a 1400x900
screenshot of each into ``build/screenshots/`` (``python -m analytics screenshots`` copies them
small into docs/). Without Chromium these tests skip locally and FAIL when ``CI`` is set.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# Every chart whose box is in the viewport has drawn its plot (plotly adds .main-svg when it draws).
ALL_VISIBLE_CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
  .filter(c => { const r = c.getBoundingClientRect(); return r.top < window.innerHeight && r.bottom > 0; })
  .every(c => { const svg = c.querySelector('.main-svg'); return svg && svg.getBoundingClientRect().height > 0; })"""

pytestmark = pytest.mark.e2e

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed: CI must install Debian's chromium", pytrace=False)
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


def registered_pages() -> list[tuple[str, str]]:
    """Return (url_path, title) of every page registered in dashboard.py, in menu order."""
    text = (ROOT / "dashboard.py").read_text()
    calls = re.findall(r"st\.Page\((.*?)\)", text, flags=re.S)
    pages = []
    for call in calls:
        title = re.search(r'title="([^"]+)"', call).group(1)
        url = re.search(r'url_path="([^"]+)"', call)
        pages.append((url.group(1) if url else "", title))  # the default page is served at the root
    return pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_store: Path):
    port = _free_port()
    env = {**os.environ, "MARKET_DATA_DIR": str(demo_store)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("Streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], errors


def _open(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)  # the page script has started
    page.wait_for_selector(IDLE, timeout=60_000)


@pytest.mark.parametrize(
    ("url_path", "title"), registered_pages(), ids=[p[0] or "overview" for p in registered_pages()]
)
def test_every_page_renders_in_chromium(server: str, page, url_path: str, title: str):
    _open(page, f"{server}/{url_path}")
    assert page.locator('[data-testid="stException"]').count() == 0
    charts = page.locator('[data-testid="stPlotlyChart"]')
    if charts.count():
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', state="visible", timeout=30_000)
        page.wait_for_function(ALL_VISIBLE_CHARTS_DRAWN, timeout=30_000)
    page.wait_for_timeout(800)  # let plotly finish its transitions before the screenshot
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{url_path or 'overview'}.png"
    page.screenshot(path=str(shot))
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1400, 900)
        assert len(img.convert("L").getcolors(maxcolors=1_000_000) or []) > 10  # not a blank page
    assert page.get_by_text(title).count() >= 1


def test_locality_filter_changes_overview_in_browser(server: str, page):
    _open(page, f"{server}/")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=30_000)
    before = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert before, "the Overview shows headline tiles"
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
    options = page.get_by_role("option")
    options.nth(1).click()  # the first locality after "All"
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(300)
    after = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert after != before
    assert "locality=" in page.url  # the view is shareable as a link
    page.locator('[data-testid="stSidebarNav"] a', has_text="Providers and concentration").click()
    page.wait_for_url(re.compile(r".*/market.*"), timeout=30_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    shown = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).inner_text()
    assert "All" not in shown  # the filter survived the page switch
