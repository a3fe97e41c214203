"""End-to-end sign-in and a warm server, in a real headless Chromium against real servers.

* **Sign-in**: starts a real OpenID Connect provider (``oidc-provider-mock`` from PyPI, on a free
  local port, with an analyst, a viewer and a public user as predefined accounts) and one dashboard
  (``dev.py serve``) whose secrets file (``--secrets.files``, in tmp: the repository's files are never
  touched) points at it, with roles from a config copy (``MARKET_CONFIG``). Then, one browser
  context per person: an anonymous visitor gets the sign-in and no data; a viewer has no upload; an
  analyst uploads a drop and makes it live, and the audit log names the account; a public user has
  publication mode forced and a provider page refused with a sentence.
* **A warm server**: a cold ``dev.py serve`` with no sign-in and no address (it must bind 127.0.0.1
  only) gets 12 sessions at once on every page; none may show an exception.

Uses Debian's chromium through Playwright's ``executable_path``; never ``playwright install``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from access_support import ANALYST, PUBLIC, VIEWER, auth_secrets, config_with_roles, secrets_toml
from browser_support import (
    IDLE,
    ROOT,
    _free_port,
    _wait_until_healthy,
    registered_pages,
    require_chromium,
    without_charts,
)
from small_drop import loaded_small_store, write_small_drop

pytestmark = pytest.mark.e2e
require_chromium()

EXCEPTION = '[data-testid="stException"]'


def _wait_for_url(proc: subprocess.Popen, url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{url} did not answer: " + proc.stdout.read().decode(errors="replace")[-2000:])


@contextlib.contextmanager
def _running(cmd: list[str], env: dict) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded_small_store(tmp_path_factory.mktemp("e2e-access"))


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A real OpenID Connect provider with the three test accounts (their claims as the ID token has them)."""
    port = _free_port()
    users = [arg for user in (ANALYST, VIEWER, PUBLIC) for arg in ("--user-claims", json.dumps(user))]
    cmd = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *users]
    with _running(cmd, {**os.environ, "PYTHONWARNINGS": "ignore"}) as proc:
        issuer = f"http://127.0.0.1:{port}"
        _wait_for_url(proc, f"{issuer}/.well-known/openid-configuration")
        yield issuer


