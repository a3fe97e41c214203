"""Shared test setup: every test run uses its own pseudonymisation key and data stores in tmp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # for the hand-made fixture modules (small_drop.py)


@pytest.fixture(scope="session", autouse=True)
def _isolated_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point MARKET_KEY_FILE at a per-session key so tests never touch a real key."""
    key_dir = tmp_path_factory.mktemp("key")
    os.environ["MARKET_KEY_FILE"] = str(key_dir / "pseudonym.key")


@pytest.fixture(scope="session", autouse=True)
def _local_server_address() -> None:
    """AppTest runs as a local server would: on 127.0.0.1 (``dashboard.py`` refuses other addresses
    without sign-in, and Streamlit's unset default means every interface)."""
    from streamlit import config

    config.set_option("server.address", "127.0.0.1")


@pytest.fixture(scope="session")
def demo_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council's drop (default seed), generated once per test session."""
    from analytics.demo import generate_drop

    folder = tmp_path_factory.mktemp("demo") / "drop"
    generate_drop(folder)
    return folder


@pytest.fixture(scope="session")
def demo_store(demo_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data store holding the demo drop, built once per session; MARKET_DATA_DIR points at it.

    Tests must not change it (use their own tmp store for refresh/rollback tests).
    """
    from analytics.store.snapshots import refresh

    data_dir = tmp_path_factory.mktemp("demo-store")
    assert refresh(demo_drop, data_dir, loaded_by="tests").accepted
    os.environ["MARKET_DATA_DIR"] = str(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def council_stores(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{shape name: data store}`` of every council of ``analytics.demo.SHAPES``, built once per session.

    Northdale is the demo store itself; every other shape keeps ``council_support.PEOPLE_SHARE`` of
    its people, so the stores load and the pages draw quickly. Tests must not change them.
    """
    from council_support import build_councils

    return build_councils(tmp_path_factory.mktemp("councils"), demo_store)


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module (driven by Playwright, never downloaded)."""
    from browser_support import ARGS, CHROMIUM
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A 1400x900 page in a fresh context; the test fails if the page raised a JavaScript error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], errors


@pytest.fixture(autouse=True)
def steady_navigation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Streamlit's legacy pages-directory mode off for AppTest runs, as a server does.

    A server leaves that mode once, on its first run (``ui.shared.run_through_dashboard``) and stays
    out of it. AppTest resets the flag before *every* run, so each widget interaction would be the
    "first run" again and be replaced by a rerun that drops the click. This keeps the flag off, as
    in a running server. ``tests/test_e2e.py`` checks the real first-run path on a fresh server.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def app(demo_store: Path):
    """A fresh AppTest of dashboard.py on the demo store (not yet run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(TESTS.parent / "dashboard.py"), default_timeout=60)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 - pytest's hook signature
    """Print the councils table (``tests/test_councils.py``) and the bad-input corpus table when they ran."""
    from council_support import write_summary

    write_summary(terminalreporter)
    _bad_input_summary(terminalreporter, config)


def _bad_input_summary(terminalreporter, config) -> None:
    """Print the bad-input corpus table (case, expected, observed, problems) when the corpus ran."""
    from bad_inputs import ROWS

    _attack_summary(terminalreporter, config)
    rows = config.stash.get(ROWS, [])
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("bad-input corpus")
    width = max(len(r["case"]) for r in rows)
    write(f"{'case':<{width}}  {'expected':<8}  {'observed':<8}  {'secs':>5}  message / problems")
    for r in rows:
        note = "; ".join(r["problems"]) if r["problems"] else r["message"]
        write(f"{r['case']:<{width}}  {r['expected']:<8}  {r['observed']:<8}  {r['seconds']:>5.2f}  {note[:110]}")
    wrong = sum(r["expected"] == "refused" and r["observed"] == "accepted" for r in rows)
    tracebacks = sum(r["traceback"] for r in rows)
    leaks = sum(r["ids"] for r in rows)
    changed = sum(r["live_changed"] for r in rows)
    write(
        f"{len(rows)} cases: {sum(r['observed'] == r['expected'] for r in rows)} as expected, "
        f"{wrong} wrong acceptances, "
        f"{tracebacks} tracebacks, {leaks} outputs with raw IDs, {changed} live-database changes after a refusal, "
        f"{sum(bool(r['problems']) for r in rows)} cases with problems"
    )


def _attack_summary(terminalreporter, config) -> None:
    """Print the disclosure attack's counts (tests/test_disclosure_attack.py) when it ran."""
    from test_disclosure_attack import ATTACK_KEY

    results = config.stash.get(ATTACK_KEY, [])
    if not results:
        return
    terminalreporter.section("disclosure attack")
    for r in results:
        terminalreporter.write_line(
            f"tables tried: {r.tables}; suppressed cells attacked: {r.cells}; cells recovered: {len(r.recovered)}"
        )
