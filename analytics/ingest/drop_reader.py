"""Read a raw drop (a folder or a ``.zip``) into string frames, one per contract file.

Nothing here judges the data: every cell arrives as a stripped string (blank -> null) so
validation can report the exact value the analyst typed. Problems that stop a file being
read at all (bad encoding, two files for one name, a broken workbook) are collected as
``ReadProblem`` rows for the validation report rather than raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from analytics.contract import BOUNDARIES_NAMES, FILES, MANIFEST_NAMES, TABLE_FORMATS

ROW_COLUMN = "__row"  # the row number as Excel shows it (header = row 1)
ENCODINGS = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class ReadProblem:
    """A file that could not be read, or a drop-level problem found while reading."""

    file: str
    message: str
    expected: str
    severity: str = "error"


@dataclass
class RawFile:
    """One contract file as read: every column a string, headers normalised, plus ``__row``."""

    name: str
    filename: str
    path: Path
    file_format: str
    encoding: str | None
    frame: pl.DataFrame
    original_headers: dict[str, str]
    sha256: str

    @property
    def rows(self) -> int:
        return self.frame.height


@dataclass
class RawDrop:
    """Everything read from a drop: contract files, manifest, boundaries, leftovers, problems."""

    source: Path
    root: Path
    files: dict[str, RawFile] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    manifest_file: str | None = None
    boundaries: dict | None = None
    other_files: list[Path] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)

    def all_paths(self) -> list[Path]:
        """Return every regular file in the drop (for hashing and archiving), sorted."""
        return sorted(p for p in self.root.rglob("*") if p.is_file() and not _ignored(p))


def normalise_header(name: str) -> str:
    """Return a header as the contract names it: trimmed, lower case, spaces and hyphens as ``_``."""
    return re.sub(r"[\s\-]+", "_", str(name).replace("\ufeff", "").strip().lower())


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def open_drop(source: Path | str) -> Iterator[RawDrop]:
    """Yield the ``RawDrop`` read from a folder or ``.zip`` (a zip is unpacked to a temporary folder)."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"Drop not found: {source}")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise ValueError(f"A drop must be a folder or a .zip file, not {source.name}")
        with tempfile.TemporaryDirectory(prefix="drop-") as tmp:
            try:
                with zipfile.ZipFile(source) as zf:
                    _safe_extract(zf, Path(tmp))
            except zipfile.BadZipFile as exc:
                raise ValueError(f"{source.name} is not a readable zip file: {exc}") from exc
            yield read_drop(Path(tmp), source=source)
    else:
        yield read_drop(source, source=source)


def _safe_extract(zf: zipfile.ZipFile, dest: Path) -> None:
    """Extract ``zf`` into ``dest``, refusing members that would land outside it."""
    for member in zf.infolist():
        target = (dest / member.filename).resolve()
        if not str(target).startswith(str(dest.resolve())):
            raise ValueError(f"Unsafe path in zip: {member.filename}")
    zf.extractall(dest)


def _ignored(path: Path) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in path.parts[-3:]) or path.name.startswith("~$")


def read_drop(root: Path, source: Path | None = None) -> RawDrop:
    """Read every recognised file under ``root`` (searched recursively) into a ``RawDrop``."""
    drop = RawDrop(source=source or root, root=root)
    candidates: dict[str, list[Path]] = {}
    for path in drop.all_paths():
        lower = path.name.lower()
        if lower in MANIFEST_NAMES:
            candidates.setdefault("__manifest", []).append(path)
        elif lower in BOUNDARIES_NAMES:
            candidates.setdefault("__boundaries", []).append(path)
        elif path.suffix.lower() in TABLE_FORMATS and path.stem.lower() in FILES:
            candidates.setdefault(path.stem.lower(), []).append(path)
        else:
            drop.other_files.append(path)
    for name, paths in candidates.items():
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            drop.problems.append(
                ReadProblem(
                    paths[0].name, f"several files for '{name.strip('_')}': {names}", "exactly one file"
                )
            )
            drop.unreadable.add(name)
            continue
        path = paths[0]
        if name == "__manifest":
            _read_manifest(drop, path)
        elif name == "__boundaries":
            _read_boundaries(drop, path)
        else:
            raw = _read_table(drop, name, path)
            if raw is not None:
                drop.files[name] = raw
    return drop


