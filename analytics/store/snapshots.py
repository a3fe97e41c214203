"""The data store: snapshots built whole, swapped in atomically, archived, audited, rolled back.

Layout of a data store folder (``--data-dir``, ``MARKET_DATA_DIR``, default ``data/``)::

    market.duckdb              the live snapshot every reader opens (read-only)
    snapshots/<drop_id>.duckdb the last N accepted snapshots (hard links, so no extra space)
    archive/<drop_id>/         the raw drop exactly as received + SHA256SUMS + drop.json
    reports/                   validation reports of accepted and rejected drops
    audit.jsonl                one JSON line per attempt: refresh, rejected, failed, rollback,
                               upload rejected, recovered
    pictures/<drop_id>/        chart pictures drawn for downloads and briefing packs, kept per
                               snapshot (``analytics.publish.pictures``; safe to delete)

A refresh validates the whole drop first; a rejected drop touches nothing but ``reports/``
and ``audit.jsonl``. A valid drop that would shrink the live people in service or planned hours
a week by more than ``[store] shrink_confirm_share`` is *held* (audited as ``held``, nothing else
changes) unless the caller accepts the shrink (``refresh(..., accept_shrink=True)``: the CLI's
``--accept-shrink``, the Data page's second confirm); an accepted shrink is audited with the
``refresh`` entry (``shrink``). An accepted drop is written to a new DuckDB file (staged ``stg_*``
tables, ``meta_*`` tables, derived ``mart_*`` tables), checkpointed, fsynced and swapped
over ``market.duckdb`` with ``os.replace``: readers see the old drop or the new one, never
half of each. Readers open the live file through ``open_live`` (a fresh in-memory DuckDB
instance with the file ATTACHed read-only) and re-open when ``live_signature`` changes.

Start-up (``recover``: every refresh, rollback, upload check and CLI command) cleans what an
interrupted refresh left behind: ``.building-*`` and ``.rollback-*`` files, and archived drops
and snapshots with no audit entry. A refresh that fails after validation (a full disk, say)
removes its partial archive and is audited as ``failed``.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from analytics.config import default_data_dir, resolve_path, settings
from analytics.contract import CONTRACT, CONTRACT_VERSION
from analytics.ingest import sandbox, upload
from analytics.ingest.drop_reader import ROW_COLUMN, RawDrop, open_drop, sha256_file
from analytics.ingest.geometry import display_boundaries
from analytics.ingest.limits import DropRefused
from analytics.ingest.private import DIR_MODE, READ_ONLY_MODE, private_dir, private_file, write_private_text
from analytics.ingest.pseudonymise import load_or_create_key, pseudonym_map, pseudonymise_with
from analytics.ingest.report import report_dict, write_reports
from analytics.ingest.staged import Staged, write_frame
from analytics.ingest.validation import ValidationResult, refused, validate

Progress = Callable[[str, float], None]


class StoreError(RuntimeError):
    """A data store operation that cannot go ahead (no snapshot to roll back to, a refresh running...)."""


class _InStore:
    """A fixed path inside the store folder: on a ``StorePaths``, ``root / name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, paths: StorePaths, owner: type | None = None) -> Path:
        return paths.root / self.name


@dataclass(frozen=True)
class StorePaths:
    """Every path inside one data store folder."""

    root: Path

    snapshots = _InStore("snapshots")
    archive = _InStore("archive")
    reports = _InStore("reports")
    audit_log = _InStore("audit.jsonl")
    lock = _InStore(".refresh.lock")

    @property
    def live(self) -> Path:
        return self.root / settings()["store"]["live_db_name"]

    def snapshot(self, drop_id: str) -> Path:
        return self.snapshots / f"{drop_id}.duckdb"


def store_paths(data_dir: Path | str | None = None) -> StorePaths:
    """Return the paths of the data store at ``data_dir`` (default: config / ``MARKET_DATA_DIR``)."""
    root = resolve_path(data_dir) if data_dir is not None else default_data_dir()
    return StorePaths(root)


@dataclass
class RefreshOutcome:
    """What a refresh did: accepted or not, the drop id, the validation result and report paths."""

    accepted: bool
    result: ValidationResult
    report: dict
    report_paths: tuple[Path, Path]
    drop_id: str | None = None
    row_counts: dict[str, int] | None = None
    shrink: dict | None = None
    """``shrink_check``'s result when the drop shrinks more than allowed (held, or accepted anyway)."""

    @property
    def held(self) -> bool:
        """True when a valid drop was not loaded only because its shrink was not accepted."""
        return not self.accepted and self.shrink is not None


