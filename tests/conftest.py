"""Shared test setup: every test run uses its own pseudonymisation key and data stores in tmp."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # for the hand-made fixture modules (small_drop.py)


@pytest.fixture(scope="session", autouse=True)
def _isolated_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point MARKET_KEY_FILE at a key of this run so tests never touch a real key.

    Every xdist worker uses the same key (made once, under a lock), as the stores they share were
    pseudonymised with it.
    """
    from parallel_support import locked, run_dir

    from analytics.ingest.pseudonymise import load_or_create_key

    key = run_dir(tmp_path_factory) / "pseudonym.key"
    with locked(key.with_suffix(".lock")):
        load_or_create_key(key)
    os.environ["MARKET_KEY_FILE"] = str(key)


@pytest.fixture(scope="session", autouse=True)
def _local_server_address() -> None:
    """AppTest runs as a local server would: on 127.0.0.1 (``dashboard.py`` refuses other addresses
    without sign-in, and Streamlit's unset default means every interface)."""
    from streamlit import config

    config.set_option("server.address", "127.0.0.1")


@pytest.fixture(scope="session")
def demo_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council's drop (default seed), generated once per test run (shared by xdist workers)."""
    from parallel_support import built_once

    from analytics.demo import generate_drop

    return built_once(tmp_path_factory, "demo", lambda folder: generate_drop(folder / "drop")) / "drop"


@pytest.fixture(scope="session")
def demo_store(demo_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data store holding the demo drop, built once per run; MARKET_DATA_DIR points at it.

    Tests must not change it (use their own tmp store for refresh/rollback tests): every xdist
    worker reads the same store.
    """
    from parallel_support import built_once

    from analytics.store.snapshots import refresh

    def build(folder: Path) -> None:
        assert refresh(demo_drop, folder, loaded_by="tests").accepted

    data_dir = built_once(tmp_path_factory, "demo-store", build)
    os.environ["MARKET_DATA_DIR"] = str(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def council_stores(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Path]:
    """``{shape name: data store}`` of every council of ``analytics.demo.SHAPES``.

    Each store is built when a test first asks for it, once per run (shared by xdist workers).
    Northdale is the demo store itself; every other shape keeps ``council_support.PEOPLE_SHARE`` of
    its people, so the stores load and the pages draw quickly. Tests must not change them.
    """
    from council_support import CouncilStores

    return CouncilStores(tmp_path_factory, demo_store)


@pytest.fixture(scope="session")
def no_waiting_list_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small council (5% of the demo's people) with no requests file and three months of history, as at
    31 October 2026: areas with demand can't be told apart, and months before August 2026 have no figures.

    Built once per run (shared by xdist workers); found by ``tests/fuzz_councils.py``.
    """
    from parallel_support import built_once

    from analytics.demo import CouncilShape, generate_drop
    from analytics.store.snapshots import refresh

    def build(folder: Path) -> None:
        shape = CouncilShape(omit=frozenset({"requests"}), history_months=3, people_share=0.05)
        generate_drop(folder / "drop", shape=shape)
        assert refresh(folder / "drop", folder / "store", loaded_by="tests").accepted

    return built_once(tmp_path_factory, "no-waiting-list", build) / "store"


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
    from browser_support import checked_tab

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    with checked_tab(context) as opened:
        yield opened
    context.close()


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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with the long files first and some tests spread out (``parallel_support``)."""
    if config.getoption("dist") == "loadfile":
        from parallel_support import make_scheduler

        return make_scheduler(config, log)
    return None


def pytest_sessionfinish(session) -> None:
    """On an xdist worker, hand the rows of the summary tables to the controller (which prints them)."""
    import dataclasses

    from bad_inputs import ROWS
    from council_support import RESULTS
    from parallel_support import worker_tables
    from test_disclosure_attack import ATTACK_KEY

    stash = session.config.stash
    attack = [dataclasses.asdict(r) for r in stash.get(ATTACK_KEY, [])]
    worker_tables(session.config, {"councils": RESULTS, "bad_inputs": stash.get(ROWS, []), "attack": attack})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # noqa: ARG001 - xdist's hook signature
    """On the xdist controller, add a finished worker's summary rows to this process's tables."""
    from bad_inputs import CASES, ROWS
    from council_support import RESULTS
    from disclosure_attack import Result
    from parallel_support import merge_worker_tables
    from test_disclosure_attack import ATTACK_KEY

    tables = merge_worker_tables(node)
    for council, row in tables.get("councils", {}).items():
        RESULTS.setdefault(council, {}).update(row)
    order = [case.name for case in CASES]
    rows = node.config.stash.setdefault(ROWS, [])
    rows.extend(tables.get("bad_inputs", []))
    rows.sort(key=lambda r: order.index(r["case"]) if r["case"] in order else len(order))
    node.config.stash.setdefault(ATTACK_KEY, []).extend(Result(**r) for r in tables.get("attack", []))


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
