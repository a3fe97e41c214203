"""CQC care directory importer: read the register, then fill and check the drop's ``providers``.

Accepted files (CQC, Using CQC data: https://www.cqc.org.uk/about-us/transparency/using-cqc-data):

* the "care directory with filters", ``DD_Month_YYYY_HSCA_Active_Locations.xlsx`` / ``.ods``
  (sheets ``README`` and ``HSCA_Active_Locations``). The header row is found by searching the first
  20 rows for a cell ``Location ID``, because CQC notices sometimes push it down. The as-at date
  comes from the README line "Source: CQC database as at DD Month YYYY" (else the file name).
* the deactivated locations file (``..._Deactivated_Locations.ods``/``.xlsx``, same header search):
  every location in it is deregistered, with its ``Location HSCA End Date``.
* the weekly directory CSV (``CQC Locations data``; four title lines, header on line 5; a UTF-8
  BOM is allowed). ``Service types`` is a ``|``-separated list matched item by item, exactly.

Home care: in the HSCA file, ``Location Inspection Directorate`` is
``Adult social care`` and ``Service type - Domiciliary care service`` is ``Y``; in the weekly CSV,
one item of ``Service types`` is exactly ``Homecare agencies``. All locations are kept (a provider
registered only as a care home must be reported as "not home care", not "not registered");
``CqcDirectory.home_care`` gives the home care ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from analytics.contract import CQC_RATINGS
from analytics.ingest.importers import (
    ImportFileError,
    Workbook,
    clean_text,
    find_table,
    lower_cells,
    parse_date,
    parse_long_date,
)
from analytics.ingest.staged import POLARS_TYPES

HSCA = "hsca_active_locations"
DEACTIVATED = "deactivated_locations"
WEEKLY = "weekly_directory_csv"
COMBINED = "combined"
ACTIVE_FORMATS = (HSCA, WEEKLY)
"""Formats listing every registered location, so an ID missing from them is not registered."""

# Exact labels, as in CQC's care directory and weekly CSV.
HSCA_ID = "Location ID"
HSCA_DIRECTORATE_ASC = "Adult social care"
HSCA_SERVICE_PREFIX = "Service type - "
HSCA_ACTIVITY_PREFIX = "Regulated activity - "
HSCA_HOME_CARE = "Domiciliary care service"
HSCA_SUPPORTED_LIVING = "Supported living service"
HSCA_EXTRA_CARE = "Extra Care housing services"
HSCA_PERSONAL_CARE = "Personal care"
WEEKLY_ID = "CQC Location ID (for office use only)"
WEEKLY_HOME_CARE = "Homecare agencies"
WEEKLY_SUPPORTED_LIVING = "Supported living"
WEEKLY_TITLE = "CQC Locations data"

RATINGS = {r.lower(): r for r in CQC_RATINGS if r != "Not rated"}
NOT_RATED = "Not rated"
NO_RATING_VALUES = (
    "not rated",
    "not yet inspected",
    "no published rating",
    "inspected but not rated",
    "insufficient evidence to rate",
)
"""Rating sentinels seen in CQC files: the location has no current rating, shown as ``Not rated``."""

LOCATION_SCHEMA: dict[str, pl.DataType] = {
    "location_id": pl.String(),
    "location_name": pl.String(),
    "cqc_provider_id": pl.String(),
    "provider_name": pl.String(),
    "status": pl.String(),
    "deregistered": pl.Boolean(),
    "dormant": pl.Boolean(),
    "end_date": pl.Date(),
    "service_types": pl.List(pl.String()),
    "home_care": pl.Boolean(),
    "supported_living": pl.Boolean(),
    "extra_care": pl.Boolean(),
    "personal_care": pl.Boolean(),
    "overall_rating": pl.String(),
    "overall_rating_raw": pl.String(),
    "multi_service_not_rated": pl.Boolean(),
    "rating_date": pl.Date(),
    "latest_check_date": pl.Date(),
    "postcode": pl.String(),
    "local_authority": pl.String(),
    "primary_location_id": pl.String(),
}
"""Columns of ``CqcDirectory.locations``, whatever the source format. ``home_care`` is null when the
file does not say (the deactivated file without service type columns); ``overall_rating`` is in the
contract's spelling, null when the file has no rating or a 2026 multi-service ``Not Rated``."""