SHRINK_MEASURES = {"people_in_service": "people in service", "planned_hours_per_week": "planned hours a week"}
"""The headline figures (``analytics.indicators.supply.headline``) a drop may not shrink unconfirmed."""


def shrink_check(paths: StorePaths, result: ValidationResult) -> dict | None:
    """Compare a valid drop's people in service and planned hours a week with the live drop's.

    Inputs: the store and the candidate's ``ValidationResult``. Each figure is the whole council's,
    every service type, on that drop's own as-of date (``supply.headline``). Output: ``None`` when
    there is no live drop or nothing falls by more than ``[store] shrink_confirm_share``; else a
    JSON-ready dict: ``limit`` (the share), ``measures`` (one per figure: ``measure``, ``live``,
    ``new``, ``fall``, the share lost, 0 to 1) and ``reason``, a sentence saying what shrank and why
    it is held.
    """
    if not paths.live.exists() or result.as_of is None:
        return None
    from analytics.indicators import supply

    limit = float(settings()["store"].get("shrink_confirm_share", 0.2))
    con = open_live(paths.root)
    try:
        live_as_of = con.sql("select as_of from meta_drop").fetchall()[0][0]
        frames = {name: con.sql(f"select * from stg_{name}").pl() for name in ("packages", "areas")}
    finally:
        con.close()
    if live_as_of is None:
        return None
    live = supply.headline(Staged.from_frames(live_as_of, **frames), live_as_of, None)
    typed = {name: result.typed[name] for name in ("packages", "areas")}
    new = supply.headline(Staged.from_frames(result.as_of, **typed), result.as_of, None)
    measures = []
    for key, label in SHRINK_MEASURES.items():
        before, after = live.get(key) or 0, new.get(key) or 0
        fall = (before - after) / before if before > 0 else 0.0
        measures.append({"measure": label, "key": key, "live": before, "new": after, "fall": round(fall, 4)})
    over = [m for m in measures if m["fall"] > limit]
    if not over:
        return None
    parts = [f"{m['measure']} {_fmt(m['new'])} against {_fmt(m['live'])} now (down {m['fall']:.0%})" for m in over]
    reason = (
        f"This drop would shrink the live data by more than {limit:.0%}: " + "; ".join(parts)
        + f" (this drop as at {result.as_of:%d %B %Y}, the live drop as at {live_as_of:%d %B %Y}). "
        "A real month rarely moves this much; a cut-off or incomplete packages file does. "
        "It was not loaded and nothing has changed ([store] shrink_confirm_share in config.toml)."
    )  # fmt: skip
    return {"limit": limit, "measures": measures, "reason": reason}


def _fmt(value: float | int) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def _no_progress(step: str, fraction: float) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# Writing


@contextlib.contextmanager
def writer_lock(paths: StorePaths) -> Iterator[None]:
    """Hold the store's single-writer lock; raise ``StoreError`` if another refresh holds it."""
    private_dir(paths.root)
    with paths.lock.open("w") as fh:
        private_file(paths.lock)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreError(f"Another refresh or rollback is running on {paths.root}") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_drop(source: Path | str, progress: Progress = _no_progress) -> tuple[ValidationResult, dict]:
    """Validate a drop without loading it; return the result and its report dict.

    A drop that cannot be read at all (a limit, a broken zip) is a rejected result with one error.
    """
    progress("Reading files", 0.1)
    try:
        with open_drop(source) as raw:
            progress("Validating", 0.5)
            result = validate(raw)
    except DropRefused as exc:
        result = refused(Path(source).name, str(exc))
    status = "valid" if result.ok else "rejected"
    return result, report_dict(result, str(source), status)


@dataclass
class UploadCheck:
    """A browser upload staged and checked: ``ok`` and ``report`` when it could be checked, else ``error``."""

    ok: bool
    report: dict | None = None
    staged: upload.StagedUpload | None = None
    error: str | None = None