def _read_manifest(drop: RawDrop, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8-sig")
        suffix = path.suffix.lower()
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise ValueError("the manifest is not a set of key = value pairs")
    except Exception as exc:  # noqa: BLE001 - any parse failure is reported, not raised
        drop.problems.append(
            ReadProblem(path.name, f"cannot read the manifest: {exc}", "valid TOML, JSON or YAML")
        )
        return
    drop.manifest = {normalise_header(k): v for k, v in data.items()}
    drop.manifest_file = path.name


def _read_boundaries(drop: RawDrop, path: Path) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
            raise ValueError("not a GeoJSON FeatureCollection")
    except Exception as exc:  # noqa: BLE001
        drop.problems.append(
            ReadProblem(path.name, f"cannot read boundaries: {exc}", "a GeoJSON FeatureCollection")
        )
        return
    drop.boundaries = data


def _read_table(drop: RawDrop, name: str, path: Path) -> RawFile | None:
    suffix = path.suffix.lower()
    encoding = None
    try:
        if suffix == ".csv":
            frame, encoding = _read_csv(path)
        elif suffix == ".xlsx":
            frame = _read_xlsx(path, name)
        else:
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.all().cast(pl.String))
    except Exception as exc:  # noqa: BLE001 - reported as a problem with the file
        drop.problems.append(
            ReadProblem(path.name, f"cannot read the file: {exc}", f"a readable {suffix} file")
        )
        drop.unreadable.add(name)
        return None
    original = {normalise_header(c): c for c in frame.columns}
    if len(original) != len(frame.columns):
        dupes = sorted({normalise_header(c) for c in frame.columns if _count_norm(frame.columns, c) > 1})
        drop.problems.append(
            ReadProblem(
                path.name, f"column headers repeat after normalising: {', '.join(dupes)}", "unique headers"
            )
        )
        drop.unreadable.add(name)
        return None
    frame = frame.rename({c: normalise_header(c) for c in frame.columns})
    frame = _clean_cells(frame)
    return RawFile(name, path.name, path, suffix[1:], encoding, frame, original, sha256_file(path))


def _count_norm(columns: list[str], column: str) -> int:
    return sum(normalise_header(c) == normalise_header(column) for c in columns)


def _read_csv(path: Path) -> tuple[pl.DataFrame, str]:
    """Read a CSV as strings, trying UTF-8 (with or without BOM) then Windows-1252."""
    data = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything; kept for clarity
        raise ValueError("not UTF-8 or Windows-1252 text")
    used = "utf-8-bom" if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else encoding
    if encoding == "utf-8-sig" and used != "utf-8-bom":
        used = "utf-8"
    frame = pl.read_csv(
        io.StringIO(text),
        infer_schema=False,
        truncate_ragged_lines=False,
    )
    return frame, used


def _read_xlsx(path: Path, name: str) -> pl.DataFrame:
    """Read the sheet named like the file (case-insensitive), else the first sheet, as strings."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    sheet = next((s for s in reader.sheet_names if normalise_header(s) == name), reader.sheet_names[0])
    return reader.load_sheet(sheet, dtypes="string").to_polars()


def _clean_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Strip cells, turn blanks into nulls, number rows as Excel does and drop fully blank rows."""
    cleaned = frame.with_columns(pl.all().cast(pl.String).str.strip_chars().replace("", None))
    cleaned = cleaned.with_row_index(ROW_COLUMN, offset=2).with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
    data_cols = [c for c in cleaned.columns if c != ROW_COLUMN]
    if not data_cols:
        return cleaned
    return cleaned.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
