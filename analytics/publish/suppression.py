"""Small-number disclosure control for published outputs: one function, ``suppress``.

The rule (NHS Digital, disclosure control for HES and ECDS from September 2018; numbers from
``[suppression]`` in ``config.toml``):

* **Counts of people** below council level: 0 stays 0; 1 to ``threshold - 1`` (1 to 7) are
  suppressed and shown as ``[c]``; every other count is rounded to the nearest ``rounding_base`` (5).
  A non-zero count never rounds down to 0 (it rounds to ``rounding_base`` at least).
* **Derived values** (hours, means, medians worked out from a count of people) are suppressed
  wherever the count they are based on is suppressed, so a mean over 1 to 7 people is never shown.
  They are not rounded.
* **Secondary suppression**: where cells share a published total (rows of a group: ``group_by``
  or ``total_row``; columns of a row: ``row_total``), a group with exactly one suppressed cell
  would let anyone subtract the shown cells from the total and recover it. So the next smallest
  shown non-zero cell in that group is suppressed too (a zero cell only if there is no non-zero
  one). This repeats until no group has exactly one suppressed cell (hiding a cell in a column can
  leave its row with one). A group whose total is itself suppressed publishes no total and needs
  nothing more. This step is local practice (GSS guidance), not part of the NHS Digital rule.
* **Medians and percentiles** (``medians``: column -> the count of the group they describe) follow
  one rule of their own: shown when the group has at least ``min_group_size`` people (8), hidden
  otherwise (NHS Digital: simple statistics over 1 to 7 values are not shown). A median cannot be
  worked back from a total, so secondary suppression of its group's count does not hide it.
* **Counts of providers** (and any column not named in ``count_cols`` or ``derived``) are public
  facts and are left untouched.

A suppressed value is never 0: in ``Suppressed.values`` it is null with ``<col>_suppressed`` true,
and in ``Suppressed.display`` it is the symbol ``[c]``. Missing values (null on the way in) read
``[x]`` in the display frame and are not flagged as suppressed.

Apply it late: keep raw counts in the marts and call ``suppress`` on the small frame a chart,
table or export is about to show. Council-level totals need no suppression (do not pass them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from analytics.config import settings
from analytics.formatting import MISSING, fmt_int, fmt_number

SUPPRESSED_SUFFIX = "_suppressed"
IS_TOTAL = "is_total"


@dataclass(frozen=True)
class Rule:
    """The numbers of the suppression rule: ``threshold``, ``base`` and the display ``symbol``."""

    threshold: int
    base: int
    symbol: str
    min_group: int = 8


@dataclass(frozen=True, eq=False)
class Suppressed:
    """The result of ``suppress``.

    ``values``: the input columns with counts rounded and suppressed cells null, plus a boolean
    ``<col>_suppressed`` for every count and derived column (and ``is_total`` when total rows were
    added). Charts plot this. ``display``: the input columns with count and derived columns as
    strings (``"1,235"``, ``"[c]"``, ``"[x]"``), no flag columns. Tables show this. ``rule_text``:
    one sentence stating the rule, for the table notes or chart footnote.
    """

    values: pl.DataFrame
    display: pl.DataFrame
    rule_text: str
    count_cols: tuple[str, ...]
    derived_cols: tuple[str, ...]
    symbol: str

    def export_frame(self) -> pl.DataFrame:
        """Return the table for CSV: like ``display`` but numbers unformatted (``1235``, not ``1,235``)."""
        cols = [*self.count_cols, *self.derived_cols]
        text = self.values.with_columns(
            pl.when(pl.col(f"{c}{SUPPRESSED_SUFFIX}"))
            .then(pl.lit(self.symbol))
            .otherwise(pl.col(c).cast(pl.String).fill_null(MISSING))
            .alias(c)
            for c in cols
        )
        return text.select(self.display.columns)


def rule(threshold: int | None = None, base: int | None = None, symbol: str | None = None) -> Rule:
    """Return the rule from ``config.toml`` with any of its numbers overridden."""
    cfg = settings()["suppression"]
    out = Rule(
        threshold=int(cfg["threshold"] if threshold is None else threshold),
        base=int(cfg["rounding_base"] if base is None else base),
        symbol=str(cfg["symbol"] if symbol is None else symbol),
        min_group=int(cfg.get("min_group_size", cfg["threshold"])),
    )
    if out.threshold < 1 or out.base < 1:
        raise ValueError(f"threshold and rounding base must be at least 1, got {out}")
    return out


def suppression_rule_text(threshold: int | None = None, base: int | None = None, symbol: str | None = None) -> str:
    """Return the rule as one sentence for a chart footnote or table note."""
    r = rule(threshold, base, symbol)
    parts = []
    if r.threshold > 1:
        small = "1" if r.threshold == 2 else f"1 to {r.threshold - 1}"
        parts.append(f"counts of people from {small} are shown as {r.symbol}")
    if r.base > 1:
        parts.append(f"other counts are rounded to the nearest {r.base}")
    if not parts:
        return "Counts of people are shown unrounded and unsuppressed."
    text = " and ".join(parts)
    text = text[0].upper() + text[1:]
    if r.threshold > 1:
        text += (
            f", with a further count hidden where a total would reveal one; hours, averages and "
            f"rates are hidden with the count they rest on; medians and percentiles of fewer than "
            f"{r.min_group} people are not shown"
        )
    return text + " (based on the NHS Digital rule)."


def round_count(value: float, base: int) -> int:
    """Round a count to the nearest ``base`` (halves up); a non-zero count never becomes 0."""
    if value == 0:
        return 0
    rounded = int((value + base / 2) // base) * base
    return max(rounded, base)


def is_primary(value: float | None, threshold: int) -> bool:
    """Return whether a count is suppressed by the threshold alone (1 to ``threshold - 1``)."""
    return value is not None and 0 < value < threshold


Cell = tuple[str, int]  # (column, row position)


@dataclass(frozen=True)
class Line:
    """Cells that add up to a published total, and the total's own cell (``None``: published elsewhere)."""

    cells: tuple[Cell, ...]
    total: Cell | None = None


