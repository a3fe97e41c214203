"""Benchmark the indicator engine: build every mart and compute the headline at 1x, 10x and 50x scale.

Not a test. Run from the project root:

    .venv/bin/python benchmarks/bench_indicators.py            # 1x and 10x
    .venv/bin/python benchmarks/bench_indicators.py 1 10 50    # any scales
    .venv/bin/python benchmarks/bench_indicators.py --from-json # re-render README from the last results

Data: ``analytics.demo.generate_drop(out_dir, scale=N)`` loaded through ``analytics.store.snapshots.refresh``
when that module exists; otherwise a synthetic drop generated here (seeded, see ``synthetic_staged``;
1x = 120 areas, 61 providers of which 46 microenterprises, 6,000 packages and 3,000 requests over four
years; every count is multiplied by N). Each scale runs in its own child process so that the peak
resident memory (``resource.getrusage``, which also sees Polars' and DuckDB's native allocations,
unlike tracemalloc) belongs to that scale only. Timings are wall-clock, the best of ``repeats``.

The comparison column computes the same three headline measures (people in service, planned hours a
week, HHI) the plain pandas way (boolean mask, ``nunique``, ``groupby().sum()``) from frames already
in memory, against the same three from the engine's functions.

Writes ``benchmarks/README.md`` (a Markdown table) and ``benchmarks/results/indicators.json``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

AS_OF = date(2025, 3, 31)
SEED = 20261122


def peak_rss_mb() -> float:
    """Return this process's peak resident set size so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_staged(scale: int, as_of: date = AS_OF, seed: int = SEED):
    """Return a ``Staged`` drop of a made-up council at ``scale`` (see module docstring)."""
    from analytics.ingest.staged import Staged

    rng = np.random.default_rng(seed + scale)
    n_areas, n_agency, n_me = 120 * scale, 14 * scale, 46 * scale
    n_packages, n_requests = 6_000 * scale, 3_000 * scale
    localities = np.array(["North", "South", "East", "West", "Central"])
    ruc = np.array(["UN1", "UF1", "RLN1", "RLF1", "RSN1", "RSF1"])
    area_codes = np.array([f"E05{i:06d}" for i in range(n_areas)])
    areas = pl.DataFrame(
        {
            "area_code": area_codes,
            "area_name": [f"Ward {i}" for i in range(n_areas)],
            "locality": np.where(rng.random(n_areas) < 0.03, None, localities[rng.integers(0, 5, n_areas)]),
            "ruc21": np.where(rng.random(n_areas) < 0.05, None, ruc[rng.integers(0, 6, n_areas)]),
            "population_65_plus": np.where(rng.random(n_areas) < 0.03, None, rng.integers(800, 3000, n_areas)).tolist(),
        }
    )
    provider_ids = [f"AG{i:05d}" for i in range(n_agency)] + [f"ME{i:05d}" for i in range(n_me)] + ["INH00001"]
    types = ["agency"] * n_agency + ["microenterprise"] * n_me + ["in_house"]
    providers = pl.DataFrame({"provider_id": provider_ids, "provider_name": provider_ids, "provider_type": types})
    kind = rng.random(n_packages)
    agency_weights = 1 / np.arange(1, n_agency + 1) ** 0.8
    agency_weights /= agency_weights.sum()
    provider = np.where(
        kind < 0.85,
        np.array(provider_ids[:n_agency])[rng.choice(n_agency, n_packages, p=agency_weights)],
        np.where(
            kind < 0.97,
            np.array(provider_ids[n_agency : n_agency + n_me])[rng.integers(0, n_me, n_packages)],
            "INH00001",
        ),
    )
    is_me = (kind >= 0.85) & (kind < 0.97)
    start = np.array([as_of - timedelta(days=int(d)) for d in rng.integers(0, 4 * 365, n_packages)])
    duration = rng.exponential(400, n_packages).astype(int)
    end = [s + timedelta(days=int(d)) for s, d in zip(start, duration, strict=True)]
    end = [None if e > as_of else e for e in end]
    hours = np.where(is_me, rng.gamma(3, 1.5, n_packages), rng.gamma(2.5, 5.6, n_packages))
    hours = np.clip(np.round(hours * 4) / 4, 0.25, 168)
    service = np.array(["home_care"] * 16 + ["reablement"] * 2 + ["extra_care", None], dtype=object)
    packages = pl.DataFrame(
        {
            "package_id": [f"K{i}" for i in range(n_packages)],
            "person_id": [f"X{i}" for i in rng.integers(0, int(n_packages * 0.8), n_packages)],
            "area_code": area_codes[rng.integers(0, n_areas, n_packages)],
            "provider_id": provider,
            "start_date": start,
            "end_date": end,
            "planned_hours_per_week": hours,
            "service_type": service[rng.integers(0, len(service), n_packages)],
        },
        schema_overrides={"end_date": pl.Date},
    )
    requested = np.array([as_of - timedelta(days=int(d)) for d in rng.integers(0, 4 * 365, n_requests)])
    fate = rng.random(n_requests)
    delay = rng.exponential(20, n_requests).astype(int)
    sourced = [r + timedelta(days=int(d)) if f < 0.85 else None for r, d, f in zip(requested, delay, fate, strict=True)]
    sourced = [None if s is not None and s > as_of else s for s in sourced]
    outcome = np.where(fate < 0.85, "sourced", np.where(fate < 0.90, "withdrawn", "waiting"))
    requests = pl.DataFrame(
        {
            "request_id": [f"R{i}" for i in range(n_requests)],
            "person_id": [f"Y{i}" for i in range(n_requests)],
            "area_code": area_codes[rng.integers(0, n_areas, n_requests)],
            "requested_date": requested,
            "hours_per_week": np.clip(np.round(rng.gamma(2.5, 5, n_requests)), 1, 168),
            "sourced_date": sourced,
            "outcome": outcome,
        },
        schema_overrides={"sourced_date": pl.Date},
    )
    return Staged.from_frames(as_of, areas=areas, providers=providers, packages=packages, requests=requests)


