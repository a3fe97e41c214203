"""The Data page in Streamlit's AppTest: upload a drop, see its check, confirm it, see what changed, roll back.

Each test builds a small store in ``tmp_path`` (tests/small_drop.py) and points ``MARKET_DATA_DIR``
at it with ``monkeypatch`` (restored afterwards). AppTest feeds uploads through
``at.file_uploader(key="drop_upload").set_value((name, bytes, mime))``. The Data page is not the
default page, so ``at.switch_page("pages/data.py")`` then driving widgets reruns it as a browser would.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from builders_support import zip_folder
from small_drop import loaded_small_store, write_small_drop
from streamlit.testing.v1 import AppTest

from analytics.access import local_identity
from analytics.indicators.headline import headline_from_store
from analytics.store.snapshots import history, live_drop_id, market_cursor, open_live, refresh, store_paths

ROOT = Path(__file__).resolve().parents[1]
ME = local_identity(getpass.getuser())  # who the audit log names at a local dashboard without sign-in


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _staged(data_dir: Path) -> list[Path]:
    """Staging folders left under ``<data_dir>/uploads`` (they hold raw identifiers, so should not linger)."""
    folder = data_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def _people_in_service(data_dir: Path) -> int:
    con = open_live(data_dir)
    try:
        return headline_from_store(market_cursor(con))["people_in_service"]
    finally:
        con.close()


def _bad_drop(folder: Path) -> Path:
    def packages(rows):
        rows[0]["planned_hours_per_week"] = "lots"  # packages.csv row 2: not a number
        rows[3]["provider_id"] = "NOPE"  # packages.csv row 5: no such provider

    return write_small_drop(folder, packages=packages)


def _good_drop(folder: Path) -> Path:
    def packages(rows):
        new = {"package_id": "K9", "person_id": "PERSON-0099", "start_date": "2025-09-15"}
        rows.append({**rows[0], **new})  # one more person in service on 30 September

    return write_small_drop(folder, packages=packages)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = loaded_small_store(tmp_path)
    monkeypatch.setenv("MARKET_DATA_DIR", str(folder))
    return folder


def _data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str = "application/zip") -> AppTest:
    at.file_uploader(key="drop_upload").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, *columns: str):
    """Return the first dataframe on the page holding all ``columns``."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


def test_a_bad_drop_shows_its_errors_and_changes_nothing(data_dir: Path, tmp_path: Path):
    live = store_paths(data_dir).live
    before_sha, before_events = _sha(live), len(history(data_dir))
    at = _data_page()
    _upload(at, "bad.zip", zip_folder(_bad_drop(tmp_path / "bad")))

    assert any("can't be loaded" in e.value and "Nothing has changed" in e.value for e in at.error)
    errors = at.container(key="error_report").dataframe[0].value
    found = {(r.file, r.row, r.column) for r in errors.itertuples()}
    assert found == {("packages.csv", 2, "planned_hours_per_week"), ("packages.csv", 5, "provider_id")}
    assert at.metric[0].label == "Errors" and at.metric[0].value == "2"

    # Filter by rule, then by file.
    at.multiselect(key="errors_rules").select("reference").run()
    errors = at.container(key="error_report").dataframe[0].value
    assert errors["rule"].tolist() == ["reference"] and errors["row"].tolist() == [5]
    at.multiselect(key="errors_rules").unselect("reference").run()
    at.multiselect(key="errors_files").select("packages.csv").run()
    assert len(at.container(key="error_report").dataframe[0].value) == 2

    # Downloadable as Markdown and JSON.
    keys = {b.key for b in at.download_button}
    assert {"report_md", "report_json"} <= keys

    # The confirm step is offered but disabled.
    assert at.button(key="confirm_drop").disabled

    assert _sha(live) == before_sha  # the live file is byte for byte the same
    events = history(data_dir)  # the refused upload is audited, with who uploaded it
    assert len(events) == before_events + 1 and events[-1]["event"] == "upload rejected"
    assert events[-1]["by"] == ME and events[-1]["errors"] == 2
    assert _staged(data_dir) == []  # the rejected upload is not kept


