"""Group a drop's findings into distinct defects, so one root cause never buries the others.

A duplicated ``provider_id`` leaves its twin unknown, and every package, delivery, workforce and
request row of that provider then fails the reference check: thousands of findings, one defect.
``group_defects`` turns the findings of one severity into one record per distinct defect:

* a value missing from the file it must exist in (``reference``) is one defect however many rows
  and files refer to it ("`AG04` is referenced by 1,591 rows in 4 files but is not in
  providers.csv"); when validation paired it with a repeated key in that file (``RootCause``),
  the repeated key's own finding joins the same defect and the sentence asks "is row 5 a
  duplicate of row 4?". More than ``MAX_UNKNOWN_VALUES`` different missing values of one
  reference are one defect naming a few of them.
* every other rule is one defect per file, column, rule and expectation (a file-level finding,
  with no row, per value), with its rows as ranges ("rows 12, 40-45") and a few of its values.

Inputs: the findings frame (``analytics.ingest.issues`` schema without ``severity``) and the root
causes validation found. Output: a list of JSON-ready dicts, in the order of their first finding:
``summary`` (the one line the console, reports and Data page lead with), ``rule``, ``files``,
``column``, ``values`` (up to ``SAMPLE_VALUES``), ``expected``, ``rows`` (findings grouped),
``row_ranges`` ({file: "12, 40-45, ..."}), ``hint`` (or ``None``). Every finding is in exactly one
defect.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MAX_UNKNOWN_VALUES = 5
"""More missing values than this for one reference are grouped as one defect."""
SAMPLE_VALUES = 3
MAX_RANGES = 6
"""Row ranges shown per file before "and N more"."""


@dataclass(frozen=True)
class RootCause:
    """A repeated key that probably explains a missing reference: ``filename`` row ``row`` repeats
    ``repeated`` (first in row ``first_row``) where ``missing`` was meant to be."""

    expected: str  # the reference findings' ``expected`` text
    missing: str
    filename: str
    column: str
    row: int
    first_row: int
    repeated: str


def row_ranges(rows: list[int], limit: int = MAX_RANGES) -> str:
    """Return sorted row numbers as ranges: ``[2, 3, 4, 9]`` -> ``"2-4, 9"`` (en dash), at most ``limit``."""
    rows = sorted(set(rows))
    spans: list[tuple[int, int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], r)
        else:
            spans.append((r, r))
    text = [f"{a}" if a == b else f"{a}\u2013{b}" for a, b in spans[:limit]]
    more = len(spans) - limit
    return ", ".join(text) + (f" and {more:,} more range(s)" if more > 0 else "")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _quoted(values: list[str | None], total: int) -> str:
    shown = ", ".join(f'"{v}"' for v in values[:SAMPLE_VALUES])
    more = total - min(total, SAMPLE_VALUES)
    return shown + (f" and {more:,} other value(s)" if more > 0 else "")


def describe_issue(row: dict) -> str:
    """Return one finding as a sentence naming file, row, column, value and what was expected."""
    where = row["file"]
    if row.get("row") is not None:
        where += f", row {row['row']}"
    if row.get("column"):
        where += f", column {row['column']}"
    value = row.get("value")
    shown = f': "{value}"' if value is not None else ""
    return f"{where}{shown} \u2014 expected {row['expected']} [{row['rule']}]"


def group_defects(findings: pl.DataFrame, causes: list[RootCause] | tuple[RootCause, ...] = ()) -> list[dict]:
    """Return one dict per distinct defect of ``findings`` (see the module docstring)."""
    if findings.is_empty():
        return []
    frame = findings.with_row_index("_order")
    refs = frame.filter(pl.col("rule") == "reference")
    others = frame.filter(pl.col("rule") != "reference")
    absorbed: set[tuple[str, int]] = set()
    cause_of = {(c.expected, c.missing): c for c in causes}
    defects: list[tuple[int, dict]] = []
    if refs.height:
        for (expected,), group in refs.group_by(["expected"], maintain_order=True):
            values = group.group_by("value", maintain_order=True).agg(pl.col("_order").min())
            if values.height > MAX_UNKNOWN_VALUES:
                defects.append((group["_order"].min(), _reference_defect(group, expected, None, many=True)))
                continue
            for (value,), rows in group.group_by(["value"], maintain_order=True):
                cause = cause_of.get((expected, value))
                extra = None
                if cause is not None:
                    extra = others.filter(
                        (pl.col("file") == cause.filename) & (pl.col("row") == cause.row) & (pl.col("rule") == "unique")
                    )
                    if extra.height:
                        absorbed.add((cause.filename, cause.row))
                defects.append((rows["_order"].min(), _reference_defect(rows, expected, cause, extra=extra)))
    if absorbed:
        for file, row in absorbed:
            others = others.filter(~((pl.col("file") == file) & (pl.col("row") == row) & (pl.col("rule") == "unique")))
    if others.height:
        keyed = others.with_columns(
            pl.when(pl.col("row").is_null()).then(pl.col("value")).otherwise(pl.lit("")).alias("_file_level")
        )
        keys = ["file", "column", "rule", "expected", "_file_level"]
        for _, group in keyed.group_by(keys, maintain_order=True):
            defects.append((group["_order"].min(), _plain_defect(group)))
    defects.sort(key=lambda pair: pair[0])
    return [d for _, d in defects]


def _ranges_by_file(group: pl.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for (file,), rows in group.group_by(["file"], maintain_order=True):
        numbers = rows.get_column("row").drop_nulls().to_list()
        if numbers:
            out[file] = row_ranges(numbers)
    return out


def _plain_defect(group: pl.DataFrame) -> dict:
    first = group.row(0, named=True)
    values = group.get_column("value").unique(maintain_order=True)
    if group.height == 1:
        summary = describe_issue(first)
    else:
        where = f"{first['file']}" + (f", column {first['column']}" if first["column"] else "")
        rows = group.get_column("row").drop_nulls().to_list()
        summary = (
            f"{where}, {_plural(group.height, 'row')} ({row_ranges(rows)}): "
            f"{_quoted(values.to_list(), values.len())} \u2014 expected {first['expected']} [{first['rule']}]"
        )
    return {
        "summary": summary,
        "rule": first["rule"],
        "files": [first["file"]],
        "column": first["column"],
        "values": values.head(SAMPLE_VALUES).to_list(),
        "expected": first["expected"],
        "rows": group.height,
        "row_ranges": _ranges_by_file(group),
        "hint": None,
    }


def _reference_defect(
    group: pl.DataFrame,
    expected: str,
    cause: RootCause | None,
    *,
    many: bool = False,
    extra: pl.DataFrame | None = None,
) -> dict:
    """One missing value (or, with ``many``, every missing value of one reference) as one defect."""
    target = expected.rsplit(" from ", 1)[-1]
    files = group.get_column("file").unique(maintain_order=True).to_list()
    columns = group.get_column("column").unique(maintain_order=True).to_list()
    values = group.get_column("value").unique(maintain_order=True)
    referenced = f"referenced by {_plural(group.height, 'row')} in {_plural(len(files), 'file')}"
    if many:
        sample = ", ".join(f"`{v}`" for v in values.head(SAMPLE_VALUES).to_list())
        lead = f"{values.len():,} different {columns[0]} values (e.g. {sample}) are {referenced}"
        lead += f" but are not in {target}"
    else:
        lead = f"`{values[0]}` is {referenced} but is not in {target}"
    ranges = _ranges_by_file(group)
    hint = None
    if cause is not None:
        repeated = (
            describe_issue(extra.row(0, named=True))
            if extra is not None and extra.height
            else f"{cause.filename}, row {cause.row}: {cause.repeated} (also in row {cause.first_row})"
        )
        hint = (
            f"is row {cause.row} a duplicate of row {cause.first_row}? ({repeated}; "
            f"was it meant to be {cause.missing}?)"
        )
    where = "; ".join(f"{f} {r}" for f, r in ranges.items())
    if hint:
        summary = f"{lead}: {hint} Rows: {where}."
    elif group.height == 1:
        summary = describe_issue(group.row(0, named=True))  # one row: the plain finding
    else:
        summary = f"{lead}. Rows: {where}."
    rows = group.height
    files_all = list(files)
    if extra is not None and extra.height:
        rows += extra.height
        if cause.filename not in files_all:
            files_all.append(cause.filename)
        ranges = {**ranges, cause.filename: row_ranges(extra.get_column("row").to_list())}
    return {
        "summary": summary,
        "rule": "reference" if cause is None else "reference (repeated key)",
        "files": files_all,
        "column": columns[0] if len(columns) == 1 else ", ".join(columns),
        "values": values.head(SAMPLE_VALUES).to_list(),
        "expected": expected,
        "rows": rows,
        "row_ranges": ranges,
        "hint": hint,
    }
