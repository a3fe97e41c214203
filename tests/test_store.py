"""The data store on real DuckDB files: atomic refresh, rejection, rollback, archive, audit, pseudonyms."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest
from small_drop import PERSON_IDS, write_small_drop

from analytics import cli
from analytics.store.snapshots import (
    StoreError,
    history,
    live_signature,
    market_cursor,
    open_live,
    refresh,
    rollback,
    store_paths,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _numbered_drop(folder: Path, i: int) -> Path:
    """Drop number ``i``: its manifest names it and it has 5 + i packages, so a reader can check both."""

    def more_packages(rows):
        for n in range(i):
            rows.append({**rows[0], "package_id": f"EXTRA{n}", "person_id": f"PERSON-X{n}"})

    manifest = f'as_of = 2025-09-30\ncouncil_name = "Drop {i}"\n'
    return write_small_drop(folder, manifest=manifest, packages=more_packages)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    data_dir = tmp_path / "store"
    assert refresh(write_small_drop(tmp_path / "first"), data_dir).accepted
    return data_dir


def test_refresh_then_history_lists_the_drop(store: Path, capsys):
    assert cli.main(["history", "--data-dir", str(store)]) == 0
    out = capsys.readouterr().out
    live = [e for e in history(store) if e.get("live")]
    assert len(live) == 1 and live[0]["drop_id"] in out and "(live)" in out
    con = open_live(store)
    assert con.sql("select count(*) from stg_packages").fetchall() == [(5,)]
    audit = con.sql("select drop_id, file_hashes, as_of from audit_drops").fetchall()
    assert audit[0][0] == live[0]["drop_id"] and audit[0][2] == "2025-09-30"
    assert "drop/packages.csv" in json.loads(audit[0][1])


def test_rejected_drop_leaves_live_database_byte_identical(store: Path, tmp_path: Path, capsys):
    live = store_paths(store).live
    before = (_sha(live), live.stat().st_ino)

    def broken(rows):
        rows[0]["planned_hours_per_week"] = "-1"

    bad = write_small_drop(tmp_path / "bad", packages=broken)
    assert cli.main(["refresh", str(bad), "--data-dir", str(store)]) == 2
    assert (_sha(live), live.stat().st_ino) == before
    assert 'packages.csv, row 2, column planned_hours_per_week: "-1"' in capsys.readouterr().out
    assert [e["event"] for e in history(store)] == ["refresh", "rejected"]


def test_five_defects_in_three_files_all_reported_and_nothing_changes(store: Path, tmp_path: Path, capsys):
    live = store_paths(store).live
    before = _sha(live)

    def areas(rows):
        rows[1]["ruc21"] = "RURAL"  # 1: areas.csv row 3

    def providers(rows):
        rows[0]["cqc_location_id"] = "1-ABC"  # 2: providers.csv row 2
        rows[2]["weekly_capacity_hours"] = "-3"  # 3: providers.csv row 4

    def packages(rows):
        rows[1]["end_date"] = "2024-01-01"  # 4: packages.csv row 3, before its start 2025-03-01
        rows[4]["area_code"] = "W99"  # 5: packages.csv row 6

    bad = write_small_drop(tmp_path / "bad", areas=areas, providers=providers, packages=packages)
    assert cli.main(["refresh", str(bad), "--data-dir", str(store)]) == 2
    out = capsys.readouterr().out
    expected = [
        'areas.csv, row 3, column ruc21: "RURAL"',
        'providers.csv, row 2, column cqc_location_id: "1-ABC"',
        'providers.csv, row 4, column weekly_capacity_hours: "-3"',
        'packages.csv, row 3, column end_date: "2024-01-01 (before start_date 2025-03-01)"',
        'packages.csv, row 6, column area_code: "W99"',
    ]
    for line in expected:
        assert line in out
    assert "5 error(s)" in out
    assert _sha(live) == before
    report = json.loads((store_paths(store).reports / "latest.json").read_text())
    assert report["status"] == "rejected" and report["error_count"] == 5


def test_no_original_person_id_in_the_database_bytes(store: Path):
    paths = store_paths(store)
    blobs = [paths.live.read_bytes()] + [p.read_bytes() for p in paths.reports.glob("*")]
    for pid in PERSON_IDS:
        for blob in blobs:
            assert pid.encode() not in blob
    con = open_live(store)
    pseudonyms = [r[0] for r in con.sql("select distinct person_id from stg_packages").fetchall()]
    assert all(p.startswith("p_") and len(p) == 34 for p in pseudonyms)
    # The same person (PERSON-0004 has two packages) keeps one pseudonym.
    assert len(pseudonyms) == 4


def test_raw_drop_archived_untouched_with_sha256_manifest(store: Path, tmp_path: Path):
    paths = store_paths(store)
    [folder] = list(paths.archive.iterdir())
    sums = dict(line.split("  ")[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {f"drop/{p.name}" for p in (tmp_path / "first").iterdir()}
    for rel, digest in sums.items():
        assert _sha(folder / rel) == digest == _sha(tmp_path / "first" / rel.split("/", 1)[1])


def test_rollback_restores_previous_snapshot_and_is_audited(store: Path, tmp_path: Path):
    first = next(e for e in history(store) if e.get("live"))["drop_id"]
    assert refresh(_numbered_drop(tmp_path / "second", 3), store).accepted
    assert open_live(store).sql("select count(*) from stg_packages").fetchall() == [(8,)]
    entry = rollback(store)
    assert entry["drop_id"] == first
    assert open_live(store).sql("select count(*) from stg_packages").fetchall() == [(5,)]
    assert history(store)[-1]["event"] == "rollback"
    with pytest.raises(StoreError):
        rollback(store)  # nothing earlier than the first drop


def test_shown_live_drop_id_follows_every_swap(store: Path, tmp_path: Path):
    """The Data page's remembered live drop id is read again whenever a refresh or rollback swaps a file in."""
    from analytics.store.snapshots import live_drop_id, shown_live_drop_id

    paths = store_paths(store)
    first = shown_live_drop_id(paths)
    assert first == live_drop_id(paths)
    assert refresh(_numbered_drop(tmp_path / "second", 3), store).accepted
    second = shown_live_drop_id(paths)
    assert second != first and second == live_drop_id(paths)
    assert [e["drop_id"] for e in history(store) if e.get("live")] == [second]
    rollback(store)
    assert shown_live_drop_id(paths) == first == live_drop_id(paths)
    assert refresh(_numbered_drop(tmp_path / "third", 4), store).accepted
    assert shown_live_drop_id(paths) == live_drop_id(paths) not in (first, second)


