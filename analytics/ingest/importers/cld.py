"""NHS England Adult Social Care Client Level Data (CLD) importer: home care service events -> ``packages``.

Accepts a CLD extract as ``.csv`` (UTF-8 with or without BOM, or Windows-1252) or ``.xlsx``/``.ods``,
with Release 1 field names as submitted (``Event Type``, ``Cost Frequency (Unit Type)``) or the
underscored analysis names (``Event_Type``, ``Cost_Frequency_Unit_Type``, ``[Cost_Frequency_(Unit_Type)]``,
``Planned_Units_Per_Week``): headers are compared lower-cased with every run of other characters read
as ``_`` (NHS England, Adult Social Care Client Level Data specification, Release 1 and 2).

Rules (after DHSC's and NHS England's published CLD processing code; each skipped row is reported with its reason):

1. Only ``Event Type`` = ``Service`` with ``Service Type`` = ``Long Term Support: Community`` (either
   release's casing) and a home care ``Service Component`` (``HOME_CARE_COMPONENTS``, exact,
   case-insensitive; override with ``home_care_components``) are mapped.
2. Submissions stack: when one ``Event Reference`` appears more than once, the row with the latest
   ``Reporting Period End Date`` is kept (the later row in the file on a tie) and the others are
   skipped as superseded (2c.3).
3. ``package_id`` = ``Event Reference``; when blank, ``cld-`` + the first 16 hex digits of the SHA-256
   of person, CQC location, start date and component (stable across runs).
4. ``person_id`` = ``LA Person Unique Identifier`` (else ``Der_LA_Person_Unique_Identifier_Pseudo``);
   NHS numbers are not used, so one person is never split between two kinds of identifier.
5. ``provider_id`` = ``Provider CQC Location ID``; when the drop's providers are given, the provider
   whose ``cqc_location_id`` it is (rows whose location matches no provider are skipped).
6. ``area_code`` = ``Der_Postcode_LSOA_Code`` (else ``Der_Postcode_yr2011_LSOA``, ``LSOA``); with
   ``area="ward"``, ``Der_Postcode_Electoral_Ward``.
7. ``start_date``/``end_date`` = ``Event Start Date``/``Event End Date``; the end date is cropped to
   ``Date of Death`` where that is earlier (2c.3).
8. ``planned_hours_per_week`` = |``Planned units per week``| only when ``Cost Frequency (Unit Type)``
   is hourly (``Hourly``, ``Hour``, ``Per hour``): for hourly home care planned units are planned hours
   (2c.3). Any other unit (weekly, per session, daily...) says nothing about hours: skipped.
   ``hourly_rate`` = |``Unit Cost``| for hourly rows, when 0 < rate < 200.
9. ``funding``: ``Delivery Mechanism`` ``Direct Payment`` -> ``direct_payment``; ``CASSR Managed
   Personal Budget`` or ``CASSR Commissioned Support`` -> ``council``; blank -> blank.
10. ``client_group`` from ``Primary Support Reason``: Physical or Sensory Support ->
    ``physical_disability``; Learning Disability Support -> ``learning_disability``; Mental Health
    Support -> ``mental_health``; Support with Memory & Cognition or Social Support -> ``other``;
    Unknown or blank -> blank. (PSR has no age category, so nothing maps to ``older_people``.)
11. ``end_reason``: ``NFA: Deceased`` or an end cropped to the date of death -> ``deceased``;
    ``NFA: Support ended as planned`` -> ``ended_as_planned``; otherwise blank.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import polars as pl

from analytics.ingest.importers import (
    clean_text,
    find_table,
    normalise_header,
    parse_date,
)
from analytics.ingest.staged import conform

HOME_CARE_COMPONENTS = ("Home Support", "Home support or domiciliary care")
"""Service Component values that mean home care: Release 1 ``Home Support`` and the later
``Home support or domiciliary care``. Confirm these against the current NHS
England specification; pass ``home_care_components`` (CLI ``--component``) to use others."""

LONG_TERM_COMMUNITY = "long term support: community"
FIELDS = {
    "event_type": ("event_type",),
    "service_type": ("service_type",),
    "service_component": ("service_component",),
    "delivery_mechanism": ("delivery_mechanism",),
    "event_reference": ("event_reference",),
    "person": ("la_person_unique_identifier", "der_la_person_unique_identifier_pseudo"),
    "start": ("event_start_date",),
    "end": ("event_end_date",),
    "death": ("date_of_death",),
    "cqc_id": ("provider_cqc_location_id",),
    "unit_cost": ("unit_cost",),
    "frequency": ("cost_frequency_unit_type",),
    "planned_units": ("planned_units_per_week",),
    "psr": ("primary_support_reason",),
    "outcome": ("event_outcome",),
    "period_end": ("reporting_period_end_date",),
    "lsoa": ("der_postcode_lsoa_code", "der_postcode_yr2011_lsoa", "lsoa_code", "lsoa"),
    "ward": ("der_postcode_electoral_ward",),
}
"""Each value the importer reads, and the normalised CLD headers it may come from (first wins)."""

REPORT_SCHEMA = {
    "row": pl.Int64,
    "outcome": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "event_reference": pl.String,
    "package_id": pl.String,
}
REASONS = {
    "mapped": "mapped to a package",
    "not_service_event": "Event Type is not Service (requests, assessments and reviews are not packages)",
    "not_long_term_community": "Service Type is not Long Term Support: Community",
    "not_home_care": "Service Component is not a home care component",
    "superseded": "a later submission of the same Event Reference is kept instead",
    "no_person_id": "no LA person identifier",
    "bad_start_date": "Event Start Date is blank or not a date",
    "bad_end_date": "Event End Date is not a date",
    "end_before_start": "Event End Date is before Event Start Date",
    "no_cqc_location_id": "no Provider CQC Location ID, so no provider",
    "provider_not_in_drop": "the CQC location matches no provider in the drop's providers",
    "provider_ambiguous": "several of the drop's providers have this CQC location ID",
    "hours_not_hourly": "Cost Frequency (Unit Type) is not hourly, so planned units are not hours",
    "no_planned_hours": "Planned units per week is blank, zero or not a number",
    "hours_out_of_range": "planned hours per week are over 168",
    "no_area_code": "no LSOA (or ward) code for where the person lives",
}
"""Every reason in the report, with its meaning (used by the CLI and the docs)."""

DIRECT_PAYMENT = "direct payment"
COUNCIL_MECHANISMS = ("cassr managed personal budget", "cassr commissioned support")


def is_cld_header(cells: list[str]) -> bool:
    """True if a row of cells is a CLD header (event type, event start date and a service field)."""
    names = {normalise_header(c) for c in cells if c}
    return {"event_type", "event_start_date"} <= names and bool({"service_type", "service_component"} & names)


def read_cld(path: str | Path) -> tuple[pl.DataFrame, int]:
    """Return a CLD file as text columns named by ``normalise_header``, plus the header's row number."""
    table = find_table(
        path,
        is_cld_header,
        expected="a CLD .csv, .xlsx or .ods file",
        missing=lambda _sheets: (
            f"{Path(path).name}: no Client Level Data header (Event Type, Event Start Date and Service Type or "
            "Service Component) in the first 20 rows"
        ),
    )
    assert table is not None  # find_table raises when there is no header
    return _normalised(table.frame), table.header_row


