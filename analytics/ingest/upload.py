"""Turn files uploaded in the browser into a drop folder the store can check and load, safely.

The Data page hands over what the analyst uploaded as ``(name, bytes)`` pairs: either one
``.zip`` of a drop, or several loose drop files at once. ``stage_upload`` checks them and writes
them to a new staging folder ``<data_dir>/uploads/<timestamp>/<label>/``, which is an ordinary
drop folder for ``store.check_drop`` and ``store.refresh``. Checks, all before anything is loaded:

* size: the upload may not exceed ``[upload] max_upload_mb`` (config.toml); a zip is checked from
  its central directory, before anything is unpacked, against ``[limits]`` (total unpacked size,
  number of files, each file's size and compression ratio: ``analytics.ingest.limits.check_zip``);
* type: every file (and every file inside a zip) must have an extension the data contract
  accepts (``ALLOWED_SUFFIXES``); a zip may not hold another zip, a link or an encrypted file;
* names: only the last part of an uploaded name is kept, and characters other than letters,
  digits, space, ``. _ - ( )`` become ``_``; inside a zip, absolute paths and ``..`` are refused
  (path traversal), and sub-folders are kept with each part cleaned the same way.

Anything refused raises ``UploadError`` with a sentence for the analyst, and leaves nothing
behind. Staging folders hold raw person identifiers, so they are short-lived: ``discard`` removes
one once its drop has been loaded (the store's archive keeps the drop) or abandoned, and
``prune_uploads`` removes any left over for longer than ``STALE_AFTER``.

This module also holds the small helpers the Data page uses to show a validation report
(``filter_issues``, ``issue_counts``, ``report_downloads``), so the page itself stays thin.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath

import polars as pl

from analytics.config import resolve_path, settings
from analytics.contract import BOUNDARIES_NAMES, MANIFEST_NAMES, TABLE_FORMATS
from analytics.ingest.limits import MB, DropRefused, check_zip, limits, named
from analytics.ingest.private import DIR_MODE, private_dir, write_private_text

UPLOADS_DIR = "uploads"
METADATA_NAME = "upload.json"
PUBLIC_SUFFIXES = (".ods",)
"""Public files that may ride along in a drop beyond the table formats (the CQC care directory as ODS)."""
ALLOWED_SUFFIXES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *TABLE_FORMATS,
            *(PurePosixPath(n).suffix for n in MANIFEST_NAMES),
            *(PurePosixPath(n).suffix for n in BOUNDARIES_NAMES),
            *PUBLIC_SUFFIXES,
        ]
    )
)
"""Extensions a file of a drop may have (``.zip`` is accepted for the upload as a whole)."""
ZIP_SUFFIX = ".zip"
MAX_NAME_CHARS = 120
STALE_AFTER = timedelta(hours=24)
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9 ._()\-]+")
_DRIVE = re.compile(r"^[A-Za-z]:")


class UploadError(DropRefused):
    """The upload cannot be staged; the message says why in words for the analyst."""


@dataclass(frozen=True)
class StagedFile:
    """One file written into the staging drop folder."""

    name: str  # path inside the drop folder (posix), after cleaning
    original: str  # the name as uploaded (for a zip member: "<zip> › <member>")
    size: int
    sha256: str


@dataclass(frozen=True)
class StagedUpload:
    """A staged upload: ``folder`` is the drop folder to check and load; ``root`` holds it and its metadata."""

    folder: Path
    root: Path
    files: list[StagedFile] = field(default_factory=list)
    uploaded_bytes: int = 0

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]


def max_upload_bytes() -> int:
    """Return the upload size limit in bytes (``[upload] max_upload_mb``)."""
    return int(float(settings()["upload"]["max_upload_mb"]) * 1024 * 1024)


def uploader_types() -> list[str]:
    """Return the extensions (without dots) the browser's file picker should offer."""
    return [s.lstrip(".") for s in (*ALLOWED_SUFFIXES, ZIP_SUFFIX)]


def uploads_root(data_dir: Path | str) -> Path:
    """Return ``<data_dir>/uploads``."""
    return resolve_path(data_dir) / UPLOADS_DIR