def test_only_the_last_n_snapshots_are_kept(tmp_path: Path, monkeypatch):
    from analytics import config

    monkeypatch.setitem(config.settings()["store"], "keep_snapshots", 2)
    data_dir = tmp_path / "store"
    for i in range(5):
        assert refresh(_numbered_drop(tmp_path / f"d{i}", i), data_dir).accepted
    kept = sorted(p.stem for p in store_paths(data_dir).snapshots.glob("*.duckdb"))
    refreshes = [e["drop_id"] for e in history(data_dir) if e["event"] == "refresh"]
    assert kept == refreshes[-3:]


def test_reader_never_sees_a_mix_across_20_refreshes_and_a_rollback(tmp_path: Path):
    data_dir = tmp_path / "store"
    assert refresh(_numbered_drop(tmp_path / "d0", 0), data_dir).accepted
    stop = threading.Event()
    seen: set[str] = set()
    problems: list[str] = []

    def reader() -> None:
        signature, con = None, None
        while not stop.is_set():
            try:
                current = live_signature(data_dir)
                if current != signature:
                    signature, con = current, open_live(data_dir)
                name, packages = (
                    market_cursor(con)
                    .sql("select council_name, (select count(*) from stg_packages) from meta_drop")
                    .fetchall()[0]
                )
                i = int(name.split()[-1])
                if packages != 5 + i:
                    problems.append(f"{name} has {packages} packages")
                seen.add(name)
                time.sleep(0.005)
            except Exception as exc:  # noqa: BLE001 - any error is a failure of the test
                problems.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(1, 21):
            assert refresh(_numbered_drop(tmp_path / f"d{i}", i), data_dir).accepted
        rollback(data_dir)
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert len(seen) >= 5  # the reader really followed the swaps
    con = open_live(data_dir)
    assert con.sql("select council_name from meta_drop").fetchall() == [("Drop 19",)]


def test_zip_drop_refresh_and_validate_exit_codes(tmp_path: Path, capsys):
    import zipfile

    drop = write_small_drop(tmp_path / "drop")
    archive = tmp_path / "drop.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in drop.iterdir():
            zf.write(path, path.name)
    data_dir = tmp_path / "store"
    assert cli.main(["validate", str(archive), "--data-dir", str(data_dir)]) == 0
    assert not store_paths(data_dir).live.exists()  # validate loads nothing
    assert cli.main(["refresh", str(archive), "--data-dir", str(data_dir)]) == 0
    [folder] = list(store_paths(data_dir).archive.iterdir())
    assert _sha(folder / "drop.zip") == _sha(archive)
    assert cli.main(["refresh", str(tmp_path / "missing"), "--data-dir", str(data_dir)]) == 1
