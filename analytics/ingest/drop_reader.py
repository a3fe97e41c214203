"""Read a raw drop (a folder or a ``.zip``) into string frames, one per contract file.

Nothing here judges the data: every cell arrives as a stripped string (blank -> null) so
validation can report the exact value the analyst typed. Problems that stop a file being
read at all (bad encoding, two files for one name, a broken workbook) are collected as
``ReadProblem`` rows for the validation report rather than raised.
"""

from __future__ import annotations

import contextlib
import csv
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
from xml.etree import ElementTree

import polars as pl
import yaml

from analytics.contract import BOUNDARIES_NAMES, FILES, MANIFEST_NAMES, TABLE_FORMATS
from analytics.ingest.limits import MB, DropRefused, Limits, check_file_size, check_zip, limits, mb, named

ROW_COLUMN = "__row"  # the row number as Excel shows it (header = row 1)


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

    row_count: int | None = None
    control_free: bool = False
    """True when the file's bytes hold no control character (a CSV, checked as it is read), so no
    cell can: validation then skips that check per cell."""

    @property
    def rows(self) -> int:
        """The file's data rows (blank rows left out), also after ``RawDrop.release_frames``."""
        return self.frame.height if self.row_count is None else self.row_count


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
        """Return every regular file in the drop (for hashing and archiving), sorted; links are left out."""
        return sorted(p for p in self.root.rglob("*") if not _linked(p, self.root) and p.is_file() and not _ignored(p))

    def release_frames(self) -> None:
        """Free the text copies of the files (kept: their names, headers, row counts and hashes).

        A refresh calls this once validation has made the typed frames: at national scale the text
        copy of the delivery file alone is over a gigabyte.
        """
        for raw_file in self.files.values():
            raw_file.row_count = raw_file.frame.height
            raw_file.frame = raw_file.frame.clear()

    def links(self) -> list[Path]:
        """Return every symbolic link in the drop (a drop may only hold ordinary files)."""
        return sorted(p for p in self.root.rglob("*") if p.is_symlink() and not _ignored(p))


def _linked(path: Path, root: Path) -> bool:
    """Return True if ``path`` or any folder between it and ``root`` is a symbolic link."""
    current = path
    while current != root and current != current.parent:
        if current.is_symlink():
            return True
        current = current.parent
    return False


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
    """Yield the ``RawDrop`` read from a folder or ``.zip``.

    A zip is checked from its central directory against ``[limits]`` (``limits.check_zip``) and
    then unpacked, counting bytes, to a temporary folder. Raises ``DropRefused`` (one line naming
    the limit or the problem) for a drop that cannot be read at all; ``FileNotFoundError`` if
    ``source`` does not exist.
    """
    source = Path(source)
    if source.is_symlink():
        raise DropRefused(f"{source.name} is a link; give the drop folder or zip itself.")
    if not source.exists():
        raise FileNotFoundError(f"Drop not found: {source}")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise DropRefused(f"A drop must be a folder or a .zip file, not {source.name}.")
        with tempfile.TemporaryDirectory(prefix="drop-") as tmp:
            try:
                with zipfile.ZipFile(source) as zf:
                    _safe_extract(zf, Path(tmp), source.name)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
                raise DropRefused(f"{source.name} is not a readable zip file ({_first_line(exc)}).") from exc
            yield read_drop(Path(tmp), source=source)
    else:
        yield read_drop(source, source=source)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]


def _safe_extract(zf: zipfile.ZipFile, dest: Path, name: str) -> None:
    """Unpack ``zf`` into ``dest`` after ``check_zip``; refuse paths that leave ``dest`` and count bytes."""
    lim = limits()
    members = check_zip(zf, name, lim)
    root = dest.resolve()
    for member in members:
        target = (dest / member.filename).resolve()
        if not target.is_relative_to(root):
            raise DropRefused(f"{name} › {member.filename}: the path leaves the drop folder (unsafe path in zip).")
    budget = int(lim.max_unpacked_mb * MB)
    for member in members:
        target = (dest / member.filename).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(member) as src, target.open("wb") as out:
            while chunk := src.read(1 << 20):
                budget -= len(chunk)
                if budget < 0:
                    raise DropRefused(
                        f"{name} unpacks to more than the limit of {mb(lim.max_unpacked_mb * MB)} "
                        f"{named('max_unpacked_mb')}."
                    )
                out.write(chunk)


def _ignored(path: Path) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in path.parts[-3:]) or path.name.startswith("~$")