def demo_staged(scale: int):
    """Return ``(staged, how)``: the demo generator's drop at ``scale`` loaded through the store, or
    ``None`` if there is no demo generator."""
    try:
        from analytics.demo import generate_drop
    except ImportError:
        return None
    from analytics.ingest.staged import load_staged
    from analytics.store import snapshots as store

    tmp = Path(tempfile.mkdtemp(prefix="bench_demo_"))
    os.environ.setdefault("MARKET_KEY_FILE", str(tmp / "bench.key"))
    generate_drop(tmp / "drop", scale=scale)
    outcome = store.refresh(tmp / "drop", data_dir=tmp / "store")
    if not outcome.accepted:
        # The store refused the drop; the validator's typed frames still hold every valid row, so
        # benchmark on those rather than not at all (the report names the rejection).
        from analytics.ingest.staged import Staged

        typed = {k: v for k, v in outcome.result.typed.items() if k in Staged.__dataclass_fields__}
        staged = Staged.from_frames(outcome.result.as_of, **typed)
        return staged, f"rejected by validation ({outcome.result.errors.height} errors); validated typed frames used"
    con = store.open_live(tmp / "store")
    cur = store.market_cursor(con)
    return load_staged(cur), "loaded through analytics.store.snapshots.refresh"


def stage_into(con: duckdb.DuckDBPyConnection, staged) -> None:
    """Write ``staged`` as ``stg_*`` tables plus ``meta_drop`` into ``con`` (as the store does)."""
    from analytics.contract import FILES

    for name in FILES:
        frame = getattr(staged, name)
        con.register("v", frame)
        con.execute(f"create or replace table stg_{name} as select * from v")
        con.unregister("v")
    con.execute("create or replace table meta_drop as select 'bench' as drop_id, ?::date as as_of", [staged.as_of])


def pandas_three(packages_pd, d) -> dict:
    """People in service, planned hours and HHI on ``d``, the plain pandas way."""
    import pandas as pd

    day = pd.Timestamp(d)
    start = pd.to_datetime(packages_pd["start_date"])
    end = pd.to_datetime(packages_pd["end_date"])
    active = packages_pd[(start <= day) & (end.isna() | (end >= day))]
    hours = active.groupby("provider_id")["planned_hours_per_week"].sum()
    shares = hours / hours.sum() * 100
    return {
        "people_in_service": int(active["person_id"].nunique()),
        "planned_hours_per_week": round(float(active["planned_hours_per_week"].sum()), 2),
        "hhi": round(float((shares**2).sum()), 2),
    }