def secondary_suppression(
    raw: dict[str, list[float | None]], hidden: dict[str, list[bool]], lines: Sequence[Line]
) -> dict[str, list[bool]]:
    """Return ``hidden`` (column -> flags) with secondary suppression applied (new lists).

    While some line whose total is shown has exactly one hidden cell, hide that line's smallest
    shown non-zero cell (by raw value; first in row then column order on ties; a zero cell only if
    no non-zero one is left). Hiding one cell can leave another line with a single hidden cell,
    hence the loop until nothing changes.
    """
    hidden = {c: list(flags) for c, flags in hidden.items()}
    order = {c: k for k, c in enumerate(raw)}

    def is_hidden(cell: Cell) -> bool:
        return hidden[cell[0]][cell[1]]

    def value(cell: Cell) -> float | None:
        return raw[cell[0]][cell[1]]

    changed = True
    while changed:
        changed = False
        for line in lines:
            if line.total is not None and is_hidden(line.total):
                continue  # no total is published, so nothing can be worked out by subtraction
            if sum(is_hidden(c) for c in line.cells) != 1:
                continue
            shown = [c for c in line.cells if not is_hidden(c) and value(c) is not None]
            if not shown:
                continue
            nonzero = [c for c in shown if value(c) != 0]
            col, row = min(nonzero or shown, key=lambda c: (value(c), c[1], order[c[0]]))
            hidden[col][row] = True
            changed = True
    return hidden


def _lines(
    frame: pl.DataFrame,
    counts: Sequence[str],
    group_by: Sequence[str] | None,
    row_total: str | None,
    has_total_rows: bool,
) -> list[Line]:
    """Return every line of cells that adds up to a published total.

    Column lines: per count column, the rows of each group (total row: the group's ``is_total``
    row, else published elsewhere). Row lines: per row, the count columns other than
    ``row_total``, whose total is that row's ``row_total`` cell.
    """
    lines: list[Line] = []
    if group_by is not None:
        indexed = frame.with_row_index("__pos")
        parts = [part for _, part in indexed.group_by(list(group_by), maintain_order=True)] if group_by else [indexed]
        for part in parts:
            positions = part["__pos"].to_list()
            flags = part[IS_TOTAL].to_list() if has_total_rows else [False] * len(positions)
            members = [p for p, t in zip(positions, flags, strict=True) if not t]
            total = next((p for p, t in zip(positions, flags, strict=True) if t), None)
            for c in counts:
                lines.append(Line(tuple((c, p) for p in members), None if total is None else (c, total)))
    if row_total is not None:
        parts_cols = [c for c in counts if c != row_total]
        for row in range(frame.height):
            lines.append(Line(tuple((c, row) for c in parts_cols), (row_total, row)))
    return lines


def _add_total_rows(
    frame: pl.DataFrame, count_cols: Sequence[str], group_by: Sequence[str], label: str
) -> pl.DataFrame:
    """Append, after each group's last row, a total row summing ``count_cols`` (other columns null).

    A total over a group with a missing count is missing. The label goes in the first string
    column that is not a group column, if there is one.
    """
    order = "__row"
    indexed = frame.with_row_index(order).with_columns(pl.lit(False).alias(IS_TOTAL))
    sums = [pl.when(pl.col(c).null_count() > 0).then(None).otherwise(pl.col(c).sum()).alias(c) for c in count_cols]
    aggs = [*sums, pl.col(order).max()]
    keys = list(group_by)
    totals = indexed.group_by(keys, maintain_order=True).agg(aggs) if keys else indexed.select(aggs)
    label_cols = [c for c, t in frame.schema.items() if t == pl.String and c not in keys]
    if label_cols:
        totals = totals.with_columns(pl.lit(label).alias(label_cols[0]))
    totals = totals.with_columns(pl.lit(True).alias(IS_TOTAL))
    return pl.concat([indexed, totals], how="diagonal_relaxed").sort(order, IS_TOTAL).drop(order)


