"""No debris and no silent failure: killed refreshes are cleaned up at start-up; a full disk is audited.

A refresh is killed with SIGKILL at each of its steps (10 kills), then the store is opened again
(``recover``, which refresh, rollback, validate and the Data page's upload check all run first).
Afterwards the data directory holds no temporary file and no archived drop or snapshot without
an audit entry. A refresh that runs out of disk (``RLIMIT_FSIZE`` in a child process: writes beyond
it fail with EFBIG like a full disk) is audited as failed and leaves no partial archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from small_drop import write_small_drop

from analytics.ingest.limits import DropRefused
from analytics.ingest.sandbox import check_isolated
from analytics.store.snapshots import read_audit, recover, refresh, store_paths

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("Archiving the raw drop", "Building the snapshot", "Swapping in the new snapshot", "Done", "Building marts")
"""Where each kill lands (the last one mid-build, so the final restart has something to clean)."""

CHILD = """
import resource, signal, sys
from analytics.store.snapshots import refresh
if len(sys.argv) > 3:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    cap = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
def progress(step, fraction):
    print(step, flush=True)
try:
    refresh(sys.argv[1], sys.argv[2], loaded_by="child", progress=progress)
except OSError as exc:
    print("OSError", exc.errno, flush=True)
    sys.exit(1)
except Exception as exc:
    print("failed", type(exc).__name__, flush=True)
    sys.exit(1)
"""


ZYGOTE = """
import os, sys
from analytics.store import snapshots  # imported once; each refresh runs in a fresh fork of this process
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        def progress(step, fraction):
            print(os.getpid(), step, flush=True)
        try:
            snapshots.refresh(sys.argv[1], sys.argv[2], loaded_by="child", progress=progress)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    print(pid, "reaped", flush=True)
"""


def _child(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )


def _debris(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".building-*")) + sorted(p.name for p in root.glob(".rollback-*"))


def _unaudited(root: Path) -> list[str]:
    paths = store_paths(root)
    audited = {e["drop_id"] for e in read_audit(paths) if e["event"] == "refresh"}
    archives = [f"archive/{p.name}" for p in paths.archive.glob("*") if p.name not in audited]
    snaps = [f"snapshots/{p.name}" for p in paths.snapshots.glob("*") if p.name.split(".")[0] not in audited]
    return archives + snaps


def test_ten_sigkills_during_refreshes_leave_nothing_after_restart(tmp_path: Path):
    data_dir = tmp_path / "store"
    drop = write_small_drop(tmp_path / "drop")
    assert refresh(drop, data_dir, loaded_by="setup").accepted
    left_behind = []
    zygote = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE, str(drop), str(data_dir)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        for kill in range(10):
            step = STEPS[kill % len(STEPS)]
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            said = ""
            for line in zygote.stdout:
                pid, _, said = line.strip().partition(" ")
                if said == step:
                    time.sleep(0.05 * (kill // len(STEPS)))  # the second round kills a moment later
                    with contextlib.suppress(ProcessLookupError):  # it may have just finished
                        os.kill(int(pid), signal.SIGKILL)
                if said in (step, "reaped"):
                    break
            while said != "reaped":  # wait until the killed refresh is reaped
                line = zygote.stdout.readline()
                assert line, "the refresh process ended unexpectedly"
                said = line.strip().partition(" ")[2]
            left_behind += _debris(data_dir) + _unaudited(data_dir)
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=30)
    assert left_behind, "no kill left anything behind: the test did not hit a refresh mid-way"

    removed = recover(store_paths(data_dir))  # the restart: what every command does first

    assert _debris(data_dir) == []
    assert _unaudited(data_dir) == []
    assert removed and read_audit(store_paths(data_dir))[-1]["event"] == "recovered"
    # Each refresh started after a kill cleaned up after the one before, and said so in the audit log.
    assert sum(e["event"] == "recovered" for e in read_audit(store_paths(data_dir))) >= 5
    # The store still works: a new refresh goes live and is audited.
    outcome = refresh(drop, data_dir, loaded_by="after")
    assert outcome.accepted and _unaudited(data_dir) == [] and _debris(data_dir) == []


def test_full_disk_is_audited_and_leaves_no_partial_archive(tmp_path: Path):
    data_dir = tmp_path / "store"
    drop = write_small_drop(tmp_path / "drop")
    assert refresh(drop, data_dir, loaded_by="setup").accepted
    live = store_paths(data_dir).live
    before = hashlib.sha256(live.read_bytes()).hexdigest()
    child = _child(str(drop), str(data_dir), str(256 * 1024))  # no file may grow past 256 KB
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 1, out
    events = read_audit(store_paths(data_dir))
    assert events[-1]["event"] == "failed" and "write" in events[-1]["reason"].lower(), events[-1]
    assert _unaudited(data_dir) == [] and _debris(data_dir) == []
    assert hashlib.sha256(live.read_bytes()).hexdigest() == before


def test_a_check_that_needs_more_memory_than_its_limit_is_refused(tmp_path: Path):
    drop = write_small_drop(tmp_path / "drop")
    assert check_isolated(drop)[0]  # within the configured limit it passes
    with pytest.raises(DropRefused, match=r"more than 200 MB of memory \(\[limits\] check_memory_mb"):
        check_isolated(drop, memory_mb=200)  # a Python with Polars alone needs more


def test_refused_attempts_are_audited_with_their_reason(tmp_path: Path):
    data_dir = tmp_path / "store"
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    outcome = refresh(tmp_path / "bad.zip", data_dir, loaded_by="ann")
    assert not outcome.accepted
    event = read_audit(store_paths(data_dir))[-1]
    assert event["event"] == "rejected" and "not a readable zip" in event["reason"] and event["by"] == "ann"
    assert json.loads((store_paths(data_dir).reports / "latest.json").read_text())["status"] == "rejected"
