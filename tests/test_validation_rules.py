"""One rejected drop per contract rule, each error naming file, Excel row, column and value.

The cases are generated from ``analytics.contract`` itself, so a rule added to the contract
without a check (or a check that stops firing) fails here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from small_drop import PERSON_IDS, write_small_drop

from analytics.contract import CONTRACT, Column, FileSpec
from analytics.ingest.validation import HIDDEN, validate_drop

BAD_TYPE = {"int": "abc", "float": "12 hours", "date": "31/31/2024"}


def _cases() -> list[tuple[str, str, str, int, str | None]]:
    """Return (file, column, rule, excel_row, value_written) for every rule of every column."""
    cases = []
    for spec in CONTRACT:
        for col in spec.columns:
            if col.required:
                cases.append((spec.name, col.name, "required", 2, ""))
            if col.dtype in BAD_TYPE:
                cases.append((spec.name, col.name, "type", 2, BAD_TYPE[col.dtype]))
            if col.allowed:
                cases.append((spec.name, col.name, "allowed values", 2, "not-a-listed-value"))
            if col.minimum is not None:
                low = col.minimum - 1 if col.minimum_inclusive else col.minimum
                cases.append((spec.name, col.name, "range", 2, _fmt(low, col)))
            if col.maximum is not None:
                high = col.maximum + 1 if col.maximum_inclusive else col.maximum
                cases.append((spec.name, col.name, "range", 2, _fmt(high, col)))
            if col.pattern:
                cases.append((spec.name, col.name, "format", 2, "X-12"))
            if col.unique:
                cases.append((spec.name, col.name, "unique", 3, None))
            if col.references:
                cases.append((spec.name, col.name, "reference", 2, "NO-SUCH-ID"))
            if col.not_before:
                cases.append((spec.name, col.name, "date order", 2, "1990-01-01"))
    return cases


def _fmt(value: float, col: Column) -> str:
    return str(int(value)) if col.dtype == "int" or float(value).is_integer() else str(value)


def _spec(name: str) -> FileSpec:
    return next(s for s in CONTRACT if s.name == name)


@pytest.mark.parametrize(("file", "column", "rule", "row", "bad"), _cases(), ids=lambda v: str(v))
def test_each_rule_rejects_with_a_precise_message(tmp_path: Path, file, column, rule, row, bad):
    def mutate(rows: list[dict]) -> list[dict]:
        if rule == "unique":
            rows[1][column] = rows[0][column]
        else:
            rows[0][column] = bad
            if rule == "date order":
                rows[0][_spec(file).column(column).not_before] = "2000-01-01"
        return rows

    drop = write_small_drop(tmp_path / "drop", **{file: mutate})
    result = validate_drop(drop)

    assert not result.ok
    hits = result.errors.filter(
        (result.errors["file"] == f"{file}.csv") & (result.errors["column"] == column) & (result.errors["rule"] == rule)
    )
    assert hits.height >= 1, result.errors
    hit = hits.row(0, named=True)
    assert hit["row"] == row
    assert hit["expected"]
    spec_col = _spec(file).column(column)
    if spec_col.personal:
        assert hit["value"] in (HIDDEN, "(blank)")
    elif rule == "required":
        assert hit["value"] == "(blank)"
    elif rule == "unique":
        assert f"(also in row {row - 1})" in hit["value"]
    else:
        assert hit["value"].startswith(bad)


def test_missing_required_file_is_an_error(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop", providers=None)
    errors = validate_drop(drop).errors
    assert errors.filter(errors["rule"] == "file present")["file"].to_list() == ["providers.*"]


def test_missing_required_column_names_header_row(tmp_path: Path):
    def drop_column(rows):
        return [{k: v for k, v in r.items() if k != "planned_hours_per_week"} for r in rows]

    errors = validate_drop(write_small_drop(tmp_path / "drop", packages=drop_column)).errors
    hit = errors.filter(errors["rule"] == "column present").row(0, named=True)
    assert (hit["file"], hit["row"], hit["column"]) == ("packages.csv", 1, "planned_hours_per_week")


def test_us_order_date_is_rejected_not_guessed(tmp_path: Path):
    def us_date(rows):
        rows[0]["start_date"] = "12/31/2024"

    errors = validate_drop(write_small_drop(tmp_path / "drop", packages=us_date)).errors
    assert errors.select("file", "row", "column", "value").rows() == [("packages.csv", 2, "start_date", "12/31/2024")]


def test_bad_manifest_date_is_an_error(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop", manifest='as_of = "next tuesday"\n')
    errors = validate_drop(drop).errors
    assert errors.select("file", "column", "value").rows() == [("manifest.toml", "as_of", "next tuesday")]


def test_two_files_for_one_name_are_reported(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    (drop / "Areas.CSV").mkdir()  # a folder does not count
    (drop / "sub").mkdir()
    (drop / "sub" / "areas.parquet").write_bytes(b"not really parquet")
    errors = validate_drop(drop).errors
    assert errors.filter(errors["rule"] == "readable").height == 1
    assert "several files" in errors.filter(errors["rule"] == "readable")["value"][0]


def test_all_errors_are_reported_together_and_person_ids_never_echoed(tmp_path: Path):
    def packages(rows):
        rows[0]["planned_hours_per_week"] = "0"
        rows[1]["provider_id"] = "NOPE"
        rows[2]["start_date"] = "yesterday"

    def providers(rows):
        rows[0]["provider_type"] = "charity"

    result = validate_drop(write_small_drop(tmp_path / "drop", packages=packages, providers=providers))
    assert result.errors.height == 4
    text = str(result.errors.to_dicts()) + str(result.warnings.to_dicts())
    assert not any(pid in text for pid in PERSON_IDS)


def test_warnings_are_kept_apart_from_errors(tmp_path: Path):
    def areas(rows):
        rows[0]["population_65_plus"] = ""
        rows[2]["ruc11"] = ""

    def providers(rows):
        rows.append({**rows[0], "provider_id": "P9", "provider_name": "Unused Ltd"})

    result = validate_drop(write_small_drop(tmp_path / "drop", areas=areas, providers=providers))
    assert result.ok
    rules = set(result.warnings["rule"].to_list())
    assert {"area without population", "area unclassified", "provider without packages"} <= rules


# --- the quick parse gives what the full rules give ------------------------------------------------

_NUMBERISH = "0123456789+-.,eE £ infINFnaNxX_T:/\t٣"


@pytest.mark.parametrize("dtype", ["int", "float", "date"])
def test_quick_parse_equals_the_full_rules(dtype: str) -> None:
    """``_parsed`` (a direct cast first, the regex rules only for what it leaves null) gives exactly
    what ``_parse_expr`` gives alone, on generated number- and date-like text and the spellings the
    contract accepts (thousands commas, a pound sign, spaces, a midnight time, DD/MM/YYYY)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from analytics.ingest.validation import _parse_expr, _parsed

    column = Column(name="v", required=False, dtype=dtype)
    spelled = [
        "12", "-3", "+4", "1,234", "1,234.50", "£7.25", " 8 ", "1e3", "1.", ".5", "-.5", "inf", "NaN",
        "1,5", "12 hours", "2024-02-29", "2024-2-9", "29/02/2024", "2024-02-29 00:00:00", "2024-02-29T00:00:00",
        "2024-02-30", "31/31/2024", "", "٣", "0x10", "1_000", "9223372036854775808", "1e400",
    ]  # fmt: skip

    def same(values: list[str | None]) -> None:
        frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
        full = frame.select(_parse_expr(column).alias("parsed")).to_series()
        assert _parsed(frame, column).to_list() == full.to_list()

    same(spelled)

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.one_of(st.none(), st.text(alphabet=_NUMBERISH, max_size=12)), max_size=30))
    def generated(values: list[str | None]) -> None:
        same(values)

    generated()


def test_a_csv_is_known_free_of_control_characters_only_when_no_byte_is_one(tmp_path):
    """Validation skips the per-cell control-character check for a CSV whose bytes hold none
    (``RawFile.control_free``); accents, tabs, CRLF and quotes keep a file clean, a DEL or ESC
    anywhere does not (and the corpus in tests/bad_inputs.py shows such cells are still refused)."""
    from analytics.ingest.drop_reader import _read_csv

    cases = {
        "plain.csv": (b'a,b\r\n1,"Caf\xc3\xa9,\tx"\r\n', True),
        "del.csv": (b"a,b\n1,two\x7f\n", False),
        "esc.csv": (b"a,b\n1,\x1b[31mred\n", False),
        "nul.csv": (b"a,b\n1,x\x00y\n", False),
        "cp1252.csv": (b"a,b\n1,Caf\xe9\n", True),  # re-encoded as UTF-8 first: still clean
    }
    for name, (data, clean) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert _read_csv(path)[2] is clean, name
