"""``python -m analytics import cqc|ruc|cld``: run an importer from the command line.

Exit codes: 0 the import ran (findings are in the report file, not failures); 2 the input file
cannot be read or is not a format the importer recognises; 1 anything else (for example a drop
folder without a providers file).

``analytics.cli`` calls ``add_import_parser``; ``python -m analytics.ingest.importers.cli`` runs the same
commands on their own.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

from analytics.ingest.importers import ImportFileError, Workbook, frame_from_header, read_csv_frame, read_text

EXIT_OK, EXIT_ERROR, EXIT_UNREADABLE = 0, 1, 2


def add_import_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` command, with sub-commands ``cqc``, ``ruc`` and ``cld``, to ``subparsers``."""
    parser = subparsers.add_parser(
        "import",
        help="import a public or standard file (CQC register, ONS RUC lookup, NHS England CLD)",
        description="Import a public or standard file. See docs/importers.md.",
    )
    parser.set_defaults(func=run_import)
    kinds = parser.add_subparsers(dest="import_kind", required=True, metavar="{cqc,ruc,cld}")

    p = kinds.add_parser(
        "cqc",
        help="read a CQC register file; with --drop, fill and check the drop's providers",
        description="Read the CQC care directory (HSCA active locations .xlsx/.ods, deactivated locations) "
        "or the weekly directory CSV. Give both the active and the deactivated file to report deregistrations.",
    )
    _files_and_drop(p, files="CQC register file(s)", drop="drop folder whose providers to fill and check")

    p = kinds.add_parser(
        "ruc",
        help="read an ONS RUC LSOA lookup; with --drop, fill the drop's areas",
        description="Read an ONS Rural Urban Classification LSOA lookup (2011 or 2021, .csv or .xlsx).",
    )
    _files_and_drop(p, files="RUC lookup file(s), 2011 and/or 2021", drop="drop folder whose areas to fill")

    p = kinds.add_parser(
        "cld",
        help="map NHS England Client Level Data home care service events to packages.csv",
        description="Map long-term community home care service events of a CLD extract to packages.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="CLD extract (.csv or .xlsx)")
    p.add_argument("--out", type=Path, required=True, help="folder to write packages.csv and cld_report.csv")
    p.add_argument("--providers", type=Path, default=None, help="providers file: map CQC location IDs to provider_id")
    p.add_argument("--area", choices=("lsoa", "ward"), default="lsoa", help="area_code from the LSOA (default) or ward")
    p.add_argument(
        "--component",
        action="append",
        default=None,
        help="a Service Component value meaning home care (repeat; default: Home Support, "
        "Home support or domiciliary care)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing packages.csv in --out")
    _data_dir(p)


def _files_and_drop(parser: argparse.ArgumentParser, files: str, drop: str) -> None:
    # cqc and ruc read one or more public files and, given a drop folder, fill that drop.
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help=files)
    parser.add_argument("--drop", type=Path, default=None, help=drop)
    _data_dir(parser)


def _data_dir(parser: argparse.ArgumentParser) -> None:
    # Accepted for symmetry with every other command; the importers do not use the data store.
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Run the ``import`` sub-command in ``args``; return the exit code."""
    try:
        if args.import_kind == "cqc":
            return _run_cqc(args)
        if args.import_kind == "ruc":
            return _run_ruc(args)
        if args.import_kind == "cld":
            return _run_cld(args)
    except ImportFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except DropError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"error: unknown import kind {args.import_kind!r}", file=sys.stderr)
    return EXIT_ERROR


class DropError(Exception):
    """A problem with the drop folder (not with the public file): exit code 1."""


# -- drop tables ------------------------------------------------------------------------------------


def read_table_file(path: Path) -> pl.DataFrame:
    """Read a providers file given on its own (CSV, XLSX or Parquet) as text, headers as the contract's."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = read_csv_frame(read_text(path))
        elif suffix == ".parquet":
            frame = pl.read_parquet(path).with_columns(pl.all().cast(pl.String))
        elif suffix in (".xlsx", ".ods"):
            book = Workbook(path)
            frame = frame_from_header(book.raw(book.sheet_names[0]), 0)
        else:
            raise DropError(f"{path}: expected a .csv, .xlsx or .parquet file")
    except (DropError, ImportFileError):
        raise
    except Exception as exc:
        raise DropError(f"{path}: cannot read the file ({exc})") from exc
    return frame.rename({c: _contract_header(c) for c in frame.columns})


