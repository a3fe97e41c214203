"""An attacker's script against published tables: try to recover every suppressed cell.

The attacker sees only what leaves the dashboard: each table as its CSV download writes it (``[c]``
for a hidden cell, numbers as published) and the tiles. It knows the rule (counts rounded to the
nearest 5, so a shown count ``r`` is ``r - 2.5`` to ``r + 2.5``; hours, averages and medians are
exact) and tries, for every hidden cell:

* **Differencing** rows of a table against a total: the group's total row, or the same measure one
  level up (a locality's figure from the locality tiles or a by-locality table for the areas of
  that locality; the council's figure for the localities), published anywhere. Recovered when the
  group has exactly one hidden cell and the shown cells pin it within half a unit.
* **Neighbouring columns**: a formula of two other columns of the same row (a, a/b, a*b, a*b/100,
  100*a/b, a-b, a+b) that gives the column's published value on every shown row (2 at least) is
  applied to the hidden row (hours / average = count, share x total = count...). Recovered when it
  lands within half a unit of the true value.

``Attack.run`` returns what it tried; the judge of success is the true (raw) value, which the
attacker does not have.
"""

from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass, field

import polars as pl

SYMBOL = "[c]"


@dataclass
class Table:
    """One published table: its name, the attacker's view and the truth (for judging only)."""

    name: str
    shown: pl.DataFrame  # the CSV as downloaded: strings, "[c]" where hidden
    raw: pl.DataFrame  # the true values, same rows and columns
    counts: tuple[str, ...]  # count columns (rounded when shown)
    geography: str  # "council" or a locality
    month: str  # YYYY-MM of the filters
    truth_known: bool = True  # False: the builder suppressed the table itself; any confident answer counts


@dataclass
class Result:
    tables: int = 0
    cells: int = 0
    recovered: list[str] = field(default_factory=list)


def _number(text: object) -> float | None:
    if text is None:
        return None
    s = str(text).replace(",", "").replace("£", "").strip()
    try:
        return float(s)
    except ValueError:
        return None


def csv_view(csv_bytes: bytes) -> pl.DataFrame:
    """Read a CSV download as the attacker does: every cell a string."""
    return pl.read_csv(io.BytesIO(csv_bytes), infer_schema=False)


def _halfwidth(table: Table, column: str, value: float) -> float:
    if column in table.counts and value != 0:
        return 2.5
    return 1e-6


def _labels(frame: pl.DataFrame, raw: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if not raw.schema[c].is_numeric()]


def _month_of(row: dict, table: Table) -> str:
    for c, v in row.items():
        if "month" in c.lower() and v and len(str(v)) >= 7 and str(v)[:4].isdigit():
            return str(v)[:7]
    return table.month


def _hit(table: Table, estimate: float, truth: float | None) -> bool:
    """Whether an estimate recovers the cell: within half a unit of the truth (any, when unknown)."""
    if truth is None:
        return not table.truth_known
    return abs(estimate - truth) < 0.5


