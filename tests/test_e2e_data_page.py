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
import re
import zipfile
from pathlib import Path

import pytest
from browser_support import IDLE, page_url, require_chromium, save_screenshot, streamlit_server
from small_drop import loaded_small_store, write_small_drop

pytestmark = pytest.mark.e2e
require_chromium()


def data_page_url() -> str:
    """Return the Data page's URL path as dashboard.py registers it."""
    return page_url("pages/data.py")


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_small_store(tmp_path_factory.mktemp("e2e-data"))


@pytest.fixture(scope="module")
def server(small_store: Path):
    with streamlit_server(small_store) as url:
        yield url


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
    confirm.first.wait_for(timeout=30_000)  # drawn after the report: the run may still be finishing
    assert confirm.count() >= 1 and all(confirm.nth(i).is_disabled() for i in range(confirm.count()))

    # Frame the report: the error counts at the top, the errors table below them.
    message = page.get_by_text("This drop can't be loaded").first
    message.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(700)
    assert report.first.is_visible()
    shot = save_screenshot(page, "data-validation-report.png")
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1400, 900)
        assert len(img.convert("L").getcolors(maxcolors=1_000_000) or []) > 10  # not a blank page
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before  # nothing changed


def _server_peak_rss_mb(url: str) -> float:
    """Return the peak resident memory (VmHWM, MB) of the processes serving ``url`` (found by their port)."""
    port = url.rsplit(":", 1)[1]
    peak = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if port.encode() not in args:
                continue
            status = (proc / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    assert peak, f"no process found serving {url}"
    return peak / 1024


def _zeros_zip(path: Path, size: int = 1 << 30) -> Path:
    """A drop zip whose packages.csv is ``size`` bytes of zeros, built streaming (about 1 MB on disk)."""
    drop = write_small_drop(path.parent / "zeros-drop")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for member in sorted(drop.iterdir()):
            if member.name != "packages.csv":
                archive.write(member, member.name)
        with archive.open("packages.csv", "w", force_zip64=True) as out:
            block = b"0" * (1 << 22)
            for _ in range(size // len(block)):
                out.write(block)
    return path


def test_a_gigabyte_of_zeros_is_refused_quickly_and_the_server_keeps_serving(
    server: str, page, small_store: Path, tmp_path: Path
):
    import time

    bomb = _zeros_zip(tmp_path / "zeros.zip")
    assert bomb.stat().st_size < 8 * 1024 * 1024
    live = small_store / "market.duckdb"
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector(IDLE, timeout=60_000)
    page.goto(f"{server}/{data_page_url()}", wait_until="domcontentloaded")
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_selector('[data-testid="stFileUploader"]', timeout=30_000)

    started = time.perf_counter()
    page.locator('.st-key-drop_upload input[type="file"]').set_input_files(str(bomb))
    refusal = page.get_by_text("This upload can't be used")
    refusal.first.wait_for(state="visible", timeout=10_000)
    seconds = time.perf_counter() - started
    assert seconds < 10
    text = refusal.first.inner_text()
    assert re.search(r"\(\[limits\] max_\w+ in config.toml\)", text), text  # one line naming the limit
    assert _server_peak_rss_mb(server) < 1024
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before
    big = [
        p
        for p in small_store.rglob("*")
        if p.is_file() and p.suffix != ".duckdb" and p.stat().st_size > 10 * 1024 * 1024
    ]
    assert big == []  # nothing was unpacked into the data directory

    # The server keeps serving: the Overview draws its tiles without an error.
    page.goto(server, wait_until="domcontentloaded")
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
