"""ONS Rural Urban Classification (RUC) importer: fill ``areas.ruc21``/``ruc11`` from an LSOA lookup.

Accepted files (ONS Rural Urban Classification 2011 and 2021 LSOA lookups),
CSV (UTF-8 with or without BOM, or Windows-1252) or ``.xlsx``/``.ods``
(every sheet's first 20 rows are searched for the header, so ONS cover sheets and title rows are fine):

* RUC 2021, LSOA level: ``LSOA21CD, LSOA21NM, RUC21CD, RUC21NM, Urban_rural_flag``
  (``Urban_rura`` when truncated); codes ``UN1 UF1 RLN1 RLF1 RSN1 RSF1``.
* RUC 2011, LSOA level: ``LSOA11CD, LSOA11NM, RUC11CD, RUC11``; codes ``A1 B1 C1 C2 D1 D2 E1 E2``.

Headers are matched case-insensitively. Output-area files (``OA21CD``/``OA11CD``) are refused: their
2011 codes include ``F1``/``F2``, which the contract does not accept for areas. Names are kept for
reference only; matching is always on codes (publishers vary the capitalisation of names).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from analytics.contract import RUC11_CODES, RUC21_CODES
from analytics.ingest.importers import (
    clean_text,
    find_table,
    lower_cells,
)

VINTAGES = {
    "2021": {"code": "lsoa21cd", "name": "lsoa21nm", "ruc": "ruc21cd", "ruc_name": "ruc21nm", "field": "ruc21"},
    "2011": {"code": "lsoa11cd", "name": "lsoa11nm", "ruc": "ruc11cd", "ruc_name": "ruc11", "field": "ruc11"},
}
ALLOWED = {"ruc21": RUC21_CODES, "ruc11": RUC11_CODES}
LOOKUP_SCHEMA = {
    "lsoa_code": pl.String,
    "lsoa_name": pl.String,
    "vintage": pl.String,
    "ruc_code": pl.String,
    "ruc_name": pl.String,
}
REPORT_SCHEMA = {c: pl.String for c in ("area_code", "field", "status", "drop_value", "lookup_value", "detail")}
STATUSES = {
    "filled": "the blank code was filled from the lookup",
    "conflicting": "the drop's code differs from the lookup (the drop's value is kept)",
    "not_found": "the area's code is not in the lookup, so its blank code stays blank",
    "invalid_code": "the lookup's code is not one the contract accepts, so it was not used",
}
LSOA_PATTERN = re.compile(r"^[EW]01\d{6}$")


def is_ruc_header(cells: list[str]) -> bool:
    """True if a row of cells is the header of an LSOA RUC lookup (2011 or 2021)."""
    lower = lower_cells(cells)
    return any(v["code"] in lower and v["ruc"] in lower for v in VINTAGES.values())


def _is_oa_header(cells: list[str]) -> bool:
    lower = lower_cells(cells)
    return bool({"oa21cd", "oa11cd"} & lower) and bool({"ruc21cd", "ruc11cd"} & lower)


def read_ruc_lookup(path: str | Path) -> pl.DataFrame:
    """Read an ONS RUC LSOA lookup; return ``lsoa_code, lsoa_name, vintage, ruc_code, ruc_name``.

    ``vintage`` is ``"2011"`` or ``"2021"``; codes are trimmed and upper-cased, blank codes dropped.
    Raises ``ImportFileError`` if the file cannot be read or has no RUC header.
    """
    table = find_table(
        path,
        is_ruc_header,
        expected="a RUC lookup .csv, .xlsx or .ods",
        missing=lambda _sheets: _no_header_message(Path(path)),
    )
    assert table is not None  # find_table raises when there is no header
    return _lookup_from_frame(table.frame)


def _no_header_message(path: Path) -> str:
    if find_table(path, _is_oa_header, expected="") is not None:
        return f"{path.name}: this is an output-area (OA) lookup; use the LSOA lookup (LSOA21CD or LSOA11CD)"
    return f"{path.name}: no RUC lookup header (LSOA21CD + RUC21CD, or LSOA11CD + RUC11CD) in the first 20 rows"


def _lookup_from_frame(frame: pl.DataFrame) -> pl.DataFrame:
    columns = {c.strip().lower(): c for c in frame.columns}
    parts = []
    for vintage, names in VINTAGES.items():
        if names["code"] not in columns or names["ruc"] not in columns:
            continue

        def col(key: str, names: dict[str, str] = names) -> pl.Expr:
            name = names[key]
            return clean_text(pl.col(columns[name])) if name in columns else pl.lit(None, dtype=pl.String)

        parts.append(
            frame.select(
                col("code").str.to_uppercase().alias("lsoa_code"),
                col("name").alias("lsoa_name"),
                pl.lit(vintage).alias("vintage"),
                col("ruc").str.to_uppercase().alias("ruc_code"),
                col("ruc_name").alias("ruc_name"),
            )
        )
    lookup = pl.concat(parts) if parts else pl.DataFrame(schema=LOOKUP_SCHEMA)
    return (
        lookup.filter(pl.col("lsoa_code").is_not_null())
        .unique(["lsoa_code", "vintage"], keep="first", maintain_order=True)
        .cast(LOOKUP_SCHEMA)
    )


def apply_ruc(areas: pl.DataFrame, lookup: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fill blank ``ruc21`` (from a 2021 lookup) and ``ruc11`` (from a 2011 lookup) by ``area_code``.

    Given codes are never overwritten; a given code that differs from the lookup is reported as
    ``conflicting``. ``areas`` may be the raw text frame or the typed staged frame (a missing
    ``ruc21``/``ruc11`` column is added). ``lookup`` is ``read_ruc_lookup``'s frame (both vintages
    may be stacked). Returns the areas and a report (``REPORT_SCHEMA``; statuses in ``STATUSES``).
    """
    if "area_code" not in areas.columns:
        raise ValueError("areas has no area_code column")
    frame = areas
    report: list[dict[str, str | None]] = []
    shown = [None if v is None else str(v).strip() for v in frame["area_code"].to_list()]
    codes = [None if v is None else v.upper() for v in shown]
    for vintage in sorted(set(lookup["vintage"].to_list())):
        field = VINTAGES[vintage]["field"]
        allowed = ALLOWED[field]
        if field not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(field))
        by_code = dict(lookup.filter(pl.col("vintage") == vintage).select("lsoa_code", "ruc_code").iter_rows())
        current = frame[field].cast(pl.String).to_list()
        new_values: list[str | None] = []
        for code, label, given in zip(codes, shown, current, strict=True):
            given = given.strip() if given and given.strip() else None
            found = by_code.get(code) if code else None
            value = None
            entry = {"area_code": label, "field": field, "drop_value": given, "lookup_value": found, "detail": None}
            if found is None:
                if given is None:
                    detail = None if code and LSOA_PATTERN.match(code) else "not an LSOA code"
                    report.append(entry | {"status": "not_found", "detail": detail})
            elif given is None:
                if found in allowed:
                    value = found
                    report.append(entry | {"status": "filled"})
                else:
                    detail = f"expected one of {', '.join(allowed)}"
                    report.append(entry | {"status": "invalid_code", "detail": detail})
            elif given.upper() != found:
                report.append(entry | {"status": "conflicting", "detail": f"RUC {vintage} lookup"})
            new_values.append(value)
        update = pl.Series(field, new_values, dtype=pl.String)
        column = frame[field]
        blank = column.cast(pl.String).str.strip_chars().fill_null("") == ""
        frame = frame.with_columns(
            pl.select(pl.when(blank & update.is_not_null()).then(update).otherwise(column.cast(pl.String)))
            .to_series()
            .alias(field)
            .cast(column.dtype)
        )
    return frame, pl.DataFrame(report, schema=REPORT_SCHEMA, orient="row").select(list(REPORT_SCHEMA))
