"""Every file format the contract accepts: CSV encodings, XLSX, Parquet, zip, UK dates, header variants."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from polars.testing import assert_frame_equal
from small_drop import FILES, write_csv, write_small_drop

from analytics.ingest.validation import validate_drop


def _typed(drop: Path, name: str) -> pl.DataFrame:
    result = validate_drop(drop)
    assert result.ok, result.errors
    return result.typed[name].drop("__row")


def test_csv_with_bom_and_windows_1252_pound(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    rows = [dict(r) for r in FILES["providers"]]
    rows[0]["provider_name"] = "£ Alpha Care"
    write_csv(drop / "providers.csv", rows, encoding="utf-8-sig")  # BOM before the first header
    pkg = [dict(r) for r in FILES["packages"]]
    pkg[0]["hourly_rate"] = "£24.50"
    write_csv(drop / "packages.csv", pkg, encoding="cp1252")  # Excel's Windows-1252 "£"

    result = validate_drop(drop)
    assert result.ok, result.errors
    assert result.typed["providers"]["provider_name"][0] == "£ Alpha Care"
    assert result.typed["packages"]["hourly_rate"][0] == 24.5
    encodings = {f["file"]: f["encoding"] for f in result.files}
    assert encodings["providers"] == "utf-8-bom"
    assert encodings["packages"] == "cp1252"


def test_header_variants_are_normalised(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    rows = [
        {(" Area Code " if k == "area_code" else "AREA-NAME" if k == "area_name" else k): v for k, v in r.items()}
        for r in FILES["areas"]
    ]
    write_csv(drop / "Areas.CSV", rows)
    (drop / "areas.csv").unlink()
    areas = _typed(drop, "areas")
    assert areas["area_code"].to_list() == ["W01", "W02", "W03"]
    assert areas["area_name"][0] == "Abbey"


def test_uk_dates_equal_iso_dates(tmp_path: Path):
    def uk(rows):
        for r in rows:
            for col in ("start_date", "end_date"):
                if r[col]:
                    y, m, d = r[col].split("-")
                    r[col] = f"{d}/{m}/{y}"

    iso = _typed(write_small_drop(tmp_path / "iso"), "packages")
    british = _typed(write_small_drop(tmp_path / "uk", packages=uk), "packages")
    assert_frame_equal(iso, british)
    assert british["start_date"][0] == date(2025, 1, 6)


def _write_xlsx(path: Path, sheet: str, rows: list[dict], date_cols: tuple[str, ...] = ()) -> None:
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "a cover sheet the reader must skip")
    sheet_ = book.add_worksheet(sheet)
    date_fmt = book.add_format({"num_format": "dd/mm/yyyy"})
    for c, key in enumerate(rows[0]):
        sheet_.write_string(0, c, key)
    for r, row in enumerate(rows, start=1):
        for c, (key, value) in enumerate(row.items()):
            if key in date_cols and value:
                sheet_.write_datetime(r, c, datetime.fromisoformat(value), date_fmt)
            elif value and key.endswith(("hours_per_week", "rate")):
                sheet_.write_number(r, c, float(value))
            elif value:
                sheet_.write_string(r, c, value)
    book.close()


def test_xlsx_sheet_named_like_the_file_with_real_date_cells(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    (drop / "packages.csv").unlink()
    _write_xlsx(drop / "Packages.xlsx", "Packages", FILES["packages"], date_cols=("start_date", "end_date"))
    from_xlsx = _typed(drop, "packages")
    from_csv = _typed(write_small_drop(tmp_path / "csv"), "packages")
    assert from_xlsx.drop("person_id").equals(from_csv.drop("person_id"))


def test_parquet_file(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    (drop / "requests.csv").unlink()
    frame = pl.DataFrame(FILES["requests"]).with_columns(
        pl.col("requested_date").str.to_date(),
        pl.col("hours_per_week").cast(pl.Float64),
    )
    frame.write_parquet(drop / "requests.parquet")
    requests = _typed(drop, "requests")
    assert requests["requested_date"].to_list()[0] == date(2025, 9, 1)
    assert requests["hours_per_week"].sum() == 27.0


def test_zip_with_a_top_folder(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    archive = tmp_path / "drop-2025-09.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in drop.iterdir():
            zf.write(path, f"September extract/{path.name}")
    result = validate_drop(archive)
    assert result.ok, result.errors
    assert result.typed["packages"].height == 5
    assert result.as_of == date(2025, 9, 30)


def test_as_of_defaults_to_latest_activity_date(tmp_path: Path):
    result = validate_drop(write_small_drop(tmp_path / "drop", manifest=None))
    # Latest activity: request R3 requested 2025-09-20 (contract end dates in 2026 do not count).
    assert result.as_of == date(2025, 9, 20)


def test_values_are_case_insensitive_and_canonicalised(tmp_path: Path):
    def shout(rows):
        rows[0]["provider_type"] = "AGENCY"
        rows[1]["cqc_rating"] = "requires improvement"

    providers = _typed(write_small_drop(tmp_path / "drop", providers=shout), "providers")
    assert providers["provider_type"][0] == "agency"
    assert providers["cqc_rating"][1] == "Requires improvement"


def test_leading_zeros_in_identifiers_are_kept(tmp_path: Path):
    def zeros(rows):
        rows[0]["request_id"] = "000123"

    assert _typed(write_small_drop(tmp_path / "drop", requests=zeros), "requests")["request_id"][0] == "000123"
