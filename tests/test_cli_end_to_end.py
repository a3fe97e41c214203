"""The commands exactly as the README gives them, in fresh processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_demo_refresh_history_indicators(tmp_path: Path):
    drop, store = tmp_path / "D", tmp_path / "S"
    assert _run("demo", "--out", str(drop)).returncode == 0
    refreshed = _run("refresh", str(drop), "--data-dir", str(store))
    assert refreshed.returncode == 0, refreshed.stderr
    assert "LIVE: drop" in refreshed.stdout
    drop_id = refreshed.stdout.split("LIVE: drop ")[1].split()[0]
    listed = _run("history", "--data-dir", str(store))
    assert listed.returncode == 0 and f"{drop_id} (live)" in listed.stdout
    figures = json.loads(_run("indicators", "--json", "--data-dir", str(store)).stdout)
    assert figures["as_of"] == "2026-10-31"
    assert figures["people_in_service"] > 1000


def test_rejected_drop_exits_2_and_unknown_path_exits_1(tmp_path: Path):
    drop = tmp_path / "D"
    assert _run("demo", "--out", str(drop)).returncode == 0
    areas = (drop / "areas.csv").read_text().splitlines()
    areas[1] = areas[1].replace("ND-W01", "ND-W02", 1)  # duplicate area code in row 2
    (drop / "areas.csv").write_text("\n".join(areas) + "\n")
    rejected = _run("validate", str(drop), "--data-dir", str(tmp_path / "S"))
    assert rejected.returncode == 2
    assert "areas.csv, row" in rejected.stdout and "column area_code" in rejected.stdout
    assert _run("refresh", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "S")).returncode == 1
