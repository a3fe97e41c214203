"""Benchmark a refresh against the floor: the bare DuckDB load of the same drop, at several scales.

Not a test. One command, from the project root:

    .venv/bin/python benchmarks/bench_refresh.py                 # 1x, 10x and 50x
    .venv/bin/python benchmarks/bench_refresh.py 1 10 50 250     # any scales
    .venv/bin/python benchmarks/bench_refresh.py --from-json     # re-render the table only

For each scale (copies of the demo council, ``python -m analytics demo --scale N``, generated once
into a temporary folder and reused by every run):

* **bare load**: a fresh Python process that reads every CSV file of the drop with DuckDB's
  ``read_csv`` into a new database file and checkpoints it (``BARE_LOAD`` below): the floor for
  getting the same bytes into DuckDB.
* **refresh**: ``python -m analytics refresh DROP --data-dir NEW`` in a fresh process, with a new
  data store each run: read, validate, archive, pseudonymise, stage, build every mart, swap in.
* **marts by module**: each indicator module's ``build_marts`` on the staged tables of that
  snapshot, in its own process (wall and CPU seconds), to show where a refresh's time goes.

Both are whole processes (interpreter start and imports included), timed wall-clock; CPU is the
child's user + system seconds and memory its peak resident set size, both from ``os.wait4`` (so
Polars' and DuckDB's native threads and allocations count). Each figure is the best of
``repeats`` runs (3 up to 10x, 2 at 50x, 1 above). The machine is shared: the 1-minute load
average is recorded next to each scale, and the CPU columns are less sensitive to it than wall time.

Writes ``benchmarks/refresh.md`` (the table) and ``benchmarks/results/refresh.json``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
OUT_MD = ROOT / "benchmarks" / "refresh.md"
OUT_JSON = ROOT / "benchmarks" / "results" / "refresh.json"

BARE_LOAD = """
import sys, duckdb
from pathlib import Path
drop, db = Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
for path in sorted(drop.glob("*.csv")):
    con.execute(f"create table \\"{path.stem}\\" as select * from read_csv('{path}')")
con.execute("checkpoint")
con.close()
"""

# The engine's own floor for one mart: the supply summary's exact counts (distinct people and
# providers, packages, hours) per month x geography (council, locality, rural class) x service type
# (all and each), as one DuckDB query over the staged tables of the refreshed store, timed in-process
# (best of two, connection already open). Its Polars twin is analytics.indicators.supply.
MART_IN_SQL = """
import json, sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("set enable_progress_bar = false")
query = '''
with months as (
    select last_day((as_of - to_months(35 - i))::date) as month from meta_drop, range(36) t(i)
), pk as (
    select p.person_id, p.provider_id, p.planned_hours_per_week as hours,
           coalesce(p.service_type, 'home_care') as service_type, p.start_date, p.end_date,
           coalesce(a.locality, 'Unassigned') as locality, coalesce(a.ruc21, a.ruc11) as rural_class
    from stg_packages p left join stg_areas a using (area_code)
), pm as (
    select pk.*, m.month from pk join months m
    on pk.start_date <= m.month and coalesce(pk.end_date, date '9999-12-31') >= m.month
)
select month, locality, rural_class, service_type, grouping(locality, rural_class, service_type) as level,
       count(distinct person_id) as people, count(*) as packages, sum(hours) as hours,
       count(distinct provider_id) as providers
from pm group by grouping sets ((month), (month, service_type), (month, locality),
    (month, locality, service_type), (month, rural_class), (month, rural_class, service_type))
'''
best = 9e9
for _ in range(2):
    start = time.perf_counter()
    rows = len(con.sql(query).fetchall())
    best = min(best, time.perf_counter() - start)
marts = con.sql("select count(*) from information_schema.tables where table_name like 'mart_%'").fetchall()[0][0]
print(json.dumps({"wall_s": best, "rows": rows, "marts": marts}))
"""

DETAIL_MAX_SCALE = 50  # the module and phase splits are measured up to this scale

PHASES = """
import json, sys, time
from analytics.store import snapshots
marks = []
def progress(step, fraction):
    marks.append((step, time.perf_counter()))