def _contract_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().lower())


@dataclass
class DropTable:
    """One contract file of a drop folder, as text with contract header names."""

    path: Path
    frame: pl.DataFrame
    original_headers: dict[str, str]

    @property
    def is_csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"


def read_drop_table(drop_dir: Path, name: str) -> DropTable:
    """Return contract file ``name`` of a drop folder, read by the project's drop reader.

    Falls back to a plain read of ``DROP_DIR/<name>.csv`` if the drop reader is not available.
    """
    if not drop_dir.is_dir():
        raise DropError(f"--drop must be a drop folder (a .zip cannot be updated): {drop_dir}")
    try:
        from analytics.ingest.drop_reader import ROW_COLUMN, read_drop
    except ImportError:  # pragma: no cover - the drop reader ships with the project
        path = drop_dir / f"{name}.csv"
        if not path.is_file():
            raise DropError(f"{drop_dir} has no {name}.csv") from None
        text = read_text(path)
        frame = read_csv_frame(text)
        return DropTable(path, frame.rename({c: _contract_header(c) for c in frame.columns}), {})
    drop = read_drop(drop_dir)
    raw = drop.files.get(name)
    if raw is None:
        problems = [f"{p.file}: {p.message}" for p in drop.problems if p.file.lower().startswith(name)]
        detail = "; ".join(problems) or f"no {name}.csv, .xlsx or .parquet"
        raise DropError(f"{drop_dir}: cannot use the {name} file ({detail})")
    return DropTable(raw.path, raw.frame.drop(ROW_COLUMN, strict=False), dict(raw.original_headers))


def _write_back(table: DropTable, updated: pl.DataFrame, what: str) -> None:
    """Rewrite a drop CSV with filled values (blank cells only), or say why not."""
    name = table.path.name
    # Columns the importer added but left empty are not written.
    added = [c for c in updated.columns if c not in table.frame.columns and updated[c].null_count() == updated.height]
    updated = updated.drop(added)
    if table.frame.equals(updated):
        print(f"{name}: nothing to fill; file unchanged.")
    elif table.is_csv:
        headers = {c: table.original_headers.get(c, c) for c in updated.columns}
        updated.rename(headers).write_csv(table.path)
        print(f"{name}: filled {what} written back (blank cells only).")
    else:
        print(f"{name}: not rewritten ({table.path.suffix} file); the report lists every value to fill by hand.")


def _fill_drop(
    drop_dir: Path | None,
    name: str,
    fill: Callable[[pl.DataFrame], tuple[pl.DataFrame, pl.DataFrame]],
    what: str,
    report_name: str,
    column: str,
    legend: dict[str, str],
    width: int,
) -> int:
    """Fill blank cells of the drop's ``name`` file, write the report beside it and print its counts.

    ``fill`` takes the file's frame and returns ``(filled frame, report)``; the report is written
    to ``drop_dir / report_name`` and counted by ``column``, each value explained by ``legend``
    (printed ``width`` characters wide). Does nothing without a drop (``drop_dir`` None). Returns
    the exit code, ``EXIT_OK``.
    """
    if drop_dir is None:
        return EXIT_OK
    table = read_drop_table(drop_dir, name)
    filled, report = fill(table.frame)
    report_path = drop_dir / report_name
    report.write_csv(report_path)
    _write_back(table, filled, what)
    print(f"Report: {report_path} ({report.height} row(s))")
    for value, n in _counts(report, column):
        print(f"  {value:<{width}} {n:>6,}  {legend.get(value, '')}")
    return EXIT_OK


