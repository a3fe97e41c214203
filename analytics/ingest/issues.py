"""The shape of a validation finding (error or warning), shared by validation and the public-file checks.

One row per finding: ``severity`` ("error" or "warning"), ``file``, ``row`` (as Excel numbers it,
header = 1), ``column``, ``value`` (cut to ``MAX_VALUE_CHARS``), ``rule`` and ``expected``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

ISSUE_SCHEMA = {
    "severity": pl.String,
    "file": pl.String,
    "row": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "expected": pl.String,
}
MAX_VALUE_CHARS = 80


def issues(
    severity: str, file: str, rule: str, expected: str, frame: pl.DataFrame | None = None, **fixed
) -> pl.DataFrame:
    """Return issue rows: one per row of ``frame`` (columns ``row``, ``column``, ``value``) or one fixed row."""
    base = {"severity": severity, "file": file, "rule": rule, "expected": expected}
    if frame is None:
        value = fixed.get("value")
        value = None if value is None else str(value)[: MAX_VALUE_CHARS * 3]
        row = {**base, "row": fixed.get("row"), "column": fixed.get("column"), "value": value}
        return pl.DataFrame([row], schema=ISSUE_SCHEMA)
    return frame.select(
        pl.lit(severity).alias("severity"),
        pl.lit(file).alias("file"),
        pl.col("row").cast(pl.Int64),
        pl.col("column").cast(pl.String),
        pl.col("value").cast(pl.String).str.slice(0, MAX_VALUE_CHARS),
        pl.lit(rule).alias("rule"),
        pl.lit(expected).alias("expected"),
    )


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


MASK = "(hidden: person identifier)"
_TOKEN = re.compile(r"[^\s,;:|\"'()\[\]{}=]+")


def mask_identifiers(frame: pl.DataFrame, identifiers: set[str] | Callable[[set[str]], set[str]]) -> pl.DataFrame:
    """Return the findings with every person identifier in ``value`` or ``column`` replaced by ``MASK``.

    The last line of defence: validation never echoes a ``personal`` column, but a value can
    reach a finding another way (a header that is really a data row, a value copied into another
    column). A cell, or any word of it, equal to a known identifier is masked. ``identifiers`` is the
    set of identifiers, or a function returning which of the given words are identifiers (so a drop
    of millions of people is asked about the few words in its findings, not copied into a set).
    """
    if frame.is_empty() or not identifiers:
        return frame
    if callable(identifiers):
        texts = {t for name in ("value", "column") for t in frame.get_column(name).drop_nulls().unique().to_list()}
        words = texts | {w for t in texts for w in _TOKEN.findall(t)}
        identifiers = identifiers(words)
        if not identifiers:
            return frame

    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        if text in identifiers:
            return MASK
        return _TOKEN.sub(lambda m: MASK if m.group(0) in identifiers else m.group(0), text)

    out = {}
    for name in ("value", "column"):
        distinct = frame.get_column(name).drop_nulls().unique().to_list()
        mapping = {t: scrub(t) for t in distinct}
        mapping = {k: v for k, v in mapping.items() if k != v}
        if mapping:
            out[name] = pl.col(name).replace(mapping)
    return frame.with_columns(**out) if out else frame