start = time.perf_counter()
snapshots.refresh(sys.argv[1], sys.argv[2], progress=progress)
marks.append(("end", time.perf_counter()))
names = {"Validating": "validate", "Archiving the raw drop": "archive",
         "Building the snapshot": "pseudonymise + stage", "Building marts": "marts (build + write)",
         "Swapping in the new snapshot": "swap + prune"}
out, last, label = {}, start, "start"
for step, at in marks:
    if step in names or step == "end":
        out[label] = out.get(label, 0) + at - last
        last, label = at, names.get(step, step)
print(json.dumps({"start + read files": out.get("start", 0)} | {k: v for k, v in out.items() if k != "start"}))
"""

MODULE_TIMES = """
import json, sys, time, duckdb
from analytics.indicators import modules_with
from analytics.ingest.staged import load_staged
con = duckdb.connect(sys.argv[1], read_only=True)
staged = load_staged(con)
out = {}
for module in modules_with("build_marts"):
    wall, cpu = time.perf_counter(), time.process_time()
    module.build_marts(staged)
    out[module.__name__.rsplit(".", 1)[-1]] = [time.perf_counter() - wall, time.process_time() - cpu]
print(json.dumps(out))
"""


def run(args: list[str], env: dict | None = None) -> dict:
    """Run ``args`` as a child process; return wall, cpu (user + sys) seconds, peak RSS (MB), stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "stdout": out,
    }


def best(runs: list[dict]) -> dict:
    """Return the run with the least wall time, with the least CPU and memory of all runs beside it."""
    fastest = min(runs, key=lambda r: r["wall_s"])
    return {
        "wall_s": fastest["wall_s"],
        "cpu_s": min(r["cpu_s"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs_wall_s": [round(r["wall_s"], 2) for r in runs],
    }


def input_rows(drop: Path) -> int:
    """Return the number of data rows in the drop's CSV files (lines minus headers)."""
    total = 0
    for path in drop.glob("*.csv"):
        with path.open("rb") as fh:
            total += sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b"")) - 1
    return total


def bench_scale(scale: int, work: Path, repeats: int, env: dict) -> dict:
    """Generate the drop at ``scale`` (once), then time bare loads, refreshes and modules."""
    drop = work / f"drop{scale}"
    demo_s = None
    if not (drop / "manifest.toml").exists():
        demo = run([PYTHON, "-m", "analytics", "demo", "--out", str(drop), "--scale", str(scale)], env)
        demo_s = demo["wall_s"]
    rows = input_rows(drop)
    mb = sum(p.stat().st_size for p in drop.glob("*.csv")) / 1e6
    bare, refresh = [], []
    for i in range(repeats):
        db = work / f"bare{scale}-{i}.duckdb"
        bare.append(run([PYTHON, "-c", BARE_LOAD, str(drop), str(db)], env))
        db.unlink(missing_ok=True)
        store = work / f"store{scale}-{i}"
        refresh.append(run([PYTHON, "-m", "analytics", "refresh", str(drop), "--data-dir", str(store)], env))
        if i < repeats - 1:
            shutil.rmtree(store)
    live = work / f"store{scale}-{repeats - 1}" / "market.duckdb"
    modules, phases = {}, {}
    mart_sql = json.loads(run([PYTHON, "-c", MART_IN_SQL, str(live)], env)["stdout"])
    if scale <= DETAIL_MAX_SCALE:  # each is another whole pass over the drop: not repeated at national scale
        modules = json.loads(run([PYTHON, "-c", MODULE_TIMES, str(live)], env)["stdout"])
        phases = json.loads(run([PYTHON, "-c", PHASES, str(drop), str(work / f"phases{scale}")], env)["stdout"])
        shutil.rmtree(work / f"phases{scale}")
    shutil.rmtree(work / f"store{scale}-{repeats - 1}")
    b, r = best(bare), best(refresh)
    return {
        "scale": scale,
        "input_rows": rows,
        "input_mb": round(mb, 1),
        "demo_s": demo_s,
        "bare": b,
        "refresh": r,
        "ratio": r["wall_s"] / b["wall_s"],
        "cpu_ratio": r["cpu_s"] / b["cpu_s"],
        "refresh_s_per_million_rows": r["wall_s"] / (rows / 1e6),
        "refresh_cpu_s_per_million_rows": r["cpu_s"] / (rows / 1e6),
        "modules": {k: [round(v[0], 3), round(v[1], 3)] for k, v in modules.items()},
        "phases": {k: round(v, 3) for k, v in phases.items()},
        "supply_summary_sql_s": round(mart_sql["wall_s"], 3),
        "mart_tables": mart_sql["marts"],
        "load_average_1m": round(os.getloadavg()[0], 1),
    }