def check_upload(files, data_dir: Path | str | None = None, *, source: str, by: str | None = None) -> UploadCheck:
    """Stage uploaded ``(name, bytes)`` pairs and check them in a memory-limited child process.

    Inputs: the uploaded files, the data store, a label for the report and who uploaded them.
    Output: an ``UploadCheck``; the staging folder is kept only for a valid drop (to be loaded by
    ``refresh``). Every refused or rejected upload is audited (``upload rejected``) and changes
    nothing else; the check's memory and time are bounded by ``[limits]`` (``ingest.sandbox``).
    """
    paths = store_paths(data_dir)
    recover(paths)
    try:
        staged = upload.stage_upload(files, paths.root)
    except DropRefused as exc:
        _audit(paths, "upload rejected", source=source, reason=str(exc), by=by)
        return UploadCheck(False, error=str(exc))
    try:
        ok, report = sandbox.check_isolated(staged.folder, source=source)
    except DropRefused as exc:
        upload.discard(staged, paths.root)
        _audit(paths, "upload rejected", source=source, reason=str(exc), by=by)
        return UploadCheck(False, error=str(exc))
    if not ok:
        upload.discard(staged, paths.root)  # nothing to load: don't keep raw identifiers around
        _audit(paths, "upload rejected", source=source, errors=report["error_count"], by=by)
        return UploadCheck(False, report=report)
    return UploadCheck(True, report=report, staged=staged)


def refresh(
    source: Path | str,
    data_dir: Path | str | None = None,
    *,
    loaded_by: str | None = None,
    progress: Progress = _no_progress,
    accept_shrink: bool = False,
) -> RefreshOutcome:
    """Validate the drop at ``source`` and, if it passes, make it the live snapshot.

    Inputs: a drop folder or ``.zip``; the data store folder; ``accept_shrink``, the analyst's
    confirmation that a drop shrinking the live data by more than ``[store] shrink_confirm_share``
    is right (``shrink_check``). Output: a ``RefreshOutcome``. A rejected or held drop changes
    nothing but the reports folder and the audit log.
    """
    paths = store_paths(data_dir)
    source = Path(source)
    with writer_lock(paths):
        recover(paths, locked=True)
        try:
            with open_drop(source) as raw:
                return _refresh_locked(paths, source, raw, loaded_by, progress, accept_shrink)
        except DropRefused as exc:
            result = refused(source.name, str(exc))
            report = report_dict(result, source.name, "rejected")
            report_paths = write_reports(report, paths.reports)
            _audit(paths, "rejected", source=source.name, errors=1, reason=str(exc), by=loaded_by)
            return RefreshOutcome(False, result, report, report_paths)


def _refresh_locked(
    paths: StorePaths, source: Path, raw: RawDrop, loaded_by: str | None, progress: Progress, accept_shrink: bool
) -> RefreshOutcome:
    progress("Reading files", 0.05)
    progress("Validating", 0.15)
    result = validate(raw)
    raw.release_frames()  # the text copies are no longer needed: only the typed frames go on
    if not result.ok:
        report = report_dict(result, source.name, "rejected")
        report_paths = write_reports(report, paths.reports)
        _audit(paths, "rejected", source=source.name, errors=result.errors.height, by=loaded_by)
        return RefreshOutcome(False, result, report, report_paths)
    progress("Comparing with the live data", 0.25)
    shrink = shrink_check(paths, result)
    if shrink is not None and not accept_shrink:
        report = {**report_dict(result, source.name, "held"), "shrink": shrink}
        report_paths = write_reports(report, paths.reports)
        _audit(paths, "held", source=source.name, reason=shrink["reason"], shrink=shrink["measures"], by=loaded_by)
        return RefreshOutcome(False, result, report, report_paths, shrink=shrink)
    loaded_at = datetime.now().astimezone()
    drop_id = _drop_id(raw, loaded_at)
    try:
        progress("Archiving the raw drop", 0.3)
        hashes = archive_drop(raw, paths.archive / drop_id)
        progress("Building the snapshot", 0.45)
        row_counts = _build_and_swap(paths, raw, result, drop_id, loaded_at, loaded_by, hashes, progress)
    except BaseException as exc:
        if live_drop_id(paths) != drop_id:  # not swapped in: leave nothing of this attempt behind
            _remove_tree(paths.archive / drop_id)
            paths.snapshot(drop_id).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            _audit(paths, "failed", drop_id=drop_id, source=source.name, reason=_reason(exc), by=loaded_by)
        raise
    report = report_dict(result, source.name, "accepted", drop_id)
    extra = {}
    if shrink is not None:  # accepted anyway: say so in the report and the audit log
        report["shrink"] = {**shrink, "accepted_by": loaded_by or _user()}
        extra["shrink"] = shrink["measures"]
    report_paths = write_reports(report, paths.reports)
    _audit(
        paths,
        "refresh",
        drop_id=drop_id,
        as_of=result.as_of.isoformat() if result.as_of else None,
        source=source.name,
        file_hashes=hashes,
        row_counts=row_counts,
        warnings=result.warnings.height,
        by=loaded_by,
        **extra,
    )
    progress("Pruning old snapshots", 0.95)
    prune_snapshots(paths)
    progress("Done", 1.0)
    return RefreshOutcome(True, result, report, report_paths, drop_id, row_counts, shrink=shrink)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} (errno {exc.errno})"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _remove_tree(folder: Path) -> None:
    """Delete ``folder`` even though archived files are read-only."""
    if not folder.exists():
        return
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            path.chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


