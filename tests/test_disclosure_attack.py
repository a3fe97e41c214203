"""Disclosure control no one can undo: an attacker tries to recover every suppressed cell, and fails.

Every table the public pack, publication mode and the CSV/Excel downloads can produce (each public
chart's table as its CSV download writes it, the headline tiles, the Rural gaps split table) is
built for the whole council and two localities, on the demo council and on the small hand-made
drop (3 areas, where nearly everything is small). ``disclosure_attack.attack`` then differences
rows against totals published one level up (and row totals), and tries formulas of neighbouring
columns (hours, shares, averages). The count of tables, suppressed cells and cells recovered is
printed in pytest's terminal summary; recovered must be 0.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from disclosure_attack import Table, attack, csv_view

from analytics.briefing import registry
from analytics.briefing.pack import resolve_filters
from analytics.briefing.summary import headline_frame
from analytics.publish.exports import chart_csv
from analytics.publish.publication import publish_split
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed
from analytics.views import overview, rural

ATTACK_KEY = pytest.StashKey[list]()


def _frame_tables(cur, filters, drop: str) -> list[Table]:
    """Every public chart's table for ``filters``: the CSV as downloaded and the raw truth."""
    geo = filters.locality or "council"
    month = filters.month.isoformat()[:7]
    out = []
    for chart_id in registry.public_chart_ids():
        entry = registry.entry(chart_id)
        try:
            spec = registry.build(cur, chart_id, filters)
        except registry.ChartUnavailable:
            continue
        if spec.data is None:
            continue
        raw = spec.data
        known = not isinstance(raw, Suppressed)
        if not known:
            raw = raw.values  # suppressed by the view itself: hidden cells are null, the truth unknown
        elif not entry.council_level(filters) and entry.counts is not None:
            raw = entry.counts(cur, filters, raw)
        published = registry.publish_spec(cur, chart_id, spec, filters)
        data = published.data
        shown = csv_view(chart_csv(published))
        counts = data.count_cols if isinstance(data, Suppressed) else ()
        columns = [c for c in shown.columns if c in raw.columns]
        name = f"{drop}/{geo}/{chart_id}"
        out.append(Table(name, shown.select(columns), raw.select(columns), counts, geo, month, truth_known=known))
    return out


def _text(frame: pl.DataFrame, flags: pl.DataFrame | None) -> pl.DataFrame:
    """A numeric frame as the attacker reads it: strings, ``[c]`` where flagged."""
    cols = []
    for c in frame.columns:
        values = frame[c].cast(pl.String)
        if flags is not None and f"{c}{SUPPRESSED_SUFFIX}" in flags.columns:
            values = pl.Series(
                c,
                [
                    "[c]" if h else v
                    for v, h in zip(values.to_list(), flags[f"{c}{SUPPRESSED_SUFFIX}"].to_list(), strict=True)
                ],
            )
        cols.append(values.alias(c))
    return pl.DataFrame(cols)


def _tile_tables(cur, filters, drop: str) -> list[Table]:
    """The headline tiles (and the pack summary) as published for ``filters``, plus the rural split."""
    geo = filters.locality or "council"
    month = filters.month.isoformat()[:7]
    raw = overview.monthly_headline(cur, filters)
    published = headline_frame(cur, filters, published=True)
    numeric = [c for c in raw.columns if raw.schema[c].is_numeric()]
    shown = _text(published.select("month", *numeric), published if filters.locality else None)
    tables = [
        Table(
            f"{drop}/{geo}/tiles",
            shown,
            raw.select("month", *numeric),
            ("people_in_service", "people_waiting"),
            geo,
            month,
        )
    ]
    split = rural.split(cur, filters)
    classes = [*rural.CLASSES, "total"]
    pub = publish_split(split, _rural_kinds(), key="measure_id", columns=list(rural.CLASSES), total="total")
    counts = tuple(m for m, k in _rural_kinds().items() if k == "count")
    tables.append(
        Table(
            f"{drop}/{geo}/rural-split",
            _text(pub.select("measure_id", *classes), pub).rename({"total": "Total"}),
            split.select("measure_id", *classes).rename({"total": "Total"}),
            counts,
            geo,
            month,
        )
    )
    return tables


def _rural_kinds() -> dict[str, str]:
    from ui.modes import RURAL_SPLIT_KINDS

    return RURAL_SPLIT_KINDS


def _tables_for(store: Path, drop: str, localities: int = 1) -> list[Table]:
    from analytics.store.queries import filter_options
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(store)
    try:
        cur = market_cursor(con)
        # The smallest localities, where small numbers are most common.
        sizes = {}
        council = resolve_filters(cur)
        for name in filter_options(cur).localities:
            f = resolve_filters(cur, locality=name)
            frame = overview.monthly_headline(cur, f).filter(pl.col("month") == f.month)
            sizes[name] = frame["people_in_service"].sum() if frame.height else 0
        chosen = sorted(sizes, key=sizes.get)[:localities]
        tables = []
        for filters in [council, *(resolve_filters(cur, locality=n) for n in chosen)]:
            tables += _frame_tables(cur, filters, drop)
            tables += _tile_tables(cur, filters, drop)
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from small_drop import write_small_drop

    from analytics.store.snapshots import refresh

    drop = write_small_drop(tmp_path_factory.mktemp("small") / "drop")
    data_dir = tmp_path_factory.mktemp("small-store")
    assert refresh(drop, data_dir, loaded_by="tests").accepted
    return data_dir


def test_no_suppressed_cell_can_be_recovered(demo_store, small_store, request):
    tables = _tables_for(demo_store, "demo") + _tables_for(small_store, "small")
    result = attack(tables)
    request.config.stash.setdefault(ATTACK_KEY, []).append(result)
    assert result.tables > 80
    assert result.cells > 100, "the attack needs suppressed cells to attack"
    assert result.recovered == [], "\n".join(result.recovered[:20])


def test_the_attacker_recovers_cells_from_an_unprotected_table():
    """The attacker works: without secondary suppression and with hours beside a hidden count it wins."""
    raw = pl.DataFrame(
        {
            "area_name": ["A", "B", "C"],
            "locality": ["X", "X", "X"],
            "people_waiting": [3, 20, 40],
            "hours_waiting": [30.0, 200.0, 400.0],
            "hours_per_person": [10.0, 10.0, 10.0],
        }
    )
    shown = pl.DataFrame(
        {
            "area_name": ["A", "B", "C"],
            "locality": ["X", "X", "X"],
            "people_waiting": ["[c]", "20", "40"],
            "hours_waiting": ["30.0", "200.0", "400.0"],
            "hours_per_person": ["10.0", "10.0", "10.0"],
        }
    )
    totals = Table(
        "tiles",
        pl.DataFrame({"locality": ["X"], "hours_waiting": ["630.0"]}),
        pl.DataFrame({"locality": ["X"], "hours_waiting": [630.0]}),
        (),
        "council",
        "2026-10",
    )
    hidden_hours = shown.with_columns(pl.Series("hours_waiting", ["[c]", "200.0", "400.0"]))
    result = attack([Table("t", shown, raw, ("people_waiting",), "council", "2026-10")])
    assert any("people_waiting" in r for r in result.recovered), "hours / hours per person = people"
    result = attack([Table("t", hidden_hours, raw, ("people_waiting",), "council", "2026-10"), totals])
    assert any("hours_waiting" in r and "total" in r for r in result.recovered), "locality total minus the others"