def engine_three(packages, d) -> dict:
    """The same three measures from the engine's own functions."""
    from analytics.indicators.concentration import concentration_on
    from analytics.indicators.supply import supply_on

    row = supply_on(packages, d)
    return {
        "people_in_service": row["people_in_service"],
        "planned_hours_per_week": round(row["planned_hours_per_week"], 2),
        "hhi": round(concentration_on(packages, d)["hhi"], 2),
    }


def best_of(repeats: int, fn):
    """Return (best wall time in seconds, last result) of ``repeats`` calls of ``fn``."""
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run_scale(scale: int, repeats: int, queue) -> None:
    """Child process: build data at ``scale``, time every step, put a result dict on ``queue``."""
    from analytics.indicators import modules_with
    from analytics.indicators.headline import headline
    from analytics.indicators.marts import build_marts

    t0 = time.perf_counter()
    demo = demo_staged(scale)
    if demo is None:
        staged = synthetic_staged(scale)
        source = "synthetic (bench_indicators.synthetic_staged)"
    else:
        staged, how = demo
        source = f"analytics.demo.generate_drop, {how}"
    generate_s = time.perf_counter() - t0
    con = duckdb.connect()
    stage_into(con, staged)
    packages_pd = staged.packages.to_pandas()
    baseline_mb = peak_rss_mb()

    per_module = {}
    for module in modules_with("build_marts"):
        seconds, _ = best_of(1, lambda m=module: m.build_marts(staged))
        per_module[module.__name__.rsplit(".", 1)[-1]] = round(seconds, 3)
    marts_s, counts = best_of(repeats, lambda: build_marts(con))
    marts_peak = peak_rss_mb()
    head_s, head = best_of(repeats, lambda: headline(staged))
    locality = staged.areas.get_column("locality").drop_nulls().sort().to_list()[0]
    head_loc_s, _ = best_of(repeats, lambda: headline(staged, locality=locality))
    engine_s, engine = best_of(repeats, lambda: engine_three(staged.packages, staged.as_of))
    pandas_s, pand = best_of(repeats, lambda: pandas_three(packages_pd, staged.as_of))
    queue.put(
        {
            "scale": scale,
            "source": source,
            "rows": {name: getattr(staged, name).height for name in ("areas", "providers", "packages", "requests")},
            "generate_s": round(generate_s, 2),
            "build_marts_s": round(marts_s, 3),
            "build_marts_per_module_s": per_module,
            "mart_rows": sum(counts.values()),
            "marts": len(counts),
            "largest_mart": max(counts.items(), key=lambda kv: kv[1]),
            "headline_s": round(head_s, 3),
            "headline_locality_s": round(head_loc_s, 3),
            "engine_three_s": round(engine_s, 4),
            "pandas_three_s": round(pandas_s, 4),
            "engine_three": engine,
            "pandas_three": pand,
            "agree": engine == pand,
            "headline_people": head["people_in_service"],
            "rss_after_data_mb": round(baseline_mb, 0),
            "peak_rss_after_marts_mb": round(marts_peak, 0),
            "peak_rss_mb": round(peak_rss_mb(), 0),
            "load_average_1m": round(os.getloadavg()[0], 1),
        }
    )