TEMP_PATTERNS = (".building-*", ".rollback-*")


def recover(paths: StorePaths, *, locked: bool = False) -> list[str]:
    """Clean what an interrupted refresh left; return what was removed or recovered (for tests and logs).

    Removes ``.building-*``/``.rollback-*`` files and every archived drop or snapshot with no
    ``refresh`` audit entry (only when there is an audit log to judge by). A live snapshot whose
    refresh was killed after the swap but before its audit line is kept and audited now as
    ``recovered``. Skipped (returns []) when another
    refresh holds the lock, as its temporary files are in use.
    """
    if not paths.root.exists():
        return []
    if not locked:
        try:
            with writer_lock(paths):
                return recover(paths, locked=True)
        except StoreError:
            return []
    done: list[str] = []
    for pattern in TEMP_PATTERNS:
        for leftover in paths.root.glob(pattern):
            leftover.unlink(missing_ok=True)
            done.append(leftover.name)
    if not paths.audit_log.exists():  # no log to judge by (a new store, or one restored without it)
        if done:
            _audit(paths, "recovered", removed=done)
        return done
    audited = set(accepted_drops(paths))
    live = live_drop_id(paths) if paths.live.exists() else None
    if live is not None and live not in audited:
        _audit_recovered(paths, live)
        audited.add(live)
        done.append(f"audited {live}")
    if paths.archive.exists():
        for folder in paths.archive.iterdir():
            if folder.name not in audited:
                _remove_tree(folder)
                done.append(f"archive/{folder.name}")
    if paths.snapshots.exists():
        for snapshot in paths.snapshots.glob("*.duckdb*"):
            if snapshot.name.split(".")[0] not in audited:
                snapshot.unlink(missing_ok=True)
                done.append(f"snapshots/{snapshot.name}")
    if done:
        _audit(paths, "recovered", removed=done)
    return done


def _audit_recovered(paths: StorePaths, drop_id: str) -> None:
    """Write the missing ``refresh`` audit line of the live drop from its own meta tables."""
    con = open_live(paths.root)
    try:
        meta = con.sql("select as_of, loaded_by, source from meta_drop").fetchall()[0]
        hashes = con.sql("select file_hashes from audit_drops where drop_id = ?", params=[drop_id]).fetchall()
    finally:
        con.close()
    _audit(
        paths,
        "refresh",
        drop_id=drop_id,
        as_of=meta[0].isoformat() if meta[0] else None,
        source=meta[2],
        file_hashes=json.loads(hashes[0][0]) if hashes else {},
        by=meta[1],
        recovered=True,
    )


def _drop_id(raw: RawDrop, loaded_at: datetime) -> str:
    digest = hashlib.sha256()
    read = {f.path: f.sha256 for f in raw.files.values()}  # hashed once already, as they were read
    for path in raw.all_paths():
        digest.update(path.relative_to(raw.root).as_posix().encode())
        digest.update((read.get(path) or sha256_file(path)).encode())
    return f"{loaded_at:%Y%m%dT%H%M%S%f}-{digest.hexdigest()[:8]}"