EXPECTED_COLUMNS = {
    HSCA: (
        HSCA_ID,
        "Location Name",
        "Dormant (Y/N)",
        "Location Inspection Directorate",
        "Location Latest Overall Rating",
        "Publication Date",
        "Location Local Authority",
        "Location Postal Code",
        "Provider ID",
        "Provider Name",
        HSCA_ACTIVITY_PREFIX + HSCA_PERSONAL_CARE,
        HSCA_SERVICE_PREFIX + HSCA_HOME_CARE,
        HSCA_SERVICE_PREFIX + HSCA_SUPPORTED_LIVING,
        HSCA_SERVICE_PREFIX + HSCA_EXTRA_CARE,
        "Primary ID (Dual registration locations)",
    ),
    DEACTIVATED: (HSCA_ID, "Location Name", "Location HSCA End Date", "Location Postal Code"),
    WEEKLY: (
        "Name",
        "Postcode",
        "Service types",
        "Date of latest check",
        "Provider name",
        "Local authority",
        "Region",
        WEEKLY_ID,
        "CQC Provider ID (for office use only)",
    ),
}
"""Columns each format is read from; a missing one is reported as a warning (schema drift)."""

REPORT_SCHEMA = {c: pl.String for c in ("provider_id", "cqc_location_id", "issue", "drop_value", "cqc_value")}

ISSUES = {
    "not_registered": "the provider's CQC location ID is not in the register",
    "deregistered": "CQC lists the location as deregistered (deactivated)",
    "inactive": "the location is registered but dormant",
    "not_home_care": "the location is not registered for home care (domiciliary care)",
    "rating_differs": "the drop's rating differs from CQC's latest overall rating (drop value kept)",
    "multi_service_not_rated": "CQC shows 'Not Rated' for a multi-service location: check its per-service "
    "rating in CQC's care directory with ratings",
    "rating_filled": "cqc_rating (and cqc_rating_date) filled from the register",
    "rating_date_filled": "cqc_rating_date filled from the register (the rating agreed)",
}
"""Every issue ``apply_cqc`` can report, with its meaning (used by the CLI and the docs)."""


@dataclass(frozen=True)
class CqcDirectory:
    """The CQC register as read: one row per location (``LOCATION_SCHEMA``) plus where it came from."""

    locations: pl.DataFrame
    as_at: date | None
    source_format: str
    source_name: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    formats: tuple[str, ...] = field(default_factory=tuple)

    @property
    def home_care(self) -> pl.DataFrame:
        """Return the home care locations only."""
        return self.locations.filter(pl.col("home_care").fill_null(False))

    @property
    def lists_all_active(self) -> bool:
        """True if the source lists every registered location (so a missing ID is not registered)."""
        return any(f in ACTIVE_FORMATS for f in (self.formats or (self.source_format,)))

    def combine(self, other: CqcDirectory) -> CqcDirectory:
        """Return both files as one register (e.g. active locations plus the deactivated file).

        A location in both keeps its active row; the as-at date is the later of the two.
        """
        both = pl.concat([self.locations, other.locations], how="vertical")
        dates = [d for d in (self.as_at, other.as_at) if d is not None]
        return CqcDirectory(
            locations=_one_row_per_location(both),
            as_at=max(dates) if dates else None,
            source_format=COMBINED,
            source_name=", ".join(n for n in (self.source_name, other.source_name) if n),
            warnings=self.warnings + other.warnings,
            formats=(self.formats or (self.source_format,)) + (other.formats or (other.source_format,)),
        )

    def summary(self) -> dict[str, object]:
        """Return counts for a human summary (CLI)."""
        loc = self.locations
        home = self.home_care
        return {
            "source_format": self.source_format,
            "as_at": self.as_at.isoformat() if self.as_at else None,
            "locations": loc.height,
            "home_care_locations": home.height,
            "home_care_dormant": int(home["dormant"].fill_null(False).sum()),
            "deregistered": int(loc["deregistered"].fill_null(False).sum()),
            "home_care_rated": int(home["overall_rating"].is_in(list(RATINGS.values())).sum()),
            "home_care_not_rated": int((home["overall_rating"] == NOT_RATED).fill_null(False).sum()),
            "home_care_multi_service_not_rated": int(home["multi_service_not_rated"].fill_null(False).sum()),
        }


