"""The picture cache: each chart picture is drawn once per snapshot, chart, filters, audience and size.

Drawing a picture takes Chromium 0.3 to 2 s (a map is the slowest); building the chart it shows
takes milliseconds. So the PNG and SVG downloads under every chart and the pictures of the
briefing pack are kept on disk, beside the data they were drawn from, and a later download, or
the same pack made again, reads the file instead of drawing it.

Layout, inside the data store folder (owner-only, like the rest of it; never in git)::

    pictures/<drop id>/<audience>/<chart id>-<key>.<png|svg>

* **drop id**: the live snapshot's ``meta_drop.drop_id`` (load time + SHA-256 of the drop's files),
  so a new drop never sees the last one's pictures. Folders of snapshots no longer kept
  (``[store] keep_snapshots``; the live one and the rollback targets stay) are removed when a
  picture is next written.
* **audience**: ``public`` or ``internal`` (briefing packs), ``download`` (the dashboard's chart
  downloads, always in publication form). A public pack only ever reads the ``public`` folder.
* **key**: a digest of everything that makes the picture: the drop id, chart id, filters and page
  choices (``scope``), audience, format, scale, size, ``RENDERER`` (Plotly and kaleido versions and
  ``STYLE_VERSION``) and the figure itself (its JSON, so any change in the data, the wording or the
  house style draws a new picture rather than serving an old one).

Files are written to a temporary name and moved into place with ``os.replace``, so a reader sees a
whole picture or none; a file that is not a whole PNG (every chunk's CRC checked) or SVG is ignored
and drawn again. Each snapshot's folder is kept under ``[store] picture_cache_mb`` (default 200),
oldest pictures removed first. Deleting the ``pictures`` folder (or ``python -m analytics pictures
--clear``) is always safe: pictures are drawn again when asked for.

::

    cache = PictureCache(data_dir, drop_id)            # or for_cursor(cur)
    pngs = cache.pictures([Picture(fig, chart_id="waiting-people", scope=scope_text(filters),
                                   audience="public")])   # cached ones read, the rest drawn in one batch
    cache.reused, cache.drawn                           # counters for this cache object
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import plotly
import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from analytics.config import settings
from analytics.ingest.private import DIR_MODE, FILE_MODE
from analytics.publish.exports import Drawing, draw_many, picture_size

STYLE_VERSION = 1
"""Bump when pictures should be drawn again although no figure changed (a new font on the server)."""

FOLDER = "pictures"
AUDIENCES = ("public", "internal", "download")
FORMATS = ("png", "svg")
DEFAULT_MAX_MB = 200
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_STALE_TMP_S = 3600  # a temporary file older than this was left by a process that died


def _kaleido_version() -> str:
    try:
        return version("kaleido")
    except PackageNotFoundError:  # pragma: no cover - kaleido is a pinned requirement
        return "?"


RENDERER = f"plotly {plotly.__version__}; kaleido {_kaleido_version()}; style {STYLE_VERSION}"


def scope_text(filters: object = None, params: Sequence[tuple[str, object]] = ()) -> str:
    """Return filters and page choices as one normalised text: ``"locality=Fellside;month=2026-10-01"``.

    ``filters`` is a dataclass (``analytics.views.filters.Filters``) or ``None``; fields that are
    ``None`` (no filter) are left out, dates are ISO, names sorted, so equal choices give equal text.
    """
    pairs: dict[str, object] = {}
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        pairs.update({f.name: getattr(filters, f.name) for f in dataclasses.fields(filters)})
    pairs.update({f"param.{k}": v for k, v in params})

    def text(value: object) -> str:
        return value.isoformat() if isinstance(value, date | datetime) else str(value)

    return ";".join(f"{k}={text(v)}" for k, v in sorted(pairs.items()) if v is not None)


def figure_digest(fig: go.Figure) -> str:
    """Return a digest of the figure's JSON (data, layout, wording): any change gives a new digest."""
    text = json.dumps(fig.to_plotly_json(), cls=PlotlyJSONEncoder, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Picture:
    """One picture asked for: the figure as drawn, what it shows, who it is for and its format.

    ``scope``: the filters and page choices it was drawn with (``scope_text``). ``width`` and
    ``height`` are CSS pixels (default: the figure's, else 900 x 520); the file is ``scale`` times that.
    """

    figure: go.Figure
    chart_id: str
    scope: str
    audience: str
    fmt: str = "png"
    scale: float = 2
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {self.audience!r}")
        if self.fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {self.fmt!r}")

    def key(self, snapshot: str) -> str:
        """Return the digest naming this picture in ``snapshot``'s cache."""
        width, height = picture_size(self.figure, self.width, self.height)
        parts = {
            "renderer": RENDERER,
            "snapshot": snapshot,
            "chart": self.chart_id,
            "scope": self.scope,
            "audience": self.audience,
            "format": self.fmt,
            "scale": float(self.scale),
            "size": [width, height],
            "figure": figure_digest(self.figure),
        }
        return hashlib.blake2b(json.dumps(parts, sort_keys=True).encode(), digest_size=12).hexdigest()

    def drawing(self) -> Drawing:
        return Drawing(self.figure, self.fmt, self.scale, self.width, self.height)


def whole_picture(data: bytes, fmt: str) -> bool:
    """Whether ``data`` is a complete picture: a PNG whose every chunk's CRC holds, up to IEND; an SVG document."""
    if fmt == "svg":
        head, tail = data[:200].lstrip(), data[-200:].rstrip()
        return (head.startswith(b"<svg") or head.startswith(b"<?xml")) and tail.endswith(b"</svg>")
    if not data.startswith(_PNG_SIGNATURE):
        return False
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return False
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[pos + 4 : end - 4]) != crc:
            return False
        if kind == b"IEND":
            return end == len(data)
        pos = end
    return False


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:80] or "chart"