@pytest.fixture(scope="module")
def signed_in_server(store: Path, provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("e2e-secrets")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = tmp / "secrets.toml"
    secrets.write_text(secrets_toml(auth_secrets(provider, f"{url}/oauth2callback")), encoding="utf-8")
    env = {**os.environ, "MARKET_DATA_DIR": str(store), "MARKET_CONFIG": str(config_with_roles(tmp))}
    cmd = [sys.executable, "dev.py", "serve", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--secrets.files", str(secrets)]  # fmt: skip
    with _running(cmd, env) as proc:
        _wait_until_healthy(proc, url)
        yield url


def _open(browser, url: str, charts: bool = False):
    """Open ``url`` in a fresh context; charts and tables are left undrawn unless ``charts`` (see
    ``browser_support.without_charts``): only the public user's test looks at them."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if not charts:
        without_charts(context)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(IDLE, timeout=60_000)
    return context, page


def _sign_in(browser, server: str, user: dict, charts: bool = False):
    """Sign ``user`` in through the provider's own form; return (context, page) on the dashboard."""
    context, page = _open(browser, server, charts)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=user["sub"], exact=True).click(timeout=30_000)  # the provider's page
    page.wait_for_url(f"{server}/**", timeout=30_000)
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_text(f"Signed in as {user['name']}").wait_for(timeout=30_000)
    return context, page


def _goto(page, server: str, path: str) -> None:
    page.goto(f"{server}/{path}", wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)


def test_anonymous_visitor_gets_the_sign_in_and_no_data(browser, signed_in_server: str):
    context, page = _open(browser, signed_in_server)
    try:
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        _goto_anonymous = f"{signed_in_server}/data"
        page.goto(_goto_anonymous, wait_until="domcontentloaded")
        page.wait_for_selector(IDLE, timeout=60_000)
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
    finally:
        context.close()


def test_viewer_has_no_upload(browser, signed_in_server: str):
    context, page = _sign_in(browser, signed_in_server, VIEWER)
    try:
        _goto(page, signed_in_server, "data")
        page.get_by_text("Loading a new drop is for analysts").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        assert page.get_by_role("button", name="Roll back to the previous drop").count() == 0
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()


def test_analyst_makes_a_drop_live_and_the_audit_names_the_account(
    browser, signed_in_server: str, store: Path, tmp_path: Path
):
    from analytics.store.snapshots import history, live_drop_id, store_paths

    before = live_drop_id(store_paths(store))
    drop = write_small_drop(tmp_path / "october")
    target = tmp_path / "october.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(drop.iterdir()):
            archive.write(path, path.name)
    target.write_bytes(buf.getvalue())

    context, page = _sign_in(browser, signed_in_server, ANALYST)
    try:
        _goto(page, signed_in_server, "data")
        page.locator('.st-key-drop_upload input[type="file"]').set_input_files(str(target))
        confirm = page.get_by_role("button", name="Make this drop live")
        confirm.wait_for(timeout=60_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        confirm.click()
        page.get_by_text("was made live for everyone").wait_for(timeout=60_000)
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()
    assert live_drop_id(store_paths(store)) != before
    who = f"{ANALYST['name']} <{ANALYST['email']}>"
    events = history(store)
    assert [e["event"] for e in events[-2:]] == ["checked", "refresh"]
    assert all(e["by"] == who for e in events[-2:])


def test_public_user_sees_suppressed_figures_only(browser, signed_in_server: str):
    context, page = _sign_in(browser, signed_in_server, PUBLIC, charts=True)
    try:
        toggle = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]', has_text="Publication mode")
        switch = toggle.locator("input")
        assert switch.is_checked() and switch.is_disabled()  # publication mode, forced
        menu = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Providers and concentration" not in menu and "Data" not in menu.split()
        _goto(page, signed_in_server, "waiting")
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "[c]" in body  # small counts of people are suppressed on screen
        for path in ("market", "exit"):
            _goto(page, signed_in_server, path)
            page.get_by_text("names individual providers").wait_for(timeout=30_000)
            assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
            assert page.locator('[data-testid="stDataFrame"]').count() == 0
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# A warm server


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp* shows them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_twelve_sessions_at_once_on_a_cold_local_server(browser, store: Path, tmp_path: Path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MARKET_DATA_DIR": str(store), "HOME": str(tmp_path)}  # no sign-in anywhere
    env.pop("MARKET_CONFIG", None)
    cmd = [sys.executable, "dev.py", "serve", "--server.headless", "true", "--server.port", str(port),
           "--secrets.files", str(tmp_path / "no-secrets.toml")]  # fmt: skip  # and no address given
    with _running(cmd, env) as proc:
        _wait_until_healthy(proc, url)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only: local use without sign-in
        paths = [url for _, url, _ in registered_pages()]
        paths = (paths + [""] * 12)[:12]
        opened = []
        try:
            for path in paths:  # every session starts before any has finished its first run
                context = browser.new_context(viewport={"width": 1200, "height": 800})
                # The server runs each script whole either way; skipping the chart and table code keeps
                # 12 renderers on 2 cores from taking minutes. Nothing leaves the machine.
                without_charts(context)
                context.route(lambda u: not u.startswith(url), lambda route: route.abort())
                page = context.new_page()
                page.goto(f"{url}/{path}", wait_until="commit")
                opened.append((path, context, page))
            problems = []
            for path, _, page in opened:
                page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=150_000)
                page.wait_for_selector(IDLE, timeout=150_000)
                if page.locator(EXCEPTION).count():
                    problems.append((path, page.locator(EXCEPTION).first.inner_text()[:300]))
            assert problems == []
            sidebar = opened[0][2].locator('[data-testid="stSidebar"]').inner_text()
            assert "Local use, no sign-in" in sidebar
        finally:
            for _, context, _ in opened:
                context.close()