# -- reading ----------------------------------------------------------------------------------------


def is_cqc_header(cells: list[str]) -> bool:
    """True if a row of cells is the header of a CQC register file this module reads."""
    lower = lower_cells(cells)
    if WEEKLY_ID.lower() in lower:
        return True
    return HSCA_ID.lower() in lower and "location name" in lower


def read_cqc_directory(path: str | Path) -> CqcDirectory:
    """Read a CQC register file (HSCA active locations, deactivated locations or weekly CSV).

    Raises ``ImportFileError`` if the file cannot be read or is not one of these formats.
    """
    table = find_table(
        path,
        is_cqc_header,
        expected="a CQC .xlsx, .ods or .csv file",
        missing=lambda sheets: _no_header_message(Path(path), sheets),
        # The data sheet is normally HSCA_Active_Locations; otherwise any sheet with the header.
        sheet_order=lambda names: sorted(
            names, key=lambda s: (s.lower() != "hsca_active_locations", s.lower() == "readme")
        ),
    )
    assert table is not None  # find_table raises when there is no header
    if table.book is not None:
        as_at = _readme_as_at(table.book)
    else:
        as_at = None
        for title_cells in table.above:
            joined = " ".join(c for c in title_cells if c)
            if "produced on" in joined.lower():
                as_at = parse_long_date(joined)
    return _directory_from_frame(table.frame, Path(path), as_at, sheet=table.sheet, header_row=table.header_row)


def _no_header_message(path: Path, sheets: list[str] | None) -> str:
    if sheets is None:
        return (
            f"{path.name}: no '{WEEKLY_ID}' or '{HSCA_ID}' header in the first 20 lines; "
            f"is this the CQC directory CSV ('{WEEKLY_TITLE}')?"
        )
    return (
        f"{path.name}: no sheet has a '{HSCA_ID}' header cell in its first 20 rows "
        f"(sheets: {', '.join(sheets)}); is this a CQC care directory file?"
    )


def _readme_as_at(book: Workbook) -> date | None:
    """Return the date on the README line "Source: CQC database as at DD Month YYYY", if any."""
    readme = next((s for s in book.sheet_names if s.strip().lower() == "readme"), None)
    if readme is None:
        return None
    raw = book.raw(readme, n_rows=60)
    for row in raw.iter_rows():
        cells = [str(v).strip() for v in row if v is not None and str(v).strip()]
        for i, cell in enumerate(cells):
            if "as at" not in cell.lower():
                continue
            found = parse_long_date(cell.lower().split("as at", 1)[1])
            if found is None and i + 1 < len(cells):  # the date in the next cell, as a date cell
                found = _iso_date(cells[i + 1]) or parse_long_date(cells[i + 1])
            if found is not None:
                return found
    return None


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _file_name_date(path: Path) -> date | None:
    match = re.match(r"(\d{1,2})_([A-Za-z]+)_(\d{4})_", path.name)
    return parse_long_date(" ".join(match.groups())) if match else None


