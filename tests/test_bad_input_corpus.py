"""The bad-input corpus (``tests/bad_inputs.py``): every case refused in plain English, nothing leaked.

Each case is loaded with ``python -m analytics refresh`` (run in-process through ``analytics.cli.main``)
into a store holding the small drop. Checked for every case: the exit code (2 refused, 0 accepted),
no traceback and no parser jargon in the output, the expected phrase in the output, no original
person id in the output, the new report files or the audit log, the attempt audited, and the
live database byte-identical after a refusal. For an accepted case every column of every table
of the new snapshot is searched by query for the ids. The table of case, expected and observed is
printed in the terminal summary (``conftest.pytest_terminal_summary``).
"""

from __future__ import annotations

import hashlib
import io
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest
from bad_inputs import CASES, ROWS, Case
from small_drop import PERSON_IDS, write_small_drop

from analytics.cli import main
from analytics.store.snapshots import read_audit, refresh, store_paths

JARGON = ("Traceback", "truncate_ragged_lines", "ComputeError", "polars", "infer_schema", "Consider setting", "yaml.")


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _ids_in(text: str) -> list[str]:
    return [i for i in PERSON_IDS if i in text]


def ids_in_snapshot(path: Path) -> list[str]:
    """Return ``table.column`` for every column of every table of the snapshot holding an original id."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS snap (READ_ONLY)", [str(path)])
        columns = con.sql(
            "select table_name, column_name from information_schema.columns where table_catalog = 'snap'"
        ).fetchall()
        pattern = "|".join(PERSON_IDS)
        found = []
        for table, column in columns:
            hits = con.sql(
                f'select count(*) from snap.main."{table}" where regexp_matches(cast("{column}" as varchar), ?)',
                params=[pattern],
            ).fetchall()[0][0]
            if hits:
                found.append(f"{table}.{column}")
        return found
    finally:
        con.close()


@pytest.fixture(scope="module")
def live_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("corpus-store")
    assert refresh(write_small_drop(data_dir.parent / "corpus-first"), data_dir, loaded_by="setup").accepted
    return data_dir


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, live_store: Path, tmp_path: Path, pytestconfig: pytest.Config):
    source = case.build(tmp_path)
    data_dir = live_store if case.expected == "refused" else tmp_path / "store"
    paths = store_paths(data_dir)
    before = _sha(paths.live)
    reports_before = set(paths.reports.glob("*")) if paths.reports.exists() else set()
    events_before = len(read_audit(paths))
    out = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(out):
        try:
            code = main(["refresh", str(source), "--data-dir", str(data_dir), "--by", "corpus"])
        except BaseException:  # noqa: BLE001 - recorded as a traceback, the worst outcome
            traceback.print_exc(file=out)
            code = None
    seconds = time.perf_counter() - started
    text = out.getvalue()
    reports = "".join(p.read_text(encoding="utf-8") for p in set(paths.reports.glob("*")) - reports_before)
    audit = paths.audit_log.read_text(encoding="utf-8") if paths.audit_log.exists() else ""
    observed = {2: "refused", 0: "accepted"}.get(code, f"exit {code}")

    problems = []
    if observed != case.expected:
        problems.append(f"expected {case.expected}, got {observed}")
    jargon = [j for j in JARGON if j in text or j in reports]
    if jargon:
        problems.append(f"jargon/traceback: {jargon}")
    if case.says.lower() not in text.lower():
        problems.append(f"output lacks {case.says!r}")
    leaked = _ids_in(text) + _ids_in(reports) + _ids_in(audit)
    if case.expected == "accepted" and paths.live.exists():
        leaked += ids_in_snapshot(paths.live)
    if leaked:
        problems.append(f"raw ids: {sorted(set(leaked))}")
    live_changed = case.expected == "refused" and _sha(paths.live) != before
    if live_changed:
        problems.append("live database changed")
    events = read_audit(paths)[events_before:]
    if not events or events[-1]["event"] not in ("rejected", "refresh"):
        problems.append(f"not audited: {[e['event'] for e in events]}")
    message = next((line.strip(" ✗") for line in text.splitlines() if line.strip().startswith("✗")), "")
    pytestconfig.stash.setdefault(ROWS, []).append(
        {
            "case": case.name,
            "expected": case.expected,
            "observed": observed,
            "seconds": seconds,
            "message": message,
            "problems": problems,
            "traceback": "Traceback" in text,
            "ids": bool(leaked),
            "live_changed": live_changed,
        }
    )
    assert not problems, f"{case.name}: {problems}\n{text[-2000:]}"


def test_corpus_is_large_and_live_snapshot_holds_no_ids(live_store: Path):
    """At least 60 cases; after them all, no table of the live snapshot holds an original id."""
    assert len(CASES) >= 60
    assert ids_in_snapshot(store_paths(live_store).live) == []