def read_drop(root: Path, source: Path | None = None) -> RawDrop:
    """Read every recognised file under ``root`` (searched recursively) into a ``RawDrop``."""
    drop = RawDrop(source=source or root, root=root)
    lim = limits()
    for link in drop.links():
        drop.problems.append(
            ReadProblem(
                link.name, "is a symbolic link; a drop may only hold ordinary files", "an ordinary file, not a link"
            )
        )
    paths = drop.all_paths()
    if len(paths) > lim.max_members:
        raise DropRefused(
            f"The drop holds {len(paths):,} files, more than the limit of {lim.max_members:,} {named('max_members')}."
        )
    candidates: dict[str, list[Path]] = {}
    for path in paths:
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
                ReadProblem(paths[0].name, f"several files for '{name.strip('_')}': {names}", "exactly one file")
            )
            drop.unreadable.add(name)
            continue
        path = paths[0]
        kind = {"__manifest": "manifest", "__boundaries": "boundaries"}.get(name, "file")
        try:
            check_file_size(path, kind, lim)
        except DropRefused as exc:
            drop.problems.append(ReadProblem(path.name, str(exc), "a smaller file"))
            drop.unreadable.add(name)
            continue
        if name == "__manifest":
            _read_manifest(drop, path)
        elif name == "__boundaries":
            _read_boundaries(drop, path)
        else:
            raw = _read_table(drop, name, path, lim)
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
            data = yaml.load(text, Loader=NoAliasLoader) or {}  # noqa: S506 - a SafeLoader without aliases
        if not isinstance(data, dict):
            raise ValueError("the manifest is not a set of key = value pairs")
    except Exception as exc:  # noqa: BLE001 - any parse failure is reported, not raised
        drop.problems.append(
            ReadProblem(path.name, f"cannot read the manifest: {_manifest_problem(exc)}", "valid TOML, JSON or YAML")
        )
        return
    drop.manifest = {normalise_header(k): v for k, v in data.items()}
    drop.manifest_file = path.name


class NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing aliases (``*name``), so a small manifest cannot expand exponentially."""

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases (*name) are not allowed in a manifest")
        return super().compose_node(parent, index)


def _manifest_problem(exc: BaseException) -> str:
    """Return a parse failure in one short line (no echo of the file's contents beyond a position)."""
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    text = _first_line(exc)
    if isinstance(exc, yaml.YAMLError) and "aliases" not in text:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return f"it is not valid YAML{where}"
    if isinstance(exc, json.JSONDecodeError):
        return f"it is not valid JSON at line {exc.lineno}"
    return text


def _read_boundaries(drop: RawDrop, path: Path) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
            raise ValueError("not a GeoJSON FeatureCollection")
    except Exception as exc:  # noqa: BLE001
        shown = _first_line(exc) if isinstance(exc, ValueError) and "GeoJSON" in str(exc) else "it is not valid JSON"
        drop.problems.append(ReadProblem(path.name, f"cannot read boundaries: {shown}", "a GeoJSON FeatureCollection"))
        return
    drop.boundaries = data


def _read_table(drop: RawDrop, name: str, path: Path, lim: Limits) -> RawFile | None:
    suffix = path.suffix.lower()
    encoding = None
    control_free = False
    try:
        if suffix == ".csv":
            frame, encoding, control_free = _read_csv(path)
        elif suffix == ".xlsx":
            frame = _read_xlsx(path, name, lim)
        else:
            frame = _read_parquet(path, lim)
    except (UnreadableFile, DropRefused) as exc:
        drop.problems.append(ReadProblem(path.name, str(exc), f"a readable {suffix} file"))
        drop.unreadable.add(name)
        return None
    except Exception:  # noqa: BLE001 - a parser's own words never reach the analyst
        drop.problems.append(
            ReadProblem(
                path.name, f"cannot read the file as {suffix[1:].upper()}", f"a readable {suffix} file (save it again)"
            )
        )
        drop.unreadable.add(name)
        return None
    original = {normalise_header(c): c for c in frame.columns}
    if len(original) != len(frame.columns):
        dupes = sorted({normalise_header(c) for c in frame.columns if _count_norm(frame.columns, c) > 1})
        drop.problems.append(
            ReadProblem(path.name, f"column headers repeat after normalising: {', '.join(dupes)}", "unique headers")
        )
        drop.unreadable.add(name)
        return None
    frame = frame.rename({c: normalise_header(c) for c in frame.columns})
    frame = _clean_cells(frame)
    return RawFile(
        name, path.name, path, suffix[1:], encoding, frame, original, sha256_file(path), control_free=control_free
    )


class UnreadableFile(ValueError):
    """A table file that cannot be read; the message says why in plain English."""


def _count_norm(columns: list[str], column: str) -> int:
    return sum(normalise_header(c) == normalise_header(column) for c in columns)


TEXT_BYTES = bytes(range(32, 127)) + b"\t\n\r" + bytes(range(128, 256))
"""Bytes that are not a control character in UTF-8 text: printable ASCII, tab, line ends and every
byte of a multi-byte character (C0 controls and DEL are single bytes below 128)."""


def _read_csv(path: Path) -> tuple[pl.DataFrame, str, bool]:
    """Read a CSV as strings, trying UTF-8 (with or without BOM) then Windows-1252; return the frame,
    the encoding used and whether the file holds no control character at all (one pass over its
    bytes, many times faster than a regular expression over every cell).

    Refuses (``UnreadableFile``) an empty file, CR-only line endings, an unclosed double quote and
    a row with more values than the header, each in plain words with the row as Excel numbers it.
    UTF-8 bytes go to the parser as they are (no decoded copy is kept: a national drop's delivery
    file is hundreds of megabytes); Windows-1252 text is re-encoded as UTF-8 first.
    """
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data, used = data[3:], "utf-8-bom"
    else:
        used = "utf-8"
    try:
        data.decode("utf-8")  # checked, not kept
    except UnicodeDecodeError:
        try:
            data, used = data.decode("cp1252").encode("utf-8"), "cp1252"
        except UnicodeDecodeError:
            raise UnreadableFile("the file is not UTF-8 or Windows-1252 text") from None
    if not data.strip():
        raise UnreadableFile("the file is empty (not even a header row)")
    if b"\r" in data and b"\n" not in data:
        raise UnreadableFile(
            "its lines end in CR only (an old Mac format), so it reads as one line: save it as 'CSV UTF-8'"
        )
    if data.count(b'"') % 2:
        line = _unclosed_quote_line(data.decode("utf-8"))
        raise UnreadableFile(
            f'a double quote (") opened on row {line} is never closed, so the rows after it run together: '
            "check that row for a stray quote"
        )
    try:
        frame = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.NoDataError as exc:
        raise UnreadableFile("the file is empty (not even a header row)") from exc
    except Exception as exc:  # noqa: BLE001 - said again in plain words, with the row
        raise UnreadableFile(
            _ragged_row(data.decode("utf-8")) or "the file cannot be read as CSV (save it again as 'CSV UTF-8')"
        ) from exc
    return frame, used, not data.translate(None, TEXT_BYTES)


def _unclosed_quote_line(text: str) -> int:
    """Return the line (as Excel numbers it) where the quote that is never closed opens."""
    line, inside, opened = 1, False, 1
    for char in text:
        if char == '"':
            inside = not inside
            if inside:
                opened = line
        elif char == "\n":
            line += 1
    return opened


def _ragged_row(text: str) -> str | None:
    """Return a sentence about the first row with more values than the header, if there is one."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    for number, row in enumerate(reader, start=2):
        if len(row) > len(header):
            return (
                f"row {number} has {len(row)} values but the header has {len(header)} columns: "
                "check that row for an extra comma or a value that needs quotes"
            )
    return None


def _read_xlsx(path: Path, name: str, lim: Limits) -> pl.DataFrame:
    """Read the sheet named like the file (case-insensitive), else the first sheet, as strings.

    An .xlsx is a zip: it is checked against ``[limits]`` first. Formulas are read as the values
    Excel saved with them; a formula without a saved value, or whose value is an error such as
    ``#DIV/0!``, is refused.
    """
    import fastexcel

    try:
        with zipfile.ZipFile(path) as zf:
            check_zip(zf, path.name, lim)
            _check_formulas(zf)
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("it is not a readable Excel workbook (.xlsx)") from exc
    reader = fastexcel.read_excel(str(path))
    sheet = next((s for s in reader.sheet_names if normalise_header(s) == name), reader.sheet_names[0])
    return reader.load_sheet(sheet, dtypes="string").to_polars()


_XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _check_formulas(zf: zipfile.ZipFile) -> None:
    """Refuse formula cells with no saved value or an error value, naming the first one."""
    for member in zf.namelist():
        if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
            continue
        sheet = member.rsplit("/", 1)[-1].removesuffix(".xml")
        with zf.open(member) as fh:
            for _, element in ElementTree.iterparse(fh):
                if element.tag != f"{_XLSX_NS}c":
                    continue
                formula = element.find(f"{_XLSX_NS}f")
                if formula is not None:
                    cell = element.get("r", "?")
                    value = element.find(f"{_XLSX_NS}v")
                    if element.get("t") == "e":
                        raise UnreadableFile(
                            f"cell {cell} ({sheet}) is a formula whose result is an error"
                            f" ({(value.text if value is not None else '') or 'error'}): fix it or paste values"
                        )
                    empty = value is None or (not value.text and element.get("t") not in ("str", "inlineStr"))
                    if empty:
                        raise UnreadableFile(
                            f"cell {cell} ({sheet}) is a formula with no saved result: open the file in Excel "
                            "and save it (or paste values) so the result is stored"
                        )
                element.clear()


def _read_parquet(path: Path, lim: Limits) -> pl.DataFrame:
    """Read a Parquet file as strings after checking its unpacked size from its footer."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > lim.max_file_mb * MB:
        raise DropRefused(
            f"{path.name} unpacks to {mb(size)}, more than the limit of {mb(lim.max_file_mb * MB)} "
            f"{named('max_file_mb')}."
        )
    return pl.read_parquet(path).with_columns(pl.all().cast(pl.String))


def _clean_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Strip cells, turn blanks into nulls, number rows as Excel does and drop fully blank rows."""
    cleaned = frame.with_columns(pl.all().cast(pl.String).str.strip_chars().replace("", None))
    cleaned = cleaned.with_row_index(ROW_COLUMN, offset=2).with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
    data_cols = [c for c in cleaned.columns if c != ROW_COLUMN]
    if not data_cols:
        return cleaned
    return cleaned.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
