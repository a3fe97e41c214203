"""Files under the data directory are owner-only: 0600 files (0400 for the read-only raw archive),
0700 folders. Checked on a store made by a refresh, a rejected drop, a rollback and a staged upload,
with a permissive umask so the modes come from the code, not the environment."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from small_drop import write_small_drop

from analytics.ingest import upload
from analytics.store.snapshots import refresh, rollback


def _bad(folder: Path) -> Path:
    def packages(rows):
        rows[0]["planned_hours_per_week"] = "lots"

    return write_small_drop(folder, packages=packages)


def test_everything_under_the_data_directory_is_owner_only(tmp_path: Path):
    old = os.umask(0o002)  # as on a shared server: group and others would otherwise read
    try:
        data_dir = tmp_path / "store"
        assert refresh(write_small_drop(tmp_path / "first"), data_dir, loaded_by="a").accepted
        assert refresh(write_small_drop(tmp_path / "second"), data_dir, loaded_by="a").accepted
        assert not refresh(_bad(tmp_path / "bad"), data_dir, loaded_by="a").accepted
        rollback(data_dir, by="a")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for path in sorted((tmp_path / "first").iterdir()):
                archive.write(path, f"sub/{path.name}")
        upload.stage_upload([("drop.zip", buf.getvalue())], data_dir)
    finally:
        os.umask(old)

    found = {p.relative_to(data_dir).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in data_dir.rglob("*")}
    kinds = {"archive", "SHA256SUMS", "reports", "audit.jsonl", "market.duckdb", "snapshots", "uploads"}
    assert all(any(k in rel for rel in found) for k in kinds), sorted(found)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    loose = {rel: oct(mode) for rel, mode in found.items() if mode & 0o077}
    assert loose == {}, loose  # nothing readable, writable or listable by group or others
    for rel, mode in found.items():
        path = data_dir / rel
        if path.is_dir():
            assert mode == 0o700, rel
        elif rel.startswith("archive/") and not rel.endswith("SHA256SUMS"):
            assert mode == 0o400, rel  # the raw drop as received: read-only
        else:
            assert mode == 0o600, rel