def national_config(work: Path) -> Path:
    """Return a copy of config.toml whose file-size limits take a national drop (250x: a 610 MB
    delivery file). The limits guard a council's server against a bad upload; a national hub raises
    them the same way, in its own copy of the config."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for key, value in (("max_file_mb", 4000), ("max_unpacked_mb", 8000), ("check_memory_mb", 16384)):
        text = re.sub(rf"^{key} = \d+", f"{key} = {value}", text, flags=re.M)
    path = work / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def budget_table(results: list[dict]) -> list[str]:
    """Return the lines of the 3x-budget table: what 3 x the bare load leaves for the marts once the
    drop is read, validated, archived, pseudonymised and staged, against one mart in DuckDB SQL."""
    rows = [r for r in results if "supply_summary_sql_s" in r]
    if not rows:
        return []
    lines = [
        "",
        "The 3x budget: 3 x the bare load, less what the refresh spends before its first mart (the in-process",
        "phases above up to the marts; interpreter start not counted; not split above 50x), against one of",
        "the marts computed by DuckDB itself (`MART_IN_SQL`: the supply summary's exact distinct people and",
        "providers per month, geography and service type, one query over the staged tables; best of two):",
        "",
        "| scale | 3 x bare (s) | before the marts (s) | left for the marts (s) | mart tables "
        "| one mart in DuckDB SQL (s) | its share of the 3x budget | marts phase (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        budget, sql = 3 * r["bare"]["wall_s"], r["supply_summary_sql_s"]
        phases = r.get("phases") or {}
        before = sum(v for k, v in phases.items() if not k.startswith(("marts", "swap")))
        marts = next((v for k, v in phases.items() if k.startswith("marts")), None)
        split = (f"{before:.2f}", f"{budget - before:.2f}", f"{marts:.2f}") if phases else ("-", "-", "-")
        lines.append(
            f"| {r['scale']}x | {budget:.2f} | {split[0]} | {split[1]} | {r.get('mart_tables', '-')} "
            f"| {sql:.2f} | {sql / budget:.0%} | {split[2]} |"
        )
    return lines


def markdown(results: list[dict]) -> str:
    """Return ``benchmarks/refresh.md`` for ``results``."""
    import duckdb
    import polars

    env = (
        f"Run on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs (shared with other work), "
        f"Python {platform.python_version()}, Polars {polars.__version__}, DuckDB {duckdb.__version__}; "
        f"{date.today().isoformat()}."
    )
    lines = [
        "# Refresh against a bare load",
        "",
        "Written by `benchmarks/bench_refresh.py`; do not edit by hand. **Bare load**: a fresh Python process",
        "reading the drop's CSV files with DuckDB `read_csv` into a new database file. **Refresh**:",
        "`python -m analytics refresh` of the same drop into a new data store (read, validate, archive,",
        "pseudonymise, stage, build every mart, swap in). Both whole processes, interpreter start included;",
        "best of the repeats; CPU = the child's user + system seconds and peak RSS its maximum resident set",
        "size (`os.wait4`). Scale N = N copies of the demo council (`python -m analytics demo --scale N`).",
        "Python's byte-code cache is on (as installed), warmed by one run before timing. The file-size",
        "limits are raised in a copy of config.toml (a national delivery file is 610 MB; the default",
        "limit is 500 MB), as a national hub would in its own configuration.",
        "",
        env,
        "",
        "| scale | input rows | CSV (MB) | bare load (s) | refresh (s) | refresh / bare | refresh CPU (s) "
        "| CPU ratio | refresh s per million rows | refresh peak RSS (MB) | bare peak RSS (MB) | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scale']}x | {r['input_rows']:,} | {r['input_mb']:,.0f} | {r['bare']['wall_s']:.2f} "
            f"| {r['refresh']['wall_s']:.2f} | **{r['ratio']:.1f}** | {r['refresh']['cpu_s']:.1f} "
            f"| {r['cpu_ratio']:.1f} | {r['refresh_s_per_million_rows']:.2f} | {r['refresh']['peak_rss_mb']:,.0f} "
            f"| {r['bare']['peak_rss_mb']:,.0f} | {r['load_average_1m']} |"
        )
    phases = list(dict.fromkeys(p for r in results for p in r.get("phases", {})))
    lines += [
        "",
        "Where a refresh's time goes (one more refresh in-process, split at its progress steps; wall seconds;"
        " the marts are built and written together, module by module):",
        "",
        "| phase | " + " | ".join(f"{r['scale']}x" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for p in phases:
        cells = (f"{r['phases'][p]:.2f}" if p in r.get("phases", {}) else "-" for r in results)
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    lines += budget_table(results)
    demo = " | ".join("-" if r.get("demo_s") is None else f"{r['demo_s']:.1f}" for r in results)
    lines += ["", f"`demo --scale N` wrote each drop in (s): | {demo} |"]
    modules = sorted({m for r in results for m in r["modules"]})
    lines += [
        "",
        "Marts by indicator module (`build_marts` on the staged tables, one run in its own process;"
        " wall / CPU seconds):",
        "",
        "| module | " + " | ".join(f"{r['scale']}x" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for m in modules:
        cells = " | ".join("{:.2f} / {:.2f}".format(*r["modules"][m]) if m in r["modules"] else "-" for r in results)
        lines.append(f"| {m} | {cells} |")
    totals = " | ".join(
        "{:.2f} / {:.2f}".format(sum(v[0] for v in r["modules"].values()), sum(v[1] for v in r["modules"].values()))
        if r["modules"]
        else "-"
        for r in results
    )
    lines += [f"| **all modules** | {totals} |", ""]
    runs = "; ".join(
        f"{r['scale']}x refresh {r['refresh']['runs_wall_s']}, bare {r['bare']['runs_wall_s']}" for r in results
    )
    lines += [f"Every run's wall time (s): {runs}.", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Run the given scales (default 1, 10, 50), or ``--from-json`` to re-render the table."""
    if argv[:1] == ["--from-json"]:
        OUT_MD.write_text(markdown(json.loads(OUT_JSON.read_text(encoding="utf-8"))), encoding="utf-8")
        return
    scales = [int(a) for a in argv] or [1, 10, 50]
    work = Path(tempfile.mkdtemp(prefix="bench_refresh_"))
    env = dict(os.environ, MARKET_KEY_FILE=str(work / "bench.key"), PYTHONPATH=str(ROOT))
    env["MARKET_CONFIG"] = str(national_config(work))
    # As installed: byte-compiled modules cached (a sandbox may set PYTHONDONTWRITEBYTECODE, which makes
    # every process compile ~500 modules from source, about 1.5 s, and would swamp the 1x figures).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run(
        [
            PYTHON,
            "-c",
            "import analytics.cli, analytics.store.snapshots, analytics.indicators.marts, duckdb, pyarrow, numpy, tqdm",
        ],
        env,
    )
    run([PYTHON, "-m", "analytics", "--help"], env)
    results = []
    try:
        for scale in scales:
            repeats = 3 if scale <= 10 else 2 if scale <= 50 else 1
            result = bench_scale(scale, work, repeats, env)
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    OUT_JSON.parent.mkdir(exist_ok=True)
    OUT_JSON.write_text(json.dumps(results, indent=2), encoding="utf-8")
    OUT_MD.write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