def archive_drop(raw: RawDrop, folder: Path) -> dict[str, str]:
    """Copy the raw drop untouched into ``folder`` with a ``SHA256SUMS`` manifest; return {file: sha256}.

    A zip is archived as the zip itself. Archived files are made read-only. This archive is
    the only place original person identifiers remain (see docs/data-drops.md).
    """
    private_dir(folder.parent)
    folder.mkdir(exist_ok=False)
    folder.chmod(DIR_MODE)
    if raw.source.is_file():
        shutil.copy2(raw.source, folder / raw.source.name)
    else:
        shutil.copytree(raw.root, folder / "drop")
    hashes = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        hashes[rel] = sha256_file(path)
        path.chmod(READ_ONLY_MODE)
    for sub in (p for p in folder.rglob("*") if p.is_dir()):
        sub.chmod(DIR_MODE)
    sums = "".join(f"{h}  {rel}\n" for rel, h in hashes.items())
    write_private_text(folder / "SHA256SUMS", sums)
    return hashes


def _build_and_swap(
    paths: StorePaths,
    raw: RawDrop,
    result: ValidationResult,
    drop_id: str,
    loaded_at: datetime,
    loaded_by: str | None,
    hashes: dict[str, str],
    progress: Progress,
) -> dict[str, int]:
    """Write a complete new database file, then atomically replace the live one with it."""
    private_dir(paths.snapshots)
    tmp = paths.root / f".building-{os.getpid()}-{drop_id}.duckdb"
    try:
        con = duckdb.connect(str(tmp), config={"memory_limit": str(settings()["store"]["build_memory_limit"])})
        try:
            con.execute("BEGIN")  # one commit for every table: a commit per table cost ~8 ms each
            staged = _write_staged(con, result)
            row_counts = {f"stg_{name}": frame.height for name, frame in staged.items()}
            _write_meta(con, paths, raw, result, drop_id, loaded_at, loaded_by, hashes)
            result.typed.clear()  # only the pseudonymised copies are kept from here on
            progress("Building marts", 0.6)
            row_counts.update(_write_marts(con, result.as_of, staged))
            del staged
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        private_file(tmp)  # the live file and its snapshot hard link share this inode
        _fsync(tmp)
        snapshot = paths.snapshot(drop_id)
        _link_or_copy(tmp, snapshot)
        progress("Swapping in the new snapshot", 0.9)
        os.replace(tmp, paths.live)
        _fsync_dir(paths.root)
        return row_counts
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)


def _write_staged(con: duckdb.DuckDBPyConnection, result: ValidationResult) -> dict[str, pl.DataFrame]:
    """Write each typed file, person identifiers pseudonymised, as ``stg_<file>``; return those frames."""
    personal = [(spec.name, c.name) for spec in CONTRACT for c in spec.columns if c.personal]
    present = [result.typed[f].get_column(c) for f, c in personal if c in result.typed[f].columns]
    mapping = pseudonym_map(present, load_or_create_key())
    staged = {}
    for spec in CONTRACT:
        frame = result.typed[spec.name].drop(ROW_COLUMN, strict=False)
        for column in spec.columns:
            if column.personal:
                frame = pseudonymise_with(frame, column.name, mapping)
        _write_table(con, f"stg_{spec.name}", frame)
        staged[spec.name] = frame
    return staged


def _write_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    write_frame(con, name, frame)


