"""Importers for public files: CQC register, ONS RUC lookups, NHS England Client Level Data.

Every fixture is written by this module into ``tmp_path`` (nothing binary is committed), with the
real headers exactly as the public files have them (CQC, Using CQC data; ONS, Rural Urban
Classification; NHS England, Adult Social Care Client Level Data specification).
"""

from __future__ import annotations

import argparse
import csv
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import polars as pl
import pytest

from analytics.contract import PACKAGES
from analytics.ingest.importers import ImportFileError, detect_public_file
from analytics.ingest.importers.cld import cld_to_packages
from analytics.ingest.importers.cli import add_import_parser, run_import
from analytics.ingest.importers.cqc import apply_cqc, read_cqc_directory
from analytics.ingest.importers.ruc import apply_ruc, read_ruc_lookup

# -- CQC fixtures: headers exactly as CQC's care directory, weekly CSV and deactivated locations file ---

HSCA_BASE = [
    "Location ID", "Location HSCA start date", "Dormant (Y/N)", "Care home?", "Location Name",
    "Location ODS Code", "Location Telephone Number", "Registered manager", "Location Web Address",
    "Care homes beds", "Location Type/Sector", "Location Inspection Directorate",
    "Location Primary Inspection Category", "Location Latest Overall Rating", "Publication Date",
    "Inherited Rating (Y/N)", "Location Region", "Location NHS Region", "Location Local Authority",
    "Location ONSPD CCG Code", "Location ONSPD CCG", "Location Commissioning CCG Code",
    "Location Commissioning CCG", "Location Street Address", "Location Address Line 2", "Location City",
    "Location County", "Location Postal Code", "Location PAF ID", "Location UPRN ID", "Location Latitude",
    "Location Longitude", "Location Parliamentary Constituency", "Brand ID", "Brand Name",
    "Provider Companies House Number", "Provider Charity Number", "Provider ID", "Provider Name",
    "Provider HSCA start date", "Provider Type/Sector", "Provider Inspection Directorate",
    "Provider Primary Inspection Category", "Provider Ownership Type", "Provider Telephone Number",
    "Provider Web Address", "Provider Street Address", "Provider Address Line 2", "Provider City",
    "Provider County", "Provider Postal Code", "Provider PAF ID", "Provider UPRN ID",
    "Provider Local Authority", "Provider Region", "Provider NHS Region", "Provider Latitude",
    "Provider Longitude", "Provider Parliamentary Constituency", "Provider Nominated Individual Name",
    "Provider Main Partner Name",
]  # fmt: skip
REGULATED_ACTIVITIES = [
    "Accommodation for persons who require nursing or personal care",
    "Accommodation for persons who require treatment for substance misuse",
    "Assessment or medical treatment for persons detained under the Mental Health Act 1983",
    "Diagnostic and screening procedures", "Family planning",
    "Management of supply of blood and blood derived products", "Maternity and midwifery services",
    "Nursing care", "Personal care", "Services in slimming clinics", "Surgical procedures",
    "Termination of pregnancies", "Transport services, triage and medical advice provided remotely",
    "Treatment of disease, disorder or injury",
]  # fmt: skip
SERVICE_TYPES = [
    "Acute services with overnight beds",
    "Acute services without overnight beds / listed acute services with or without overnight beds",
    "Ambulance service", "Blood and Transplant service", "Care home service with nursing",
    "Care home service without nursing", "Community based services for people who misuse substances",
    "Community based services for people with a learning disability",
    "Community based services for people with mental health needs",
    "Community health care services - Independent Midwives",
    "Community health care services - Nurses Agency only", "Community healthcare service", "Dental service",
    "Diagnostic and/or screening service",
    "Diagnostic and/or screening service - single handed sessional providers",
    "Doctors consultation service", "Doctors treatment service", "Domiciliary care service",
    "Extra Care housing services", "Hospice services", "Hospice services at home",
    "Hospital services for people with mental health needs, learning disabilities and problems with "
    "substance misuse",
    "Hyperbaric Chamber", "Long term conditions services", "Mobile doctors service",
    "Prison Healthcare Services", "Rehabilitation services", "Remote clinical advice service",
    "Residential substance misuse treatment and/or rehabilitation service", "Shared Lives",
    "Specialist college service", "Supported living service", "Urgent care services",
]  # fmt: skip
USER_BANDS = [
    "Children 0-18 years", "Dementia", "Learning disabilities or autistic spectrum disorder", "Mental Health",
    "Older People", "People detained under the Mental Health Act", "People who misuse drugs and alcohol",
    "People with an eating disorder", "Physical Disability", "Sensory Impairment", "Whole Population",
    "Younger Adults",
]  # fmt: skip
HSCA_HEADER = (
    HSCA_BASE
    + [f"Regulated activity - {a}" for a in REGULATED_ACTIVITIES]
    + [f"Service type - {s}" for s in SERVICE_TYPES]
    + [f"Service user band - {b}" for b in USER_BANDS]
    + ["Location Dual Registered", "Primary ID (Dual registration locations)"]
)
README_ROWS = [
    ["Active locations for providers registered under the Health and Social Care Act (HSCA)"],
    [None],
    ["Source: CQC database as at 01 September 2026"],
]
NOTICE_ROWS = [
    ["CQC is moving to a new digital system. Some registration changes may appear late in this file."],
    [None],
    ["From 2026 locations providing more than one type of service show 'Not Rated' as overall rating."],
    [None],
    [None],
    ["See the care directory with ratings for per-service ratings."],
    [None],
]  # 7 notice rows: the header lands on row 8, as in CQC's Sept 2026 edition