_prune_lock = threading.Lock()
_pruned: set[tuple[str, str]] = set()


class PictureCache:
    """The pictures of one snapshot of the data store at ``data_dir`` (see the module docstring).

    ``reused`` and ``drawn`` count the pictures this object read from disk and had Chromium draw.
    """

    def __init__(self, data_dir: Path | str, snapshot: str, *, max_mb: float | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.snapshot = snapshot
        self.root = self.data_dir / FOLDER
        self.folder = self.root / _safe(snapshot)
        configured = settings().get("store", {}).get("picture_cache_mb", DEFAULT_MAX_MB)
        self.max_bytes = int((max_mb if max_mb is not None else configured) * 1024 * 1024)
        self.reused = 0
        self.drawn = 0

    def path(self, picture: Picture) -> Path:
        """Return the file ``picture`` is (or will be) kept in."""
        name = f"{_safe(picture.chart_id)}-{picture.key(self.snapshot)}.{picture.fmt}"
        return self.folder / picture.audience / name

    def get(self, picture: Picture) -> bytes | None:
        """Return the cached picture, or ``None`` when there is none or the file is not a whole picture."""
        path = self.path(picture)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if not whole_picture(data, picture.fmt):
            path.unlink(missing_ok=True)  # torn or damaged: drawn again and replaced
            return None
        return data

    def put(self, picture: Picture, data: bytes) -> Path:
        """Keep ``data`` as ``picture``'s file: written under a temporary name, then ``os.replace``d."""
        path = self.path(picture)
        _private_dir(self.root)
        _private_dir(self.folder)
        _private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def pictures(self, wanted: Sequence[Picture], *, progress: Callable[[int, int], None] | None = None) -> list[bytes]:
        """Return every picture of ``wanted`` (same order): cached ones read, the others drawn in one batch.

        ``progress(done, total)`` is called as the missing ones are drawn (``total`` = missing).
        """
        out: list[bytes | None] = [self.get(p) for p in wanted]
        missing = [k for k, data in enumerate(out) if data is None]
        self.reused += len(wanted) - len(missing)
        if missing:
            try:
                workdir: Path | None = _private_dir(_private_dir(self.root) / _safe(self.snapshot))
            except OSError:  # a read-only data folder: draw without keeping
                workdir = None
            drawn = draw_many([wanted[k].drawing() for k in missing], workdir=workdir, progress=progress)
            for k, data in zip(missing, drawn, strict=True):
                out[k] = data
                with contextlib.suppress(OSError):  # the picture is still returned
                    self.put(wanted[k], data)
            self.drawn += len(missing)
            with contextlib.suppress(OSError):
                self.prune()
        return [data or b"" for data in out]

    def picture(self, picture: Picture) -> bytes:
        """Return one picture, cached or drawn (``pictures`` for many: they are drawn in one batch)."""
        return self.pictures([picture])[0]

    def prune(self) -> list[Path]:
        """Remove pictures of snapshots no longer kept and the oldest beyond ``max_bytes``; return them.

        Kept: this snapshot's folder and those of snapshots still in ``snapshots/`` (rollback
        targets). Temporary files older than an hour (a process died mid-write) go too.
        """
        removed: list[Path] = []
        with _prune_lock:
            marker = (str(self.root), self.snapshot)
            if marker not in _pruned and self.root.is_dir():
                kept = {_safe(self.snapshot)} | {_safe(p.stem) for p in (self.data_dir / "snapshots").glob("*.duckdb")}
                for folder in self.root.iterdir():
                    if folder.is_dir() and folder.name not in kept:
                        shutil.rmtree(folder, ignore_errors=True)
                        removed.append(folder)
                _pruned.add(marker)
            files = []
            now = time.time()
            for path in self.folder.rglob("*"):
                try:
                    st = path.stat()
                except OSError:
                    continue
                if not path.is_file():
                    continue
                if ".tmp-" in path.name or path.parent.name.startswith(".drawing-"):
                    if now - st.st_mtime > _STALE_TMP_S:
                        path.unlink(missing_ok=True)
                        removed.append(path)
                    continue
                files.append((st.st_mtime, st.st_size, path))
            total = sum(size for _, size, _ in files)
            for _, size, path in sorted(files):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                removed.append(path)
                total -= size
        return removed


def snapshot_of(cur: duckdb.DuckDBPyConnection) -> tuple[Path, str] | None:
    """Return (data store folder, drop id) of the snapshot ``cur`` reads, or ``None`` if it is not one.

    The folder is that of the attached ``market`` database file (``store.snapshots.open_live``).
    """
    try:
        rows = cur.sql("select path from duckdb_databases() where database_name = 'market'").fetchall()
        drop = cur.sql("select drop_id from market.meta_drop").fetchall()
    except duckdb.Error:
        return None
    if not rows or not rows[0][0] or not drop or not drop[0][0]:
        return None
    return Path(rows[0][0]).resolve().parent, str(drop[0][0])


def for_cursor(cur: duckdb.DuckDBPyConnection) -> PictureCache | None:
    """Return the picture cache of the snapshot ``cur`` reads (``None`` outside a data store)."""
    found = snapshot_of(cur)
    return PictureCache(*found) if found is not None else None


def draw(wanted: Sequence[Picture], cache: PictureCache | None, **kwargs) -> list[bytes]:
    """Return the pictures of ``wanted`` through ``cache``, or drawn in one batch when there is none."""
    if cache is not None:
        return cache.pictures(wanted, **kwargs)
    return draw_many([p.drawing() for p in wanted], **kwargs)


def cache_size(data_dir: Path | str) -> tuple[int, int]:
    """Return (pictures, bytes) kept in the data store at ``data_dir``."""
    root = Path(data_dir) / FOLDER
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files)


def clear(data_dir: Path | str) -> int:
    """Delete every cached picture of the data store at ``data_dir``; return how many there were."""
    root = Path(data_dir) / FOLDER
    count, _ = cache_size(data_dir)
    shutil.rmtree(root, ignore_errors=True)
    with _prune_lock:
        _pruned.difference_update({m for m in _pruned if m[0] == str(root)})
    return count


__all__ = [
    "AUDIENCES",
    "FOLDER",
    "RENDERER",
    "STYLE_VERSION",
    "Picture",
    "PictureCache",
    "cache_size",
    "clear",
    "draw",
    "figure_digest",
    "for_cursor",
    "scope_text",
    "snapshot_of",
    "whole_picture",
]