def _counts(report: pl.DataFrame, column: str) -> list[tuple[str, int]]:
    if report.is_empty():
        return []
    rows = report.group_by(column).len().sort(["len", column], descending=[True, False]).iter_rows()
    return [(str(k), int(n)) for k, n in rows]


# -- commands ---------------------------------------------------------------------------------------


def _run_cqc(args: argparse.Namespace) -> int:
    from analytics.ingest.importers.cqc import ISSUES, apply_cqc, read_cqc_directory

    directory = None
    for path in args.files:
        one = read_cqc_directory(path)
        directory = one if directory is None else directory.combine(one)
    summary = directory.summary()
    print(f"CQC register: {directory.source_name} ({directory.source_format}), as at {summary['as_at'] or 'unknown'}")
    for warning in directory.warnings:
        print(f"  note: {warning}")
    for key, value in summary.items():
        if key not in ("source_format", "as_at"):
            print(f"  {key.replace('_', ' '):<36} {value:>9,}")
    fill = partial(apply_cqc, directory=directory)
    return _fill_drop(args.drop, "providers", fill, "CQC ratings", "cqc_report.csv", "issue", ISSUES, 24)


def _run_ruc(args: argparse.Namespace) -> int:
    from analytics.ingest.importers.ruc import STATUSES, apply_ruc, read_ruc_lookup

    lookup = pl.concat([read_ruc_lookup(path) for path in args.files])
    for vintage, n in sorted(lookup.group_by("vintage").len().iter_rows()):
        codes = lookup.filter(pl.col("vintage") == vintage).group_by("ruc_code").len().sort("ruc_code")
        listed = ", ".join(f"{c} {k:,}" for c, k in codes.iter_rows())
        print(f"RUC {vintage}: {n:,} LSOAs ({listed})")
    fill = partial(apply_ruc, lookup=lookup)
    return _fill_drop(args.drop, "areas", fill, "RUC codes", "ruc_report.csv", "status", STATUSES, 14)


def _run_cld(args: argparse.Namespace) -> int:
    from analytics.ingest.importers.cld import REASONS, cld_to_packages

    out: Path = args.out
    providers = None
    if args.providers is not None:
        if not args.providers.is_file():
            raise DropError(f"--providers: no such file {args.providers}")
        providers = read_table_file(args.providers)
    elif out.is_dir():
        # The drop's own providers, when there: packages must name providers that are in the drop.
        tables = (".csv", ".xlsx", ".parquet")
        found = sorted(p for p in out.iterdir() if p.stem.lower() == "providers" and p.suffix.lower() in tables)
        if found:
            providers = read_table_file(found[0])
            print(f"Mapping CQC location IDs to provider_id with {found[0]}")
    target = out / "packages.csv"
    if target.exists() and not args.force:
        raise DropError(f"{target} exists; use --force to overwrite it")
    packages, report = cld_to_packages(args.file, providers, area=args.area, home_care_components=args.component)
    out.mkdir(parents=True, exist_ok=True)
    packages.write_csv(target)
    report_path = out / "cld_report.csv"
    report.write_csv(report_path)
    mapped = int((report["outcome"] == "mapped").sum())
    print(f"{args.file.name}: {report.height:,} row(s); {mapped:,} mapped to {target}")
    print(f"Report: {report_path}")
    for reason, n in _counts(report, "reason"):
        print(f"  {reason:<24} {n:>8,}  {REASONS.get(reason, '')}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m analytics.ingest.importers.cli cqc|ruc|cld ...`` (the same as ``analytics import``)."""
    parser = argparse.ArgumentParser(prog="python -m analytics.ingest.importers.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    add_import_parser(sub)
    args = parser.parse_args(["import", *(argv if argv is not None else sys.argv[1:])])
    return run_import(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