def hsca_row(location_id, name, *, services, rating, published=None, directorate="Adult social care",
             dormant="N", postcode="CA1 1AA", personal_care=True):  # fmt: skip
    values = dict.fromkeys(HSCA_HEADER)
    values.update(
        {
            "Location ID": location_id,
            "Location HSCA start date": date(2015, 1, 1),
            "Dormant (Y/N)": dormant,
            "Care home?": "Y" if any(s.startswith("Care home") for s in services) else "N",
            "Location Name": name,
            "Location Type/Sector": "Social Care Org",
            "Location Inspection Directorate": directorate,
            "Location Primary Inspection Category": "Community based adult social care services",
            "Location Latest Overall Rating": rating,
            "Publication Date": published,
            "Location Local Authority": "Cumberland",
            "Location Postal Code": postcode,
            "Brand Name": "-",
            "Provider ID": "1-9" + location_id[2:],
            "Provider Name": name + " Ltd",
        }
    )
    if personal_care:
        values["Regulated activity - Personal care"] = "Y"
    for service in services:
        values[f"Service type - {service}"] = "Y"
    return [values[h] for h in HSCA_HEADER]


HSCA_ROWS = [
    hsca_row("1-101", "Alpha Care", services=["Domiciliary care service"], rating="Good",
             published=date(2024, 5, 1)),
    hsca_row("1-102", "Beta Homecare", services=["Domiciliary care service"], rating="Requires Improvement",
             published=date(2023, 2, 10), dormant="Y", postcode="CA2 2BB"),
    hsca_row("1-103", "Castle Care Home", services=["Care home service without nursing"], rating="Outstanding",
             published=date(2022, 7, 1), postcode="CA3 3CC"),
    hsca_row("1-104", "Dale Support", services=["Domiciliary care service", "Supported living service"],
             rating="Not Rated", published=date(2026, 3, 1), postcode="CA4 4DD"),
    hsca_row("1-105", "Eden New Homecare", services=["Domiciliary care service"], rating=None, postcode="CA5 5EE"),
    hsca_row("1-106", "Fell Hospital at Home", services=["Domiciliary care service"], rating="Good",
             published=date(2024, 1, 1), directorate="Hospitals", postcode="CA6 6FF"),
]  # fmt: skip

DEACTIVATED_HEADER = [
    "Location ID", "Location ODS Code", "Location Name", "Location Status", "Location HSCA start date",
    "Location HSCA End Date", "Care home?", "Care homes beds at point location de-activated",
    "Location Type/Sector", "Location Primary Inspection Category", "Location Inspection Directorate",
    "Location Region", "Location Primary NHS Region", "Location Local Authority", "Location ONSPD CCG Code",
    "Location ONSPD CCG", "Location Commissioning CCG Code", "Location Commissioning CCG Name",
    "Location Parliamentary Constituency", "Location Latitude", "Location Longitude",
    "Location Street Address", "Location Address Line 2", "Location City", "Location County",
    "Location Postal Code", "Location PAF ID", "Location UPRN ID", "Location Latest Overall Rating",
    "Publication Date", "Inherited Rating (Y/N)", "Brand ID", "Brand Name", "Provider Charity Number",
]  # fmt: skip

WEEKLY_HEADER = [
    "Name", "Also known as", "Address", "Postcode", "Phone number", "Service's website (if available)",
    "Service types", "Date of latest check", "Specialisms/services", "Provider name", "Local authority",
    "Region", "Location URL", "CQC Location ID (for office use only)", "CQC Provider ID (for office use only)",
]  # fmt: skip


def weekly_row(location_id, name, services, checked="12/03/2025"):
    return [
        name, "", "1 High Street, Carlisle", "CA1 1AA", "01228 000000", "", services, checked,
        "Dementia|Caring for adults over 65 yrs", name + " Ltd", "Cumberland", "North West",
        f"https://www.cqc.org.uk/location/{location_id}", location_id, "1-9" + location_id[2:],
    ]  # fmt: skip


WEEKLY_ROWS = [
    weekly_row("1-201", "Home Only", "Homecare agencies"),
    weekly_row("1-202", "Home And Living", "Homecare agencies|Supported living"),
    weekly_row("1-203", "Near Miss", "Homecare agencies (specialist)"),
    weekly_row("1-204", "Care Home", "Residential homes|Nursing homes"),
    weekly_row("1-205", "Living First", "Supported living|Homecare agencies"),
]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def _ods_cell(value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, date):
        iso = value.isoformat()
        attrs, text = f'office:value-type="date" office:date-value="{iso}"', iso
    elif isinstance(value, int | float):
        attrs, text = f'office:value-type="float" office:value="{value}"', str(value)
    else:
        attrs, text = 'office:value-type="string"', escape(str(value))
    return f"<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>"


def write_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    """Write a minimal OpenDocument spreadsheet (mimetype, manifest, content.xml) by hand: odfpy is not installed."""
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def hsca_sheets() -> dict[str, list[list]]:
    return {"README": README_ROWS, "HSCA_Active_Locations": NOTICE_ROWS + [HSCA_HEADER] + HSCA_ROWS}


