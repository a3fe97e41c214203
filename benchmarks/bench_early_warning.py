"""Backtest the provider early-warning list on the demo council's 36 months (not a test: figures, not asserts).

Run from the project root:

    .venv/bin/python benchmarks/bench_early_warning.py

It generates the demo drop, loads it through ``analytics.store.snapshots.refresh`` into a temporary
store, scores every provider in every month (``analytics.indicators.early_warning.early_warning``)
and answers the issue's two questions:

* **Lead time**: how many months before the dominant agency's hand-backs peaked (the month with the
  most hours a week handed back) the list first flagged it.
* **False alarms**: how many providers the list flagged that never got worse afterwards. A provider
  *got worse* after its first flag when, later and by the as-of date, it handed a package back, left
  the market (its last package ended with none open), had a Requires improvement or Inadequate rating
  published, or scored more points than when first flagged.

Writes ``benchmarks/early_warning.md`` and prints the same figures. Timings are wall-clock.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

from analytics.demo import generate_drop  # noqa: E402
from analytics.indicators.churn import HANDBACK  # noqa: E402
from analytics.indicators.common import MART_MONTHS, months_frame  # noqa: E402
from analytics.indicators.early_warning import early_warning  # noqa: E402
from analytics.ingest.staged import load_staged  # noqa: E402
from analytics.store.snapshots import open_live, refresh  # noqa: E402

OUT = ROOT / "benchmarks" / "early_warning.md"


def months_between(a: date, b: date) -> int:
    """Return whole calendar months from ``a`` to ``b``."""
    return (b.year - a.year) * 12 + b.month - a.month


def got_worse(staged, scored: pl.DataFrame, provider: str, first: date) -> list[str]:
    """Return how ``provider`` got worse after ``first`` (empty: it never did)."""
    why = []
    packages = staged.packages.filter(pl.col("provider_id") == provider)
    later_handbacks = packages.filter((pl.col("end_reason") == HANDBACK) & (pl.col("end_date") > first))
    if later_handbacks.height:
        why.append("handed back later")
    if packages.height and packages.get_column("end_date").null_count() == 0:
        last = packages.get_column("end_date").max()
        if first < last <= staged.as_of:
            why.append("left the market")
    rating = staged.providers.filter(pl.col("provider_id") == provider).row(0, named=True)
    if (
        rating["cqc_rating"] in ("Requires improvement", "Inadequate")
        and rating["cqc_rating_date"] is not None
        and rating["cqc_rating_date"] > first
    ):
        why.append("poorer rating published later")
    rows = scored.filter(pl.col("provider_id") == provider).sort("month")
    at_first = rows.filter(pl.col("month") == first).item(0, "points")
    if rows.filter((pl.col("month") > first) & (pl.col("points") > at_first)).height:
        why.append("more points later")
    return why


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("MARKET_KEY_FILE", str(Path(tmp) / "key"))
        drop = Path(tmp) / "drop"
        generate_drop(drop)
        assert refresh(drop, Path(tmp) / "store").accepted
        con = open_live(Path(tmp) / "store")
        staged = load_staged(con)
        con.close()
    months = months_frame(staged.as_of, MART_MONTHS)
    started = time.perf_counter()
    scored = early_warning(staged, months)
    seconds = time.perf_counter() - started

    latest = scored.filter(pl.col("month") == staged.as_of).sort("hours", descending=True)
    dominant = latest.row(0, named=True)
    pid, name = dominant["provider_id"], dominant["provider_name"]
    handed = (
        staged.packages.filter((pl.col("provider_id") == pid) & (pl.col("end_reason") == HANDBACK))
        .join_where(months, pl.col("end_date") >= pl.col("month_start"), pl.col("end_date") <= pl.col("month"))
        .group_by("month")
        .agg(pl.col("planned_hours_per_week").sum().alias("hours"))
        .sort(["hours", "month"], descending=[True, False])
    )
    peak_month, peak_hours = handed.row(0)
    own = scored.filter(pl.col("provider_id") == pid).sort("month")
    flagged_months = own.filter(pl.col("listed"))
    first_flag = flagged_months.item(0, "month") if flagged_months.height else None
    first_rank = flagged_months.item(0, "rank") if flagged_months.height else None
    first_reasons = flagged_months.item(0, "reasons") if flagged_months.height else ""
    lead = months_between(first_flag, peak_month) if first_flag else None

    ever = scored.filter(pl.col("listed")).group_by("provider_id").agg(pl.col("month").min().alias("first"))
    outcomes = []
    for provider, first in ever.sort("provider_id").iter_rows():
        name_row = staged.providers.filter(pl.col("provider_id") == provider)
        label = name_row.item(0, "provider_name") if name_row.height else provider
        outcomes.append((provider, label, first, got_worse(staged, scored, provider, first)))
    never = [o for o in outcomes if not o[3]]
    per_month = scored.group_by("month").agg(pl.col("listed").sum().alias("listed")).sort("month")

    lines = [
        "# Early-warning list: backtest on the demo council",
        "",
        "Made by `benchmarks/bench_early_warning.py` (figures, not asserts). Demo council as of "
        f"{staged.as_of.isoformat()}, {MART_MONTHS} months; scoring rules in `analytics/indicators/early_warning.py` "
        "and `config.toml [early_warning]`.",
        f"Run on {platform.node() or 'unknown'}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Polars {pl.__version__}, DuckDB {duckdb.__version__}. Scoring every provider in every month took "
        f"{seconds:.2f} s ({scored.height:,} provider-months).",
        "",
        "## Lead time on the dominant agency",
        "",
        "| measure | value |",
        "|---|---|",
        f"| dominant agency (most hours on the as-of date) | {name} ({pid}), {dominant['share_pct']:.1f}% of hours |",
        f"| month its hand-backs peaked | {peak_month:%B %Y} ({peak_hours:,.0f} hours a week handed back) |",
        f"| first month the list flagged it | {f'{first_flag:%B %Y} (rank {first_rank})' if first_flag else 'never'} |",
        f"| reasons that month | {first_reasons} |",
        f"| **months of warning before the peak** | **{lead}** |",
        f"| months flagged out of {MART_MONTHS} | {flagged_months.height} |",
        "",
        "## Providers flagged that never got worse",
        "",
        f"{len(outcomes)} providers were flagged at least once; **{len(never)} never got worse** afterwards "
        "(no later hand-back, exit, poorer rating or higher score by the as-of date).",
        "",
        "| provider | first flagged | got worse afterwards |",
        "|---|---|---|",
        *[f"| {label} ({p}) | {first:%B %Y} | {', '.join(why) or 'no'} |" for p, label, first, why in outcomes],
        "",
        "## Providers listed each month",
        "",
        "| month | listed |",
        "|---|---|",
        *[f"| {m:%b %Y} | {n} |" for m, n in per_month.iter_rows()],
        "",
        "Caveats: the drop holds each provider's latest rating only, so a past month sees a poor rating from "
        "its publication date and never an earlier, better one; 'never got worse' is judged only up to the "
        "as-of date, so providers flagged in the last months have had little time to get worse.",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
