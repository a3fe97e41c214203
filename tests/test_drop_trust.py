"""Drops an analyst can trust: distinct defects first, empty mandatory files refused, shrinks confirmed.

The five-defect drop is the demo drop (``python -m analytics demo``) with three defects in
packages.csv (200 hours a week, an unknown provider, an end date before its start), providers.csv
row 5 repeating row 4's id (so AG04, and its 1,591 rows in four files, become unknown) and a bad
RUC code in areas.csv. Every ``refresh`` runs in-process through ``analytics.cli.main`` on real
DuckDB stores; the Data page runs in Streamlit's ``AppTest``.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from builders_support import zip_folder
from small_drop import FILES, write_small_drop
from streamlit.testing.v1 import AppTest

from analytics import cli
from analytics.access import local_identity
from analytics.demo import generate_drop
from analytics.ingest.defects import group_defects, row_ranges
from analytics.ingest.validation import validate_drop
from analytics.store.snapshots import history, open_live, refresh, store_paths

ROOT = Path(__file__).resolve().parents[1]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edit(path: Path, change) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def five_defect_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("five")
    drop = base / "drop"
    generate_drop(drop)

    def packages(rows):
        rows[10]["planned_hours_per_week"] = "200"  # row 12
        rows[20]["provider_id"] = "ZZ99"  # row 22
        rows[30]["end_date"] = "2010-01-01"  # row 32, before its start

    def providers(rows):
        assert (rows[2]["provider_id"], rows[3]["provider_id"]) == ("AG03", "AG04")
        rows[3]["provider_id"] = "AG03"  # row 5 repeats row 4: AG04 is gone

    def areas(rows):
        rows[2]["ruc21"] = "RXX9"  # row 4

    _edit(drop / "packages.csv", packages)
    _edit(drop / "providers.csv", providers)
    _edit(drop / "areas.csv", areas)
    return drop


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("small")
    data_dir = base / "store"
    assert refresh(write_small_drop(base / "first"), data_dir, loaded_by="setup").accepted
    return data_dir


FIVE = [
    'areas.csv, row 4, column ruc21: "RXX9"',
    "`AG04` is referenced by 1,591 rows in 4 files but is not in providers.csv: is row 5 a duplicate of row 4?",
    'packages.csv, row 12, column planned_hours_per_week: "200"',
    'packages.csv, row 22, column provider_id: "ZZ99"',
    'packages.csv, row 32, column end_date: "2010-01-01 (before start_date',
]


def test_five_defect_drop_lists_all_five_first_in_console_markdown_and_json(
    five_defect_drop: Path, tmp_path: Path, capsys
):
    data_dir = tmp_path / "store"
    assert cli.main(["refresh", str(five_defect_drop), "--data-dir", str(data_dir)]) == 2
    out = capsys.readouterr().out
    first = out.splitlines()[:25]
    for defect in FIVE:
        assert sum(defect in line for line in first) == 1, (defect, first)
    assert "1,596 error(s) in 5 distinct defect(s)" in out
    assert len(out.splitlines()) < 25  # nothing buries them: one line per defect, not per row

    report = json.loads((store_paths(data_dir).reports / "latest.json").read_text())
    summaries = [d["summary"] for d in report["defects"]]
    assert len(summaries) == 5 and all(any(f in s for s in summaries) for f in FIVE)
    # Every error row is in exactly one defect: the repeated key and its 1,591 follow-ons are one.
    assert sum(d["rows"] for d in report["defects"]) == report["error_count"] == 1596
    grouped = next(d for d in report["defects"] if d["hint"])
    assert grouped["rows"] == 1592 and len(grouped["files"]) == 5
    assert grouped["row_ranges"]["providers.csv"] == "5"
    assert grouped["row_ranges"]["workforce.csv"].startswith("110\u2013145")
    markdown = next(store_paths(data_dir).reports.glob("*-rejected.md")).read_text()
    head = markdown.split("## Files")[0]
    assert "## 5 distinct defects" in head and all(f.replace("|", "\\|") in head for f in FIVE)
    # The same summaries, in the same order, in all three.
    assert [line for line in out.splitlines() if line.startswith("  \u2717 ")] == [f"  \u2717 {s}" for s in summaries]


def test_row_ranges_and_many_unknown_values_are_one_defect():
    assert row_ranges([9, 2, 3, 4, 11, 12]) == "2\u20134, 9, 11\u201312"
    assert row_ranges(list(range(2, 40, 2)), limit=2) == "2, 4 and 17 more range(s)"
    findings = pl.DataFrame(
        {
            "file": ["packages.csv"] * 8,
            "row": list(range(2, 10)),
            "column": ["area_code"] * 8,
            "value": [f"X{i}" for i in range(8)],
            "rule": ["reference"] * 8,
            "expected": ["an existing area_code from areas.csv"] * 8,
        },
        schema_overrides={"row": pl.Int64},
    )
    [defect] = group_defects(findings)
    assert defect["rows"] == 8 and defect["row_ranges"] == {"packages.csv": "2\u20139"}
    assert defect["summary"].startswith("8 different area_code values (e.g. `X0`, `X1`, `X2`)")


def test_header_only_packages_exits_2_and_changes_nothing(small_store: Path, tmp_path: Path, capsys):
    before = _sha(store_paths(small_store).live)

    drop = write_small_drop(tmp_path / "empty")
    (drop / "packages.csv").write_text(",".join(FILES["packages"][0]) + "\n", encoding="utf-8")  # header only
    assert cli.main(["refresh", str(drop), "--data-dir", str(small_store)]) == 2
    out = capsys.readouterr().out
    assert 'packages.csv, row 2: "the file has a header row and nothing else"' in out
    assert "at least one data row (this file is mandatory)" in out
    assert _sha(store_paths(small_store).live) == before
    assert history(small_store)[-1]["event"] == "rejected"


def _halved(folder: Path) -> Path:
    def halve(rows):
        for row in rows:
            row["planned_hours_per_week"] = str(float(row["planned_hours_per_week"]) / 2)

    return write_small_drop(folder, packages=halve)


def test_halving_the_live_hours_exits_2_unless_accepted(small_store: Path, tmp_path: Path, capsys):
    paths = store_paths(small_store)
    before = _sha(paths.live)
    drop = _halved(tmp_path / "halved")
    assert cli.main(["refresh", str(drop), "--data-dir", str(small_store)]) == 2
    out = capsys.readouterr().out
    assert "HELD" in out and "planned hours a week" in out and "(down 50%)" in out
    assert "more than 20%" in out and f"refresh {drop} --accept-shrink" in out
    assert _sha(paths.live) == before
    held = history(small_store)[-1]
    assert held["event"] == "held" and held["shrink"][1]["fall"] == 0.5

    assert cli.main(["refresh", str(drop), "--data-dir", str(small_store), "--accept-shrink", "--by", "ana"]) == 0
    out = capsys.readouterr().out
    assert "Shrink accepted" in out and "LIVE: drop" in out
    loaded = history(small_store)[-1]
    assert loaded["event"] == "refresh" and loaded["by"] == "ana" and loaded["shrink"][1]["fall"] == 0.5
    con = open_live(small_store)
    try:
        hours = con.sql("select sum(planned_hours_per_week) from stg_packages").fetchall()[0][0]
    finally:
        con.close()
    assert hours == pytest.approx(sum(float(r["planned_hours_per_week"]) for r in FILES["packages"]) / 2)
    report = json.loads((paths.reports / "latest.json").read_text())
    assert report["shrink"]["accepted_by"] == "ana"
    # A drop that shrinks by less than the share goes straight in (back up from half: no shrink at all).
    assert refresh(write_small_drop(tmp_path / "back"), small_store).accepted


def test_warnings_show_the_offending_value_not_the_area_code(tmp_path: Path):
    def areas(rows):
        rows[0]["population_65_plus"] = ""  # row 2: a warning
        rows[1]["ruc21"] = ""  # row 3: unclassified
        rows[2]["ruc21"] = "RXX9"  # row 4: an error, so not also "unclassified"

    result = validate_drop(write_small_drop(tmp_path / "drop", areas=areas))
    warnings = {(r["row"], r["rule"]): r["value"] for r in result.warnings.iter_rows(named=True)}
    assert warnings[(2, "area without population")] == "(blank)"
    assert warnings[(3, "area unclassified")] == "(blank, and ruc11 blank too)"
    assert (4, "area unclassified") not in warnings
    assert not any(v in {"W01", "W02", "W03"} for v in warnings.values())
    assert result.errors.filter(pl.col("row") == 4)["value"].to_list() == ["RXX9"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--locality", "Nowhere"], "error: no locality 'Nowhere' in the live data; localities: North, South"),
        (["--month", "2099-01"], "error: no month '2099-01' in the live data: months 2022-10 to 2025-09"),
    ],
)
def test_every_command_refuses_an_unknown_locality_or_month_alike(small_store: Path, args, message, capsys):
    store = ["--data-dir", str(small_store)]
    indicator_args = ["--as-of", "2099-01-01"] if args[0] == "--month" else args
    assert cli.main(["indicators", *indicator_args, *store]) == 2
    said = capsys.readouterr()
    assert said.out == "" and said.err.startswith(message.replace("'2099-01'", "'2099-01-01'"))
    assert cli.main(["brief", "--charts", "overview-people-waiting", "--out", "unused", *args, *store]) == 2
    assert capsys.readouterr().err.startswith(message)
    assert cli.main(["indicators", "--json", "--locality", "North", "--as-of", "2025-09-30", *store]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2025-09-30"


# -- the Data page -------------------------------------------------------------------------------


@pytest.fixture
def page_store(small_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "store"
    shutil.copytree(small_store, data_dir)
    monkeypatch.setenv("MARKET_DATA_DIR", str(data_dir))
    return data_dir


def _data_page_with(name: str, drop: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="drop_upload").set_value((name, zip_folder(drop), "application/zip")).run()
    assert not at.exception, at.exception
    return at


def test_data_page_leads_with_the_same_distinct_defects(page_store: Path, tmp_path: Path):
    def providers(rows):
        rows[1]["provider_id"] = "P1"  # row 3 repeats row 2: P2 is gone

    def packages(rows):
        rows[0]["planned_hours_per_week"] = "200"  # row 2

    drop = write_small_drop(tmp_path / "bad", providers=providers, packages=packages)
    at = _data_page_with("bad.zip", drop)
    listed = at.container(key="defects_list").markdown[-1].value
    lines = listed.splitlines()
    report = cli_report(drop)
    assert len(lines) == len(report["defects"]) == 2
    assert "P2" in listed and "is row 3 a duplicate of row 2?" in listed
    assert re.search(r"planned\\?_hours\\?_per\\?_week", listed) and '"200"' in listed
    # Every error row is in the table below too.
    errors = at.container(key="error_report").dataframe[0].value
    assert len(errors) == report["error_count"] == sum(d["rows"] for d in report["defects"])


def cli_report(drop: Path) -> dict:
    from analytics.store.snapshots import check_drop

    return check_drop(drop)[1]


def test_data_page_asks_a_second_time_before_a_shrinking_drop_goes_live(page_store: Path, tmp_path: Path):
    paths = store_paths(page_store)
    before = _sha(paths.live)
    at = _data_page_with("halved.zip", _halved(tmp_path / "halved"))
    at.button(key="confirm_drop").click().run()
    assert not at.exception, at.exception
    warning = at.container(key="shrink_confirm").warning[0].value
    assert "planned hours a week" in warning and "down 50%" in warning and "Is the fall real?" in warning
    assert _sha(paths.live) == before and history(page_store)[-1]["event"] == "held"

    at.button(key="confirm_shrink").click().run()
    assert not at.exception, at.exception
    assert any("was made live for everyone" in s.value for s in at.success)
    assert _sha(paths.live) != before
    loaded = history(page_store)[-1]
    assert loaded["event"] == "refresh" and loaded["shrink"] and loaded["by"] == local_identity(getpass.getuser())
