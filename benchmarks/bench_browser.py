"""Benchmark every dashboard page in headless Chromium against its floor page.

Not a test. Run from the project root (one command; builds the demo store unless given one):

    .venv/bin/python benchmarks/bench_browser.py [--data-dir STORE] [--repeats 5]

What it does:

1. **What each page draws, server side** (``streamlit.testing.v1.AppTest`` on the store): its
   Plotly charts (height, traces, points: the longest of a trace's x, y, z, locations, lat or lon,
   summed over traces), the figures' JSON bytes, its ``st.dataframe`` cells, and the server time of
   a new visitor's run of it on a warm server (median of the repeats).
2. **A floor page for each**: ``benchmarks/floor_app.py`` draws, from synthetic data, a bare
   Streamlit page with the same number of Plotly charts of the same size and the same trace types
   and points (a map's areas as grid squares), and nothing else.
3. **Both in Chromium** (Debian's ``/usr/bin/chromium`` through Playwright, the flags of
   ``tests/browser_support.py``): the dashboard (``dev.py serve``) and the floor app (``streamlit
   run``) on their own local ports, each warmed by one visit to every page first. Then, for each
   repeat and page, a **new visitor** (a fresh browser context: no cookies, no HTTP cache) opens the
   dashboard page and one opens its floor page, one after the other (the order alternates between
   repeats), so both see the same machine load. The time is from ``goto`` to **ready**:

   * the script is idle (``stApp`` ``data-test-script-state="notRunning"``) and the running
     indicator (``stStatusWidget``) is gone,
   * the page shows as many Plotly charts as AppTest drew, each drawn (``.js-plotly-plot`` with a
     ``.main-svg`` of non-zero height),
   * no skeleton is left (lazily loaded element code has arrived) and every expected
     ``st.dataframe`` (``stDataFrame``) is in the page,

   checked every 25 ms in the page. Also recorded: script runs per load (a duplicate rerun shows
   as 2), websocket bytes received, DOM nodes, and Chromium's own CPU split (CDP
   ``Performance.getMetrics``: script, layout, style recalculation, all tasks).

Writes ``benchmarks/browser.md`` (the table, medians over the repeats) and the raw runs as JSON in
``benchmarks/results/browser-<date>.json``. Record the load: another process's work stretches
both columns of a pair alike, which is why the table's verdict is the ratio.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_pages import DASHBOARD, build_demo_store, registered_pages, steady_navigation, timed, versions  # noqa: E402
from browser_support import ARGS  # noqa: E402  (Chromium is launched exactly as the tests launch it)

FLOOR_APP = ROOT / "benchmarks" / "floor_app.py"
OUT = ROOT / "benchmarks" / "browser.md"
RESULTS = ROOT / "benchmarks" / "results"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
TARGET = 2.0
TIMEOUT_MS = 90_000
POINT_KEYS = ("x", "y", "z", "locations", "lat", "lon", "values", "labels")

# Counts every script run: each run leaves the "running" state once (a duplicate rerun counts 2).
COUNT_RUNS = """
window.__runs = 0;
new MutationObserver(records => {
  for (const r of records) if (r.oldValue === 'running') window.__runs += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""

READY = """([charts, tables]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')) return false;
  const plots = document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (plots.length < charts) return false;
  for (const p of plots) {
    const svg = p.querySelector('.main-svg');
    if (!svg || svg.getBoundingClientRect().height === 0) return false;
  }
  return document.querySelectorAll('[data-testid="stDataFrame"]').length >= tables;
}"""


# ---------------------------------------------------------------------------------------------
# What each page draws (AppTest)
# ---------------------------------------------------------------------------------------------


def _length(value: object) -> int:
    if isinstance(value, dict) and "bdata" in value:  # plotly 7's base64 typed arrays
        import numpy as np

        return len(base64.b64decode(value["bdata"])) // np.dtype(value["dtype"]).itemsize
    return len(value) if isinstance(value, list) else 0


def describe_chart(spec_json: str) -> dict:
    """Return the shape of one figure: height, width, its traces (type, points, mode), points, bytes."""
    spec = json.loads(spec_json)
    layout = spec.get("layout", {})
    traces = []
    for trace in spec.get("data", []):
        points = max((_length(trace.get(k)) for k in POINT_KEYS), default=0)
        traces.append({
            "type": trace.get("type", "scatter"),
            "points": points,
            "mode": trace.get("mode"),
            "orientation": trace.get("orientation"),
        })  # fmt: skip
    geometry = sum(len(json.dumps(t["geojson"])) for t in spec.get("data", []) if isinstance(t.get("geojson"), dict))
    return {
        "height": layout.get("height") or 450,
        "width": layout.get("width"),
        "traces": traces,
        "points": sum(t["points"] for t in traces),
        "bytes": len(spec_json.encode()),
        "geometry_bytes": geometry,
    }


def profile_pages(pages: list[tuple[str, str]], repeats: int) -> dict[str, dict]:
    """Return ``{page path: what it draws and its server time}`` from AppTest on the live store."""
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    config.set_option("server.address", "127.0.0.1")  # as the served dashboard (local, no sign-in)
    every = [path for path, _ in registered_pages()]
    default = every[0]
    warm = AppTest.from_file(str(DASHBOARD), default_timeout=120).run()  # imports and st.cache_data filled
    for path, _ in pages:
        warm.switch_page(path).run()
    out = {}
    for path, _ in pages:
        times = []
        away = every[1] if path == default else default
        for _ in range(repeats):  # a visitor's session opening the page (AppTest's own start-up not timed)
            at = AppTest.from_file(str(DASHBOARD), default_timeout=120).run()
            at.switch_page(away).run()
            times.append(timed(lambda at=at, path=path: at.switch_page(path).run()))
            if at.exception:
                raise SystemExit(f"{path} raised: {[e.message for e in at.exception]}")
        charts = [describe_chart(c.proto.spec) for c in at.get("plotly_chart")]
        frames = [d.value for d in at.dataframe]
        out[path] = {
            "charts": charts,
            "points": sum(c["points"] for c in charts),
            "figure_bytes": sum(c["bytes"] for c in charts),
            "geometry_bytes": sum(c["geometry_bytes"] for c in charts),
            "dataframes": len(frames),
            "cells": sum(f.shape[0] * f.shape[1] for f in frames),
            "server_s": statistics.median(times),
        }
    return out


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, str, float]]:
    """Return ``{pid: (parent pid, command name, CPU seconds so far)}`` of every process (Linux /proc)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return out


def cpu_by_process(root: int, table: dict[int, tuple[int, str, float]], name: str | None = None) -> dict[int, float]:
    """Return ``{pid: CPU seconds}`` of ``root`` and its descendants (only those whose name holds ``name``)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        if pid in table and (name is None or name in table[pid][1]):
            out[pid] = table[pid][2]
    return out