def write_weekly_csv(path: Path, rows=WEEKLY_ROWS, *, bom=True, title=True) -> Path:
    lines = []
    if title:  # the real title block: trailing commas to the full width, header on line 5
        lines += [
            "CQC Locations data" + "," * 14,
            "," * 14,
            "This data was produced on 19 August 2026" + "," * 14,
            "," * 14,
        ]
    with_header = [WEEKLY_HEADER, *rows]
    body = []
    for row in with_header:
        body.append(",".join(f'"{c}"' if ("," in c or "'" in c) else c for c in row))
    text = "\r\n".join(lines + body) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def providers_frame() -> pl.DataFrame:
    """A drop's providers as the drop reader gives them: every column text."""
    rows = [
        ("P1", "1-101", None, None, None),
        ("P2", "1-102", "Good", "2021-01-01", None),
        ("P3", "1-103", None, None, None),
        ("P4", "1-104", None, None, None),
        ("P5", "1-999", None, None, None),
        ("P6", None, None, None, None),
        ("P7", "1-105", None, None, None),
        ("P8", "1-101", "good", None, None),
        ("P9", "1-107", "Good", "2022-01-01", None),
        ("P10", "1-106", None, None, None),
    ]
    cols = ["provider_id", "cqc_location_id", "cqc_rating", "cqc_rating_date", "active_to"]
    return pl.DataFrame(rows, schema=dict.fromkeys(cols, pl.String), orient="row").with_columns(
        pl.lit("agency").alias("provider_type")
    )


def issues(report: pl.DataFrame) -> set[tuple[str, str]]:
    return {(p, i) for p, i in report.select("provider_id", "issue").iter_rows()}


# -- CQC tests ---------------------------------------------------------------------------------------


def test_hsca_fixture_has_the_real_122_columns():
    assert len(HSCA_HEADER) == 122
    assert HSCA_HEADER[0] == "Location ID" and HSCA_HEADER[-1] == "Primary ID (Dual registration locations)"


@pytest.mark.parametrize("suffix", ["xlsx", "ods"])
def test_hsca_directory_header_pushed_down_by_notice(tmp_path, suffix):
    path = tmp_path / f"01_September_2026_HSCA_Active_Locations.{suffix}"
    (write_xlsx if suffix == "xlsx" else write_ods)(path, hsca_sheets())

    directory = read_cqc_directory(path)

    assert directory.source_format == "hsca_active_locations"
    assert directory.as_at == date(2026, 9, 1)  # from the README line, matching the file name
    assert any("row 8" in w for w in directory.warnings)
    loc = {r["location_id"]: r for r in directory.locations.iter_rows(named=True)}
    assert set(loc) == {"1-101", "1-102", "1-103", "1-104", "1-105", "1-106"}
    assert loc["1-101"]["location_name"] == "Alpha Care"
    assert loc["1-101"]["home_care"] is True and loc["1-101"]["personal_care"] is True
    assert loc["1-101"]["overall_rating"] == "Good" and loc["1-101"]["rating_date"] == date(2024, 5, 1)
    assert loc["1-102"]["overall_rating"] == "Requires improvement"  # case normalised
    assert loc["1-102"]["dormant"] is True and loc["1-102"]["status"] == "Dormant"
    assert loc["1-103"]["home_care"] is False  # care home only
    assert loc["1-104"]["service_types"] == ["Domiciliary care service", "Supported living service"]
    assert loc["1-104"]["supported_living"] is True
    assert loc["1-104"]["overall_rating"] is None and loc["1-104"]["multi_service_not_rated"] is True
    assert loc["1-105"]["overall_rating"] == "Not rated"  # blank = never rated
    assert loc["1-106"]["home_care"] is False  # domiciliary but directorate Hospitals, not Adult social care
    assert loc["1-101"]["local_authority"] == "Cumberland" and loc["1-101"]["postcode"] == "CA1 1AA"
    assert directory.home_care["location_id"].to_list() == ["1-101", "1-102", "1-104", "1-105"]


def test_hsca_as_at_differs_from_file_name_is_warned(tmp_path):
    path = write_xlsx(tmp_path / "01_August_2026_HSCA_Active_Locations.xlsx", hsca_sheets())
    directory = read_cqc_directory(path)
    assert directory.as_at == date(2026, 9, 1)
    assert any("2026-08-01" in w for w in directory.warnings)


