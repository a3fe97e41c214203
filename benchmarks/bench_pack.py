"""Benchmark the briefing pack of every registered chart: first made (cold picture cache), then again.

Not a test. Run from the project root:

    .venv/bin/python benchmarks/bench_pack.py                       # builds a demo store in a temp dir
    .venv/bin/python benchmarks/bench_pack.py --data-dir /tmp/store  # an existing store (its picture cache is cleared)

Each run is the command an analyst types, in a fresh process, on every chart of the registry
(``python -m analytics brief --list``)::

    python -m analytics brief --charts <all> --out DIR --data-dir STORE --audience internal|public

in this order: the internal pack with an empty picture cache (``cold``), the old way (below), the
internal pack again (``warm``, ``--repeats`` times), the public pack (its pictures are kept apart
from the internal ones, so it is drawn once too), the public pack again. Each row gives the
command's own split (building the charts, getting the pictures, writing the PDF and PowerPoint),
the process's wall time, CPU seconds and peak RSS (the Python process; Chromium's processes are
not in it), and the load average. The old way: the internal pack's pictures drawn as before the
cache, one ``to_image`` call per picture on one browser tab (kaleido's defaults), alternated
``--rounds`` times with the same pictures drawn by ``draw_many`` in one process.
Writes ``benchmarks/pack.md`` and ``benchmarks/results/pack-<date>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

OUT = ROOT / "benchmarks" / "pack.md"
RESULTS = ROOT / "benchmarks" / "results"
MADE = re.compile(r"Made in ([\d.]+) s \(charts ([\d.]+) s, pictures ([\d.]+) s, files ([\d.]+) s\)")
PICTURES = re.compile(r"Pictures:\s+(\d+) drawn, (\d+) from the picture cache")

# The internal pack's pictures drawn both ways, alternated in one process (same figures, same load):
# before the cache, one to_image call per picture on one browser tab (kaleido's defaults); now,
# draw_many in batches on TABS tabs. Chromium's CPU seconds are summed over the process's descendants.
OLD_WAY = """
import json, os, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import kaleido
from analytics.briefing.assembly import pack_figure
from analytics.briefing.pack import BriefItem, list_charts, make_pack, resolve_filters
from analytics.publish import exports
from analytics.store.snapshots import market_cursor, open_live

cur = market_cursor(open_live(sys.argv[1]))
filters = resolve_filters(cur)
pack = make_pack(cur, [BriefItem(c, filters) for c, _ in list_charts()], title="", audience="internal")
figures = [pack_figure(c.spec.figure) for c in pack.charts if c.spec.figure is not None]
tick = os.sysconf("SC_CLK_TCK")

def chromium_cpu():
    parents = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(d)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, (pp, _) in parents.items() if pp in frontier and p not in found}
        found |= frontier
    return sum(parents[p][1] for p in found)

def timed(start, draw):
    start()
    draw(figures[:1])  # the browser's start is not counted
    t, c = time.perf_counter(), chromium_cpu()
    draw(figures)
    out = (time.perf_counter() - t, chromium_cpu() - c, os.getloadavg()[0])
    kaleido.stop_sync_server(silence_warnings=True)
    return out

old = lambda: timed(lambda: kaleido.start_sync_server(silence_warnings=True),
                    lambda figs: [exports.figure_png(f, scale=2) for f in figs])
new = lambda: timed(exports._start_server, lambda figs: exports.draw_many([exports.Drawing(f) for f in figs]))
runs = {"old": [], "new": []}
for _ in range(int(sys.argv[2])):
    runs["old"].append(old())
    runs["new"].append(new())
med = lambda rows, i: statistics.median(r[i] for r in rows)
print(json.dumps({"pictures": len(figures), "rounds": int(sys.argv[2]),
                  **{f"{k}_{n}": med(v, i) for k, v in runs.items() for i, n in enumerate(("s", "cpu_s", "load"))}}))