def test_a_good_drop_confirmed_goes_live_and_changes_the_figures(data_dir: Path, tmp_path: Path):
    live = store_paths(data_dir).live
    first_id, people_before = live_drop_id(store_paths(data_dir)), _people_in_service(data_dir)
    before_sha = _sha(live)
    overview = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()  # Overview is the default
    tiles_before = {m.label: m.value for m in overview.metric}
    assert tiles_before["People receiving care"] == str(people_before)
    at = _data_page()
    _upload(at, "october.zip", zip_folder(_good_drop(tmp_path / "good")))

    assert any("passed every check" in s.value for s in at.success)
    assert _sha(live) == before_sha  # checked, not loaded: nothing changes until the analyst confirms

    assert not at.button(key="confirm_drop").disabled
    at.button(key="confirm_drop").click().run()
    assert not at.exception, at.exception

    assert any("was made live for everyone" in s.value and ME in s.value for s in at.success)
    assert _sha(live) != before_sha
    assert _people_in_service(data_dir) == people_before + 1
    loaded = [e for e in history(data_dir) if e["event"] == "refresh"]
    assert loaded[-1]["by"] == ME and loaded[-1]["source"] == "october" and loaded[-1]["live"]
    assert loaded[-1]["drop_id"] != first_id

    # What changed: one package added, and people in service up by one.
    files = _table(at, "rows_before", "added")
    packages = files[files["file"] == "packages"].iloc[0]
    assert (packages["added"], packages["removed"], packages["changed"]) == (1, 0, 0)
    headline = _table(at, "measure", "before", "after")
    row = headline[headline["measure"] == "People receiving care"].iloc[0]
    assert (row["before"], row["after"]) == (str(people_before), str(people_before + 1))
    # History names who loaded it.
    audit = _table(at, "event", "by", "drop_id")
    assert audit.iloc[0]["by"] == ME and audit.iloc[0]["event"] == "loaded"
    assert _staged(data_dir) == []  # the archive keeps the drop; staging is cleared

    # The Overview shows the new figures.
    at.switch_page("pages/overview.py").run()
    assert not at.exception, at.exception
    tiles_after = {m.label: m.value for m in at.metric}
    assert tiles_after["People receiving care"] == str(people_before + 1)
    assert tiles_after != tiles_before


def test_rollback_from_the_page_asks_for_confirmation(data_dir: Path, tmp_path: Path):
    first_id = live_drop_id(store_paths(data_dir))
    assert refresh(_good_drop(tmp_path / "second"), data_dir, loaded_by="setup").accepted
    second_id = live_drop_id(store_paths(data_dir))
    live = store_paths(data_dir).live
    at = _data_page()

    at.button(key="rollback").click().run()
    assert any("Are you sure?" in w.value for w in at.warning)
    assert live_drop_id(store_paths(data_dir)) == second_id  # asking changes nothing

    at.button(key="rollback_cancel").click().run()
    assert not any("Are you sure?" in w.value for w in at.warning)
    assert live_drop_id(store_paths(data_dir)) == second_id

    sha = _sha(live)
    at.button(key="rollback").click().run()
    at.button(key="rollback_confirm").click().run()
    assert not at.exception, at.exception
    assert live_drop_id(store_paths(data_dir)) == first_id
    assert _sha(live) != sha
    assert any("Rolled back" in s.value and ME in s.value for s in at.success)
    last = history(data_dir)[-1]
    assert last["event"] == "rollback" and last["by"] == ME and last["drop_id"] == first_id
    audit = _table(at, "event", "by", "drop_id")
    assert audit.iloc[0]["event"] == "rolled back"


def test_an_unsafe_or_broken_upload_is_refused(data_dir: Path):
    # The browser only offers the contract's types (Streamlit also refuses others server-side), so a
    # wrong type can only arrive inside a zip; analytics.ingest.upload checks every member.
    before = _sha(store_paths(data_dir).live)
    at = _data_page()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("areas.csv", "area_code,area_name\nW01,Abbey\n")
        archive.writestr("setup.exe", b"MZ")
    _upload(at, "drop.zip", buf.getvalue())
    assert any("can't be used" in e.value and "setup.exe" in e.value for e in at.error)
    assert "confirm_drop" not in {b.key for b in at.button}
    _upload(at, "other.zip", b"PK\x03\x04 not really a zip")
    assert any("not a readable zip" in e.value for e in at.error)
    assert _sha(store_paths(data_dir).live) == before
    assert _staged(data_dir) == []


def test_the_page_without_data_offers_the_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MARKET_DATA_DIR", str(tmp_path / "empty"))
    at = _data_page()
    assert any("No data has been loaded yet" in w.value for w in at.warning)
    _upload(at, "first.zip", zip_folder(_good_drop(tmp_path / "good")))
    at.button(key="confirm_drop").click().run()
    assert not at.exception, at.exception
    assert live_drop_id(store_paths(tmp_path / "empty")) is not None
    report = json.loads((sorted((tmp_path / "empty" / "reports").glob("*-accepted.json"))[-1]).read_text())
    assert report["status"] == "accepted"
