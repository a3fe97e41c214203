"""What the real-browser tests share: Debian's Chromium, its flags, and a Streamlit server on a free port.

Chromium is Debian's package (``apt-get install chromium``), driven by Playwright through
``executable_path``; ``playwright install`` is never used.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
SHOTS = ROOT / "build" / "screenshots"
"""Where the e2e tests leave their screenshots (``python -m analytics docs --screenshots`` copies them into docs/)."""


def require_chromium() -> None:
    """Skip the calling test module without Chromium, or fail it when ``CI`` is set."""
    if CHROMIUM is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed: CI must install Debian's chromium", pytrace=False)
    pytest.skip("Chromium not installed (apt-get install chromium)", allow_module_level=True)


def registered_pages() -> list[tuple[str, str, str]]:
    """Return (file, url_path, title) of every page in dashboard.py, menu order; the default page's url is ''."""
    pages = []
    for call in re.findall(r"st\.Page\((.*?)\)", (ROOT / "dashboard.py").read_text(), flags=re.S):
        file = re.search(r'"(pages/[^"]+\.py)"', call).group(1)
        title = re.search(r'title="([^"]+)"', call).group(1)
        url = re.search(r'url_path="([^"]+)"', call)
        pages.append((file, url.group(1) if url else "", title))
    return pages


def page_url(file: str) -> str:
    """Return the url path dashboard.py gives the page in ``file`` (e.g. ``pages/data.py``)."""
    return next(url for f, url, _ in registered_pages() if f == file)


def save_screenshot(page, name: str) -> Path:
    """Save a screenshot of ``page`` as ``SHOTS/name`` and return its path.

    Each test writes its own file names, and a file is replaced whole (written beside it, then
    renamed), so parallel test workers or a docs refresh reading the folder never see half a PNG.
    """
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / name
    partial = shot.with_name(f".{name}.{os.getpid()}.partial")
    partial.write_bytes(page.screenshot())
    os.replace(partial, shot)
    return shot


CHART_CODE = ("PlotlyChart", "DataFrame")
"""Streamlit's lazily loaded element code for charts (Plotly, 4.7 MB, maps drawn in software WebGL)
and tables (a canvas grid): the bulk of what Chromium spends on a page."""


@contextlib.contextmanager
def checked_tab(context) -> Iterator:
    """Yield a new tab of ``context`` (a fresh Streamlit session); fail if it raised a JavaScript error."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    opened.close()
    assert errors == [], errors


def without_charts(context) -> None:
    """Make a Playwright context (or one page) refuse Streamlit's chart and table code (``CHART_CODE``).

    For tests of what is around the charts (menu, headings, sidebar, sign-in): the server still runs
    every page script whole and sends every element; the browser only leaves charts and tables as
    placeholders. Charts are drawn and checked in ``tests/test_e2e.py`` and ``tests/test_councils.py``.
    """
    for name in CHART_CODE:
        context.route(f"**/static/js/{name}.*.js", lambda route: route.abort())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE_COMMANDS = {
    "dev.py serve": [sys.executable, "dev.py", "serve"],  # what `python3 dev.py run` ends with
    # how Streamlit users start apps
    "streamlit run": [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--browser.gatherUsageStats", "false"],
}


@contextlib.contextmanager
def streamlit_server(data_dir: Path, how: str = "dev.py serve") -> Iterator[str]:
    """Run the dashboard on a free local port against ``data_dir`` and yield its URL.

    ``how`` is a key of ``SERVE_COMMANDS``: ``dev.py serve`` (as ``dev.py run`` does) or a plain
    ``streamlit run dashboard.py``.
    """
    with streamlit_servers(data_dir, 1, how) as urls:
        yield urls[0]


@contextlib.contextmanager
def streamlit_servers(data_dir: Path, count: int, how: str = "dev.py serve") -> Iterator[list[str]]:
    """Start ``count`` dashboard servers at once (see ``streamlit_server``); yield their URLs when all are up."""
    env = {**os.environ, "MARKET_DATA_DIR": str(data_dir)}
    started: list[tuple[subprocess.Popen, str]] = []
    try:
        for _ in range(count):
            port = _free_port()
            proc = subprocess.Popen(
                [*SERVE_COMMANDS[how], "--server.headless", "true", "--server.port", str(port),
                 "--server.address", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            started.append((proc, f"http://127.0.0.1:{port}"))
        for proc, url in started:
            _wait_until_healthy(proc, url)
        yield [url for _, url in started]
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_healthy(proc: subprocess.Popen, url: str, seconds: float = 90) -> None:
    """Return when ``url`` answers Streamlit's health check; fail the test with the server's output if not."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("Streamlit did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