def _directory_from_frame(
    frame: pl.DataFrame, path: Path, as_at: date | None, *, sheet: str | None, header_row: int
) -> CqcDirectory:
    columns = {c.lower(): c for c in frame.columns}
    warnings: list[str] = []
    name_date = _file_name_date(path)
    if as_at is None:
        as_at = name_date
    elif name_date is not None and name_date != as_at:
        warnings.append(
            f"the file says it is as at {as_at.isoformat()} but its name says {name_date.isoformat()}; "
            "the date inside the file is used"
        )
    if WEEKLY_ID.lower() in columns:
        locations = _weekly_locations(frame, columns)
        fmt = WEEKLY
    elif "location hsca end date" in columns or "location status" in columns:
        locations = _hsca_locations(frame, columns, deactivated=True)
        fmt = DEACTIVATED
    elif "latest rating" in columns and "domain" in columns:
        raise ImportFileError(
            f"{path.name}: this is CQC's 'Latest ratings' file (one row per rating domain), which is not "
            "read yet; use the HSCA active locations file or the weekly directory CSV"
        )
    else:
        locations = _hsca_locations(frame, columns, deactivated=False)
        fmt = HSCA
    usual_row = 5 if fmt == WEEKLY else 1
    if header_row != usual_row:
        where = f"sheet {sheet!r}, " if sheet else ""
        warnings.append(f"header found on {where}row {header_row}, not row {usual_row} (notices or titles above it)")
    missing = [c for c in EXPECTED_COLUMNS[fmt] if c.lower() not in columns]
    if missing:
        # CQC warned in 2026 that its move to a new system may change the format; say so rather than fill blanks.
        warnings.append("expected column(s) missing, so their values are blank: " + ", ".join(repr(c) for c in missing))
    return CqcDirectory(
        locations=_one_row_per_location(locations),
        as_at=as_at,
        source_format=fmt,
        source_name=path.name,
        warnings=tuple(warnings),
        formats=(fmt,),
    )


def _col(columns: dict[str, str], *names: str) -> pl.Expr:
    for name in names:
        if name.lower() in columns:
            return clean_text(pl.col(columns[name.lower()]))
    return pl.lit(None, dtype=pl.String)


def _yes(columns: dict[str, str], name: str) -> pl.Expr:
    """``Y`` -> True, anything else -> False; null when the column is missing."""
    if name.lower() not in columns:
        return pl.lit(None, dtype=pl.Boolean)
    return (clean_text(pl.col(columns[name.lower()])).str.to_uppercase() == "Y").fill_null(False)


def _require(columns: dict[str, str], needed: tuple[str, ...], kind: str) -> None:
    missing = [n for n in needed if n.lower() not in columns]
    if missing:
        raise ImportFileError(f"the {kind} has no column {', '.join(repr(m) for m in missing)}")


