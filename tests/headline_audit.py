"""Check a chart's headline against the chart's own data: every number there, every direction right.

``audit_spec(spec) -> int`` takes a ``ChartSpec`` (``analytics.publish.chart_style``) and checks its title:

* **Numbers.** Each number in the title ("81", "23.4%", "£8.34", "£10.1 million", "1,645") must equal,
  at the title's own rounding, a value the chart's data holds or a simple figure made from it: a cell;
  a column's total, a running total from either end, a total per category; a count of rows, of
  non-blank cells or of rows per category; the sum, difference or ratio (also as a percentage) of two
  cells of one column (or the sum of three, in a short column); a share of a column's total; a count
  of things ("3 providers") no larger than the rows drawn. "N of M" needs N <= M (N may be a count the
  table does not list) and allows N as a percentage of M. Not checked: years and months ("August
  2026", "2031/32"), numbers that are part of a name in the data ("Lot 2 Fellside") or in the
  subtitle, definitions after "within", "more than", "fewer than", "per", "over the last" and periods
  ("28 days", "12 months", "4 years"), and reference figures named as such ("the national 10.1%",
  "at 1.8% growth").
* **Directions.** "up/rose/increased/grew from A" and "down/fell/decreased from A" must agree with the
  sign of the change to the value they describe: the "to B" of the same clause, else the title's
  leading value ("People waiting: 81, up from 58" needs 58 < 81). "and from A" repeats the previous
  direction. "a peak of A" must be the highest value of a column holding it, "a low of A" the lowest.

Returns how many numbers and directions it checked; raises ``AssertionError`` naming the chart, the
title and the word at fault on a contradiction. Used over every chart of the registry on the demo and
on variant drops (``tests/test_headline_audit.py``) and for each generated council.
"""

from __future__ import annotations

import math
import re
from itertools import combinations

import polars as pl

from analytics.publish.suppression import Suppressed

NUMBER = re.compile(r"(?<![\w.,/])(£)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%| ?million\b|m\b)?(?![\w/])")
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
PERIOD_AFTER = re.compile(r"^\s*(?:days?|weeks?|months?|years?)\b", re.IGNORECASE)
DEFINITION_BEFORE = re.compile(
    r"(within|more than|fewer than|less than|at least|per|last|national(?: \w+)*?(?: rate)?(?: of)?|rate of|"
    r"threshold of|top|largest|at)\s*$",
    re.IGNORECASE,
)
UP = {"up", "rose", "increased", "grew", "higher"}
DOWN = {"down", "fell", "decreased", "lower", "dropped"}
DIRECTION = re.compile(
    r"\b(up|down|rose|fell|increased|decreased|grew|dropped)\s+(?:by\s+\S+\s+)?from\s+"
    r"(?:a\s+(peak|high|low)\s+of\s+)?(\S+)(?:\s+to\s+(\S+))?"
    r"|\band\s+from\s+(\S+)",
    re.IGNORECASE,
)
MAX_PAIRS = 300  # values per column for the pairwise figures (sums, differences, ratios)
MAX_TRIPLES = 40  # values per column for sums of three cells ("contracts carrying 79% of hours")


def _token_value(match: re.Match) -> tuple[float, float]:
    """Return a number token's value and its half-unit of rounding (e.g. "23.4%" -> (23.4, 0.05))."""
    whole, frac, suffix = match.group(2).replace(",", ""), match.group(3) or "", (match.group(4) or "").strip()
    value = float(whole + frac)
    tol = 0.5 * 10 ** -(len(frac) - 1 if frac else 0)
    if suffix in ("million", "m"):
        value, tol = value * 1e6, tol * 1e6
    return value, tol


def _parse_number(text: str) -> float | None:
    m = NUMBER.search(text)
    return None if m is None else _token_value(m)[0]


def _frames(spec) -> list[pl.DataFrame]:
    out = []
    for data in (spec.data, spec.table):
        if isinstance(data, Suppressed):
            data = data.values
        if isinstance(data, pl.DataFrame) and data.height:
            out.append(data)
    return out


def _numeric_columns(frame: pl.DataFrame) -> list[list[float]]:
    cols = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Boolean:
            cols.append([float(v) for v in frame.get_column(name).cast(pl.Int64).drop_nulls().to_list()])
        elif dtype.is_numeric():
            values = [float(v) for v in frame.get_column(name).drop_nulls().to_list()]
            cols.append([v for v in values if math.isfinite(v)])
    return cols


def _strings(frame: pl.DataFrame) -> list[str]:
    out = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            out.extend(str(v) for v in frame.get_column(name).drop_nulls().unique().to_list())
    return out


