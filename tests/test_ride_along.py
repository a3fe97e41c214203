"""Public files riding along in a drop (CQC register, ONS RUC lookup, CLD extract) are applied at validation.

Fixtures are written here into ``tmp_path`` with the real headers (CQC care directory and weekly CSV,
ONS Rural Urban Classification 2021, NHS England Client Level Data).
The small drop's providers are P1 (CQC 1-101, Good, 2024-05-01), P2 (1-102, Requires improvement)
and M1 (no CQC ID); its areas are wards W01-W03.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
from small_drop import write_small_drop

from analytics.ingest.public_files import CLD_COMMAND
from analytics.ingest.validation import validate_drop
from analytics.store.snapshots import open_live, refresh

WEEKLY_HEADER = [
    "Name", "Also known as", "Address", "Postcode", "Phone number", "Service's website (if available)",
    "Service types", "Date of latest check", "Specialisms/services", "Provider name", "Local authority",
    "Region", "Location URL", "CQC Location ID (for office use only)", "CQC Provider ID (for office use only)",
]  # fmt: skip
HSCA_HEADER = [
    "Location ID", "Dormant (Y/N)", "Location Name", "Location Inspection Directorate",
    "Location Latest Overall Rating", "Publication Date", "Location Local Authority", "Location Postal Code",
    "Provider ID", "Provider Name", "Regulated activity - Personal care",
    "Service type - Domiciliary care service", "Service type - Supported living service",
    "Service type - Extra Care housing services", "Primary ID (Dual registration locations)",
]  # fmt: skip


def weekly_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """The weekly CQC directory CSV: 4 title lines, header on line 5, UTF-8 with BOM."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        fh.write("CQC Locations data\n\nThis data was produced on 19 August 2026\n\n")
        writer = csv.writer(fh)
        writer.writerow(WEEKLY_HEADER)
        for location_id, name, services in rows:
            writer.writerow(
                [name, "", "1 High Street", "CA1 1AA", "", "", services, "12/03/2025", "", name + " Ltd",
                 "Cumberland", "North West", "", location_id, "1-9" + location_id[2:]]
            )  # fmt: skip
    return path


def hsca_xlsx(path: Path, rows: list[tuple[str, str, str, date]]) -> Path:
    """A care directory workbook (README + HSCA_Active_Locations) with home care locations."""
    book = openpyxl.Workbook()
    readme = book.active
    readme.title = "README"
    readme.append(["Active locations for providers registered under the Health and Social Care Act (HSCA)"])
    readme.append(["Source: CQC database as at 01 September 2026"])
    sheet = book.create_sheet("HSCA_Active_Locations")
    sheet.append(HSCA_HEADER)
    for location_id, name, rating, published in rows:
        sheet.append(
            [location_id, "N", name, "Adult social care", rating, published, "Cumberland", "CA1 1AA",
             "1-9" + location_id[2:], name + " Ltd", "Y", "Y", None, None, None]
        )  # fmt: skip
    book.save(path)
    return path


def _p2_unrated(rows):
    rows[1]["cqc_rating"] = ""
    rows[1]["cqc_rating_date"] = ""