def cpu_now(server_pid: int) -> tuple[dict[int, float], dict[int, float]]:
    """Return the CPU seconds so far of every Chromium process under this one, and of the server's processes."""
    table = processes()
    return cpu_by_process(os.getpid(), table, "chrom"), cpu_by_process(server_pid, table)


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """Return the CPU seconds spent between two ``cpu_by_process`` readings.

    A process that ended in between is left out (its time is lost with it); one that started counts
    from zero, so a renderer closing mid-visit can never make the figure negative.
    """
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run a Streamlit server on a free local port; yield its URL and process id once it answers."""
    port = _free_port()
    flags = ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, *flags], cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit(f"server did not start: {command}") from None
                time.sleep(0.3)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------


def visit(browser, url: str, charts: int, tables: int, server_pid: int) -> dict:
    """Open ``url`` as a new visitor; return the time to ready (s) and what the browser and server spent."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(COUNT_RUNS)
        page = context.new_page()
        received = [0]

        def on_socket(ws) -> None:
            ws.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

        page.on("websocket", on_socket)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        cpu_before = cpu_now(server_pid)
        start = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=TIMEOUT_MS)
        page.wait_for_function(READY, arg=[charts, tables], polling=25, timeout=TIMEOUT_MS)
        ready = time.perf_counter() - start
        cpu_after = cpu_now(server_pid)
        if page.locator('[data-testid="stException"]').count():
            raise SystemExit(f"{url} shows an exception")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        page.wait_for_timeout(300)  # a late duplicate rerun would start within this
        runs = page.evaluate("window.__runs")
        return {
            "ready_s": ready,
            "chromium_cpu_s": cpu_spent(cpu_before[0], cpu_after[0]),
            "server_cpu_s": cpu_spent(cpu_before[1], cpu_after[1]),
            "runs": runs,
            "ws_bytes": received[0],
            "nodes": int(metrics.get("Nodes", 0)),
            "task_s": metrics.get("TaskDuration", 0.0),
            "script_s": metrics.get("ScriptDuration", 0.0),
            "layout_s": metrics.get("LayoutDuration", 0.0),
            "style_s": metrics.get("RecalcStyleDuration", 0.0),
        }
    finally:
        context.close()


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing data store (default: build the demo)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pages", nargs="*", help="url paths or titles to time (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help="table to write (default benchmarks/browser.md)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        os.environ["MARKET_KEY_FILE"] = os.environ.get("MARKET_KEY_FILE") or str(Path(tmp) / "key")
        data_dir = args.data_dir or build_demo_store(Path(tmp))
        os.environ["MARKET_DATA_DIR"] = str(data_dir)
        steady_navigation()
        pages = registered_pages()
        urls = {path: ("" if i == 0 else Path(path).stem) for i, (path, _) in enumerate(pages)}
        if args.pages:
            pages = [(p, t) for p, t in pages if urls[p] in args.pages or t in args.pages or p in args.pages]
        profiles = profile_pages(pages, args.repeats)
        spec_file = Path(tmp) / "floors.json"
        spec_file.write_text(json.dumps({urls[p]: profiles[p]["charts"] for p, _ in pages}), encoding="utf-8")
        env = {"MARKET_DATA_DIR": str(data_dir), "FLOOR_SPEC": str(spec_file)}
        dashboard_cmd = [sys.executable, "dev.py", "serve"]
        floor_cmd = [sys.executable, "-m", "streamlit", "run", str(FLOOR_APP), "--browser.gatherUsageStats", "false"]
        runs: dict[str, dict[str, list[dict]]] = {p: {"page": [], "floor": []} for p, _ in pages}
        with server(dashboard_cmd, env) as app, server(floor_cmd, env) as floor, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

            def open_page(path: str, kind: str) -> dict:
                charts = len(profiles[path]["charts"])
                if kind == "page":
                    return visit(browser, f"{app[0]}/{urls[path]}", charts, profiles[path]["dataframes"], app[1])
                return visit(browser, f"{floor[0]}/?page={urls[path]}", charts, 0, floor[1])

            for path, _ in pages:  # warm: one visit to every page and floor page
                open_page(path, "page")
                open_page(path, "floor")
            for repeat in range(args.repeats):
                loads.append(load_average())
                for path, title in pages:
                    for kind in ("page", "floor") if repeat % 2 == 0 else ("floor", "page"):
                        runs[path][kind].append(open_page(path, kind))
                    page_run, floor_run = runs[path]["page"][-1], runs[path]["floor"][-1]
                    print(
                        f"[{repeat + 1}] {title:30} page {page_run['ready_s']:.2f}s "
                        f"({page_run['chromium_cpu_s']:.2f} s Chromium CPU) floor {floor_run['ready_s']:.2f}s "
                        f"({floor_run['chromium_cpu_s']:.2f} s)",
                        flush=True,
                    )
            browser.close()
        loads.append(load_average())

    rows = []
    for path, title in pages:
        prof, page_runs, floor_runs = profiles[path], runs[path]["page"], runs[path]["floor"]
        ratios = [p["ready_s"] / f["ready_s"] for p, f in zip(page_runs, floor_runs, strict=True)]
        rows.append({
            "page": title,
            "path": path,
            **{k: v for k, v in prof.items() if k != "charts"},
            "charts": len(prof["charts"]),
            "chart_shapes": prof["charts"],
            "browser_s": med(page_runs, "ready_s"),
            "floor_s": med(floor_runs, "ready_s"),
            "ratio": statistics.median(ratios),
            "runs": max(r["runs"] for r in page_runs),
            "page_runs": page_runs,
            "floor_runs": floor_runs,
        })  # fmt: skip
    write_outputs(rows, loads, args)


def write_outputs(rows: list[dict], loads: list[str], args: argparse.Namespace) -> None:
    """Write the Markdown table to ``args.out`` and every run to ``benchmarks/results/``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = date.today().isoformat()
    raw = RESULTS / f"browser-{stamp}.json"
    raw.write_text(
        json.dumps({"date": stamp, "versions": versions(), "load_average": loads, "pages": rows}, indent=1),
        encoding="utf-8",
    )

    def cpu(runs: list[dict], key: str) -> str:
        return f"{med(runs, key) * 1000:.0f}"

    lines = [
        "# Pages in the browser against their floor",
        "",
        "Written by `benchmarks/bench_browser.py`; do not edit by hand. Each page of the dashboard on the demo "
        "store, opened by a new visitor (fresh browser context) in headless Chromium on a warm server, "
        "against its **floor**: a bare Streamlit page (`benchmarks/floor_app.py`) with the same number of "
        "Plotly charts of the same size, trace types and points from synthetic data, served by the same "
        "Streamlit and timed the same way, interleaved with it. *Ready*: the script idle, the running "
        "indicator gone, every chart drawn, every table present. Medians of "
        f"{args.repeats} visits each; the ratio is the median of the paired ratios (target: at most {TARGET:g}).",
        "",
        f"Run on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs), {versions()}, Chromium "
        f"(Debian), {date.today():%d %B %Y}. Load average (1/5/15 min) at the start, each repeat and the end: "
        + "; ".join(loads)
        + ". Raw runs: `benchmarks/results/"
        + raw.name
        + "`.",
        "",
        "| page | charts | points | figure KB | tables (cells) | server ms | browser ms | floor ms | ratio "
        "| Chromium CPU s (page / floor) | server CPU s (page / floor) | script runs | within 2x |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ok = "yes" if r["ratio"] <= TARGET else "**no**"
        lines.append(
            f"| {r['page']} | {r['charts']} | {r['points']:,} | {r['figure_bytes'] / 1024:.0f} | "
            f"{r['dataframes']} ({r['cells']:,}) | {r['server_s'] * 1000:.0f} | {r['browser_s'] * 1000:.0f} | "
            f"{r['floor_s'] * 1000:.0f} | {r['ratio']:.2f} | "
            f"{med(r['page_runs'], 'chromium_cpu_s'):.2f} / {med(r['floor_runs'], 'chromium_cpu_s'):.2f} | "
            f"{med(r['page_runs'], 'server_cpu_s'):.2f} / {med(r['floor_runs'], 'server_cpu_s'):.2f} | "
            f"{r['runs']} | {ok} |"
        )
    lines += [
        "",
        "Where the browser's time goes (Chromium's CPU, CDP `Performance.getMetrics`, median ms per visit; "
        "page / floor), with the websocket bytes received and the DOM nodes at ready:",
        "",
        "| page | all tasks | script | layout | style | websocket KB | DOM nodes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p, f = r["page_runs"], r["floor_runs"]
        lines.append(
            f"| {r['page']} | {cpu(p, 'task_s')} / {cpu(f, 'task_s')} | {cpu(p, 'script_s')} / {cpu(f, 'script_s')} | "
            f"{cpu(p, 'layout_s')} / {cpu(f, 'layout_s')} | {cpu(p, 'style_s')} / {cpu(f, 'style_s')} | "
            f"{med(p, 'ws_bytes') / 1024:.0f} / {med(f, 'ws_bytes') / 1024:.0f} | "
            f"{med(p, 'nodes'):.0f} / {med(f, 'nodes'):.0f} |"
        )
    over = [r for r in rows if r["ratio"] > TARGET]
    lines += [
        "",
        "Notes:",
        "",
        "- Every dashboard page also draws the shared sidebar (the navigation of every page, six filters, "
        "the publication and presentation switches), which a floor page has not.",
        "- A chart's data table is drawn when its expander is opened (a fragment rerun), so the tables "
        "counted above are the ones on the page itself.",
    ]
    for r in over:
        if r["charts"] == 0:
            lines.append(
                f"- {r['page']} has no charts: its floor is a bare page with a title, so its ratio measures "
                f"its own content ({r['dataframes']} tables, its forms and buttons) and the shared sidebar."
            )
        else:
            lines.append(f"- {r['page']} is over {TARGET:g}x its floor in this run.")
    lines.append("")
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out} and {raw}")


if __name__ == "__main__":
    main()
