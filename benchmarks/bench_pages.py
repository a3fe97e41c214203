"""Benchmark the dashboard pages: server-side time of each page and of every filter change (AppTest).

Not a test. Run from the project root:

    .venv/bin/python benchmarks/bench_pages.py                    # builds a demo store in a temp dir
    .venv/bin/python benchmarks/bench_pages.py --data-dir /tmp/p1store   # an existing store

Every page registered in ``dashboard.py`` is timed with ``streamlit.testing.v1.AppTest`` (the whole
script run on the server: ``dashboard.py``, the sidebar, the page; no browser, no network):

* **first load**: ``st.cache_data`` cleared (as after a refresh), then a switch to the page (the
  default page: a run of it). The DuckDB connection (``st.cache_resource``) stays open, as in a
  running server, and the session has run once before (AppTest's own start-up, a scan of every
  installed package for components, is a server's once at start, not a page's).
* **rerun**: the same page run again with nothing changed (cached reads).
* **every control**: each sidebar filter (month, locality, service type, client group, funding,
  provider type), the publication switch and every keyed control the page draws itself (a measure,
  a provider, a slider...) set to a value not computed since the cache was cleared (a different one
  in each repeat), timed, then set back.

Each is the median of ``--repeats`` (default 3), in seconds, judged against ``--budget`` (default
0.15 s, issue 14's limit at 1x; pass ``--budget 1`` for a 50x store). "AppTest floor" is a one-line
app run the same way: AppTest's own overhead, included in every figure. Writes ``benchmarks/pages.md``.
The browser's side of the same pages is ``bench_browser.py``.
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
BUDGET_S = 0.15  # issue 14: every page and filter change under 150 ms at 1x (1 s at 50x)


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


# The shared sidebar controls, in the order of the table's columns (key: column heading).
SIDEBAR = {
    "f_month": "month",
    "f_locality": "locality",
    "f_service": "service type",
    "f_client": "client group",
    "f_funding": "funding",
    "f_ptype": "provider type",
    "publication_mode": "publication mode",
}
CONTROL_KINDS = ("selectbox", "radio", "multiselect", "slider", "select_slider", "checkbox", "toggle")
SKIPPED = {"presentation_mode"}  # hides the page's furniture: a different page, not a filter


def controls(at) -> list[tuple[str, str]]:
    """Return ``(kind, key)`` of every keyed control the run drew: the sidebar's, then the page's own."""
    found = [(kind, w.key) for kind in CONTROL_KINDS for w in getattr(at, kind) if w.key and w.key not in SKIPPED]
    return sorted(found, key=lambda c: (c[1] not in SIDEBAR, list(SIDEBAR).index(c[1]) if c[1] in SIDEBAR else 0))


def raw_option(widget, label: str):
    """Return the option of a selectbox or radio shown as ``label``.

    AppTest accepts the label itself unless the widget's ``format_func`` maps labels to ``None``
    rather than failing (a ``dict.get``, as the pages use): then the dict's key is the option.
    """
    table = getattr(widget.format_func, "__self__", None)
    if isinstance(table, dict):
        return next(option for option, shown in table.items() if shown == label)
    return label


def change(at, kind: str, key: str, step: int):
    """Set control ``key`` to a value other than its current one (``step`` picks which); return how to undo it."""
    widget = getattr(at, kind)(key=key)
    if kind in ("selectbox", "radio"):
        current, n = widget.value, len(widget.options)
        target = (widget.index + 1 + step) % n
        target = (target + 1) % n if target == widget.index else target
        widget.set_value(raw_option(widget, widget.options[target]))
        return lambda: getattr(at, kind)(key=key).set_value(current)
    if kind in ("slider", "select_slider"):
        current = widget.value
        span = widget.max - widget.min if kind == "slider" else None
        if span is None:
            options = list(widget.options)
            target = options[(options.index(str(current)) + 1 + step) % len(options)]
        else:
            target = round(widget.min + span * ((step % 4) + 1) / 6, 6)
            target = widget.max if target == current else target
        widget.set_value(target)
        return lambda: getattr(at, kind)(key=key).set_value(current)
    if kind == "multiselect":
        current = list(widget.value)
        widget.set_value([widget.options[step % len(widget.options)]])
        return lambda: getattr(at, kind)(key=key).set_value(current)
    current = widget.value  # checkbox, toggle
    widget.set_value(not current)
    return lambda: getattr(at, kind)(key=key).set_value(current)


def bench_page(path: str, default: str, repeats: int) -> dict[str, float]:
    """Return the median first-load, rerun and per-control change times of ``path`` (seconds).

    Each repeat starts a new session with ``st.cache_data`` cleared, so every change sets a value the
    page has not computed yet in that repeat (a cache miss, as for a user choosing it first), and is
    undone (untimed) before the next control is changed.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    times: dict[str, list[float]] = {"first": [], "rerun": []}
    for i in range(repeats):
        at = AppTest.from_file(str(DASHBOARD), default_timeout=TIMEOUT)
        # The session's first run (untimed) is AppTest's own start-up, which a running server does
        # once, not per page: it scans every installed package for components (about 0.08 s).
        at.run()
        st.cache_data.clear()
        if path == default:
            times["first"].append(timed(at.run))
        else:
            times["first"].append(timed(lambda at=at: at.switch_page(path).run()))
        check(at)
        times["rerun"].append(timed(at.run))
        check(at)
        for kind, key in controls(at):
            undo = change(at, kind, key, i)
            times.setdefault(key, []).append(timed(at.run))
            check(at)
            undo()
            at.run()
            check(at)
    return {key: statistics.median(values) for key, values in times.items()}


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
    parser.add_argument(
        "--budget", type=float, default=BUDGET_S, help="seconds a page or change may take (0.15 at 1x, 1 at 50x)"
    )
    args = parser.parse_args()
    load_start = load_average()

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        os.environ["MARKET_KEY_FILE"] = os.environ.get("MARKET_KEY_FILE") or str(Path(tmp) / "key")
        data_dir = args.data_dir or build_demo_store(Path(tmp))
        os.environ["MARKET_DATA_DIR"] = str(data_dir)
        steady_navigation()
        from streamlit import config

        config.set_option("server.address", "127.0.0.1")  # as `dev.py run` serves it: local, no sign-in

        from analytics.store import snapshots as store

        cur = store.market_cursor(store.open_live(data_dir))
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
            result = bench_page(path, default, args.repeats)
            rows.append((title, path, result))
            print(f"{title:32} " + "  ".join(f"{k} {v:.3f}s" for k, v in result.items()), flush=True)

    write_table(rows, args, store_text, floor, (load_start, load_average()))