def test_weekly_csv_with_bom_and_exact_service_type_matching(tmp_path):
    path = write_weekly_csv(tmp_path / "CQC_directory.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    directory = read_cqc_directory(path)

    assert directory.source_format == "weekly_directory_csv"
    assert directory.as_at == date(2026, 8, 19)
    home = dict(directory.locations.select("location_id", "home_care").iter_rows())
    assert home == {"1-201": True, "1-202": True, "1-203": False, "1-204": False, "1-205": True}
    row = directory.locations.filter(pl.col("location_id") == "1-202").row(0, named=True)
    assert row["service_types"] == ["Homecare agencies", "Supported living"]
    assert row["supported_living"] is True
    assert row["latest_check_date"] == date(2025, 3, 12)
    assert row["location_name"] == "Home And Living" and row["postcode"] == "CA1 1AA"


def test_weekly_csv_header_on_line_5_is_normal_but_a_missing_column_is_warned(tmp_path):
    assert read_cqc_directory(write_weekly_csv(tmp_path / "full.csv")).warnings == ()
    cut = [row[:7] + row[8:] for row in [WEEKLY_HEADER, *WEEKLY_ROWS]]  # no "Date of latest check"
    path = tmp_path / "cut.csv"
    write_csv(path, [["CQC Locations data"], [], ["This data was produced on 19 August 2026"], [], *cut])
    directory = read_cqc_directory(path)
    assert directory.locations["home_care"].to_list() == [True, True, False, False, True]
    assert any("'Date of latest check'" in w for w in directory.warnings)


def test_weekly_csv_bom_directly_before_the_header(tmp_path):
    # An analyst deleted the title lines: the BOM now sits in front of "Name".
    path = write_weekly_csv(tmp_path / "directory.csv", title=False)
    directory = read_cqc_directory(path)
    assert directory.locations["location_name"].to_list()[0] == "Home Only"
    assert directory.as_at is None


def test_apply_cqc_fills_blanks_only_and_reports(tmp_path):
    directory = read_cqc_directory(write_xlsx(tmp_path / "HSCA_Active_Locations.xlsx", hsca_sheets()))
    providers = providers_frame()

    filled, report = apply_cqc(providers, directory)

    assert filled.columns == providers.columns and filled.dtypes == providers.dtypes
    got = {r["provider_id"]: (r["cqc_rating"], r["cqc_rating_date"]) for r in filled.iter_rows(named=True)}
    assert got["P1"] == ("Good", "2024-05-01")  # filled
    assert got["P2"] == ("Good", "2021-01-01")  # never overwritten
    assert got["P4"] == (None, None)  # 2026 multi-service "Not Rated" is not a rating for home care
    assert got["P6"] == (None, None)
    assert got["P7"] == ("Not rated", None)  # registered, never rated
    assert got["P8"] == ("good", "2024-05-01")  # same rating: only the date filled
    found = issues(report)
    assert ("P1", "rating_filled") in found
    assert ("P2", "rating_differs") in found and ("P2", "inactive") in found
    assert ("P3", "not_home_care") in found
    assert ("P4", "multi_service_not_rated") in found
    assert ("P5", "not_registered") in found and ("P9", "not_registered") in found
    assert ("P8", "rating_date_filled") in found and ("P8", "rating_differs") not in found
    assert ("P10", "not_home_care") in found
    assert not any(p == "P6" for p, _ in found)
    differs = report.filter((pl.col("provider_id") == "P2") & (pl.col("issue") == "rating_differs")).row(0, named=True)
    assert differs["drop_value"] == "Good" and differs["cqc_value"].startswith("Requires improvement")
    assert report.columns == ["provider_id", "cqc_location_id", "issue", "drop_value", "cqc_value"]


def test_apply_cqc_keeps_typed_columns(tmp_path):
    directory = read_cqc_directory(write_xlsx(tmp_path / "HSCA_Active_Locations.xlsx", hsca_sheets()))
    typed = pl.DataFrame(
        {"provider_id": ["P1"], "cqc_location_id": ["1-101"], "cqc_rating": [None], "cqc_rating_date": [None]},
        schema={
            "provider_id": pl.String,
            "cqc_location_id": pl.String,
            "cqc_rating": pl.String,
            "cqc_rating_date": pl.Date,
        },
    )
    filled, _ = apply_cqc(typed, directory)
    assert filled.schema["cqc_rating_date"] == pl.Date
    assert filled.row(0, named=True)["cqc_rating_date"] == date(2024, 5, 1)


def test_deregistered_location_from_the_deactivated_file(tmp_path):
    active = read_cqc_directory(write_xlsx(tmp_path / "01_September_2026_HSCA_Active_Locations.xlsx", hsca_sheets()))
    values = dict.fromkeys(DEACTIVATED_HEADER)
    values.update(
        {
            "Location ID": "1-107",
            "Location Name": "Alpha Care (old entity)",
            "Location Status": "Deactivated",
            "Location HSCA start date": date(2012, 1, 1),
            "Location HSCA End Date": date(2026, 6, 30),
            "Care home?": "N",
            "Location Inspection Directorate": "Adult social care",
            "Location Postal Code": "CA1 1AA",  # same branch as the active 1-101: a re-registration
            "Location Latest Overall Rating": "Good",
            "Publication Date": date(2022, 1, 1),
        }
    )
    deactivated_path = write_ods(
        tmp_path / "01_September_2026_Deactivated_Locations.ods",
        {"Deactivated_Locations": [DEACTIVATED_HEADER, [values[h] for h in DEACTIVATED_HEADER]]},
    )
    deactivated = read_cqc_directory(deactivated_path)
    assert deactivated.source_format == "deactivated_locations"
    assert deactivated.locations.row(0, named=True)["deregistered"] is True
    assert deactivated.locations.row(0, named=True)["end_date"] == date(2026, 6, 30)

    # The deactivated file alone lists only ended locations: a missing ID is not "not registered".
    _, alone = apply_cqc(providers_frame(), deactivated)
    assert ("P9", "deregistered") in issues(alone)
    assert not any(i == "not_registered" for _, i in issues(alone))

    _, report = apply_cqc(providers_frame(), active.combine(deactivated))
    row = report.filter(pl.col("issue") == "deregistered").row(0, named=True)
    assert row["provider_id"] == "P9"
    assert "2026-06-30" in row["cqc_value"] and "1-101" in row["cqc_value"]  # re-registration hint
    assert ("P9", "not_registered") not in issues(report)


def test_unrecognised_cqc_file_raises(tmp_path):
    path = tmp_path / "something.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ImportFileError, match="CQC"):
        read_cqc_directory(path)
    with pytest.raises(ImportFileError):
        read_cqc_directory(tmp_path / "missing.xlsx")


# -- RUC ---------------------------------------------------------------------------------------------

RUC21_ROWS = [
    ["E01000001", "Carlisle 001A", "UN1", "Urban: Nearer to a major town or city", "Urban"],
    ["E01000002", "Carlisle 001B", "RSF1", "Smaller rural: Further from a major town or city", "Rural"],
    ["E01000003", "Eden 002A", "RLN1", "Larger rural: Nearer to a major town or city", "Rural"],
    ["E01000004", "Eden 002B", "XX9", "Not a code", "Rural"],
]


def write_csv(path: Path, rows: list[list], *, bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def ruc21_csv(tmp_path: Path) -> Path:
    header = ["LSOA21CD", "LSOA21NM", "RUC21CD", "RUC21NM", "Urban_rural_flag"]
    return write_csv(tmp_path / "RUC21_LSOA.csv", [header, *RUC21_ROWS], bom=True)


def ruc11_csv(tmp_path: Path) -> Path:
    rows = [
        ["LSOA11CD", "LSOA11NM", "RUC11CD", "RUC11"],
        ["E01000001", "Carlisle 001A", "C1", "Urban city and town"],
        ["E01000002", "Carlisle 001B", "E2", "Rural village and dispersed in a sparse setting"],
        ["E01000005", "Eden 003A", "D1", "Rural town and fringe"],
    ]
    return write_csv(tmp_path / "RUC11_LSOA.csv", rows)


def areas_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "area_code": ["E01000001", "E01000002", "E05000001", "E01000004", "E01000009", "E01000005"],
            "area_name": ["A", "B", "Ward C", "D", "E", "F"],
            "ruc21": [None, "UN1", None, None, None, None],
            "ruc11": [None, None, None, None, None, "D2"],
        }
    )