"""


def run(argv: list[str], env: dict[str, str]) -> dict:
    """Run ``argv`` in a child process; return its output, wall and CPU seconds, peak RSS and load."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({child.returncode}):\n{text}")
    return {
        "output": text,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "load_1min": load,
    }


def brief(store: Path, ids: list[str], audience: str, out_dir: Path, env: dict[str, str]) -> dict:
    """One ``brief`` run: its split (charts, pictures, files), pictures drawn and reused, and ``run``'s figures."""
    argv = [sys.executable, "-m", "analytics", "brief", "--charts", ",".join(ids), "--out", str(out_dir)]
    argv += ["--data-dir", str(store), "--audience", audience]
    result = run(argv, env)
    made, pics = MADE.search(result["output"]), PICTURES.search(result["output"])
    if made is None or pics is None:
        raise SystemExit(f"could not read the brief command's summary:\n{result['output']}")
    result.update(
        pack_s=float(made[1]),
        charts_s=float(made[2]),
        pictures_s=float(made[3]),
        files_s=float(made[4]),
        drawn=int(pics[1]),
        reused=int(pics[2]),
        audience=audience,
    )
    del result["output"]
    return result


def median_row(rows: list[dict]) -> dict:
    """The median of each number over repeated runs (text fields from the first)."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = statistics.median(r[key] for r in rows)
    out["runs"] = len(rows)
    return out


def versions() -> str:
    from importlib.metadata import version

    names = ("plotly", "kaleido", "fpdf2", "python-pptx", "duckdb", "polars")
    return ", ".join(f"{n} {version(n)}" for n in names)


def chromium_version() -> str:
    from analytics.publish.exports import browser_path

    path = browser_path()
    if path is None:
        return "none"
    try:
        found = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return path
    return found.strip().splitlines()[-1] if found.strip() else path


def table(info: dict) -> str:
    """Return the Markdown of ``benchmarks/pack.md`` from one run's results (``--table-from`` re-renders one)."""
    rows = [(r["run"], r) for r in info["runs"]]
    old, tabs = info["old_way"], info["tabs"]
    count, size = info["cache"]["pictures"], info["cache"]["bytes"]
    when = datetime.fromisoformat(info["when"])
    lines = [
        "# Briefing pack timings",
        "",
        "Written by `benchmarks/bench_pack.py`; do not edit by hand. Each row is `python -m analytics brief` "
        f"of all {info['charts']} registered charts on the demo store, in a fresh process, PDF and PowerPoint "
        "written. Charts: building and publishing every chart, the summary and the tables. Pictures: "
        "reading them from the picture cache and drawing the missing ones in Chromium (kaleido, one "
        f"browser, {tabs} tabs, one batch). Files: writing and re-reading the PDF and PowerPoint. "
        "Wall, CPU and peak RSS are the Python process's (Chromium runs in processes of its own). "
        "Load: the 1-minute load average when the run started; on a busy machine every figure grows.",
        "",
        f"Run on {info['machine']}, Python {info['python']}, {info['versions']}, {info['chromium']}, "
        f"{when:%d %B %Y %H:%M}.",
        "",
        "| audience | run | pictures drawn | from cache | charts (s) | pictures (s) | files (s) | pack (s) "
        "| process wall (s) | CPU (s) | peak RSS (MB) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(
            f"| {r['audience']} | {label} | {r['drawn']:.0f} | {r['reused']:.0f} | {r['charts_s']:.1f} | "
            f"{r['pictures_s']:.1f} | {r['files_s']:.1f} | {r['pack_s']:.1f} | {r['wall_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['load_1min']:.1f} |"
        )
    lines.append("")
    if old is not None:
        lines += [
            f"Drawing the internal pack's {old['pictures']} pictures both ways, alternated {old['rounds']} times "
            f"in one process (median; load {old['old_load']:.1f} and {old['new_load']:.1f}): as before the cache, "
            f"one kaleido call per picture on one tab, {old['old_s']:.1f} s ({old['old_s'] / old['pictures']:.2f} s "
            f"each, Chromium CPU {old['old_cpu_s']:.1f} s); now, in batches on {tabs} tabs, {old['new_s']:.1f} s "
            f"({old['new_s'] / old['pictures']:.2f} s each, Chromium CPU {old['new_cpu_s']:.1f} s). With a warm "
            "cache none is drawn.",
            "",
        ]
    lines += [
        f"The picture cache held {count} pictures ({size / 1e6:.1f} MB) after these runs "
        "(`<data dir>/pictures/<drop id>/<audience>/`). Raw results: `benchmarks/results/pack-*.json` (not committed).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing data store (default: build the demo)")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per audience (median)")
    parser.add_argument("--out", type=Path, default=OUT, help="table to write (default benchmarks/pack.md)")
    parser.add_argument("--no-old-way", action="store_true", help="skip drawing the pictures one call at a time")
    parser.add_argument("--rounds", type=int, default=2, help="old way / batch alternations (median)")
    parser.add_argument("--table-from", type=Path, help="write the table from a saved results JSON, measuring nothing")
    args = parser.parse_args()
    if args.table_from is not None:
        args.out.write_text(table(json.loads(args.table_from.read_text(encoding="utf-8"))), encoding="utf-8")
        print(f"wrote {args.out} from {args.table_from}")
        return

    from analytics.briefing.pack import list_charts
    from analytics.publish import pictures
    from analytics.publish.exports import TABS, browser_path

    if browser_path() is None:
        raise SystemExit("Chromium is needed to draw the pictures (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        env = dict(os.environ)
        env["MARKET_KEY_FILE"] = env.get("MARKET_KEY_FILE") or str(Path(tmp) / "key")
        os.environ["MARKET_KEY_FILE"] = env["MARKET_KEY_FILE"]
        if args.data_dir is None:
            from bench_pages import build_demo_store

            store = build_demo_store(Path(tmp))
        else:
            store = args.data_dir
        ids = [chart_id for chart_id, _ in list_charts()]
        cleared = pictures.clear(store)
        print(f"{len(ids)} charts; picture cache cleared ({cleared} pictures)", flush=True)
        out_dir = Path(tmp) / "packs"
        rows: list[tuple[str, dict]] = []
        old = None
        for audience in ("internal", "public"):
            cold = brief(store, ids, audience, out_dir, env)
            label = "cold (empty cache)" if audience == "internal" else "cold (after the internal pack)"
            rows.append((label, cold))
            print(f"{audience:8} {label:32} {cold['pack_s']:6.1f} s, {cold['drawn']} drawn", flush=True)
            if audience == "internal" and not args.no_old_way:
                old_run = run([sys.executable, "-c", OLD_WAY, str(store), str(args.rounds)], env)
                old = json.loads(old_run["output"].strip().splitlines()[-1])
                print(f"pictures one call each: {old['old_s']:.1f} s; in batches: {old['new_s']:.1f} s", flush=True)
            warm = median_row([brief(store, ids, audience, out_dir, env) for _ in range(args.repeats)])
            rows.append((f"warm (median of {args.repeats})", warm))
            print(f"{audience:8} {'warm':32} {warm['pack_s']:6.1f} s, {warm['drawn']} drawn", flush=True)
        count, size = pictures.cache_size(store)

    when = datetime.now()
    info = {
        "when": when.isoformat(timespec="seconds"),
        "machine": f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs)",
        "python": platform.python_version(),
        "versions": versions(),
        "chromium": chromium_version(),
        "tabs": TABS,
        "charts": len(ids),
        "cache": {"pictures": count, "bytes": size},
        "runs": [{"run": label, **row} for label, row in rows],
        "old_way": old,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    result_path = RESULTS / f"pack-{when:%Y%m%dT%H%M%S}.json"
    result_path.write_text(json.dumps(info, indent=2), encoding="utf-8")

    args.out.write_text(table(info), encoding="utf-8")
    print(f"wrote {args.out} and {result_path}")


if __name__ == "__main__":
    main()