def safe_name(name: str) -> str:
    """Return the last part of ``name`` with unsafe characters replaced; raise ``UploadError`` if none is left.

    ``../../etc/passwd`` -> ``passwd``; ``C:\\Users\\me\\providers.csv`` -> ``providers.csv``;
    ``pro viders£.csv`` -> ``pro viders_.csv``. Leading dots and spaces are dropped (no hidden files).
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = _DRIVE.sub("", base)
    cleaned = _UNSAFE_CHARS.sub("_", base).strip(" .")
    if not cleaned or set(cleaned) <= {"_", ".", " "}:
        raise UploadError(f"The file name {name!r} has no usable characters: rename the file and upload it again.")
    if len(cleaned) > MAX_NAME_CHARS:
        suffix = PurePosixPath(cleaned).suffix[:16]
        cleaned = cleaned[: MAX_NAME_CHARS - len(suffix)] + suffix
    return cleaned


def stage_upload(
    files: Iterable[tuple[str, bytes]],
    data_dir: Path | str,
    *,
    max_bytes: int | None = None,
    now: datetime | None = None,
) -> StagedUpload:
    """Check the uploaded ``(name, bytes)`` pairs and write them into a new staging drop folder.

    Either one ``.zip`` (unpacked, keeping its sub-folders) or any number of loose drop files.
    Returns the ``StagedUpload``; raises ``UploadError`` (and leaves nothing behind) if the upload
    is too large, has a file of a type a drop cannot hold, or a zip tries to write outside its folder.
    """
    uploads = [(str(name), bytes(data)) for name, data in files]
    if not uploads:
        raise UploadError("Nothing was uploaded.")
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    total = sum(len(data) for _, data in uploads)
    if total > limit:
        raise UploadError(
            f"The upload is {_mb(total)}, more than the limit of {_mb(limit)} "
            "([upload] max_upload_mb in config.toml). Split the drop or ask for the limit to be raised."
        )
    zips = [name for name, _ in uploads if name.lower().endswith(ZIP_SUFFIX)]
    if zips and len(uploads) > 1:
        raise UploadError(
            "Upload either one .zip of the whole drop, or the drop's files themselves, not both "
            f"(found {len(zips)} zip file(s) among {len(uploads)} files)."
        )
    if zips:
        name, data = uploads[0]
        label = safe_name(name)[: -len(ZIP_SUFFIX)] or "upload"
        members = _zip_members(name, data)
    else:
        label = "browser-upload"
        members = [(safe_name(name), name, data) for name, data in uploads]
    for target, original, _ in members:
        _check_suffix(target, original)
    _check_unique(members)
    cap = limits().max_members
    if len(members) > cap:
        raise UploadError(
            f"The upload holds {len(members):,} files, more than the limit of {cap:,} {named('max_members')}."
        )
    if not members:
        raise UploadError("The upload holds no files.")
    return _write(members, resolve_path(data_dir), label, total, now or datetime.now())


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _check_suffix(target: str, original: str) -> None:
    suffix = PurePosixPath(target).suffix.lower()
    if suffix == ZIP_SUFFIX:
        raise UploadError(f"{original}: a zip inside a zip can't be read. Unpack it and zip the files once.")
    if suffix not in ALLOWED_SUFFIXES:
        shown = suffix or "no extension"
        raise UploadError(
            f"{original}: files of type {shown} can't be part of a drop. "
            f"Allowed: {', '.join(ALLOWED_SUFFIXES)} (or one .zip of them)."
        )


def _check_unique(members: Sequence[tuple[str, str, bytes]]) -> None:
    seen: dict[str, str] = {}
    for target, original, _ in members:
        key = target.lower()
        if key in seen:
            raise UploadError(
                f"{original} and {seen[key]} would both be saved as {target}: rename one of them and upload again."
            )
        seen[key] = original


def _zip_members(zip_name: str, data: bytes) -> list[tuple[str, str, bytes]]:
    """Return ``(safe relative path, original name, bytes)`` for every file of the zip, refusing unsafe members.

    The zip's central directory is checked against ``[limits]`` before any member is unpacked.
    """
    max_unpacked = int(limits().max_unpacked_mb * MB)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise UploadError(f"{zip_name} is not a readable zip file.") from exc
    members: list[tuple[str, str, bytes]] = []
    with archive:
        try:
            infos = check_zip(archive, zip_name)
        except UploadError:
            raise
        except DropRefused as exc:
            raise UploadError(str(exc)) from exc
        unpacked = 0
        for info in infos:
            original = f"{zip_name} › {info.filename}"
            parts = _member_parts(info.filename, original)
            if info.is_dir() or parts is None:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UploadError(f"{original} is a link; a drop may only hold ordinary files.")
            if info.flag_bits & 0x1:
                raise UploadError(f"{original} is encrypted: zip the drop without a password.")
            try:
                with archive.open(info) as fh:
                    content = fh.read(max_unpacked - unpacked + 1)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
                raise UploadError(
                    f"{original} can't be unpacked (the zip is damaged or uses an unknown method)."
                ) from exc
            unpacked += len(content)
            if unpacked > max_unpacked:
                raise UploadError(
                    f"{zip_name} unpacks to more than the limit of {_mb(max_unpacked)} {named('max_unpacked_mb')}."
                )
            members.append(("/".join(parts), original, content))
    return members


def _member_parts(filename: str, original: str) -> list[str] | None:
    """Return the cleaned path parts of a zip member, None for entries to skip; refuse traversal."""
    name = filename.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise UploadError(f"{original}: an absolute path in a zip is not allowed (it could overwrite other files).")
    raw_parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in raw_parts):
        raise UploadError(f"{original}: '..' in a zip path is not allowed (it could write outside the drop).")
    if not raw_parts:
        return None
    # Folders and files that tools add and the drop reader ignores anyway: not copied.
    if any(p.startswith(".") or p == "__MACOSX" for p in raw_parts) or raw_parts[-1].startswith("~$"):
        return None
    return [safe_name(p) for p in raw_parts]


def _write(
    members: list[tuple[str, str, bytes]], data_dir: Path, label: str, total: int, now: datetime
) -> StagedUpload:
    base = private_dir(data_dir / UPLOADS_DIR)
    data_dir.chmod(DIR_MODE)
    prune_uploads(data_dir, now=now)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    root = base / stamp
    n = 1
    while root.exists():
        n += 1
        root = base / f"{stamp}-{n}"
    folder = root / label
    try:
        folder.mkdir(parents=True)
        root.chmod(DIR_MODE)
        folder.chmod(DIR_MODE)
        staged = []
        for target, original, content in members:
            path = folder.joinpath(*target.split("/"))
            if not path.resolve().is_relative_to(folder.resolve()):  # belt and braces after cleaning
                raise UploadError(f"{original}: the path leaves the drop folder.")
            private_dir(path.parent)
            with path.open("xb") as fh:
                fh.write(content)
            path.chmod(0o600)
            staged.append(StagedFile(target, original, len(content), hashlib.sha256(content).hexdigest()))
        meta = {
            "uploaded_at": now.astimezone().isoformat(timespec="seconds"),
            "label": label,
            "uploaded_bytes": total,
            "files": [f.__dict__ for f in staged],
        }
        write_private_text(root / METADATA_NAME, json.dumps(meta, indent=2))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return StagedUpload(folder=folder, root=root, files=staged, uploaded_bytes=total)


def discard(staged: StagedUpload | Path | str, data_dir: Path | str) -> bool:
    """Delete a staging folder (a ``StagedUpload``, its root or its drop folder); return True if removed.

    Only folders inside ``<data_dir>/uploads`` are ever removed.
    """
    base = uploads_root(data_dir).resolve()
    path = Path(staged.root if isinstance(staged, StagedUpload) else staged).resolve()
    if not path.is_relative_to(base) or path == base:
        return False
    root = base / path.relative_to(base).parts[0]
    if not root.exists():
        return False
    shutil.rmtree(root, ignore_errors=True)
    return True


def prune_uploads(
    data_dir: Path | str, *, older_than: timedelta = STALE_AFTER, now: datetime | None = None
) -> list[str]:
    """Delete staging folders last changed more than ``older_than`` ago; return their names."""
    base = uploads_root(data_dir)
    if not base.is_dir():
        return []
    cutoff = (now or datetime.now()).timestamp() - older_than.total_seconds()
    removed = []
    for root in base.iterdir():
        if root.is_dir() and root.stat().st_mtime < cutoff:
            shutil.rmtree(root, ignore_errors=True)
            removed.append(root.name)
    return removed


# -- showing a validation report -------------------------------------------------------------------


def filter_issues(
    frame: pl.DataFrame, files: Sequence[str] | None = None, rules: Sequence[str] | None = None
) -> pl.DataFrame:
    """Return the issues of ``frame`` in any of ``files`` and any of ``rules`` (empty or None: all)."""
    out = frame
    if files:
        out = out.filter(pl.col("file").is_in(list(files)))
    if rules:
        out = out.filter(pl.col("rule").is_in(list(rules)))
    return out


def issue_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the number of issues per file and rule, most first."""
    if frame.is_empty():
        return pl.DataFrame(schema={"file": pl.String, "rule": pl.String, "count": pl.UInt32})
    return frame.group_by("file", "rule").len("count").sort(["count", "file", "rule"], descending=[True, False, False])


def report_downloads(report: dict) -> tuple[str, str]:
    """Return the report as (Markdown, JSON) text for download buttons."""
    from analytics.ingest.report import report_markdown

    return report_markdown(report), json.dumps(report, indent=2, default=str)
