"""End-to-end: upload a bad drop on the Data page in a real headless Chromium and see its report.

Starts ``streamlit run dashboard.py`` on a free local port against a small store in tmp, uploads
a zip with two errors through the uploader's file input, waits for the validation report, checks
the errors table is shown and the live data is untouched, and saves
``build/screenshots/data-validation-report.png`` (1400x900). Without Chromium this skips locally
and FAILS when ``CI`` is set. Uses Debian's chromium; never ``playwright install``.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from small_drop import write_small_drop

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / "build" / "screenshots" / "data-validation-report.png"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = pytest.mark.e2e

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed: CI must install Debian's chromium", pytrace=False)
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


def data_page_url() -> str:
    """Return the Data page's URL path as dashboard.py registers it (default: the file's stem)."""
    for call in re.findall(r"st\.Page\((.*?)\)", (ROOT / "dashboard.py").read_text(), flags=re.S):
        if "pages/data.py" in call:
            found = re.search(r'url_path="([^"]*)"', call)
            return found.group(1) if found else "data"
    raise AssertionError("dashboard.py does not register pages/data.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from analytics.store import refresh

    tmp = tmp_path_factory.mktemp("e2e-data")
    data_dir = tmp / "store"
    assert refresh(write_small_drop(tmp / "first"), data_dir, loaded_by="setup").accepted
    return data_dir


@pytest.fixture(scope="module")
def server(small_store: Path):
    port = _free_port()
    env = {**os.environ, "MARKET_DATA_DIR": str(small_store)}
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


def _bad_zip(folder: Path) -> Path:
    def packages(rows):
        rows[0]["planned_hours_per_week"] = "lots"  # packages.csv row 2: not a number
        rows[3]["provider_id"] = "NOPE"  # packages.csv row 5: no such provider

    drop = write_small_drop(folder / "bad", packages=packages)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(drop.iterdir()):
            archive.write(path, path.name)
    target = folder / "november-drop.zip"
    target.write_bytes(buf.getvalue())
    return target


def test_bad_drop_validation_report_in_chromium(server: str, page, small_store: Path, tmp_path: Path):
    live = small_store / "market.duckdb"
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    # Open the app first: until the entry script has run once, a fresh server serves pages/data.py
    # on its own (no st.navigation menu, no sidebar filters).
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.goto(f"{server}/{data_page_url()}", wait_until="domcontentloaded")
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_role("heading", name="Load a new drop").wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stFileUploader"]', timeout=30_000)

    page.locator('.st-key-drop_upload input[type="file"]').set_input_files(str(_bad_zip(tmp_path)))
    report = page.locator('.st-key-error_report [data-testid="stDataFrame"]')
    report.wait_for(state="visible", timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)

    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("This drop can't be loaded").count() >= 1
    assert report.count() == 1
    confirm = page.get_by_role("button", name="Make this drop live")
    assert confirm.count() >= 1 and all(confirm.nth(i).is_disabled() for i in range(confirm.count()))

    # Frame the report: the error counts at the top, the errors table below them.
    message = page.get_by_text("This drop can't be loaded").first
    message.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(700)
    assert report.first.is_visible()
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT))
    from PIL import Image

    with Image.open(SHOT) as img:
        assert img.size == (1400, 900)
        assert len(img.convert("L").getcolors(maxcolors=1_000_000) or []) > 10  # not a blank page
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before  # nothing changed
