"""Staging uploaded files into a drop folder: size limit, file types, names, zips that try to escape."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from small_drop import write_small_drop

from analytics.ingest.upload import (
    ALLOWED_SUFFIXES,
    UploadError,
    discard,
    filter_issues,
    issue_counts,
    prune_uploads,
    safe_name,
    stage_upload,
    uploader_types,
)
from analytics.store.snapshots import check_drop


def _zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _drop_files(tmp_path: Path) -> dict[str, bytes]:
    folder = write_small_drop(tmp_path / "src")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _uploads(data_dir: Path) -> list[Path]:
    base = data_dir / "uploads"
    return sorted(base.iterdir()) if base.exists() else []


def test_loose_files_are_staged_as_a_valid_drop_folder(tmp_path: Path):
    files = _drop_files(tmp_path)
    staged = stage_upload(files.items(), tmp_path / "data")
    assert staged.folder.parent.parent == tmp_path / "data" / "uploads"
    assert sorted(staged.names) == sorted(files)
    assert (staged.folder / "packages.csv").read_bytes() == files["packages.csv"]
    assert (staged.root / "upload.json").exists()  # metadata beside, not inside, the drop folder
    result, report = check_drop(staged.folder)
    assert result.ok and report["status"] == "valid"


def test_a_zip_is_unpacked_keeping_sub_folders(tmp_path: Path):
    files = _drop_files(tmp_path)
    data = _zip({f"October drop/{name}": content for name, content in files.items()} | {"__MACOSX/._x": b"junk"})
    staged = stage_upload([("october.zip", data)], tmp_path / "data")
    assert staged.folder.name == "october"
    assert (staged.folder / "October drop" / "areas.csv").read_bytes() == files["areas.csv"]
    assert not (staged.folder / "__MACOSX").exists()
    assert check_drop(staged.folder)[0].ok


def test_size_limit(tmp_path: Path):
    with pytest.raises(UploadError, match="more than the limit"):
        stage_upload([("packages.csv", b"x" * 2000)], tmp_path / "data", max_bytes=1000)
    assert _uploads(tmp_path / "data") == []


def test_zip_that_unpacks_too_large_is_refused(tmp_path: Path):
    bomb = _zip({"packages.csv": b"0" * 2_000_000})  # compresses to a few kB: 1,000 to 1
    assert len(bomb) < 5_000
    with pytest.raises(UploadError, match=r"max_compression_ratio in config.toml"):
        stage_upload([("bomb.zip", bomb)], tmp_path / "data")
    assert _uploads(tmp_path / "data") == []


@pytest.mark.parametrize("name", ["report.exe", "macro.xlsm", "notes.docx", "README"])
def test_bad_extension_is_refused(tmp_path: Path, name: str):
    with pytest.raises(UploadError, match="can't be part of a drop"):
        stage_upload([("areas.csv", b"a\n"), (name, b"x")], tmp_path / "data")
    assert _uploads(tmp_path / "data") == []


def test_bad_extension_inside_a_zip_is_refused(tmp_path: Path):
    with pytest.raises(UploadError, match=r"drop\.zip › run\.sh"):
        stage_upload([("drop.zip", _zip({"areas.csv": b"a\n", "run.sh": b"rm -rf /"}))], tmp_path / "data")


@pytest.mark.parametrize(
    "member", ["../evil.csv", "drop/../../evil.csv", "/etc/evil.csv", "C:/evil.csv", "..\\evil.csv"]
)
def test_zip_with_path_traversal_is_refused(tmp_path: Path, member: str):
    data_dir = tmp_path / "data"
    with pytest.raises(UploadError, match="not allowed"):
        stage_upload([("drop.zip", _zip({"areas.csv": b"a\n", member: b"x"}))], data_dir)
    assert _uploads(data_dir) == []
    assert not (tmp_path / "evil.csv").exists() and not (data_dir / "evil.csv").exists()


def test_zip_with_a_symlink_or_a_nested_zip_is_refused(tmp_path: Path):
    with pytest.raises(UploadError, match="link"):
        stage_upload([("drop.zip", _zip({"areas.csv": b"a\n"}, symlink="providers.csv"))], tmp_path / "data")
    with pytest.raises(UploadError, match="zip inside a zip"):
        stage_upload([("drop.zip", _zip({"inner.zip": _zip({"a.csv": b"a"})}))], tmp_path / "data")


def test_zip_plus_loose_files_or_nothing_is_refused(tmp_path: Path):
    with pytest.raises(UploadError, match="either one .zip"):
        stage_upload([("drop.zip", _zip({"areas.csv": b"a\n"})), ("providers.csv", b"p\n")], tmp_path / "data")
    with pytest.raises(UploadError, match="Nothing was uploaded"):
        stage_upload([], tmp_path / "data")
    with pytest.raises(UploadError, match="not a readable zip"):
        stage_upload([("drop.zip", b"not a zip")], tmp_path / "data")


def test_names_are_sanitised(tmp_path: Path):
    assert safe_name("../../etc/providers.csv") == "providers.csv"
    assert safe_name("C:\\Users\\me\\Desktop\\packages.csv") == "packages.csv"
    assert safe_name("pro<vi>ders£.csv") == "pro_vi_ders_.csv"
    assert safe_name(".hidden.csv") == "hidden.csv"
    with pytest.raises(UploadError):
        safe_name("../..")
    staged = stage_upload([("../../areas.csv", b"a\n"), ("C:\\temp\\providers.csv", b"p\n")], tmp_path / "data")
    assert sorted(staged.names) == ["areas.csv", "providers.csv"]
    assert all(p.parent == staged.folder for p in staged.folder.iterdir())


def test_two_files_with_the_same_name_are_refused(tmp_path: Path):
    with pytest.raises(UploadError, match="both be saved"):
        stage_upload([("a/areas.csv", b"a\n"), ("b/Areas.csv", b"a\n")], tmp_path / "data")


def test_allowed_types_are_the_contracts_plus_zip():
    assert {".csv", ".xlsx", ".parquet", ".toml", ".json", ".yaml", ".yml", ".geojson"} <= set(ALLOWED_SUFFIXES)
    assert "zip" in uploader_types() and "exe" not in uploader_types()


def test_discard_and_prune_only_touch_staging_folders(tmp_path: Path):
    data_dir = tmp_path / "data"
    staged = stage_upload([("areas.csv", b"a\n")], data_dir)
    assert discard(staged.folder, data_dir) and not staged.root.exists()
    assert not discard(data_dir, data_dir) and data_dir.exists()  # never outside uploads/
    old = stage_upload([("areas.csv", b"a\n")], data_dir)
    past = time.time() - 2 * 24 * 3600
    os.utime(old.root, (past, past))
    fresh = stage_upload([("areas.csv", b"a\n")], data_dir, now=datetime.now() + timedelta(seconds=1))
    assert not old.root.exists() and fresh.root.exists()  # staging a new upload prunes stale ones
    assert prune_uploads(data_dir, older_than=timedelta(0), now=datetime.now() + timedelta(minutes=1)) == [
        fresh.root.name
    ]


def test_issue_filters_and_counts():
    frame = pl.DataFrame(
        {
            "file": ["a.csv", "a.csv", "b.csv"],
            "row": [2, 3, 2],
            "column": ["x", "y", "x"],
            "value": ["1", "2", "3"],
            "rule": ["type", "range", "type"],
            "expected": ["n", "n", "n"],
        }
    )
    assert filter_issues(frame).height == 3
    assert filter_issues(frame, files=["a.csv"]).height == 2
    assert filter_issues(frame, files=["a.csv"], rules=["type"])["row"].to_list() == [2]
    assert issue_counts(frame).rows() == [("a.csv", "range", 1), ("a.csv", "type", 1), ("b.csv", "type", 1)]
    assert issue_counts(frame.head(0)).is_empty()
