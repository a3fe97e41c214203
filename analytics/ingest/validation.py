"""Validate a raw drop against the contract, reporting every problem in one pass.

``validate(raw)`` turns the string frames of a ``RawDrop`` into typed frames (the staged
schema of ``analytics.ingest.staged``) and returns a ``ValidationResult`` holding:

* ``errors``: problems that reject the drop; one row each with ``file``, ``row`` (as
  Excel numbers it, header = row 1; null for file-level problems), ``column``, ``value``,
  ``rule`` and ``expected``;
* ``warnings``: things worth a look that do not reject the drop (same columns);
* ``typed``: the typed frames, meaningful only when there are no errors;
* ``causes``: repeated keys that probably explain missing references (``defects.RootCause``),
  so the report can group a root cause with its follow-on errors.

All checks are generated from ``analytics.contract.CONTRACT``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from analytics.contract import CONTRACT, FILES, MANIFEST_KEYS, MANIFEST_TYPES, Column, FileSpec
from analytics.ingest.defects import RootCause
from analytics.ingest.drop_reader import ROW_COLUMN, RawDrop, open_drop
from analytics.ingest.geometry import feature_area_code
from analytics.ingest.issues import empty_issues, issues, mask_identifiers
from analytics.ingest.limits import Limits, limits, named
from analytics.ingest.public_files import apply_public_files
from analytics.ingest.staged import POLARS_TYPES, empty_frame

HIDDEN = "(hidden: person identifier)"
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
"""Characters no cell may hold (C0 controls and DEL; tab, line feed and carriage return are allowed)."""
_GROUPED = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
NUMBER = rf"^[+-]?(?:{_GROUPED}(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
"""A number as analysts type it: a decimal point, optional thousands commas in groups of three
(``1,234.5``), optional exponent. ``1,5`` (a decimal comma), ``inf`` and ``NaN`` do not match."""
WHOLE = rf"^[+-]?{_GROUPED}(?:\.0+)?$"
# Dates that mark activity; the latest of them is the default as_of (contract end dates are
# often in the future, so "latest date in the drop" means latest activity, not any date).
ACTIVITY_DATES = {
    "packages": ("start_date",),
    "requests": ("requested_date", "sourced_date"),
    "delivery": ("period_start",),
    "workforce": ("month",),
}


@dataclass
class ValidationResult:
    """The outcome of validating one drop (see the module docstring)."""

    errors: pl.DataFrame
    warnings: pl.DataFrame
    typed: dict[str, pl.DataFrame] = field(default_factory=dict)
    files: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    as_of: date | None = None
    boundaries: dict | None = None
    causes: list[RootCause] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors.height == 0


def validate_drop(source: Path | str) -> ValidationResult:
    """Open a drop folder or zip and validate it (convenience for tests and the CLI)."""
    with open_drop(source) as raw:
        return validate(raw)


def validate(raw: RawDrop, today: date | None = None) -> ValidationResult:
    """Validate every file of ``raw``; return errors, warnings and typed frames.

    ``today`` (default: the real date) bounds ``as_of``. Every value of a ``personal`` column is
    masked wherever it would appear in a finding (``issues.mask_identifiers``).
    """
    lim = limits()
    found: list[pl.DataFrame] = [
        issues(p.severity, p.file, "readable", p.expected, value=p.message) for p in raw.problems
    ]
    typed: dict[str, pl.DataFrame] = {}
    for spec in CONTRACT:
        frame_issues, frame = _validate_file(raw, spec, lim)
        found.extend(frame_issues)
        typed[spec.name] = frame

    found.append(apply_public_files(raw, typed))  # CQC/RUC files in the drop fill blanks; findings are warnings
    reference_issues, causes = _reference_issues(raw, typed)
    found.extend(reference_issues)
    manifest_issues, as_of = _manifest(raw, typed, lim, today or date.today())
    found.extend(manifest_issues)
    found.extend(_date_window(raw, typed, as_of, lim, today or date.today()))
    found.extend(_warnings(raw, typed))
    everything = pl.concat(found, how="vertical") if found else empty_issues()
    everything = _without_follow_on_warnings(everything)
    everything = mask_identifiers(everything, lambda words: _person_ids(raw, words))
    everything = everything.sort(["file", "row", "column"], nulls_last=False, maintain_order=True)
    return ValidationResult(
        errors=everything.filter(pl.col("severity") == "error").drop("severity"),
        warnings=everything.filter(pl.col("severity") == "warning").drop("severity"),
        typed=typed,
        files=_file_summaries(raw),
        manifest=raw.manifest,
        as_of=as_of,
        boundaries=raw.boundaries,
        causes=causes,
    )


def _without_follow_on_warnings(found: pl.DataFrame) -> pl.DataFrame:
    """Drop warnings on a cell that already has an error (a bad ``ruc21`` is not also "unclassified")."""
    cells = ["file", "row", "column"]
    errors = found.filter((pl.col("severity") == "error") & pl.col("row").is_not_null()).select(cells).unique()
    if errors.is_empty():
        return found
    follow_on = found.join(errors.with_columns(pl.lit(True).alias("_err")), on=cells, how="left")
    keep = (pl.col("severity") == "error") | pl.col("_err").is_null()
    return follow_on.filter(keep).drop("_err")


def refused(source: str, message: str) -> ValidationResult:
    """Return the result for a drop that could not be read at all: one error, ``message`` (one line)."""
    error = issues("error", source, "readable", "a drop within the limits that can be read", value=message)
    return ValidationResult(errors=error.drop("severity"), warnings=empty_issues().drop("severity"))


def _person_ids(raw: RawDrop, words: set[str]) -> set[str]:
    """Return which of ``words`` are raw values of a ``personal`` column in the drop (to mask them in findings)."""
    ids: set[str] = set()
    candidates = pl.Series(sorted(words), dtype=pl.String)
    for spec in CONTRACT:
        source = raw.files.get(spec.name)
        if source is None:
            continue
        for column in spec.columns:
            if column.personal and column.name in source.frame.columns:
                values = source.frame.get_column(column.name)
                ids.update(values.filter(values.is_in(candidates)).unique().to_list())
    return ids


def _file_summaries(raw: RawDrop) -> list[dict]:
    return [
        {
            "file": f.name,
            "filename": f.filename,
            "format": f.file_format,
            "encoding": f.encoding,
            "rows": f.rows,
            "sha256": f.sha256,
        }
        for f in raw.files.values()
    ]


def _validate_file(raw: RawDrop, spec: FileSpec, lim: Limits) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    source = raw.files.get(spec.name)
    if source is None:
        if spec.name in raw.unreadable:
            return [], empty_frame(spec.name)
        if spec.required:
            return [
                issues(
                    "error",
                    f"{spec.name}.*",
                    "file present",
                    f"a file named {spec.name}.csv, .xlsx or .parquet",
                )
            ], empty_frame(spec.name)
        if spec.name == "requests":
            msg = "no requests file: waiting-list measures will be blank"
            return [
                issues(
                    "warning",
                    "requests.*",
                    "file present",
                    "a requests file (optional but expected)",
                    value=msg,
                )
            ], empty_frame(spec.name)
        return [], empty_frame(spec.name)
    found: list[pl.DataFrame] = []
    frame = source.frame
    if not any(c.name in frame.columns for c in spec.columns):  # the first row is data, not headers
        expected = "a header row naming the columns, e.g. " + ", ".join(c.name for c in spec.columns[:4])
        value = "none of the first row's cells is a column of this file (is the header row missing?)"
        return [issues("error", source.filename, "header row", expected, row=1, value=value)], empty_frame(spec.name)
    if spec.required and frame.height == 0:
        found.append(
            issues(
                "error", source.filename, "data rows", "at least one data row (this file is mandatory)",
                row=2, value="the file has a header row and nothing else",
            )
        )  # fmt: skip
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        found.append(
            issues("error", source.filename, "column present", f"a column headed '{name}'", column=name, row=1)
        )
    extra = [c for c in frame.columns if c != ROW_COLUMN and c not in spec.column_names]
    if extra:
        shown = ", ".join(source.original_headers.get(c, c) for c in extra)
        found.append(
            issues(
                "warning",
                source.filename,
                "unknown columns",
                "only contract columns are used",
                row=1,
                value=f"ignored (kept in the archive): {shown}",
            )
        )
    typed_cols = []
    for column in spec.columns:
        if column.name not in frame.columns:
            typed_cols.append(pl.lit(None, dtype=POLARS_TYPES[column.dtype]).alias(column.name))
            continue
        col_issues, values = _column_checks(frame, column, source.filename, lim, source.control_free)
        found.extend(col_issues)
        typed_cols.append(values)
    typed = frame.select(pl.col(ROW_COLUMN), *typed_cols)
    found.extend(_row_rules(typed, spec, source.filename))
    return found, typed


def _parse_expr(column: Column) -> pl.Expr:
    """Return an expression parsing the string column into its contract type (null when unparseable)."""
    text = pl.col(column.name)
    if column.dtype == "int":
        cleaned = text.str.replace_all(",", "").str.replace(r"\.0+$", "")
        return pl.when(text.str.contains(WHOLE)).then(cleaned.cast(pl.Int64, strict=False))
    if column.dtype == "float":
        bare = text.str.replace_all(r"[£\s]", "")
        number = bare.str.replace_all(",", "").cast(pl.Float64, strict=False)
        return pl.when(bare.str.contains(NUMBER) & number.is_finite()).then(number)
    if column.dtype == "date":
        iso = text.str.replace(r"[ T]00:00:00(\.0+)?$", "")
        return pl.coalesce(
            iso.str.to_date("%Y-%m-%d", strict=False),
            text.str.to_date("%d/%m/%Y", strict=False),
        )
    if column.allowed:
        canonical = {_norm_value(v): v for v in column.allowed}
        key = text.str.to_lowercase().str.replace_all(r"[\s_\-]+", "_")
        return key.replace_strict(canonical, default=None, return_dtype=pl.String)
    return text


def _quick_parse_expr(column: Column) -> pl.Expr | None:
    """Return a cheap parse of the common spelling of ``column``'s type (no regex), or None if there is none.

    Plain numbers (``12``, ``-3.5``, ``1e3``) and ISO dates parse directly; a value it cannot parse is
    left null for ``_parse_expr`` to try (thousands commas, a pound sign, spaces, a time of midnight,
    DD/MM/YYYY), so the result is the same as ``_parse_expr`` alone (tests/test_validation_rules.py
    checks this on generated text).
    """
    text = pl.col(column.name)
    if column.dtype == "int":
        return text.cast(pl.Int64, strict=False)
    if column.dtype == "float":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number)
    if column.dtype == "date":
        return text.str.to_date("%Y-%m-%d", strict=False)
    return None


def _parsed(frame: pl.DataFrame, column: Column) -> pl.Series:
    """Return ``column`` of ``frame`` parsed into its contract type, named ``parsed`` (null when unparseable).

    The quick parse runs on every value; the full rules (``_parse_expr``, regular expressions) only on
    the values it left null, which in a clean file of millions of rows is none.
    """
    quick = _quick_parse_expr(column)
    if quick is None:
        return frame.select(_parse_expr(column).alias("parsed")).to_series()
    parsed = frame.select(quick.alias("parsed")).to_series()
    retry = (frame.get_column(column.name).is_not_null() & parsed.is_null()).arg_true()
    if retry.is_empty():
        return parsed
    slow = frame.select(column.name).gather(retry).select(_parse_expr(column).alias("parsed")).to_series()
    return parsed.scatter(retry, slow)


def _norm_value(value: str) -> str:
    return re.sub(r"[\s_\-]+", "_", value.strip().lower())


def _expected_type(column: Column) -> str:
    return {
        "int": "a whole number (thousands commas are fine: 1,234)",
        "float": "a number with a decimal point, e.g. 1.5 or 1,234.5 (not 1,5; not inf or NaN)",
        "date": "a date as YYYY-MM-DD or DD/MM/YYYY",
        "str": "text",
    }[column.dtype]


def _column_checks(
    frame: pl.DataFrame, column: Column, filename: str, lim: Limits, control_free: bool = False
) -> tuple[list[pl.DataFrame], pl.Series]:
    """Check one column; return its issues and the column typed (``parsed``, or its default when blank).

    ``control_free``: the whole file is known to hold no control character (``RawFile.control_free``),
    so that check is not run per cell.

    Every check is a flag computed in one pass over the column; only the rows that fail one are
    kept to build findings (the value shown in a finding is worked out for those rows alone), so a
    clean column of millions of rows costs one parse and one scan.
    """
    name = column.name
    parsed = _parsed(frame, column)
    checked = frame.select(pl.col(ROW_COLUMN).alias("row"), pl.col(name).alias("raw")).with_columns(parsed)
    flags = _column_flags(column, lim, control_free)
    suspect = checked.filter(pl.any_horizontal(list(flags.values()))).with_columns(**flags)
    found = _column_issues(suspect, column, filename, lim) if suspect.height else []
    typed = parsed.alias(name)
    if column.default:
        typed = frame.select(
            pl.when(pl.col(name).is_null()).then(pl.lit(column.default)).otherwise(parsed).alias(name)
        ).to_series()
    return found, typed


def _column_flags(column: Column, lim: Limits, control_free: bool = False) -> dict[str, pl.Expr]:
    """Return one boolean expression per check of ``column`` over ``row, raw, parsed`` (True = fails)."""
    raw, value = pl.col("raw"), pl.col("parsed")
    flags = {
        "_long": raw.str.len_bytes() > lim.max_cell_chars,  # bytes >= characters: a cheap first cut
        "_control": pl.lit(False) if control_free else raw.str.contains(CONTROL_CHARS),
        "_bad_type": raw.is_not_null() & value.is_null(),
    }
    if column.required:
        flags["_blank"] = raw.is_null()
    if column.minimum is not None or column.maximum is not None:
        bad = pl.lit(False)
        if column.minimum is not None:
            bad = bad | ((value < column.minimum) if column.minimum_inclusive else (value <= column.minimum))
        if column.maximum is not None:
            bad = bad | ((value > column.maximum) if column.maximum_inclusive else (value >= column.maximum))
        flags["_range"] = value.is_not_null() & bad
    if column.pattern:
        flags["_pattern"] = value.is_not_null() & ~value.str.contains(column.pattern)
    if column.unique:
        flags["_dup"] = value.is_not_null() & value.is_duplicated()
    return {k: flag.fill_null(False) for k, flag in flags.items()}


def _column_issues(suspect: pl.DataFrame, column: Column, filename: str, lim: Limits) -> list[pl.DataFrame]:
    """Return the findings of ``suspect`` (the rows of one column failing a flag of ``_column_flags``)."""
    shown = pl.col("raw").str.slice(0, 200).str.replace_all(CONTROL_CHARS, "\ufffd")
    checked = suspect.with_columns(
        pl.lit(column.name).alias("column"), (pl.lit(HIDDEN) if column.personal else shown).alias("value")
    )
    found: list[pl.DataFrame] = []
    long = checked.filter(pl.col("_long") & (pl.col("raw").str.len_chars() > lim.max_cell_chars)).with_columns(
        pl.format("({} characters)", pl.col("raw").str.len_chars()).alias("value")
    )
    if long.height:
        expected = f"at most {lim.max_cell_chars:,} characters {named('max_cell_chars')}"
        found.append(issues("error", filename, "cell size", expected, long))
    control = checked.filter(pl.col("_control"))
    if control.height:
        expected = "text without control characters such as NUL (shown as \ufffd)"
        found.append(issues("error", filename, "control characters", expected, control))
    if column.required:
        blanks = checked.filter(pl.col("_blank")).with_columns(pl.lit("(blank)").alias("value"))
        if blanks.height:
            found.append(issues("error", filename, "required", "a value (this column is mandatory)", blanks))
    bad_type = checked.filter(pl.col("_bad_type"))
    if bad_type.height:
        if column.allowed:
            expected = "one of: " + ", ".join(column.allowed) + " (any capitalisation)"
            found.append(issues("error", filename, "allowed values", expected, bad_type))
        else:
            found.append(issues("error", filename, "type", _expected_type(column), bad_type))
    found.extend(_range_issues(checked, column, filename))
    if column.pattern:
        bad = checked.filter(pl.col("_pattern"))
        if bad.height:
            found.append(issues("error", filename, "format", column.pattern_hint.replace("`", ""), bad))
    if column.unique:
        dup = checked.filter(pl.col("_dup"))
        if dup.height:
            first = dup.group_by("parsed").agg(pl.col("row").min().alias("first_row"))
            dup = dup.join(first, on="parsed").filter(pl.col("row") != pl.col("first_row"))
            dup = dup.with_columns(
                (pl.col("value") + pl.lit(" (also in row ") + pl.col("first_row").cast(pl.String) + pl.lit(")")).alias(
                    "value"
                )
            )
            found.append(issues("error", filename, "unique", "a value not used in another row", dup))
    return found


def _range_issues(checked: pl.DataFrame, column: Column, filename: str) -> list[pl.DataFrame]:
    if column.minimum is None and column.maximum is None:
        return []
    rows = checked.filter(pl.col("_range"))
    if not rows.height:
        return []
    expected = "a number " + " and ".join(
        part for part in column.rule_text().split("; ") if part.startswith(("≥", ">", "≤", "<"))
    )
    return [issues("error", filename, "range", expected, rows)]


def _row_rules(typed: pl.DataFrame, spec: FileSpec, filename: str) -> list[pl.DataFrame]:
    """Check cross-column rules (a date on or after another date of the same row)."""
    found = []
    for column in spec.columns:
        if not column.not_before:
            continue
        later, earlier = pl.col(column.name), pl.col(column.not_before)
        bad = typed.filter(later.is_not_null() & earlier.is_not_null() & (later < earlier)).select(
            pl.col(ROW_COLUMN).alias("row"),
            pl.lit(column.name).alias("column"),
            later.cast(pl.String).alias("value"),
            earlier.cast(pl.String).alias("earlier"),
        )
        if bad.height:
            bad = bad.with_columns(
                (pl.col("value") + pl.lit(f" (before {column.not_before} ") + pl.col("earlier") + pl.lit(")")).alias(
                    "value"
                )
            )
            found.append(issues("error", filename, "date order", f"a date on or after {column.not_before}", bad))
    return found


def _reference_issues(raw: RawDrop, typed: dict[str, pl.DataFrame]) -> tuple[list[pl.DataFrame], list[RootCause]]:
    """Check every value that must exist in another file does exist there.

    Returns the findings and the repeated keys of the referenced files that probably explain them
    (``_repeated_key_causes``).
    """
    found = []
    missing: dict[tuple[str, str, str], dict[str, set[str]]] = {}  # (target, column, expected) -> value -> files
    for spec in CONTRACT:
        source = raw.files.get(spec.name)
        if source is None:
            continue
        for column in spec.columns:
            if not column.references or column.name not in source.frame.columns:
                continue
            target_file, target_col = column.references
            if target_file not in raw.files:
                continue  # the missing file is already an error (or optional and absent)
            known = typed[target_file].get_column(target_col).drop_nulls().unique()
            bad = typed[spec.name].filter(pl.col(column.name).is_not_null() & ~pl.col(column.name).is_in(known))
            if bad.height:
                rows = bad.select(
                    pl.col(ROW_COLUMN).alias("row"),
                    pl.lit(column.name).alias("column"),
                    pl.col(column.name).alias("value"),
                )
                expected = f"an existing {target_col} from {raw.files[target_file].filename}"
                found.append(issues("error", source.filename, "reference", expected, rows))
                values = missing.setdefault((target_file, target_col, expected), {})
                for value in rows.get_column("value").unique().to_list():
                    values.setdefault(value, set()).add(source.filename)
    causes = [
        cause
        for (target_file, target_col, expected), values in missing.items()
        for cause in _repeated_key_causes(raw, typed[target_file], target_file, target_col, expected, values)
    ]
    return found, causes


def _repeated_key_causes(
    raw: RawDrop, frame: pl.DataFrame, file: str, column: str, expected: str, missing: dict[str, set[str]]
) -> list[RootCause]:
    """Pair missing values with repeated keys of the file they should be in ("is row 5 a duplicate of row 4?").

    A repeated key at row r pairs with the one missing value that sorts between the keys of rows
    r - 1 and r + 1 (files listed in key order), or, failing that, a single repeated key pairs with
    the single missing value referenced from two or more files (a real record, lost).
    """
    if ROW_COLUMN not in frame.columns or not any(c.name == column and c.unique for c in FILES[file].columns):
        return []  # an unreadable file (no header row) has no rows to point at
    keys = frame.select(pl.col(ROW_COLUMN), pl.col(column)).sort(ROW_COLUMN)
    values = keys.get_column(column).to_list()
    rows = keys.get_column(ROW_COLUMN).to_list()
    first: dict[str, int] = {}
    repeats: list[tuple[int, int, str]] = []  # (index, first row, value)
    for i, value in enumerate(values):
        if value is None:
            continue
        if value in first:
            repeats.append((i, first[value], value))
        else:
            first[value] = rows[i]
    if not repeats:
        return []
    filename = raw.files[file].filename
    pairs: dict[str, tuple[int, int, str]] = {}
    taken: set[str] = set()
    for i, first_row, value in repeats:
        before = next((v for v in reversed(values[:i]) if v is not None), None)
        after = next((v for v in values[i + 1 :] if v is not None), None)
        fits = [m for m in missing if (before is None or before < m) and (after is None or m < after)]
        if len(fits) == 1 and fits[0] not in pairs and fits[0] not in taken:
            pairs[fits[0]] = (rows[i], first_row, value)
        elif len(fits) == 1:
            taken.add(fits[0])
    for value in taken:
        pairs.pop(value, None)  # two repeated keys fit the same missing value: don't guess
    if not pairs and len(repeats) == 1:
        lost = [m for m, files in missing.items() if len(files) >= 2]
        if len(lost) == 1:
            i, first_row, value = repeats[0]
            pairs[lost[0]] = (rows[i], first_row, value)
    return [
        RootCause(expected, m, filename, column, row, first_row, repeated)
        for m, (row, first_row, repeated) in pairs.items()
    ]


def _manifest(
    raw: RawDrop, typed: dict[str, pl.DataFrame], lim: Limits, today: date
) -> tuple[list[pl.DataFrame], date | None]:
    """Check the manifest (keys, types as ``MANIFEST_TYPES``) and work out ``as_of``.

    ``as_of`` is the manifest's, else the latest activity date; either way it must fall between
    ``[limits] earliest_date`` and today plus ``[limits] max_years_after_as_of`` years.
    """
    found: list[pl.DataFrame] = []
    name = raw.manifest_file or "manifest"
    for key, value in raw.manifest.items():
        if key not in MANIFEST_KEYS:
            found.append(
                issues(
                    "warning", name, "unknown key", "keys: " + ", ".join(MANIFEST_KEYS),
                    column=_clean(key), value=_clean(value),
                )
            )  # fmt: skip
            continue
        wanted = MANIFEST_TYPES.get(key)
        if wanted == "bool" and not isinstance(value, bool):
            found.append(
                issues(
                    "error", name, "type", "true or false (written without quotes)",
                    column=key, value=f"{_clean(value)} ({type(value).__name__}, not a true/false value)",
                )
            )  # fmt: skip
        elif wanted == "str" and (not isinstance(value, str) or re.search(CONTROL_CHARS, value)):
            found.append(
                issues("error", name, "type", "text without control characters", column=key, value=_clean(value))
            )
    given = raw.manifest.get("as_of")
    if given is not None:
        parsed = _parse_manifest_date(given)
        if parsed is None:
            found.append(
                issues(
                    "error",
                    name,
                    "type",
                    "a date as YYYY-MM-DD or DD/MM/YYYY",
                    column="as_of",
                    value=_clean(given),
                )
            )
        as_of, where = parsed, name
    else:
        latest = [
            typed[file].get_column(col).max()
            for file, cols in ACTIVITY_DATES.items()
            for col in cols
            if typed[file].height
        ]
        latest = [d for d in latest if d is not None]
        as_of, where = (max(latest) if latest else None), "manifest (as_of: the latest activity date)"
    if as_of is not None:
        last = _add_years(today, lim.max_years_after_as_of)
        if not lim.earliest_date <= as_of <= last:
            found.append(
                issues(
                    "error", where, "date window",
                    f"an as_of between {lim.earliest_date} and {last} (today + {lim.max_years_after_as_of} year(s)) "
                    f"{named('max_years_after_as_of')}",
                    column="as_of", value=str(as_of),
                )
            )  # fmt: skip
    return found, as_of


def _clean(value) -> str:
    """Return a manifest value as short text with control characters shown as \ufffd."""
    return re.sub(CONTROL_CHARS, "\ufffd", str(value))[:80]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date_window(
    raw: RawDrop, typed: dict[str, pl.DataFrame], as_of: date | None, lim: Limits, today: date
) -> list[pl.DataFrame]:
    """Refuse dates before ``[limits] earliest_date`` or too far after ``as_of`` (or today, if sooner)."""
    found = []
    anchor = min(as_of, today) if as_of is not None else today
    for spec in CONTRACT:
        source = raw.files.get(spec.name)
        if source is None:
            continue
        for column in spec.columns:
            if column.dtype != "date" or column.name not in source.frame.columns:
                continue
            years = column.max_years_after_as_of or lim.max_years_after_as_of
            last = _add_years(anchor, years)
            value = pl.col(column.name)
            bad = typed[spec.name].filter(value.is_not_null() & ((value < lim.earliest_date) | (value > last)))
            if bad.height:
                rows = bad.select(
                    pl.col(ROW_COLUMN).alias("row"),
                    pl.lit(column.name).alias("column"),
                    value.cast(pl.String).alias("value"),
                )
                expected = (
                    f"a date from {lim.earliest_date} to {last} (as_of + {years} year(s)) "
                    f"{named('earliest_date / max_years_after_as_of')}"
                )
                found.append(issues("error", source.filename, "date window", expected, rows))
    return found


def _parse_manifest_date(value) -> date | None:
    if isinstance(value, date):
        return value
    frame = pl.DataFrame({"as_of": [str(value).strip()]})
    parsed = frame.select(_parse_expr(Column("as_of", True, "date"))).item()
    return parsed


@dataclass(frozen=True)
class RowWarning:
    """A row-level check that warns without rejecting: rows of ``file`` where ``flag`` is true.

    ``flag`` gets the typed frames (for checks across files); ``needs`` names other files that
    must be in the drop for the check to make sense; ``value`` is what the report shows.
    """

    file: str
    column: str
    rule: str
    expected: str
    flag: Callable[[dict[str, pl.DataFrame]], pl.Expr]
    value: pl.Expr
    needs: tuple[str, ...] = ()


ROW_WARNINGS = (
    RowWarning(
        "providers", "provider_id", "provider without packages", "at least one package for each provider",
        lambda t: ~pl.col("provider_id").is_in(t["packages"].get_column("provider_id").drop_nulls().unique()),
        pl.col("provider_id"), needs=("packages",),
    ),
    RowWarning(
        "areas", "population_65_plus", "area without population",
        "population_65_plus (rates per 1,000 are blank for this area)",
        lambda t: pl.col("population_65_plus").is_null(), pl.lit("(blank)"),
    ),
    RowWarning(
        "areas", "ruc21", "area unclassified", "ruc21 or ruc11 (the area counts as unclassified, not urban)",
        lambda t: pl.col("ruc21").is_null() & pl.col("ruc11").is_null(), pl.lit("(blank, and ruc11 blank too)"),
    ),
    RowWarning(
        "requests", "sourced_date", "sourced without date",
        "a sourced_date when outcome is sourced (counted as still waiting)",
        lambda t: (pl.col("outcome") == "sourced") & pl.col("sourced_date").is_null(), pl.lit("(blank)"),
    ),
)  # fmt: skip


def _warnings(raw: RawDrop, typed: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """Things worth a look that do not reject the drop."""
    found: list[pl.DataFrame] = []
    for check in ROW_WARNINGS:
        if check.file not in raw.files or any(n not in raw.files for n in check.needs):
            continue
        hits = typed[check.file].filter(check.flag(typed))
        if hits.height:
            rows = hits.select(
                pl.col(ROW_COLUMN).alias("row"), pl.lit(check.column).alias("column"), check.value.alias("value")
            )
            found.append(issues("warning", raw.files[check.file].filename, check.rule, check.expected, rows))
    areas = typed["areas"]
    if raw.boundaries is not None and areas.height:
        codes = set(areas.get_column("area_code").drop_nulls().to_list())
        feature_codes = {feature_area_code(f) for f in raw.boundaries["features"]}
        missing = sorted(codes - feature_codes)
        if missing:
            found.append(
                issues(
                    "warning",
                    "boundaries.geojson",
                    "area without boundary",
                    "a feature for every area_code",
                    value=", ".join(missing[:20]),
                )
            )
    for path in raw.other_files:
        found.append(
            issues(
                "warning",
                path.name,
                "unrecognised file",
                "contract files: " + ", ".join(FILES),
                value="kept in the archive, not loaded",
            )
        )
    return found