def _write_meta(
    con: duckdb.DuckDBPyConnection,
    paths: StorePaths,
    raw: RawDrop,
    result: ValidationResult,
    drop_id: str,
    loaded_at: datetime,
    loaded_by: str | None,
    hashes: dict[str, str],
) -> None:
    manifest = result.manifest
    meta = pl.DataFrame(
        [
            {
                "drop_id": drop_id,
                "as_of": result.as_of,
                "council_code": _text(manifest.get("council_code")),
                "council_name": _text(manifest.get("council_name")),
                "synthetic": bool(manifest.get("synthetic", False)),
                "loaded_at": loaded_at.isoformat(timespec="seconds"),
                "loaded_by": loaded_by or _user(),
                "source": raw.source.name,
                "contract_version": CONTRACT_VERSION,
            }
        ],
        schema_overrides={"as_of": pl.Date},
    )
    _write_table(con, "meta_drop", meta)
    files = pl.DataFrame(
        result.files,
        schema={
            "file": pl.String,
            "filename": pl.String,
            "format": pl.String,
            "encoding": pl.String,
            "rows": pl.Int64,
            "sha256": pl.String,
        },
    )
    _write_table(con, "meta_files", files)
    _write_table(con, "meta_warnings", result.warnings)
    # The maps' copy: keyed by area_code, simplified and rounded once here (the archive keeps the file).
    boundaries = json.dumps(display_boundaries(result.boundaries), separators=(",", ":")) if result.boundaries else None
    _write_table(con, "meta_boundaries", pl.DataFrame({"geojson": [boundaries]}, schema={"geojson": pl.String}))
    history = [e for e in read_audit(paths) if e["event"] == "refresh"]
    history.append(
        {
            "drop_id": drop_id,
            "as_of": result.as_of.isoformat() if result.as_of else None,
            "at": loaded_at.isoformat(timespec="seconds"),
            "by": loaded_by or _user(),
            "file_hashes": hashes,
            "source": raw.source.name,
        }
    )
    audit = pl.DataFrame(
        {
            "drop_id": [h["drop_id"] for h in history],
            "as_of": [h.get("as_of") for h in history],
            "loaded_at": [h.get("at") for h in history],
            "loaded_by": [h.get("by") for h in history],
            "source": [h.get("source") for h in history],
            "file_hashes": [json.dumps(h.get("file_hashes") or {}) for h in history],
            "row_counts": [json.dumps(h.get("row_counts") or {}) for h in history],
        },
        schema={
            k: pl.String for k in ("drop_id", "as_of", "loaded_at", "loaded_by", "source", "file_hashes", "row_counts")
        },
    )
    _write_table(con, "audit_drops", audit)


def _text(value) -> str | None:
    return None if value is None else str(value)


