"""Benchmark the dashboard pages: server-side time of each page and of a locality change (AppTest).

Not a test. Run from the project root:

    .venv/bin/python benchmarks/bench_pages.py                    # builds a demo store in a temp dir
    .venv/bin/python benchmarks/bench_pages.py --data-dir /tmp/p1store   # an existing store

Every page registered in ``dashboard.py`` is timed with ``streamlit.testing.v1.AppTest`` (the whole
script run on the server: ``dashboard.py``, the sidebar, the page; no browser, no network):

* **first load**: ``st.cache_data`` cleared (as after a refresh), then a switch to the page. The
  DuckDB connection (``st.cache_resource``) stays open, as in a running server.
* **rerun**: the same page run again with nothing changed (cached reads).
* **locality change**: the sidebar locality set to another locality (a different one in each
  repeat, so the page's cached reads miss, as for a user choosing a new locality).

Each is the median of ``--repeats`` (default 3), in seconds. "AppTest floor" is a one-line app
run the same way: AppTest's own overhead, included in every figure. Writes ``benchmarks/pages.md``.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DASHBOARD = ROOT / "dashboard.py"
OUT = ROOT / "benchmarks" / "pages.md"
TIMEOUT = 120
BUDGET_S = 1.0


def registered_pages() -> list[tuple[str, str]]:
    """Return ``(path, title)`` of every ``st.Page("pages/...", title=...)`` in dashboard.py, in order."""
    out = []
    for node in ast.walk(ast.parse(DASHBOARD.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page":
            title = next((k.value.value for k in node.keywords if k.arg == "title"), node.args[0].value)
            out.append((node.args[0].value, title))
    return out


def steady_navigation() -> None:
    """Keep Streamlit's v1 pages-directory mode off, as in a server once dashboard.py has run.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run; with a ``pages/`` folder
    it would then run a page whose url path equals its file stem on its own (see tests/test_pages.py).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def build_demo_store(folder: Path) -> Path:
    """Generate the demo drop and load it into a store under ``folder``; return the data dir."""
    from analytics.demo import generate_drop
    from analytics.store.snapshots import refresh

    drop = folder / "drop"
    generate_drop(drop)
    data_dir = folder / "store"
    if not refresh(drop, data_dir, loaded_by="bench_pages").accepted:
        raise SystemExit("the demo drop was not accepted")
    return data_dir


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def check(at) -> None:
    if at.exception:
        raise SystemExit(f"page raised: {[e.message for e in at.exception]}")


def bench_page(path: str, default: str, localities: list[str], repeats: int) -> dict[str, float]:
    """Return the median first-load, rerun and locality-change times of ``path``."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    first, rerun, change = [], [], []
    for i in range(repeats):
        at = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT)
        if path == default:
            st.cache_data.clear()
            first.append(timed(at.run))
        else:
            at.run()
            st.cache_data.clear()
            first.append(timed(lambda at=at: at.switch_page(path).run()))
        check(at)
        rerun.append(timed(at.run))
        check(at)
        box = at.selectbox(key="f_locality")
        change.append(timed(lambda box=box, i=i: box.select(localities[i % len(localities)]).run()))
        check(at)
    return {
        "first": statistics.median(first),
        "rerun": statistics.median(rerun),
        "change": statistics.median(change),
    }


def apptest_floor(repeats: int) -> float:
    """Return the median time of a rerun of a one-line app through AppTest (its own overhead)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("import streamlit as st\nst.write('floor')", default_timeout=TIMEOUT)
    at.run()
    return statistics.median(timed(at.run) for _ in range(repeats))


def versions() -> str:
    import duckdb
    import plotly
    import polars
    import streamlit

    return (
        f"Python {platform.python_version()}, Streamlit {streamlit.__version__}, Polars {polars.__version__}, "
        f"DuckDB {duckdb.__version__}, Plotly {plotly.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing data store (default: build the demo)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT, help="table to write (default benchmarks/pages.md)")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="seconds a page may take (1 s at 50x)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        os.environ["MARKET_KEY_FILE"] = os.environ.get("MARKET_KEY_FILE") or str(Path(tmp) / "key")
        data_dir = args.data_dir or build_demo_store(Path(tmp))
        os.environ["MARKET_DATA_DIR"] = str(data_dir)
        steady_navigation()

        from analytics.store import snapshots as store
        from analytics.store.queries import filter_options

        cur = store.market_cursor(store.open_live(data_dir))
        localities = filter_options(cur).localities
        sizes = {
            t: cur.sql(f"select count(*) from stg_{t}").fetchall()[0][0] for t in ("areas", "providers", "packages")
        }
        store_text = (
            f"{sizes['areas']:,} areas, {sizes['providers']:,} providers, "
            f"about {round(sizes['packages'], -2):,} packages"
        )
        pages = registered_pages()
        default = pages[0][0]
        # Warm the imports (plotly, polars, page modules) once so the first page is not charged for them.
        from streamlit.testing.v1 import AppTest

        AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT).run()
        floor = apptest_floor(args.repeats)
        rows = []
        for path, title in pages:
            result = bench_page(path, default, localities, args.repeats)
            rows.append((title, path, result))
            print(
                f"{title:32} first {result['first']:.3f}s  rerun {result['rerun']:.3f}s  "
                f"locality change {result['change']:.3f}s",
                flush=True,
            )

    worst = max(max(r.values()) for _, _, r in rows)
    lines = [
        "# Page timings (server side)",
        "",
        "Written by `benchmarks/bench_pages.py`; do not edit by hand. Each figure is the median of "
        f"{args.repeats} AppTest runs of `dashboard.py` on a demo store ({store_text}), in seconds: "
        "the whole script run on the server (sidebar and page), no "
        "browser. First load: `st.cache_data` cleared, the DuckDB connection kept. Rerun: nothing "
        "changed. Locality change: the sidebar locality set to a locality not seen before.",
        "",
        f"Run on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs), {versions()}, "
        f"{date.today():%d %B %Y}. AppTest floor (a rerun of a one-line app): {floor:.3f} s, included in every figure.",
        "",
        f"| page | file | first load (s) | rerun (s) | locality change (s) | under {args.budget:g} s |",
        "|---|---|---|---|---|---|",
    ]
    for title, path, r in rows:
        ok = "yes" if max(r.values()) < args.budget else "no"
        lines.append(f"| {title} | `{path}` | {r['first']:.3f} | {r['rerun']:.3f} | {r['change']:.3f} | {ok} |")
    lines += ["", f"Slowest figure: {worst:.3f} s (budget {args.budget:g} s).", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