def _normal_rating(raw: pl.Expr, multi_service: pl.Expr) -> pl.Expr:
    lower = raw.str.to_lowercase().str.replace_all(r"\s+", " ")
    return (
        pl.when(lower.is_in(list(RATINGS)))
        .then(lower.replace_strict(RATINGS, default=None, return_dtype=pl.String))
        .when((lower == "not rated") & multi_service)
        .then(pl.lit(None, dtype=pl.String))
        .when(lower.is_in(list(NO_RATING_VALUES)) | raw.is_null())
        .then(pl.lit(NOT_RATED))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _hsca_locations(frame: pl.DataFrame, columns: dict[str, str], *, deactivated: bool) -> pl.DataFrame:
    _require(columns, (HSCA_ID, "Location Name"), "CQC care directory")
    service_cols = {
        c[len(HSCA_SERVICE_PREFIX) :].strip(): c
        for c in frame.columns
        if c.lower().startswith(HSCA_SERVICE_PREFIX.lower())
    }
    # Labels of the "Service type - ..." columns holding Y, joined then split (faster than concat_list).
    service_exprs = [
        pl.when(clean_text(pl.col(col)).str.to_uppercase() == "Y").then(pl.lit(label))
        for label, col in service_cols.items()
    ]
    listed = (
        pl.concat_str(service_exprs, separator="|", ignore_nulls=True)
        .str.split("|")
        .list.eval(pl.element().filter(pl.element() != ""))
        if service_exprs
        else pl.lit(None, dtype=pl.List(pl.String))
    )
    frame = frame.with_columns(listed.alias("__service_types"))
    service_types = pl.col("__service_types")
    n_services = service_types.list.len().fill_null(0)
    home_care_col = HSCA_SERVICE_PREFIX + HSCA_HOME_CARE
    if home_care_col.lower() in columns:
        home_care = _yes(columns, home_care_col)
        if "location inspection directorate" in columns:
            directorate = _col(columns, "Location Inspection Directorate")
            home_care = home_care & (directorate == HSCA_DIRECTORATE_ASC).fill_null(False)
    else:
        home_care = pl.lit(None, dtype=pl.Boolean)
    raw_rating = _col(columns, "Location Latest Overall Rating")
    has_rating_column = "location latest overall rating" in columns
    multi = (raw_rating.str.to_lowercase() == "not rated").fill_null(False) & (n_services > 1)
    end_date = parse_date(_col(columns, "Location HSCA End Date"))
    dormant = _yes(columns, "Dormant (Y/N)")
    if deactivated:
        deregistered = pl.lit(True)
        status = pl.coalesce(_col(columns, "Location Status"), pl.lit("Deregistered"))
    else:
        deregistered = pl.lit(False)
        status = pl.when(dormant.fill_null(False)).then(pl.lit("Dormant")).otherwise(pl.lit("Active"))
    return frame.select(
        _col(columns, HSCA_ID).alias("location_id"),
        _col(columns, "Location Name").alias("location_name"),
        _col(columns, "Provider ID").alias("cqc_provider_id"),
        _col(columns, "Provider Name").alias("provider_name"),
        status.alias("status"),
        deregistered.alias("deregistered"),
        dormant.alias("dormant"),
        end_date.alias("end_date"),
        service_types.alias("service_types"),
        home_care.alias("home_care"),
        _yes(columns, HSCA_SERVICE_PREFIX + HSCA_SUPPORTED_LIVING).alias("supported_living"),
        _yes(columns, HSCA_SERVICE_PREFIX + HSCA_EXTRA_CARE).alias("extra_care"),
        _yes(columns, HSCA_ACTIVITY_PREFIX + HSCA_PERSONAL_CARE).alias("personal_care"),
        (_normal_rating(raw_rating, multi) if has_rating_column else pl.lit(None, dtype=pl.String)).alias(
            "overall_rating"
        ),
        raw_rating.alias("overall_rating_raw"),
        multi.alias("multi_service_not_rated"),
        parse_date(_col(columns, "Publication Date")).alias("rating_date"),
        pl.lit(None, dtype=pl.Date).alias("latest_check_date"),
        _col(columns, "Location Postal Code", "Location Post Code").alias("postcode"),
        _col(columns, "Location Local Authority").alias("local_authority"),
        _col(columns, "Primary ID (Dual registration locations)").alias("primary_location_id"),
    ).filter(pl.col("location_id").is_not_null())


def _weekly_locations(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    _require(columns, (WEEKLY_ID, "Name", "Service types"), "CQC directory CSV")
    service_types = (
        _col(columns, "Service types")
        .str.split("|")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
    )
    return frame.select(
        _col(columns, WEEKLY_ID).alias("location_id"),
        _col(columns, "Name").alias("location_name"),
        _col(columns, "CQC Provider ID (for office use only)").alias("cqc_provider_id"),
        _col(columns, "Provider name").alias("provider_name"),
        pl.lit("Active").alias("status"),
        pl.lit(False).alias("deregistered"),
        pl.lit(None, dtype=pl.Boolean).alias("dormant"),
        pl.lit(None, dtype=pl.Date).alias("end_date"),
        service_types.alias("service_types"),
        service_types.list.contains(WEEKLY_HOME_CARE).alias("home_care"),
        service_types.list.contains(WEEKLY_SUPPORTED_LIVING).alias("supported_living"),
        pl.lit(None, dtype=pl.Boolean).alias("extra_care"),
        pl.lit(None, dtype=pl.Boolean).alias("personal_care"),
        pl.lit(None, dtype=pl.String).alias("overall_rating"),
        pl.lit(None, dtype=pl.String).alias("overall_rating_raw"),
        pl.lit(False).alias("multi_service_not_rated"),
        pl.lit(None, dtype=pl.Date).alias("rating_date"),
        parse_date(_col(columns, "Date of latest check")).alias("latest_check_date"),
        _col(columns, "Postcode").alias("postcode"),
        _col(columns, "Local authority", "Local Authority").alias("local_authority"),
        pl.lit(None, dtype=pl.String).alias("primary_location_id"),
    ).filter(pl.col("location_id").is_not_null())


def _one_row_per_location(locations: pl.DataFrame) -> pl.DataFrame:
    """Keep one row per location ID (dual registrations and combined files list some twice).

    Preference: not deregistered, then the primary registration, then home care, then rated.
    """
    locations = locations.select([pl.col(c).cast(t) for c, t in LOCATION_SCHEMA.items()])
    ranked = locations.with_row_index("_order").sort(
        [
            pl.col("deregistered").fill_null(False),
            (pl.col("primary_location_id").is_not_null() & (pl.col("primary_location_id") != pl.col("location_id"))),
            ~pl.col("home_care").fill_null(False),
            pl.col("overall_rating").is_null(),
            pl.col("_order"),
        ]
    )
    return ranked.unique("location_id", keep="first", maintain_order=True).sort("_order").drop("_order")


# -- applying ---------------------------------------------------------------------------------------


def _postcode_key(value: str | None) -> str | None:
    return re.sub(r"\s+", "", value).upper() if value else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def apply_cqc(providers: pl.DataFrame, directory: CqcDirectory) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fill blank ``cqc_rating``/``cqc_rating_date`` from the register and report mismatches.

    ``providers`` may be the raw text frame (the drop reader's) or the typed staged frame; the
    result keeps its columns, order and types (a missing rating column is added). Given values
    are never overwritten. The report has one row per finding (``REPORT_SCHEMA``; issues in
    ``ISSUES``): ``not_registered`` is only reported when the register lists every active
    location (not for the deactivated file alone).
    """
    if "provider_id" not in providers.columns:
        raise ValueError("providers has no provider_id column")
    frame = providers
    all_text = all(dtype == pl.String for dtype in frame.dtypes)
    for column in ("cqc_location_id", "cqc_rating", "cqc_rating_date"):
        if column not in frame.columns:
            dtype = pl.String if all_text or column != "cqc_rating_date" else pl.Date
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(column))
    register = {row["location_id"]: row for row in directory.locations.iter_rows(named=True)}
    active_by_postcode: dict[str, list[str]] = {}
    for row in directory.locations.filter(~pl.col("deregistered").fill_null(False)).iter_rows(named=True):
        key = _postcode_key(row["postcode"])
        if key:
            active_by_postcode.setdefault(key, []).append(row["location_id"])

    ratings: list[str | None] = []
    rating_dates: list[date | None] = []
    report: list[dict[str, str | None]] = []

    def add(provider_id: str, cqc_id: str | None, issue: str, drop_value: object, cqc_value: object) -> None:
        report.append(
            {
                "provider_id": provider_id,
                "cqc_location_id": cqc_id,
                "issue": issue,
                "drop_value": None if drop_value is None else str(drop_value),
                "cqc_value": None if cqc_value is None else str(cqc_value),
            }
        )

    active_to = pl.col("active_to") if "active_to" in frame.columns else pl.lit(None)
    wanted = [pl.col(c) for c in ("provider_id", "cqc_location_id", "cqc_rating", "cqc_rating_date")]
    for row in frame.select(*wanted, active_to.alias("_active_to")).iter_rows(named=True):
        provider_id = _text(row["provider_id"])
        cqc_id = _text(row["cqc_location_id"])
        given_rating = _text(row["cqc_rating"])
        given_date = row["cqc_rating_date"]
        if isinstance(given_date, str):
            given_date = given_date.strip() or None
        new_rating, new_date = None, None
        loc = register.get(cqc_id) if cqc_id else None
        if cqc_id and loc is None:
            if directory.lists_all_active:
                add(provider_id, cqc_id, "not_registered", cqc_id, None)
        elif loc is not None:
            if loc["deregistered"]:
                detail = f"{loc['status'] or 'Deregistered'}"
                if loc["end_date"]:
                    detail += f" on {loc['end_date'].isoformat()}"
                others = [i for i in active_by_postcode.get(_postcode_key(loc["postcode"]) or "", []) if i != cqc_id]
                if others:
                    # CQC gives a new legal entity a new location ID; staff and clients may continue.
                    detail += f"; registered location(s) at the same postcode: {', '.join(others)}"
                add(provider_id, cqc_id, "deregistered", row["_active_to"], detail)
            if loc["dormant"]:
                add(provider_id, cqc_id, "inactive", None, "Dormant (Y/N) = Y")
            if loc["home_care"] is False:
                services = "|".join(loc["service_types"] or []) or "no service types listed"
                add(provider_id, cqc_id, "not_home_care", None, services)
            cqc_rating = loc["overall_rating"]
            canonical_given = _canonical_rating(given_rating)
            if loc["multi_service_not_rated"] and given_rating is None:
                add(provider_id, cqc_id, "multi_service_not_rated", None, loc["overall_rating_raw"])
            if given_rating is None and cqc_rating is not None:
                new_rating = cqc_rating
                if given_date is None and loc["rating_date"] is not None:
                    new_date = loc["rating_date"]
                shown = cqc_rating + (f" ({new_date.isoformat()})" if new_date else "")
                add(provider_id, cqc_id, "rating_filled", None, shown)
            elif given_rating is not None and cqc_rating is not None:
                if canonical_given != cqc_rating:
                    shown = cqc_rating + (f" ({loc['rating_date'].isoformat()})" if loc["rating_date"] else "")
                    add(provider_id, cqc_id, "rating_differs", given_rating, shown)
                elif given_date is None and loc["rating_date"] is not None:
                    new_date = loc["rating_date"]
                    add(provider_id, cqc_id, "rating_date_filled", None, new_date.isoformat())
        ratings.append(new_rating)
        rating_dates.append(new_date)

    filled = frame.with_columns(
        _fill(frame["cqc_rating"], ratings),
        _fill(frame["cqc_rating_date"], rating_dates),
    )
    return filled, pl.DataFrame(report, schema=REPORT_SCHEMA, orient="row")


def _canonical_rating(value: str | None) -> str | None:
    if value is None:
        return None
    lower = re.sub(r"\s+", " ", value.strip().lower())
    if lower in RATINGS:
        return RATINGS[lower]
    if lower in NO_RATING_VALUES:
        return NOT_RATED
    return value


def _fill(column: pl.Series, new: list) -> pl.Series:
    """Return ``column`` with nulls (and blank text) replaced by ``new`` values, in its own dtype."""
    dtype = column.dtype
    if dtype == pl.String:
        values = [v.isoformat() if isinstance(v, date) else v for v in new]
        update = pl.Series(column.name, values, dtype=pl.String)
        blank = column.str.strip_chars().fill_null("") == ""
    else:
        target = POLARS_TYPES["date"] if column.name == "cqc_rating_date" else dtype
        update = pl.Series(column.name, new, dtype=target).cast(dtype)
        blank = column.is_null()
    return (
        pl.select(pl.when(blank & update.is_not_null()).then(update).otherwise(column).alias(column.name))
        .to_series()
        .cast(dtype)
    )