def test_read_ruc_2021_csv_with_bom(tmp_path):
    lookup = read_ruc_lookup(ruc21_csv(tmp_path))
    assert lookup.columns == ["lsoa_code", "lsoa_name", "vintage", "ruc_code", "ruc_name"]
    assert lookup["vintage"].unique().to_list() == ["2021"]
    assert dict(lookup.select("lsoa_code", "ruc_code").iter_rows())["E01000002"] == "RSF1"


def test_read_ruc_2021_xlsx_lower_case_headers_below_title_rows(tmp_path):
    header = ["lsoa21cd", "lsoa21nm", "ruc21cd", "ruc21nm", "Urban_rura"]
    path = write_xlsx(
        tmp_path / "ruc21.xlsx",
        {
            "Cover": [["Rural Urban Classification 2021"], ["Source: ONS"]],
            "LSOA": [["Table 1: LSOA 2021 RUC"], [None], header, *RUC21_ROWS],
        },
    )
    lookup = read_ruc_lookup(path)
    assert lookup.height == 4
    assert dict(lookup.select("lsoa_code", "ruc_code").iter_rows())["E01000003"] == "RLN1"


def test_apply_ruc_2021_fills_blanks_and_reports(tmp_path):
    filled, report = apply_ruc(areas_frame(), read_ruc_lookup(ruc21_csv(tmp_path)))
    ruc21 = dict(filled.select("area_code", "ruc21").iter_rows())
    assert ruc21 == {
        "E01000001": "UN1",  # filled
        "E01000002": "UN1",  # given value kept despite the lookup's RSF1
        "E05000001": None,
        "E01000004": None,  # lookup code not a RUC21 code: not used
        "E01000009": None,
        "E01000005": None,
    }
    status = {(a, s) for a, s in report.select("area_code", "status").iter_rows()}
    assert status == {
        ("E01000001", "filled"),
        ("E01000002", "conflicting"),
        ("E05000001", "not_found"),
        ("E01000004", "invalid_code"),
        ("E01000009", "not_found"),
        ("E01000005", "not_found"),
    }
    ward = report.filter(pl.col("area_code") == "E05000001").row(0, named=True)
    assert ward["detail"] == "not an LSOA code"
    conflict = report.filter(pl.col("status") == "conflicting").row(0, named=True)
    assert (conflict["drop_value"], conflict["lookup_value"]) == ("UN1", "RSF1")


def test_apply_ruc_2011_fills_ruc11(tmp_path):
    lookup = read_ruc_lookup(ruc11_csv(tmp_path))
    assert lookup["vintage"].unique().to_list() == ["2011"]
    filled, report = apply_ruc(areas_frame(), lookup)
    ruc11 = dict(filled.select("area_code", "ruc11").iter_rows())
    assert ruc11["E01000001"] == "C1" and ruc11["E01000002"] == "E2"
    assert ruc11["E01000005"] == "D2"  # given D2 kept, lookup D1 reported
    assert filled["ruc21"].to_list() == areas_frame()["ruc21"].to_list()  # 2011 lookup leaves ruc21 alone
    assert ("E01000005", "conflicting") in set(report.select("area_code", "status").iter_rows())