def _normalised(frame: pl.DataFrame) -> pl.DataFrame:
    seen: dict[str, str] = {}
    for column in frame.columns:
        seen.setdefault(normalise_header(column), column)
    return frame.select([pl.col(original).alias(name) for name, original in seen.items()])


def _field(frame: pl.DataFrame, key: str) -> pl.Expr:
    present = [name for name in FIELDS[key] if name in frame.columns]
    if not present:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce([clean_text(pl.col(name)) for name in present])


def _number(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"[£,\s]", "").cast(pl.Float64, strict=False)


def _package_hash(person: str | None, cqc_id: str | None, start: str | None, component: str | None) -> str:
    key = "|".join(v or "" for v in (person, cqc_id, start, component))
    return "cld-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def cld_to_packages(
    path: str | Path,
    providers: pl.DataFrame | None = None,
    *,
    area: Literal["lsoa", "ward"] = "lsoa",
    home_care_components: tuple[str, ...] | list[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Map a CLD extract's long-term community home care service events to ``packages``.

    Returns ``(packages, report)``: packages in the staged ``packages`` schema (one row per kept
    event), and a report with one row per data row of the file (``REPORT_SCHEMA``): ``row`` as Excel
    numbers it (header = row 1), ``outcome`` ``mapped`` or ``skipped``, ``reason`` (``REASONS``) and a
    ``detail``. Person identifiers never appear in the report. See the module docstring for the rules.
    """
    frame, header_row = read_cld(path)
    return map_cld_frame(frame, header_row, providers, area=area, home_care_components=home_care_components)


def map_cld_frame(
    frame: pl.DataFrame,
    header_row: int = 1,
    providers: pl.DataFrame | None = None,
    *,
    area: Literal["lsoa", "ward"] = "lsoa",
    home_care_components: tuple[str, ...] | list[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``cld_to_packages`` for a frame already read (columns named by ``normalise_header``)."""
    components = [c.strip().lower() for c in (home_care_components or HOME_CARE_COMPONENTS)]
    area_key = "ward" if area == "ward" else "lsoa"
    data = frame.select(
        pl.int_range(header_row + 1, header_row + 1 + pl.len(), dtype=pl.Int64).alias("row"),
        *[_field(frame, key).alias(key) for key in FIELDS],
    )
    data = data.with_columns(
        parse_date(pl.col("start")).alias("start_d"),
        parse_date(pl.col("end")).alias("end_d"),
        parse_date(pl.col("death")).alias("death_d"),
        parse_date(pl.col("period_end")).alias("period_end_d"),
        _number(pl.col("planned_units")).abs().alias("units"),
        _number(pl.col("unit_cost")).abs().alias("cost"),
        pl.col("frequency")
        .str.to_lowercase()
        .str.strip_chars()
        .str.replace(r"^per\s+", "")
        .str.starts_with("hour")
        .fill_null(False)
        .alias("hourly"),
    )
    lower = {k: pl.col(k).str.to_lowercase().str.replace_all(r"\s+", " ") for k in ("event_type", "service_type")}
    in_scope = (
        (lower["event_type"] == "service")
        & (lower["service_type"] == LONG_TERM_COMMUNITY)
        & pl.col("service_component").str.to_lowercase().str.replace_all(r"\s+", " ").is_in(components)
    ).fill_null(False)
    data = data.with_columns(in_scope.alias("in_scope"))

    # Stacked submissions: the latest reporting period wins, then the later row (as DHSC's CLD code does).
    ranked = (
        data.filter(pl.col("in_scope") & pl.col("event_reference").is_not_null())
        .sort(["event_reference", pl.col("period_end_d").fill_null(pl.date(1900, 1, 1)), "row"])
        .group_by("event_reference", maintain_order=True)
        .agg(pl.col("row").last().alias("kept_row"))
    )
    data = data.join(ranked, on="event_reference", how="left").with_columns(
        (pl.col("in_scope") & pl.col("kept_row").is_not_null() & (pl.col("kept_row") != pl.col("row")))
        .fill_null(False)
        .alias("superseded")
    )

    provider_map, ambiguous = _provider_map(providers)
    death, end, start = pl.col("death_d"), pl.col("end_d"), pl.col("start_d")
    cropped = death.is_not_null() & ((end.is_not_null() & (death < end)) | (end.is_null() & (death >= start)))
    data = data.with_columns(
        pl.when(cropped).then(death).otherwise(end).alias("end_final"),
        cropped.fill_null(False).alias("cropped"),
    )

    reason = (
        pl.when(lower["event_type"].fill_null("") != "service")
        .then(pl.lit("not_service_event"))
        .when(lower["service_type"].fill_null("") != LONG_TERM_COMMUNITY)
        .then(pl.lit("not_long_term_community"))
        .when(~pl.col("in_scope"))
        .then(pl.lit("not_home_care"))
        .when(pl.col("superseded"))
        .then(pl.lit("superseded"))
        .when(pl.col("person").is_null())
        .then(pl.lit("no_person_id"))
        .when(pl.col("start_d").is_null())
        .then(pl.lit("bad_start_date"))
        .when(pl.col("end").is_not_null() & pl.col("end_d").is_null())
        .then(pl.lit("bad_end_date"))
        .when(pl.col("end_d") < pl.col("start_d"))
        .then(pl.lit("end_before_start"))
        .when(pl.col("cqc_id").is_null())
        .then(pl.lit("no_cqc_location_id"))
    )
    if providers is not None:
        reason = (
            reason.when(pl.col("cqc_id").is_in(list(ambiguous)))
            .then(pl.lit("provider_ambiguous"))
            .when(~pl.col("cqc_id").is_in(list(provider_map)))
            .then(pl.lit("provider_not_in_drop"))
        )
    reason = (
        reason.when(~pl.col("hourly"))
        .then(pl.lit("hours_not_hourly"))
        .when(pl.col("units").is_null() | (pl.col("units") == 0))
        .then(pl.lit("no_planned_hours"))
        .when(pl.col("units") > 168)
        .then(pl.lit("hours_out_of_range"))
        .when(pl.col(area_key).is_null())
        .then(pl.lit("no_area_code"))
        .otherwise(pl.lit("mapped"))
    )
    data = data.with_columns(reason.alias("reason"))

    mapped = data.filter(pl.col("reason") == "mapped")
    package_ids = [
        ref or _package_hash(person, cqc, start.isoformat() if start else None, component)
        for ref, person, cqc, start, component in mapped.select(
            "event_reference", "person", "cqc_id", "start_d", "service_component"
        ).iter_rows()
    ]
    mapped = mapped.with_columns(pl.Series("package_id", package_ids, dtype=pl.String))
    packages = mapped.select(
        "package_id",
        pl.col("person").alias("person_id"),
        pl.col(area_key).str.to_uppercase().alias("area_code"),
        (
            pl.col("cqc_id").replace_strict(provider_map, default=None, return_dtype=pl.String)
            if providers is not None
            else pl.col("cqc_id")
        ).alias("provider_id"),
        pl.col("start_d").alias("start_date"),
        pl.col("end_final").alias("end_date"),
        pl.col("units").alias("planned_hours_per_week"),
        pl.lit("home_care").alias("service_type"),
        _funding(pl.col("delivery_mechanism")).alias("funding"),
        _client_group(pl.col("psr")).alias("client_group"),
        pl.when((pl.col("cost") > 0) & (pl.col("cost") < 200)).then(pl.col("cost")).alias("hourly_rate"),
        _end_reason(pl.col("outcome"), pl.col("cropped"), pl.col("end_final")).alias("end_reason"),
    )
    packages = conform("packages", packages)

    details = _details(area_key)
    report = (
        data.join(mapped.select("row", "package_id"), on="row", how="left")
        .with_columns(details.alias("detail"))
        .select(
            "row",
            pl.when(pl.col("reason") == "mapped").then(pl.lit("mapped")).otherwise(pl.lit("skipped")).alias("outcome"),
            "reason",
            "detail",
            "event_reference",
            "package_id",
        )
        .cast(REPORT_SCHEMA)
        .sort("row")
    )
    return packages, report


def _provider_map(providers: pl.DataFrame | None) -> tuple[dict[str, str], set[str]]:
    if providers is None:
        return {}, set()
    if "cqc_location_id" not in providers.columns or "provider_id" not in providers.columns:
        return {}, set()
    pairs = (
        providers.select(
            clean_text(pl.col("cqc_location_id")).alias("cqc"), clean_text(pl.col("provider_id")).alias("pid")
        )
        .drop_nulls()
        .unique()
    )
    counts = pairs.group_by("cqc").len()
    ambiguous = set(counts.filter(pl.col("len") > 1)["cqc"].to_list())
    mapping = {cqc: pid for cqc, pid in pairs.iter_rows() if cqc not in ambiguous}
    return mapping, ambiguous


def _funding(mechanism: pl.Expr) -> pl.Expr:
    lower = mechanism.str.to_lowercase().str.replace_all(r"\s+", " ")
    return (
        pl.when(lower == DIRECT_PAYMENT)
        .then(pl.lit("direct_payment"))
        .when(lower.is_in(list(COUNCIL_MECHANISMS)))
        .then(pl.lit("council"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _client_group(psr: pl.Expr) -> pl.Expr:
    lower = psr.str.to_lowercase().str.strip_chars()
    return (
        pl.when(lower.str.starts_with("physical support") | lower.str.starts_with("sensory support"))
        .then(pl.lit("physical_disability"))
        .when(lower.str.starts_with("learning disability"))
        .then(pl.lit("learning_disability"))
        .when(lower.str.starts_with("mental health"))
        .then(pl.lit("mental_health"))
        .when(lower.str.starts_with("support with memory") | lower.str.starts_with("social support"))
        .then(pl.lit("other"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _end_reason(outcome: pl.Expr, cropped: pl.Expr, end: pl.Expr) -> pl.Expr:
    lower = outcome.str.to_lowercase().str.replace_all(r"\s+", " ")
    return (
        pl.when(end.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(cropped.fill_null(False) | (lower == "nfa: deceased"))
        .then(pl.lit("deceased"))
        .when(lower == "nfa: support ended as planned")
        .then(pl.lit("ended_as_planned"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _quoted(column: str) -> pl.Expr:
    return pl.lit("'") + pl.col(column).fill_null("") + pl.lit("'")


def _details(area_key: str) -> pl.Expr:
    """Human text for each row of the report (never the person identifier)."""
    reason = pl.col("reason")
    area_field = "Der_Postcode_Electoral_Ward" if area_key == "ward" else "Der_Postcode_LSOA_Code"
    return (
        pl.when(reason == "mapped")
        .then(
            pl.when(pl.col("cropped"))
            .then(pl.lit("end date cropped to the date of death"))
            .when(pl.col("event_reference").is_null())
            .then(pl.lit("no Event Reference: package_id is a hash"))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        .when(reason == "not_service_event")
        .then(pl.lit("Event Type ") + _quoted("event_type"))
        .when(reason == "not_long_term_community")
        .then(pl.lit("Service Type ") + _quoted("service_type"))
        .when(reason == "not_home_care")
        .then(pl.lit("Service Component ") + _quoted("service_component"))
        .when(reason == "superseded")
        .then(pl.lit("kept row ") + pl.col("kept_row").cast(pl.String))
        .when(reason.is_in(["bad_start_date", "end_before_start"]))
        .then(pl.lit("start ") + _quoted("start") + pl.lit(", end ") + _quoted("end"))
        .when(reason == "bad_end_date")
        .then(pl.lit("Event End Date ") + _quoted("end"))
        .when(reason.is_in(["provider_not_in_drop", "provider_ambiguous"]))
        .then(pl.lit("Provider CQC Location ID ") + _quoted("cqc_id"))
        .when(reason == "hours_not_hourly")
        .then(pl.lit("Cost Frequency (Unit Type) ") + _quoted("frequency"))
        .when(reason.is_in(["no_planned_hours", "hours_out_of_range"]))
        .then(pl.lit("Planned units per week ") + _quoted("planned_units"))
        .when(reason == "no_area_code")
        .then(pl.lit(f"{area_field} is blank"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