def known_totals(tables: list[Table]) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(column, geography, month) -> (published value, half-width) from every table naming one geography per row.

    A table whose rows carry a ``locality`` and no area gives localities' figures; a table with no
    label column but ``month`` (the tiles' frame) gives its own geography's figures.
    """
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for t in tables:
        labels = _labels(t.shown, t.raw)
        by_area = any(c in t.shown.columns for c in ("area_code", "area_name"))
        for row in t.shown.iter_rows(named=True):
            if "locality" in t.shown.columns and not by_area:
                geo = row["locality"]
            elif not [c for c in labels if "month" not in c.lower()]:
                geo = t.geography
            else:
                continue
            for c in t.shown.columns:
                value = _number(row[c])
                if value is None or c in labels:
                    continue
                out[(c, str(geo), _month_of(row, t))] = (value, _halfwidth(t, c, value))
    return out


def _parent(table: Table, row: dict) -> str | None:
    """The geography one level up that a row adds into: its locality (area rows), else the council."""
    if any(c in table.shown.columns for c in ("area_code", "area_name")) and "locality" in table.shown.columns:
        return str(row["locality"])
    if "locality" in table.shown.columns:
        return "council"
    return None


def difference(table: Table, totals: dict, result: Result) -> None:
    """Total minus the other cells, for groups of rows adding up to a published figure one level up."""
    shown, raw = table.shown, table.raw
    labels = _labels(shown, raw)
    for column in [c for c in shown.columns if c not in labels]:
        groups: dict[tuple[str, str], list[int]] = {}
        for i, row in enumerate(shown.iter_rows(named=True)):
            parent = _parent(table, row)
            if parent is not None:
                groups.setdefault((parent, _month_of(row, table)), []).append(i)
        for (parent, month), rows in groups.items():
            total = totals.get((column, parent, month))
            if total is None:
                continue
            cells = [shown[column][i] for i in rows]
            hidden = [i for i, v in zip(rows, cells, strict=True) if v == SYMBOL]
            if len(hidden) != 1:
                continue
            others = [_number(v) for v in cells if v != SYMBOL]
            if any(v is None for v in others):
                continue
            estimate = total[0] - sum(others)
            width = total[1] + sum(_halfwidth(table, column, v) for v in others)
            truth = raw[column][hidden[0]]
            if width < 0.5 and _hit(table, estimate, truth):
                result.recovered.append(f"{table.name}: {column} row {hidden[0]} = {truth} by total {parent}")


_FORMULAS = {
    "a": lambda a, b: a,
    "a/b": lambda a, b: a / b if b else None,
    "a*b": lambda a, b: a * b,
    "a*b/100": lambda a, b: a * b / 100,
    "100a/b": lambda a, b: 100 * a / b if b else None,
    "a-b": lambda a, b: a - b,
    "a+b": lambda a, b: a + b,
}


def row_totals(table: Table, result: Result) -> None:
    """A row's total column minus its other cells (cross-tabs such as the rural split)."""
    shown, raw = table.shown, table.raw
    total_col = next((c for c in shown.columns if c.lower() == "total"), None)
    if total_col is None:
        return
    parts = [c for c in shown.columns if c not in _labels(shown, raw) and c != total_col]
    for i, row in enumerate(shown.iter_rows(named=True)):
        total = _number(row[total_col])
        hidden = [c for c in parts if row[c] == SYMBOL]
        if total is None or len(hidden) != 1:
            continue
        others = [_number(row[c]) for c in parts if c not in hidden]
        if any(v is None for v in others):
            continue
        counted = table.counts and (str(row.get(_labels(shown, raw)[0])) in table.counts)
        width = (2.5 if counted and total else 0) + sum(2.5 if counted and v else 0 for v in others)
        truth = raw[hidden[0]][i]
        if width < 0.5 and _hit(table, total - sum(others), truth):
            result.recovered.append(f"{table.name}: {hidden[0]} row {i} = {truth} by the row total")


def neighbours(table: Table, result: Result) -> None:
    """A formula of two other columns that reproduces the column on shown rows, applied to hidden rows."""
    shown, raw = table.shown, table.raw
    labels = _labels(shown, raw)
    numeric = [c for c in shown.columns if c not in labels]
    values = {c: [_number(v) if v != SYMBOL else None for v in shown[c].to_list()] for c in numeric}
    for column in numeric:
        hidden_rows = [i for i, v in enumerate(shown[column].to_list()) if v == SYMBOL]
        if not hidden_rows:
            continue
        shown_rows = [i for i in range(shown.height) if values[column][i] is not None]
        others = [c for c in numeric if c != column]
        candidates = [("a", a, a) for a in others]
        candidates += [(n, a, b) for a, b in itertools.permutations(others, 2) for n in _FORMULAS if n != "a"]
        for name, a_col, b_col in candidates:
            f = _FORMULAS[name]
            if True:  # noqa: SIM108 - keeps the block readable
                fits = 0
                ok = True
                for i in shown_rows:
                    a, b = values[a_col][i], values[b_col][i]
                    if a is None or b is None:
                        continue
                    got = f(a, b)
                    want = values[column][i]
                    slack = _halfwidth(table, column, want) if table.truth_known else 0.0
                    if got is None or abs(got - want) > slack + 1e-6:
                        ok = False
                        break
                    fits += want != 0  # a fit on zeros says nothing
                if not ok or fits < 2:
                    continue
                for i in hidden_rows:
                    a, b = values[a_col][i], values[b_col][i]
                    truth = raw[column][i]
                    if a is None or b is None:
                        continue
                    got = f(a, b)
                    if got is not None and math.isfinite(got) and _hit(table, got, truth):
                        result.recovered.append(
                            f"{table.name}: {column} row {i} = {truth} by {name} of {a_col}, {b_col}"
                        )


def attack(tables: list[Table]) -> Result:
    """Run every attack on every table; return the tables tried, hidden cells attacked and cells recovered."""
    result = Result(tables=len(tables))
    for table in tables:
        table.shown = table.shown.with_columns(pl.all().cast(pl.String))
    totals = known_totals(tables)
    for table in tables:
        result.cells += sum((table.shown[c] == SYMBOL).sum() for c in table.shown.columns)
        before = len(result.recovered)
        difference(table, totals, result)
        row_totals(table, result)
        neighbours(table, result)
        result.recovered[before:] = list(dict.fromkeys(result.recovered[before:]))
    return result