def test_ruc_output_area_file_is_refused(tmp_path):
    path = write_csv(tmp_path / "oa.csv", [["OA21CD", "RUC21CD", "RUC21NM"], ["E00000001", "UN1", "x"]])
    with pytest.raises(ImportFileError, match="output-area"):
        read_ruc_lookup(path)


# -- CLD ---------------------------------------------------------------------------------------------

CLD_SUBMITTED = [
    "Reporting Period Start Date", "Reporting Period End Date", "NHS Number", "LA Person Unique Identifier",
    "First Name", "Last Name", "GP Practice Name", "GP Practice Code", "Gender", "Ethnicity", "Date of Birth",
    "Date of Death", "Postcode", "Client Type", "Primary Support Reason", "Accommodation Status",
    "Employment Status", "Has Unpaid Carer", "Autism Spectrum Disorder (ASD)", "Visual Impairment",
    "Hearing Impairment", "Dementia", "Client Funding Status", "Event Type", "Event Reference",
    "Event Start Date", "Event End Date", "Event Description", "Event Outcome", "Request: Route of Access",
    "Assessment Type", "Eligible Needs Identified", "Method of Assessment", "Total Hrs Caring per week",
    "No. of adults being cared for", "Adult 1 Linked Person_ID", "Adult 2 Linked Person_ID",
    "Adult 3 Linked Person_ID", "Service Type", "Service Component", "Delivery Mechanism",
    "Provider CQC Location Name", "Provider CQC Location ID", "Review Reason", "Review Outcomes Achieved",
    "Method of Review", "Unit Cost", "Cost Frequency (Unit Type)", "Planned units per week",
    "Der_Postcode_LSOA_Code",
]  # fmt: skip
CLD_UNDERSCORED = {
    "Reporting Period End Date": "Reporting_Period_End_Date",
    "LA Person Unique Identifier": "LA_Person_Unique_Identifier",
    "Date of Death": "Date_of_Death",
    "Primary Support Reason": "Primary_Support_Reason",
    "Event Type": "Event_Type",
    "Event Reference": "Event_Reference",
    "Event Start Date": "Event_Start_Date",
    "Event End Date": "Event_End_Date",
    "Event Outcome": "Event_Outcome",
    "Service Type": "Service_Type",
    "Service Component": "Service_Component",
    "Delivery Mechanism": "Delivery_Mechanism",
    "Provider CQC Location ID": "Provider_CQC_Location_ID",
    "Unit Cost": "Unit_Cost",
    "Cost Frequency (Unit Type)": "[Cost_Frequency_(Unit_Type)]",
    "Planned units per week": "Planned_Units_Per_Week",
    "Der_Postcode_LSOA_Code": "Der_Postcode_LSOA_Code",
}
LTS_COMMUNITY = "Long Term Support: Community"


def cld_event(**values) -> dict:
    base = {
        "Reporting Period Start Date": "01/07/2025",
        "Reporting Period End Date": "30/09/2025",
        "LA Person Unique Identifier": "LA-1",
        "Client Type": "Service User",
        "Primary Support Reason": "Physical Support: Personal care support",
        "Event Type": "Service",
        "Event Reference": "EVT-X",
        "Event Start Date": "01/04/2025",
        "Service Type": LTS_COMMUNITY,
        "Service Component": "Home Support",
        "Delivery Mechanism": "CASSR Commissioned Support",
        "Provider CQC Location ID": "1-101",
        "Unit Cost": "24.50",
        "Cost Frequency (Unit Type)": "Hourly",
        "Planned units per week": "10.5",
        "Der_Postcode_LSOA_Code": "E01000001",
    }
    base.update(values)
    return base


# (row as Excel numbers it, event, expected reason)
CLD_CASES = [
    (2, cld_event(**{"Event Reference": "EVT-1", "Delivery Mechanism": "Direct Payment"}), "mapped"),
    (3, cld_event(**{"Event Type": "Assessment", "Event Reference": "A-1"}), "not_service_event"),
    (4, cld_event(**{"Service Type": "Long Term Support: Nursing Care"}), "not_long_term_community"),
    (5, cld_event(**{"Service Type": "Long term support: Community", "Service Component": "Day Support"}),
     "not_home_care"),
    (6, cld_event(**{"Event Reference": "EVT-6", "Cost Frequency (Unit Type)": "Weekly", "Unit Cost": "300"}),
     "hours_not_hourly"),
    (7, cld_event(**{"Event Reference": "EVT-2", "Reporting Period End Date": "30/06/2025"}), "superseded"),
    (8, cld_event(**{"Event Reference": "EVT-2", "Event End Date": "15/09/2025", "Date of Death": "10/09/2025",
                     "Event Outcome": "NFA: Support ended for other reason",
                     "Primary Support Reason": "Learning Disability Support"}), "mapped"),
    (9, cld_event(**{"Event Reference": "EVT-9", "LA Person Unique Identifier": ""}), "no_person_id"),
    (10, cld_event(**{"Event Reference": "EVT-10", "Provider CQC Location ID": ""}), "no_cqc_location_id"),
    (11, cld_event(**{"Event Reference": "EVT-11", "Provider CQC Location ID": "1-999"}), "provider_not_in_drop"),
    (12, cld_event(**{"Event Reference": "", "Service Type": "Long term support: Community",
                      "Service Component": "Home support or domiciliary care", "Planned units per week": "-7",
                      "Primary Support Reason": "Mental Health Support", "LA Person Unique Identifier": "LA-12"}),
     "mapped"),
    (13, cld_event(**{"Event Reference": "EVT-13", "Planned units per week": "200"}), "hours_out_of_range"),
    (14, cld_event(**{"Event Reference": "EVT-14", "Der_Postcode_LSOA_Code": ""}), "no_area_code"),
    (15, cld_event(**{"Event Reference": "EVT-15", "Service Type": "Short Term Support: ST-Max"}),
     "not_long_term_community"),
    (16, cld_event(**{"Event Reference": "EVT-16", "Event End Date": "01/03/2025"}), "end_before_start"),
    (17, cld_event(**{"Event Reference": "EVT-17", "Planned units per week": ""}), "no_planned_hours"),
]  # fmt: skip