def markdown(results: list[dict]) -> str:
    """Return ``benchmarks/README.md`` for ``results``."""
    import polars

    lines = [
        "# Benchmarks",
        "",
        "## Indicator engine (`benchmarks/bench_indicators.py`)",
        "",
        "Builds every mart (`analytics.indicators.marts.build_marts`: all indicator modules, written to an in-memory",
        "DuckDB) and computes the headline, at several data scales. Each scale runs in a fresh child",
        "process; times are wall-clock (best of the repeats), memory is the process's peak resident set",
        "size (`resource.getrusage`, which includes Polars' and DuckDB's native memory). The last columns",
        "compute three headline measures (people in service, planned hours a week, HHI) with the engine's",
        "functions and the plain pandas way from frames already in memory; 'agree' checks they match.",
        "",
        f"Run on {platform.node() or 'this machine'}: {os.cpu_count()} CPUs, Python {platform.python_version()},",
        f"Polars {polars.__version__}, DuckDB {duckdb.__version__}; as of {date.today().isoformat()}.",
        "Data: " + "; ".join(f"{r['scale']}x {r['source']}" for r in results) + ".",
        "",
        "| scale | packages | requests | areas | providers | build marts (s) | mart rows | headline (s) "
        "| headline, one locality (s) | peak RSS (MB) | RSS before marts (MB) | 3 measures, engine (s) "
        "| 3 measures, pandas (s) | agree |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows = r["rows"]
        lines.append(
            f"| {r['scale']}x | {rows['packages']:,} | {rows['requests']:,} | {rows['areas']:,} "
            f"| {rows['providers']:,} "
            f"| {r['build_marts_s']:.2f} | {r['mart_rows']:,} | {r['headline_s']:.2f} | {r['headline_locality_s']:.2f} "
            f"| {r['peak_rss_mb']:,.0f} | {r['rss_after_data_mb']:,.0f} | {r['engine_three_s']:.3f} "
            f"| {r['pandas_three_s']:.3f} | {'yes' if r['agree'] else 'NO'} |"
        )
    lines += ["", "Build time per indicator module (seconds, one run, frames only, no DuckDB write):", ""]
    modules = sorted({m for r in results for m in r["build_marts_per_module_s"]})
    lines.append("| module | " + " | ".join(f"{r['scale']}x" for r in results) + " |")
    lines.append("|---|" + "---|" * len(results))
    for m in modules:
        cells = " | ".join(f"{r['build_marts_per_module_s'].get(m, float('nan')):.2f}" for r in results)
        lines.append(f"| {m} | {cells} |")
    part1_modules = ("supply", "microenterprise", "coverage", "waiting", "rural", "concentration")
    part1 = ", ".join(
        f"{r['scale']}x {sum(r['build_marts_per_module_s'].get(m, 0) for m in part1_modules):.1f} s" for r in results
    )
    loads = ", ".join(f"{r['scale']}x {r['load_average_1m']}" for r in results if "load_average_1m" in r)
    lines += [
        "",
        "Notes:",
        "",
        "- 'RSS before marts' is the child's peak after generating and loading the drop (the demo",
        "  generator and the store's validation run in the same process), so the marts' own memory is",
        "  the difference between the two RSS columns.",
        "- The per-module times are single cold runs of each module's `build_marts`, measured",
        "  separately from the 'build marts' column (which also writes to DuckDB), so the two need not",
        "  add up. Part-1 modules (supply, microenterprise, coverage, waiting, rural, concentration)",
        f"  together: {part1}. They group each geography level in one pass",
        "  (`common.per_level`), so their time grows roughly in line with the number of rows.",
        "- The headline column covers every module; most of it at large scale is part-2 modules.",
        "- Wall times are sensitive to other work on the machine"
        + (f" (1-minute load average at the end of each scale: {loads})." if loads else "."),
    ]
    lines += [
        "",
        "Largest mart per scale: "
        + "; ".join(f"{r['scale']}x `{r['largest_mart'][0]}` {r['largest_mart'][1]:,} rows" for r in results)
        + ".",
        "",
        "The three measures at each scale (engine = pandas when 'agree' is yes): "
        + "; ".join(f"{r['scale']}x {r['engine_three']}" for r in results)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Run the given scales (default 1 and 10), or with ``--from-json`` re-render the README only."""
    results_json = ROOT / "benchmarks" / "results" / "indicators.json"
    if argv[:1] == ["--from-json"]:
        results = json.loads(results_json.read_text(encoding="utf-8"))
        (ROOT / "benchmarks" / "README.md").write_text(markdown(results), encoding="utf-8")
        return
    scales = [int(a) for a in argv] or [1, 10]
    ctx = mp.get_context("spawn")
    results = []
    for scale in scales:
        queue = ctx.Queue()
        proc = ctx.Process(target=run_scale, args=(scale, 3 if scale < 50 else 1, queue))
        proc.start()
        result = None
        while result is None:
            try:
                result = queue.get(timeout=5)
            except Empty:
                if not proc.is_alive():
                    break
        proc.join()
        if result is None:
            print(f"scale {scale}: the child process failed (exit code {proc.exitcode})", flush=True)
            continue
        print(json.dumps(result), flush=True)
        results.append(result)
    (ROOT / "benchmarks" / "README.md").write_text(markdown(results), encoding="utf-8")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    results_json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