def _one_decimal(value: float) -> str:
    return fmt_number(value, 1)


def suppress(
    frame: pl.DataFrame,
    *,
    count_cols: Sequence[str],
    derived: dict[str, str] | None = None,
    medians: dict[str, str] | None = None,
    group_by: Sequence[str] | None = None,
    total_row: bool = False,
    row_total: str | None = None,
    threshold: int | None = None,
    base: int | None = None,
    symbol: str | None = None,
    formats: dict[str, Callable[[float], str]] | None = None,
    total_label: str = "Total",
) -> Suppressed:
    """Apply small-number disclosure control to ``frame`` (the rule is in the module docstring).

    ``count_cols``: columns holding counts of people (rounded and suppressed).
    ``derived``: derived column -> the count column it is based on; hidden wherever that count is.
    The count column may be outside ``count_cols`` (then only its threshold applies).
    ``medians``: median or percentile column -> the count of its group; hidden where that raw
    count is from 1 to ``min_group_size - 1`` (config), whatever secondary suppression did.
    ``group_by``: columns naming groups of rows whose counts add up to a published total (``[]``:
    the whole frame is one group); this switches secondary suppression on.
    ``total_row``: append a total row per group (after the group's rows; labelled ``total_label``
    in the first string column that is not a group column) from the raw counts, suppressed like any
    other row. Implies one group for the whole frame if ``group_by`` is ``None``.
    ``row_total``: a count column holding each row's total of the other count columns (a
    cross-tab with a published row total); rows then get secondary suppression too.
    ``threshold``, ``base``, ``symbol``: override ``config.toml``.
    ``formats``: column -> formatter for the display frame (default: counts and integer columns
    as whole numbers with separators, other derived columns to 1 decimal place).
    """
    r = rule(threshold, base, symbol)
    derived = dict(derived or {})
    medians = dict(medians or {})
    counts = list(count_cols)
    named = [*counts, *derived, *derived.values(), *medians, *medians.values(), *(group_by or [])]
    missing = [c for c in named if c not in frame.columns]
    if missing:
        raise ValueError(f"columns not in the frame: {missing}")
    if row_total is not None and row_total not in counts:
        raise ValueError(f"row_total {row_total!r} must be one of count_cols")
    for c in counts:
        if not frame[c].dtype.is_numeric():
            raise TypeError(f"count column {c!r} must be numeric, not {frame[c].dtype}")
        if (frame[c].drop_nulls() < 0).any():
            raise ValueError(f"count column {c!r} has negative values")

    if total_row:
        group_by = [] if group_by is None else group_by
        frame = _add_total_rows(frame, counts, group_by, total_label)

    raw = {c: frame[c].to_list() for c in counts}
    hidden = {c: [is_primary(v, r.threshold) for v in raw[c]] for c in counts}
    lines = _lines(frame, counts, group_by, row_total, has_total_rows=total_row)
    hidden = secondary_suppression(raw, hidden, lines)
    for d, based_on in derived.items():
        if based_on in hidden:
            hidden[d] = list(hidden[based_on])
        else:
            hidden[d] = [is_primary(v, r.threshold) for v in frame[based_on].to_list()]
    for m, group in medians.items():
        hidden[m] = [is_primary(v, r.min_group) for v in frame[group].to_list()]
    derived = {**derived, **medians}

    shown_counts = {
        c: [None if h or v is None else round_count(v, r.base) for v, h in zip(raw[c], hidden[c], strict=True)]
        for c in counts
    }
    values = frame.with_columns(
        *(pl.Series(c, shown_counts[c], dtype=pl.Int64) for c in counts),
        *(pl.when(pl.Series(hidden[d], dtype=pl.Boolean)).then(None).otherwise(pl.col(d)).alias(d) for d in derived),
    ).with_columns(pl.Series(f"{c}{SUPPRESSED_SUFFIX}", hidden[c], dtype=pl.Boolean) for c in [*counts, *derived])

    formats = dict(formats or {})
    text_cols = {}
    for c in [*counts, *derived]:
        whole = c in counts or frame[c].dtype.is_integer()
        fmt = formats.get(c, fmt_int if whole else _one_decimal)
        text_cols[c] = [
            r.symbol if h else MISSING if v is None else fmt(v)
            for v, h in zip(values[c].to_list(), hidden[c], strict=True)
        ]
    display = frame.drop(IS_TOTAL, strict=False).with_columns(
        pl.Series(c, text_cols[c], dtype=pl.String) for c in text_cols
    )

    return Suppressed(
        values=values,
        display=display,
        rule_text=suppression_rule_text(r.threshold, r.base, r.symbol),
        count_cols=tuple(counts),
        derived_cols=tuple(derived),
        symbol=r.symbol,
    )