def write_cld_csv(path: Path, events: list[dict], header: list[str] = CLD_SUBMITTED) -> Path:
    rename = {} if header is CLD_SUBMITTED else CLD_UNDERSCORED
    cols = [c for c in CLD_SUBMITTED if not rename or c in rename]
    rows = [[rename.get(c, c) for c in cols]] + [[e.get(c, "") for c in cols] for e in events]
    return write_csv(path, rows)


def drop_providers() -> pl.DataFrame:
    return pl.DataFrame({"provider_id": ["PR-A", "PR-B"], "cqc_location_id": ["1-101", "1-102"]})


def test_cld_rows_mapped_and_skipped_with_reasons(tmp_path):
    path = write_cld_csv(tmp_path / "cld.csv", [event for _, event, _ in CLD_CASES])

    packages, report = cld_to_packages(path, drop_providers())

    assert report["row"].to_list() == [row for row, _, _ in CLD_CASES]
    assert dict(report.select("row", "reason").iter_rows()) == {row: reason for row, _, reason in CLD_CASES}
    assert set(report["outcome"]) == {"mapped", "skipped"}
    assert report.filter(pl.col("row") == 7)["detail"].item() == "kept row 8"
    assert report.filter(pl.col("row") == 6)["detail"].item() == "Cost Frequency (Unit Type) 'Weekly'"
    assert not report["detail"].fill_null("").str.contains("LA-").any()  # no person identifiers

    assert packages.columns == PACKAGES.column_names
    by_id = {r["package_id"]: r for r in packages.iter_rows(named=True)}
    assert len(by_id) == 3
    first = by_id["EVT-1"]
    assert first["person_id"] == "LA-1" and first["provider_id"] == "PR-A" and first["area_code"] == "E01000001"
    assert first["start_date"] == date(2025, 4, 1) and first["end_date"] is None
    assert first["planned_hours_per_week"] == 10.5 and first["hourly_rate"] == 24.5
    assert first["funding"] == "direct_payment" and first["client_group"] == "physical_disability"
    assert first["service_type"] == "home_care"
    second = by_id["EVT-2"]
    assert second["end_date"] == date(2025, 9, 10) and second["end_reason"] == "deceased"  # cropped to death
    assert second["client_group"] == "learning_disability" and second["funding"] == "council"
    hashed = [pid for pid in by_id if pid.startswith("cld-")]
    assert len(hashed) == 1 and by_id[hashed[0]]["planned_hours_per_week"] == 7.0  # |-7|
    assert by_id[hashed[0]]["client_group"] == "mental_health"
    again, _ = cld_to_packages(path, drop_providers())
    assert sorted(again["package_id"]) == sorted(packages["package_id"])  # the hash is stable


def test_cld_without_providers_uses_the_cqc_location_id(tmp_path):
    path = write_cld_csv(tmp_path / "cld.csv", [event for _, event, _ in CLD_CASES])
    packages, report = cld_to_packages(path)
    assert report.filter(pl.col("row") == 11)["reason"].item() == "mapped"
    assert set(packages["provider_id"]) == {"1-101", "1-999"}


def test_cld_underscored_names_xlsx_with_title_rows(tmp_path):
    cols = [c for c in CLD_SUBMITTED if c in CLD_UNDERSCORED]
    events = [CLD_CASES[0][1], CLD_CASES[1][1], CLD_CASES[6][1]]
    path = write_xlsx(
        tmp_path / "cld.xlsx",
        {
            "Extract": [
                ["Adult Social Care Client Level Data extract"],
                [None],
                [CLD_UNDERSCORED[c] for c in cols],
                *[[e.get(c) or None for c in cols] for e in events],
            ]
        },
    )
    packages, report = cld_to_packages(path, drop_providers())
    # Header on row 3, so the first event is Excel row 4.
    assert dict(report.select("row", "reason").iter_rows()) == {4: "mapped", 5: "not_service_event", 6: "mapped"}
    assert set(packages["package_id"]) == {"EVT-1", "EVT-2"}
    assert packages.filter(pl.col("package_id") == "EVT-1")["planned_hours_per_week"].item() == 10.5


def test_cld_unrecognised_file(tmp_path):
    path = write_csv(tmp_path / "not_cld.csv", [["package_id", "person_id"], ["K1", "X"]])
    with pytest.raises(ImportFileError, match="Client Level Data"):
        cld_to_packages(path)


# -- sniffing and the command line ---------------------------------------------------------------------


