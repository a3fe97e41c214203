"""What one drop may cost: the ``[limits]`` section of config.toml, and the checks that apply it.

Every refusal raises ``DropRefused`` with one line naming the limit, e.g. "packages.csv unpacks
to 1,024.0 MB, more than the limit of 500.0 MB ([limits] max_file_mb in config.toml)". The
checks here run before a file is read, so a refused drop costs next to nothing:

* ``check_zip(zf, name)``: member count, total unpacked size, each member's size and compression
  ratio, links and encryption, all from the zip's central directory, before anything is unpacked
  (used for a drop ``.zip``, an uploaded zip and an ``.xlsx``, which is a zip too);
* ``check_file_size(path)``: one file of a drop against ``max_file_mb`` (or the manifest and
  boundaries limits).
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from analytics.config import settings

MB = 1024 * 1024


class DropRefused(ValueError):
    """The drop (or upload) cannot be read at all; the message is one line for the analyst."""


@dataclass(frozen=True)
class Limits:
    """The ``[limits]`` of config.toml (see the comments there for each)."""

    max_unpacked_mb: float = 1000
    max_members: int = 500
    max_compression_ratio: float = 100
    max_file_mb: float = 500
    max_manifest_kb: float = 64
    max_boundaries_mb: float = 100
    max_cell_chars: int = 2000
    check_memory_mb: int = 3072
    check_timeout_s: float = 300
    earliest_date: date = date(1990, 1, 1)
    max_years_after_as_of: int = 1


def limits() -> Limits:
    """Return the limits from config.toml (defaults for any that are missing)."""
    given = dict(settings().get("limits", {}))
    known = {k: v for k, v in given.items() if k in Limits.__dataclass_fields__}
    if isinstance(known.get("earliest_date"), str):
        known["earliest_date"] = date.fromisoformat(known["earliest_date"])
    return Limits(**known)


def named(key: str) -> str:
    """Return how a refusal names a limit: ``([limits] key in config.toml)``."""
    return f"([limits] {key} in config.toml)"


def mb(size: float) -> str:
    """Return a byte count as ``1,234.5 MB``."""
    return f"{size / MB:,.1f} MB"


def check_zip(zf: zipfile.ZipFile, name: str, lim: Limits | None = None) -> list[zipfile.ZipInfo]:
    """Check a zip from its central directory alone; return its file members or raise ``DropRefused``."""
    lim = lim or limits()
    infos = zf.infolist()
    files = [i for i in infos if not i.is_dir()]
    if len(files) > lim.max_members:
        raise DropRefused(
            f"{name} holds {len(files):,} files, more than the limit of {lim.max_members:,} {named('max_members')}."
        )
    total = sum(i.file_size for i in files)
    if total > lim.max_unpacked_mb * MB:
        raise DropRefused(
            f"{name} would unpack to {mb(total)}, more than the limit of {mb(lim.max_unpacked_mb * MB)} "
            f"{named('max_unpacked_mb')}."
        )
    for info in files:
        member = f"{name} › {info.filename}"
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DropRefused(f"{member} is a link; a drop may only hold ordinary files.")
        if info.flag_bits & 0x1:
            raise DropRefused(f"{member} is encrypted: zip the drop without a password.")
        if info.file_size > lim.max_file_mb * MB:
            raise DropRefused(
                f"{member} unpacks to {mb(info.file_size)}, more than the limit of {mb(lim.max_file_mb * MB)} "
                f"{named('max_file_mb')}."
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MB and ratio > lim.max_compression_ratio:
            raise DropRefused(
                f"{member} is compressed {ratio:,.0f} to 1, more than the limit of "
                f"{lim.max_compression_ratio:,.0f} to 1 {named('max_compression_ratio')}: it looks like a zip bomb."
            )
    return files


def check_file_size(path: Path, kind: str = "file", lim: Limits | None = None) -> None:
    """Refuse a file bigger than its limit (``kind``: "file", "manifest" or "boundaries")."""
    lim = lim or limits()
    key, limit = {
        "manifest": ("max_manifest_kb", lim.max_manifest_kb * 1024),
        "boundaries": ("max_boundaries_mb", lim.max_boundaries_mb * MB),
    }.get(kind, ("max_file_mb", lim.max_file_mb * MB))
    size = path.stat().st_size
    if size > limit:
        shown = f"{size / 1024:,.1f} KB" if kind == "manifest" else mb(size)
        cap = f"{limit / 1024:,.0f} KB" if kind == "manifest" else mb(limit)
        raise DropRefused(f"{path.name} is {shown}, more than the limit of {cap} {named(key)}.")