def test_care_directory_fills_a_blank_rating_and_warns_on_a_mismatch(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop", providers=_p2_unrated)
    hsca_xlsx(
        drop / "01_September_2026_HSCA_Active_Locations.xlsx",
        [
            ("1-101", "Alpha Care", "Outstanding", date(2026, 1, 5)),
            ("1-102", "Beta Homecare", "Good", date(2025, 6, 1)),
        ],
    )
    result = validate_drop(drop)
    assert result.ok, result.errors
    providers = result.typed["providers"].sort("provider_id")
    ratings = dict(zip(providers["provider_id"], providers["cqc_rating"], strict=True))
    dates = dict(zip(providers["provider_id"], providers["cqc_rating_date"], strict=True))
    assert ratings == {"M1": None, "P1": "Good", "P2": "Good"}  # P2 filled; P1's own rating kept
    assert dates["P2"] == date(2025, 6, 1) and dates["P1"] == date(2024, 5, 1)
    assert providers["cqc_rating_date"].dtype == pl.Date and "__row" in providers.columns

    warned = result.warnings.filter(pl.col("file") == "01_September_2026_HSCA_Active_Locations.xlsx")
    by_rule = {r["rule"]: r for r in warned.iter_rows(named=True)}
    assert by_rule["rating_differs"]["value"] == "Good"  # the offending value: the drop's rating
    assert by_rule["rating_differs"]["expected"].startswith("provider P1:")
    assert by_rule["rating_differs"]["column"] == "cqc_rating"
    assert "drop: Good" in by_rule["rating_differs"]["expected"]
    assert "CQC: Outstanding" in by_rule["rating_differs"]["expected"]
    assert by_rule["rating_filled"]["value"] == "(blank)"
    assert by_rule["rating_filled"]["expected"].startswith("provider P2:")
    assert "public file applied" in by_rule
    # Recognised, so not also reported as an unrecognised file.
    assert "unrecognised file" not in result.warnings["rule"].to_list()


def test_weekly_csv_warns_on_mismatches_and_never_touches_ratings(tmp_path: Path):
    def with_unknown(rows):
        rows[2]["cqc_location_id"] = "1-999"  # M1: an ID CQC does not list

    drop = write_small_drop(tmp_path / "drop", providers=with_unknown)
    weekly_csv(
        drop / "CQC_directory.csv",
        [("1-101", "Alpha Care", "Homecare agencies"), ("1-102", "Beta Homecare", "Residential homes|Nursing homes")],
    )
    result = validate_drop(drop)
    assert result.ok, result.errors
    warned = result.warnings.filter(pl.col("file") == "CQC_directory.csv")
    found = {(r["rule"], r["value"], r["expected"].split(":")[0]) for r in warned.iter_rows(named=True)}
    assert ("not_home_care", "1-102", "provider P2") in found
    assert ("not_registered", "1-999", "provider M1") in found
    # The weekly file has no ratings: nothing is filled, nothing overwritten.
    providers = result.typed["providers"].sort("provider_id")
    assert providers["cqc_rating"].to_list() == [None, "Good", "Requires improvement"]


def test_ruc_lookup_fills_a_blank_ruc21_and_reports_a_conflict(tmp_path: Path):
    def lsoa_areas(rows):
        blank = {k: "" for k in rows[0]}
        rows.append({**blank, "area_code": "E01000001", "area_name": "Fellside", "ruc21": "", "ruc11": ""})
        rows.append({**blank, "area_code": "E01000002", "area_name": "Riverside", "ruc21": "UN1", "ruc11": ""})

    drop = write_small_drop(tmp_path / "drop", areas=lsoa_areas)
    (drop / "RUC21_LSOA_EW.csv").write_text(
        "LSOA21CD,LSOA21NM,RUC21CD,RUC21NM,Urban_rural_flag\n"
        "E01000001,Fellside 001A,RLF1,Larger rural: Further from a major town or city,Rural\n"
        "E01000002,Riverside 001B,RSN1,Smaller rural: Nearer to a major town or city,Rural\n",
        encoding="utf-8",
    )
    result = validate_drop(drop)
    assert result.ok, result.errors
    areas = dict(result.typed["areas"].select("area_code", "ruc21").iter_rows())
    assert areas["E01000001"] == "RLF1"  # filled
    assert areas["E01000002"] == "UN1"  # the drop's code kept
    warned = result.warnings.filter(pl.col("file") == "RUC21_LSOA_EW.csv")
    found = {(r["rule"], r["value"], r["expected"].split(":")[0]) for r in warned.iter_rows(named=True)}
    assert ("filled", "(blank)", "area E01000001") in found
    assert ("conflicting", "UN1", "area E01000002") in found  # the drop's code, the lookup's in expected
    # Filled, so no longer "unclassified" (the new areas are rows 5 and 6 of areas.csv).
    unclassified = result.warnings.filter(pl.col("rule") == "area unclassified")["row"].to_list()
    assert 5 not in unclassified

    # And it reaches the live store.
    store = tmp_path / "store"
    assert refresh(drop, store).accepted
    con = open_live(store)
    assert con.sql("select ruc21 from stg_areas where area_code = 'E01000001'").fetchall() == [("RLF1",)]


CLD_HEADER = "Event_Type,Event_Start_Date,Service_Type,Service_Component,LA_Person_Unique_Identifier\n"


def test_cld_extract_without_packages_is_an_error_naming_the_import_command(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop", packages=None, delivery=None)
    (drop / "cld_extract.csv").write_text(
        CLD_HEADER + "Service,2025-01-01,Long Term Support: Community,Home Support,X\n"
    )
    result = validate_drop(drop)
    errors = result.errors.filter(pl.col("file") == "cld_extract.csv")
    assert errors.height == 1
    assert CLD_COMMAND.replace("FILE", "cld_extract.csv") in errors["expected"][0]


def test_cld_extract_with_packages_is_a_warning_that_it_was_not_used(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    (drop / "cld_extract.csv").write_text(
        CLD_HEADER + "Service,2025-01-01,Long Term Support: Community,Home Support,X\n"
    )
    result = validate_drop(drop)
    assert result.ok
    warned = result.warnings.filter(pl.col("file") == "cld_extract.csv")
    assert warned["rule"].to_list() == ["CLD extract not used"]


def test_an_unrelated_file_is_still_reported_as_unrecognised(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    (drop / "notes.csv").write_text("a,b\n1,2\n")
    result = validate_drop(drop)
    assert result.ok
    assert result.warnings.filter(pl.col("file") == "notes.csv")["rule"].to_list() == ["unrecognised file"]
