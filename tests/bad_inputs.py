"""The project's bad-input corpus: each case builds one broken drop from the small valid drop.

``CASES`` lists ``Case(name, expected, says, build)``: ``build(folder)`` writes the drop under
``folder`` and returns its path (a folder, a zip or another file); ``expected`` is "refused"
(exit 2, live data untouched) or "accepted" (loaded; used for inputs that must load but never
show an identifier); ``says`` is a phrase the analyst must read in the output. Person
identifiers in every case are ``small_drop.PERSON_IDS``, so a test can search any output for them.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from small_drop import FILES, MANIFEST, write_csv, write_small_drop

ROWS = pytest.StashKey[list]()
"""Where the corpus test leaves one row per case for the terminal summary (``conftest.py``)."""


@dataclass(frozen=True)
class Case:
    name: str
    expected: str  # "refused" or "accepted"
    says: str  # a phrase the output must contain
    build: Callable[[Path], Path]


def _cell(file: str, row: int, column: str, value: str):
    """Return a change for ``write_small_drop`` setting one cell."""

    def change(rows: list[dict]) -> list[dict]:
        rows[row][column] = value
        return rows

    return {file: change}


def cell(file: str, row: int, column: str, value: str, says: str, name: str | None = None) -> Case:
    label = name or f"{file}.{column} = {value[:20]!r}"
    return Case(label, "refused", says, lambda d: write_small_drop(d / "drop", **_cell(file, row, column, value)))


def manifest(text: str, says: str, name: str, filename: str = "manifest.toml") -> Case:
    def build(d: Path) -> Path:
        drop = write_small_drop(d / "drop", manifest=None)
        (drop / filename).write_text(text, encoding="utf-8")
        return drop

    return Case(name, "refused", says, build)


def raw_file(file: str, content: bytes, says: str, name: str) -> Case:
    """A case whose ``file``.csv is replaced by ``content`` exactly."""

    def build(d: Path) -> Path:
        drop = write_small_drop(d / "drop")
        (drop / f"{file}.csv").write_bytes(content)
        return drop

    return Case(name, "refused", says, build)


def _csv_text(file: str, header: bool = True) -> str:
    buffer = io.StringIO()
    rows = FILES[file]
    if header:
        buffer.write(",".join(rows[0]) + "\n")
    for row in rows:
        buffer.write(",".join(row.values()) + "\n")
    return buffer.getvalue()


def _header_only(file: str) -> bytes:
    return (",".join(FILES[file][0]) + "\n").encode()


def _zip(d: Path, members: dict[str, bytes], name: str = "drop.zip", **info) -> Path:
    path = d / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zi = zipfile.ZipInfo(member)
            zi.compress_type = zipfile.ZIP_DEFLATED
            for key, value in info.get(member, {}).items():
                setattr(zi, key, value)
            zf.writestr(zi, data)
    return path


def _small_members(d: Path) -> dict[str, bytes]:
    drop = write_small_drop(d / "plain")
    return {p.name: p.read_bytes() for p in sorted(drop.iterdir())}


def zip_case(name: str, says: str, extra: Callable[[Path], dict[str, bytes]], **info) -> Case:
    def build(d: Path) -> Path:
        return _zip(d, {**_small_members(d), **extra(d)}, **info)

    return Case(name, "refused", says, build)


def _zeros_zip(d: Path, size: int) -> Path:
    """A zip whose packages.csv is ``size`` bytes of zeros, written streaming (no big buffer)."""
    path = d / "zeros.zip"
    members = _small_members(d)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            if member != "packages.csv":
                zf.writestr(member, data)
        with zf.open("packages.csv", "w", force_zip64=True) as out:
            block = b"0" * (1 << 20)
            for _ in range(size // len(block)):
                out.write(block)
    return path


def _xlsx(d: Path, sheet_xml_edit: Callable[[bytes], bytes] | None = None, formula: str | None = None) -> Path:
    """The small drop with packages as .xlsx; optionally a formula in hourly_rate of row 2."""
    import openpyxl

    drop = write_small_drop(d / "drop")
    (drop / "packages.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "packages"
    rows = FILES["packages"]
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    if formula:
        ws.cell(row=2, column=list(rows[0]).index("hourly_rate") + 1, value=formula)
    target = drop / "packages.xlsx"
    wb.save(target)
    if sheet_xml_edit:
        with zipfile.ZipFile(target) as zf:
            parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
        parts["xl/worksheets/sheet1.xml"] = sheet_xml_edit(parts["xl/worksheets/sheet1.xml"])
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for part, data in parts.items():
                zf.writestr(part, data)
    return drop


def _error_formula(xml: bytes) -> bytes:
    """Make the formula cell look as Excel saves ``=1/0``: an error value cached."""
    return xml.replace(b"<f>1/0</f><v></v>", b"<f>1/0</f><v>#DIV/0!</v>").replace(b'<c r="K2">', b'<c r="K2" t="e">')


def _symlinked(d: Path, name: str, target: str) -> Path:
    drop = write_small_drop(d / "drop")
    link = drop / name
    link.unlink(missing_ok=True)
    os.symlink(target, link)
    return drop


def _parquet_inf(d: Path) -> Path:
    drop = write_small_drop(d / "drop")
    (drop / "packages.csv").unlink()
    frame = pl.DataFrame(FILES["packages"]).with_columns(
        pl.Series("planned_hours_per_week", [float("inf"), 10.0, 5.0, 21.0, 21.0])
    )
    frame.write_parquet(drop / "packages.parquet")
    return drop


def _accepted(name: str, says: str, build: Callable[[Path], Path]) -> Case:
    return Case(name, "accepted", says, build)


def _id_header(d: Path) -> Path:
    """An extra column headed by a person id: the drop loads, the warning must not show the id."""
    drop = write_small_drop(d / "drop")
    rows = [{**r, "PERSON-0001": "x"} for r in FILES["packages"]]
    write_csv(drop / "packages.csv", rows)
    return drop


def _no_manifest_2099(d: Path) -> Path:
    return write_small_drop(d / "drop", manifest=None, **_cell("packages", 0, "start_date", "2099-01-06"))


def _two_packages(d: Path) -> Path:
    drop = write_small_drop(d / "drop")
    (drop / "sub").mkdir()
    write_csv(drop / "sub" / "packages.csv", FILES["packages"])
    return drop


def _xlsx_not_workbook(d: Path) -> Path:
    drop = write_small_drop(d / "drop")
    (drop / "packages.csv").rename(drop / "packages.xlsx")
    return drop


def _packages_symlink(d: Path) -> Path:
    drop = write_small_drop(d / "drop")
    real = d / "real-packages.csv"
    os.replace(drop / "packages.csv", real)
    os.symlink(real, drop / "packages.csv")
    return drop


def _encrypted_zip(d: Path) -> Path:
    """The small drop zipped, with secret.csv marked encrypted in the central directory (as a password tool does)."""
    path = _zip(d, {**_small_members(d), "secret.csv": b"x\n"})
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # the last central directory entry: secret.csv
    data[entry + 8] |= 0x01  # general purpose flag bit 0: encrypted
    return _write(path, bytes(data))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BILLION_LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)

CASES: list[Case] = [
    # -- file structure ----------------------------------------------------------------------
    raw_file("packages", _header_only("packages"), "at least one data row", "packages header only"),
    raw_file("areas", _header_only("areas"), "at least one data row", "areas header only"),
    raw_file("providers", _header_only("providers"), "at least one data row", "providers header only"),
    raw_file("packages", _csv_text("packages", header=False).encode(), "header row", "packages without header"),
    raw_file("areas", _csv_text("areas", header=False).encode(), "header row", "areas without header"),
    raw_file(
        "packages", _csv_text("packages").replace("\n", "\r").encode(), "CR only", "packages CR-only line endings"
    ),
    raw_file("areas", _csv_text("areas").replace("\n", "\r").encode(), "CR only", "areas CR-only line endings"),
    raw_file(
        "packages",
        _csv_text("packages").replace("K2,PERSON-0002", 'K2,"PERSON-0002').encode(),
        "never closed",
        "packages unbalanced quote",
    ),
    raw_file(
        "providers",
        _csv_text("providers").replace("Beta Homecare", 'Beta "Homecare').encode(),
        "never closed",
        "providers unbalanced quote",
    ),
    raw_file(
        "packages",
        _csv_text("packages").replace("K3,PERSON-0003", "K3,PERSON-0003,extra").encode(),
        "row 4 has 13 values",
        "packages ragged row",
    ),
    raw_file("packages", b"", "empty", "packages empty file"),
    raw_file("packages", b"  \n \n", "empty", "packages blank lines only"),
    raw_file(
        "packages",
        _csv_text("packages").replace("package_id,person_id", "person id,person_id", 1).encode(),
        "repeat",
        "packages duplicate header",
    ),
    raw_file(
        "packages",
        _csv_text("packages").replace(",", ";").encode(),
        "header row",
        "packages semicolon-separated",
    ),
    raw_file("packages", _csv_text("packages").encode("utf-16"), "header row", "packages UTF-16"),
    Case("two packages files", "refused", "several files", _two_packages),
    Case(
        "packages without person_id column",
        "refused",
        "a column headed 'person_id'",
        lambda d: write_small_drop(
            d / "drop", packages=lambda rows: [{k: v for k, v in r.items() if k != "person_id"} for r in rows]
        ),
    ),
    Case(
        "providers file missing",
        "refused",
        "providers.csv",
        lambda d: write_small_drop(d / "drop", providers=None),
    ),
    # -- numbers ------------------------------------------------------------------------------
    cell("packages", 0, "planned_hours_per_week", "1,5", "decimal point"),
    cell("packages", 1, "planned_hours_per_week", "inf", "not inf"),
    cell("packages", 1, "planned_hours_per_week", "Infinity", "not inf"),
    cell("packages", 1, "planned_hours_per_week", "-inf", "not inf"),
    cell("packages", 1, "planned_hours_per_week", "NaN", "not inf or NaN"),
    cell("packages", 1, "planned_hours_per_week", "1e400", "decimal point"),
    cell("packages", 0, "hourly_rate", "nan", "not inf or NaN"),
    cell("packages", 0, "hourly_rate", "24,50", "decimal point"),
    cell("areas", 0, "population_65_plus", "1.5", "whole number"),
    cell("areas", 0, "population_65_plus", "1,2", "whole number"),
    cell("packages", 0, "planned_hours_per_week", "0", "> 0"),
    cell("packages", 0, "planned_hours_per_week", "200", "≤ 168"),
    cell("packages", 0, "planned_hours_per_week", "12 hours", "decimal point"),
    cell("providers", 0, "weekly_capacity_hours", "-5", "≥ 0"),
    cell("areas", 0, "latitude", "0", "≥ 49.8"),
    # -- dates --------------------------------------------------------------------------------
    cell("packages", 0, "start_date", "2099-01-06", "date window"),
    cell("packages", 0, "start_date", "1066-10-14", "date window"),
    cell("packages", 0, "start_date", "1989-12-31", "date window"),
    cell("packages", 3, "end_date", "2024-01-01", "on or after start_date"),
    cell("packages", 0, "start_date", "12/31/2024", "YYYY-MM-DD"),
    cell("packages", 0, "start_date", "2025-02-30", "YYYY-MM-DD"),
    cell("providers", 0, "cqc_rating_date", "2099-05-01", "date window"),
    cell("contracts", 0, "end_date", "2060-03-31", "date window"),
    manifest(MANIFEST.replace("2025-09-30", "2099-01-01"), "date window", "manifest as_of 2099"),
    manifest(MANIFEST.replace("2025-09-30", "1900-01-01"), "date window", "manifest as_of 1900"),
    manifest(MANIFEST.replace("2025-09-30", '"soon"'), "YYYY-MM-DD", "manifest as_of not a date"),
    Case("no manifest, activity in 2099", "refused", "date window", _no_manifest_2099),
    # -- manifest -----------------------------------------------------------------------------
    manifest(MANIFEST + 'synthetic = "false"\n', "true or false", 'manifest synthetic = "false"'),
    manifest(MANIFEST + 'synthetic = "true"\n', "true or false", 'manifest synthetic = "true"'),
    manifest(MANIFEST + "synthetic = 1\n", "true or false", "manifest synthetic = 1"),
    manifest("as_of: 2025-09-30\nsynthetic: 'false'\n", "true or false", "YAML synthetic: 'false'", "manifest.yaml"),
    manifest(
        json.dumps({"as_of": "2025-09-30", "synthetic": "no"}), "true or false", "JSON synthetic: no", "manifest.json"
    ),
    manifest(BILLION_LAUGHS, "aliases", "YAML billion laughs", "manifest.yaml"),
    manifest("as_of = = 2025\n", "cannot read the manifest", "manifest invalid TOML"),
    manifest(MANIFEST + "# " + "x" * 100_000 + "\n", "max_manifest_kb", "manifest 100 KB"),
    manifest(
        json.dumps({"as_of": "2025-09-30", "council_name": "North\u0000dale"}),
        "control characters",
        "manifest council_name with NUL",
        "manifest.json",
    ),
    manifest("[" * 20_000 + "]" * 20_000, "nested too deeply", "JSON nested 20,000 deep", "manifest.json"),
    # -- text ---------------------------------------------------------------------------------
    cell("providers", 0, "provider_name", "Alpha\x00Care", "control characters", "provider_name with NUL"),
    cell("areas", 0, "area_name", "Abbey\x1b[31m", "control characters", "area_name with ESC"),
    cell("packages", 0, "person_id", "PERSON-0001\x00", "control characters", "person_id with NUL"),
    cell("providers", 0, "provider_name", "A" * 3_000_000, "max_cell_chars", "provider_name of 3 MB"),
    cell("packages", 1, "package_id", "K1", "not used in another row", "duplicate package_id"),
    cell("providers", 0, "provider_type", "Agency Ltd", "one of", "unknown provider_type"),
    cell("packages", 0, "area_code", "W99", "existing area_code", "package in unknown area"),
    # -- Excel and Parquet ------------------------------------------------------------------------
    Case("XLSX formula =1/0 (cached error)", "refused", "#DIV/0!", lambda d: _xlsx(d, _error_formula, "=1/0")),
    Case("XLSX formula with no cached value", "refused", "no saved result", lambda d: _xlsx(d, None, "=20+4")),
    cell("packages", 0, "hourly_rate", "£24.50p", "decimal point"),
    Case("XLSX that is not a workbook", "refused", "not a readable Excel workbook", _xlsx_not_workbook),
    Case("Parquet with inf hours", "refused", "not inf", _parquet_inf),
    # -- zips and folders ----------------------------------------------------------------------
    Case("zip of 64 MB of zeros", "refused", "max_compression_ratio", lambda d: _zeros_zip(d, 64 << 20)),
    zip_case(
        "zip with 600 files",
        "max_members",
        lambda d: {f"extra/{i}.csv": b"x\n" for i in range(600)},
    ),
    zip_case(
        "zip with a symlink member",
        "link",
        lambda d: {"notes.csv": b"/etc/passwd"},
        **{"notes.csv": {"external_attr": (0o120777 << 16)}},
    ),
    zip_case("zip with ../ path", "leaves the drop folder", lambda d: {"../evil.csv": b"x\n"}),
    Case("zip with encrypted member", "refused", "encrypted", _encrypted_zip),
    Case("corrupt zip", "refused", "not a readable zip", lambda d: _write(d / "bad.zip", b"PK\x03\x04junk")),
    Case("not a drop (a .txt file)", "refused", "folder or a .zip", lambda d: _write(d / "x.txt", b"x")),
    Case(
        "folder with symlink to /etc/passwd",
        "refused",
        "symbolic link",
        lambda d: _symlinked(d, "passwd.csv", "/etc/passwd"),
    ),
    Case("packages.csv is a symlink", "refused", "symbolic link", _packages_symlink),
    # -- accepted, but nothing may show an identifier -------------------------------------------
    _accepted("extra column headed by a person id", "unknown columns", _id_header),
]