def load_average() -> str:
    """Return the 1, 5 and 15-minute load averages as text."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def write_table(rows: list, args: argparse.Namespace, store_text: str, floor: float, loads: tuple[str, str]) -> None:
    """Write the Markdown table of ``rows`` (title, path, {measure: seconds}) to ``args.out``."""

    def cell(value: float | None) -> str:
        if value is None:
            return "-"
        return f"**{value:.3f}**" if value >= args.budget else f"{value:.3f}"

    worst = max(max(r.values()) for _, _, r in rows)
    heads = " | ".join(f"{name} (s)" for name in SIDEBAR.values())
    lines = [
        "# Page timings (server side)",
        "",
        "Written by `benchmarks/bench_pages.py`; do not edit by hand. Each figure is the median of "
        f"{args.repeats} AppTest runs of `dashboard.py` on a demo store ({store_text}), in seconds: "
        "the whole script run on the server (sidebar and page), no browser. **First load**: "
        "`st.cache_data` cleared (as after a refresh), the DuckDB connection kept, in a session that has "
        "run once (AppTest's start-up, a scan of installed packages for components, is a server's once). "
        "**Rerun**: nothing "
        "changed. **Every control**: each sidebar filter, the publication switch and each of the page's own "
        "controls set to a value the page has not computed since the cache was cleared (a cache miss), "
        "then set back; the page's own controls are listed by key with their time.",
        "",
        f"Run on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs), {versions()}, "
        f"{date.today():%d %B %Y}; load average (1/5/15 min) {loads[0]} at the start, {loads[1]} at the end. "
        f"AppTest floor (a rerun of a one-line app): {floor:.3f} s, included in every figure. "
        f"Bold: at or over the budget of {args.budget:g} s.",
        "",
        f"| page | first load (s) | rerun (s) | {heads} | page controls (s) | under {args.budget:g} s |",
        "|---|---|---|" + "---|" * len(SIDEBAR) + "---|---|",
    ]
    for title, _, r in rows:
        ok = "yes" if max(r.values()) < args.budget else "no"
        own = ", ".join(f"`{k}` {cell(v)}" for k, v in r.items() if k not in SIDEBAR and k not in ("first", "rerun"))
        sidebar = " | ".join(cell(r.get(key)) for key in SIDEBAR)
        lines.append(f"| {title} | {cell(r['first'])} | {cell(r['rerun'])} | {sidebar} | {own or '-'} | {ok} |")
    lines += ["", f"Slowest figure: {worst:.3f} s (budget {args.budget:g} s).", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