def _write_marts(con: duckdb.DuckDBPyConnection, as_of: date | None, staged: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Build the derived ``mart_*`` tables (``analytics.indicators.marts``) inside the new snapshot.

    ``staged`` holds the frames just written as ``stg_*`` (so they are not read back from DuckDB).
    """
    try:
        from analytics.indicators import marts
    except ImportError:  # the indicator engine is optional for the data spine
        return {}
    if as_of is None:
        return {}
    return marts.build_marts(con, as_of, Staged(as_of=as_of, **staged))


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Audit, history, rollback


def _audit(paths: StorePaths, event: str, **fields) -> None:
    entry = {"event": event, "at": datetime.now().astimezone().isoformat(timespec="seconds"), **fields}
    if entry.get("by") is None:
        entry["by"] = _user()
    private_dir(paths.root)
    with paths.audit_log.open("a", encoding="utf-8") as fh:
        private_file(paths.audit_log)
        fh.write(json.dumps(entry, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def record(data_dir: Path | str | None, event: str, *, by: str | None = None, **fields) -> dict:
    """Append one event to the store's audit log and return it.

    For what the refresh and rollback functions do not audit themselves: a drop uploaded and checked
    in the browser (``"checked"``, with ``outcome``), a briefing pack made (``"pack"``). ``by`` is the
    signed-in identity (the login name of the process when ``None``).
    """
    paths = store_paths(data_dir)
    _audit(paths, event, **fields, by=by)
    return read_audit(paths)[-1]


def read_audit(paths: StorePaths) -> list[dict]:
    """Return every audit event of the store, oldest first."""
    if not paths.audit_log.exists():
        return []
    return [json.loads(line) for line in paths.audit_log.read_text(encoding="utf-8").splitlines() if line.strip()]


def history(data_dir: Path | str | None = None) -> list[dict]:
    """Return the audit events (refresh, rejected, rollback), oldest first, marking the live drop."""
    paths = store_paths(data_dir)
    live = shown_live_drop_id(paths)
    events = read_audit(paths)
    for event in events:
        event["live"] = event.get("event") == "refresh" and event.get("drop_id") == live
        if event.get("event") == "refresh":
            event["snapshot_kept"] = paths.snapshot(event["drop_id"]).exists()
    return events


def live_drop_id(paths: StorePaths) -> str | None:
    """Return the drop id of the live snapshot, or None when there is none."""
    if not paths.live.exists():
        return None
    con = open_live(paths.root)
    try:
        return con.sql("select drop_id from meta_drop").fetchall()[0][0]
    finally:
        con.close()


_SHOWN_LIVE_IDS: dict[tuple[str, int, int], str] = {}


def shown_live_drop_id(paths: StorePaths) -> str | None:
    """Return the live drop id for display, remembered per live file (path, inode, mtime).

    Opening the snapshot to read it costs about 20 ms, and the Data page asks several times a run.
    A refresh or rollback swaps in another file, so the signature changes and the id is read again.
    Writers (``refresh``, ``rollback``) use ``live_drop_id``, which always reads the file.
    """
    signature = live_signature(paths.root)
    if signature is None:
        return None
    if signature not in _SHOWN_LIVE_IDS:
        drop_id = live_drop_id(paths)
        if drop_id is None or live_signature(paths.root) != signature:  # swapped meanwhile: do not remember
            return drop_id
        if len(_SHOWN_LIVE_IDS) > 16:
            _SHOWN_LIVE_IDS.clear()
        _SHOWN_LIVE_IDS[signature] = drop_id
    return _SHOWN_LIVE_IDS[signature]


def accepted_drops(paths: StorePaths) -> list[str]:
    """Return accepted drop ids in load order (oldest first)."""
    return [e["drop_id"] for e in read_audit(paths) if e["event"] == "refresh"]


def rollback(data_dir: Path | str | None = None, *, to: str | None = None, by: str | None = None) -> dict:
    """Make the previous snapshot (or snapshot ``to``) live again, atomically; return the audit entry."""
    paths = store_paths(data_dir)
    with writer_lock(paths):
        recover(paths, locked=True)
        current = live_drop_id(paths)
        if current is None:
            raise StoreError(f"There is no live snapshot in {paths.root} to roll back from")
        target = to or _previous_snapshot(paths, current)
        snapshot = paths.snapshot(target)
        if not snapshot.exists():
            raise StoreError(f"Snapshot {target} is no longer kept (keep_snapshots in config.toml)")
        tmp = paths.root / f".rollback-{os.getpid()}.duckdb"
        tmp.unlink(missing_ok=True)
        _link_or_copy(snapshot, tmp)
        os.replace(tmp, paths.live)
        _fsync_dir(paths.root)
        entry = {"from_drop_id": current, "drop_id": target}
        _audit(paths, "rollback", **entry, by=by)
        return entry


def _previous_snapshot(paths: StorePaths, current: str) -> str:
    order = accepted_drops(paths)
    earlier = order[: order.index(current)] if current in order else order
    kept = [d for d in earlier if paths.snapshot(d).exists()]
    if not kept:
        raise StoreError("There is no earlier snapshot to roll back to")
    return kept[-1]


def prune_snapshots(paths: StorePaths) -> list[str]:
    """Delete snapshots beyond the newest ``keep_snapshots`` (+ the live one); return deleted ids."""
    keep = int(settings()["store"]["keep_snapshots"])
    order = accepted_drops(paths)
    live = live_drop_id(paths)
    wanted = set(order[-(keep + 1) :]) | {live}
    removed = []
    for snapshot in paths.snapshots.glob("*.duckdb"):
        if snapshot.stem not in wanted:
            snapshot.unlink()
            removed.append(snapshot.stem)
    return removed


# ---------------------------------------------------------------------------------------------
# Reading


def live_signature(data_dir: Path | str | None = None) -> tuple[str, int, int] | None:
    """Return (path, inode, mtime_ns) of the live file: it changes whenever a snapshot is swapped in."""
    path = store_paths(data_dir).live
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns)


def open_live(data_dir: Path | str | None = None) -> duckdb.DuckDBPyConnection:
    """Return a new read-only connection to the live snapshot.

    A fresh in-memory DuckDB instance ATTACHes the file, so it really opens the file now at
    the path (DuckDB caches database instances by path). Take a ``cursor()`` per thread or
    Streamlit script run and run ``USE market`` on it (cursors do not inherit ``USE``).
    """
    path = store_paths(data_dir).live
    if not path.exists():
        raise StoreError(f"No live snapshot in {path.parent}: run `python -m analytics refresh DROP` first")
    con = duckdb.connect()
    con.execute("ATTACH ? AS market (READ_ONLY)", [str(path)])
    con.execute("USE market")
    return con


def market_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Return a cursor on ``con`` with the attached snapshot selected."""
    cur = con.cursor()
    cur.execute("USE market")
    return cur