def derived_values(frame: pl.DataFrame) -> set[float]:
    """Return every figure a title may quote from ``frame`` (see the module docstring)."""
    values: set[float] = {float(frame.height)}
    frames = [frame]
    if "month" in frame.columns and frame.height:
        frames.append(frame.filter(pl.col("month") == frame.get_column("month").max()))
    for part in frames:
        values.add(float(part.height))
        groups = [c for c, t in part.schema.items() if t == pl.String and part.get_column(c).n_unique() <= 12]
        for column in groups:
            for _, rows in part.group_by(column):
                values.add(float(rows.height))
                for col in _numeric_columns(rows):
                    values.update(_sums(col))
        for col in _numeric_columns(part):
            values.add(float(len(col)))
            values.update(col)
            values.update(_sums(col))
            total = sum(col)
            if total:
                values.update(v / total * 100 for v in col)
            if len(col) <= MAX_TRIPLES:
                values.update(a + b + c for a, b, c in combinations(col, 3))
            if len(col) <= MAX_PAIRS:
                for a, b in combinations(col, 2):
                    values.update((a + b, abs(a - b)))
                    for x, y in ((a, b), (b, a)):
                        if y:
                            values.update((x / y, x / y * 100, abs(x - y) / abs(y) * 100))
    return values


def _sums(col: list[float]) -> list[float]:
    out, run = [], 0.0
    for v in col:
        run += v
        out.append(run)
    run = 0.0
    for v in reversed(col):
        run += v
        out.append(run)
    return out


def _matches(value: float, tol: float, values: set[float]) -> bool:
    return any(abs(v - value) <= tol + 1e-9 * max(1.0, abs(v)) for v in values)


def _is_date_part(title: str, match: re.Match) -> bool:
    text, start = match.group(0), match.start()
    if match.group(1) or match.group(3) or match.group(4) or "," in text:
        return False
    before = title[:start].rstrip().lower()
    if 1900 <= int(text) <= 2100:
        return True
    return bool(before) and before.split()[-1] in MONTHS


def audit_spec(spec) -> int:  # noqa: ANN001 - a ChartSpec
    """Check ``spec.title`` against ``spec``'s data; return how many checks ran (see the module docstring)."""
    title = spec.title
    where = f"chart {spec.id!r}, title {title!r}"
    frames = _frames(spec)
    values: set[float] = set()
    names: list[str] = [spec.subtitle]
    for frame in frames:
        values |= derived_values(frame)
        names += _strings(frame) + list(frame.columns)
    labels = " | ".join(names)
    of_pairs = {m.start(1): m for m in re.finditer(r"(\S+) of (?:the )?(\S+)", title)}
    for pair in of_pairs.values():  # "28 of 81 requests (35%)": the share is of the whole named
        part, whole = _parse_number(pair.group(1)), _parse_number(pair.group(2))
        if part is not None and whole:
            values.add(part / whole * 100)
    rows = max((f.height for f in frames), default=0)
    checked = 0
    lead: float | None = None
    for match in NUMBER.finditer(title):
        if _is_date_part(title, match):
            continue
        value, tol = _token_value(match)
        if lead is None:
            lead = value
        text = match.group(0)
        if _matches(value, tol, values):
            checked += 1
            continue
        pair = of_pairs.get(match.start())
        if pair is not None and NUMBER.fullmatch(pair.group(2).rstrip(",;:")):
            whole = _parse_number(pair.group(2))
            assert whole is not None and value <= whole, f"{where}: {text} of {pair.group(2)} is more than the whole"
            values.add(value / whole * 100 if whole else 0.0)
            checked += 1
            continue
        after, before = title[match.end() :], title[: match.start()]
        if not match.group(3) and not match.group(4) and value <= rows and re.match(r"\s+[a-z]+s\b", after):
            checked += 1  # "3 providers delivered under the red threshold": a count of the rows drawn
            continue
        if PERIOD_AFTER.match(after) or DEFINITION_BEFORE.search(before) or "growth" in after[:12]:
            continue
        if re.search(rf"(?<![\d.,]){re.escape(match.group(2))}(?![\d,])", labels):
            continue
        raise AssertionError(f"{where}: {text} is not in the chart's data")
    previous: str | None = None
    for m in DIRECTION.finditer(title):
        word, extreme, start, end, again = m.groups()
        if again is not None:
            if previous is None:
                continue
            word, start, end = previous, again, None
        frm = _parse_number(start)
        target = _parse_number(end) if end else lead
        if frm is None or target is None:
            continue
        word = word.lower()
        previous = word
        if word in UP:
            assert frm < target, f"{where}: '{word} from {start}' but the value it describes is {target}"
        elif word in DOWN:
            assert frm > target, f"{where}: '{word} from {start}' but the value it describes is {target}"
        checked += 1
        if extreme:
            columns = [c for f in frames for c in _numeric_columns(f) if c]
            tol = _token_value(NUMBER.search(start))[1]
            holding = [c for c in columns if any(abs(v - frm) <= tol + 1e-9 for v in c)]
            pick = max if extreme.lower() in ("peak", "high") else min
            assert any(abs(pick(c) - frm) <= tol + 1e-9 for c in holding), (
                f"{where}: '{extreme} of {start}' is not the {'highest' if pick is max else 'lowest'} value drawn"
            )
            checked += 1
    return checked