def test_detect_public_file(tmp_path):
    assert detect_public_file(write_xlsx(tmp_path / "a.xlsx", hsca_sheets())) == "cqc"
    assert detect_public_file(write_ods(tmp_path / "a.ods", hsca_sheets())) == "cqc"
    assert detect_public_file(write_weekly_csv(tmp_path / "w.csv")) == "cqc"
    assert detect_public_file(ruc21_csv(tmp_path)) == "ruc"
    assert detect_public_file(ruc11_csv(tmp_path)) == "ruc"
    assert detect_public_file(write_cld_csv(tmp_path / "c.csv", [CLD_CASES[0][1]])) == "cld"
    providers = tmp_path / "providers.csv"
    providers_frame().write_csv(providers)
    assert detect_public_file(providers) is None
    _, report = apply_cqc(providers_frame(), read_cqc_directory(tmp_path / "a.xlsx"))
    report.write_csv(tmp_path / "cqc_report.csv")
    assert detect_public_file(tmp_path / "cqc_report.csv") is None  # our own report is not a CQC file
    assert detect_public_file(tmp_path / "missing.csv") is None
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    assert detect_public_file(tmp_path / "junk.xlsx") is None


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_import_parser(parser.add_subparsers(dest="command"))
    return run_import(parser.parse_args(["import", *argv]))


def test_cli_cqc_fills_a_csv_drop_and_writes_the_report(tmp_path, capsys):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "providers.csv").write_text(
        "Provider_ID,Provider Name,provider_type,cqc_location_id,cqc_rating,cqc_rating_date,weekly_capacity_hours\n"
        "P1,Alpha,agency,1-101,,,100\n"
        "P2,Beta,agency,1-102,Good,01/02/2021,60\n"
        "P5,Gone,agency,1-999,,,\n",
        encoding="utf-8",
    )
    directory = write_xlsx(tmp_path / "01_September_2026_HSCA_Active_Locations.xlsx", hsca_sheets())

    assert run_cli("cqc", str(directory), "--drop", str(drop), "--data-dir", str(tmp_path)) == 0

    rewritten = pl.read_csv(drop / "providers.csv", infer_schema=False)
    assert rewritten.columns[:2] == ["Provider_ID", "Provider Name"]  # the analyst's headers kept
    assert rewritten.row(0) == ("P1", "Alpha", "agency", "1-101", "Good", "2024-05-01", "100")
    assert rewritten.row(1) == ("P2", "Beta", "agency", "1-102", "Good", "01/02/2021", "60")
    report = pl.read_csv(drop / "cqc_report.csv", infer_schema=False)
    assert {"rating_filled", "rating_differs", "inactive", "not_registered"} <= set(report["issue"])
    assert "home care locations" in capsys.readouterr().out


def test_cli_ruc_fills_areas(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "areas.csv").write_text("area_code,area_name,ruc21\nE01000001,A,\nE01000002,B,UN1\n")
    assert run_cli("ruc", str(ruc21_csv(tmp_path)), "--drop", str(drop)) == 0
    areas = pl.read_csv(drop / "areas.csv", infer_schema=False)
    assert areas["ruc21"].to_list() == ["UN1", "UN1"]
    assert set(pl.read_csv(drop / "ruc_report.csv")["status"]) == {"filled", "conflicting"}


def test_cli_cld_writes_packages_and_report(tmp_path):
    cld = write_cld_csv(tmp_path / "cld.csv", [event for _, event, _ in CLD_CASES])
    providers = tmp_path / "providers.csv"
    drop_providers().write_csv(providers)
    out = tmp_path / "drop"

    assert run_cli("cld", str(cld), "--out", str(out), "--providers", str(providers)) == 0

    packages = pl.read_csv(out / "packages.csv", infer_schema=False)
    assert packages.columns == PACKAGES.column_names and packages.height == 3
    assert set(packages["provider_id"]) == {"PR-A"}
    assert pl.read_csv(out / "cld_report.csv").height == len(CLD_CASES)
    assert run_cli("cld", str(cld), "--out", str(out)) == 1  # packages.csv exists: needs --force

    # Without --providers, the drop's own providers file (here .xlsx) maps CQC IDs to provider_id.
    write_xlsx(out / "Providers.xlsx", {"providers": [["Provider ID", "cqc_location_id"], ["PR-Z", "1-101"]]})
    assert run_cli("cld", str(cld), "--out", str(out), "--force") == 0
    assert set(pl.read_csv(out / "packages.csv", infer_schema=False)["provider_id"]) == {"PR-Z"}


def test_cli_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    assert run_cli("cqc", str(bad)) == 2
    assert "bad.csv" in capsys.readouterr().err
    assert run_cli("ruc", str(bad)) == 2
    assert run_cli("cld", str(bad), "--out", str(tmp_path / "o")) == 2
    ruc = ruc21_csv(tmp_path)
    assert run_cli("ruc", str(ruc), "--drop", str(tmp_path / "no_such_drop")) == 1
    empty = tmp_path / "empty_drop"
    empty.mkdir()
    assert run_cli("ruc", str(ruc), "--drop", str(empty)) == 1
    assert "areas" in capsys.readouterr().err


def test_import_command_is_wired_into_the_project_cli(tmp_path):
    main = pytest.importorskip("analytics.cli").main
    assert main(["import", "ruc", str(ruc21_csv(tmp_path)), "--data-dir", str(tmp_path)]) == 0
