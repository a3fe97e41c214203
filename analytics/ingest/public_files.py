"""Apply the public files that ride along in a drop: CQC register, ONS RUC lookup, NHS England CLD.

``validate(raw)`` calls ``apply_public_files(raw, typed)`` once the drop's files are typed and
before the reference checks. Every file the drop reader did not recognise (``raw.other_files``)
is sniffed by its headings (``analytics.ingest.importers.detect_public_file``):

* **CQC register** (care directory ``.xlsx``/``.ods``, deactivated locations, weekly directory
  CSV; several are combined): ``apply_cqc`` fills blank ``cqc_rating``/``cqc_rating_date`` of
  ``providers`` (a value in the drop is never overwritten) and every finding becomes a warning:
  file = the public file, value = the offending value (the drop's rating, ``(blank)`` for a filled
  one, or the ``cqc_location_id``), expected starting "provider <provider_id>:", rule = the importer's issue
  (``rating_filled``, ``rating_differs``, ``not_registered``, ``not_home_care``...). The weekly
  CSV has no ratings, so it only checks registration and home care.
* **ONS RUC lookup** (LSOA, 2021 and/or 2011): ``apply_ruc`` fills blank ``ruc21``/``ruc11`` of
  ``areas``; filled, conflicting and unusable codes are warnings with value = the offending code
  (the drop's, ``(blank)``, or the lookup's unusable one) and expected starting "area <area_code>:";
  areas not in the lookup are summed up in one warning.
* **CLD extract**: not mapped here (mapping needs choices the analyst makes). Without a
  ``packages`` file it is an error telling the analyst to run ``python -m analytics import cld``
  first; with one, a warning that it was not used.

Recognised files are taken out of ``raw.other_files`` (so they are not also reported as
"unrecognised file"); they stay in the drop's archive like every other file. Each applied file
also gets one summary warning (rule ``public file applied``), so the report and the Data page
say what was used.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analytics.ingest.drop_reader import RawDrop
from analytics.ingest.importers import ImportFileError, detect_public_file
from analytics.ingest.issues import ISSUE_SCHEMA, empty_issues

CLD_COMMAND = "python -m analytics import cld FILE --out DROP"
RUC_REPORTED = ("filled", "conflicting", "invalid_code")
APPLIED_RULE = "public file applied"
UNREADABLE_RULE = "public file unreadable"
FORMAT_RULE = "public file format"
CQC_COLUMNS = {
    "rating_filled": "cqc_rating",
    "rating_differs": "cqc_rating",
    "rating_date_filled": "cqc_rating_date",
    "multi_service_not_rated": "cqc_rating",
}


def apply_public_files(raw: RawDrop, typed: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Apply every recognised public file of ``raw`` to ``typed`` (in place); return the issues found.

    ``typed`` is validation's dict of typed frames: ``typed["providers"]`` and ``typed["areas"]``
    may be replaced by filled copies (same columns and types). Returns one frame in
    ``analytics.ingest.issues.ISSUE_SCHEMA`` (warnings, plus an error for a CLD extract without packages).
    """
    kinds: dict[str, list[Path]] = {"cqc": [], "ruc": [], "cld": []}
    for path in raw.other_files:
        kind = detect_public_file(path)
        if kind in kinds:
            kinds[kind].append(path)
    recognised = {p for paths in kinds.values() for p in paths}
    if not recognised:
        return empty_issues()
    raw.other_files[:] = [p for p in raw.other_files if p not in recognised]
    rows: list[dict] = []
    if kinds["cqc"]:
        rows += _apply_cqc(raw, typed, kinds["cqc"])
    if kinds["ruc"]:
        rows += _apply_ruc(raw, typed, kinds["ruc"])
    for path in kinds["cld"]:
        rows.append(_cld_issue(raw, path))
    return pl.DataFrame(rows, schema=ISSUE_SCHEMA, orient="row") if rows else empty_issues()


def _issue(
    file: str,
    rule: str,
    expected: str,
    *,
    value: str | None = None,
    column: str | None = None,
    severity: str = "warning",
) -> dict:
    return {
        "severity": severity,
        "file": file,
        "row": None,
        "column": column,
        "value": value,
        "rule": rule,
        "expected": expected,
    }


def _shown(value) -> str:
    """Return the offending value of a finding as the report shows it (``(blank)`` for none)."""
    return "(blank)" if value is None or str(value).strip() == "" else str(value)


def _read_all(paths: list[Path], reader) -> tuple[list[tuple[Path, object]], list[dict]]:
    """Read each file with ``reader``; return what was read and a warning per unreadable file."""
    read, problems = [], []
    for path in paths:
        try:
            read.append((path, reader(path)))
        except ImportFileError as exc:
            problems.append(
                _issue(path.name, UNREADABLE_RULE, "a readable public file (it was not used)", value=str(exc))
            )
    return read, problems


# -- CQC --------------------------------------------------------------------------------------------


def _apply_cqc(raw: RawDrop, typed: dict[str, pl.DataFrame], paths: list[Path]) -> list[dict]:
    from analytics.ingest.importers.cqc import ISSUES, apply_cqc, read_cqc_directory

    read, rows = _read_all(paths, read_cqc_directory)
    if not read:
        return rows
    directory = read[0][1]
    for _, other in read[1:]:
        directory = directory.combine(other)
    name = directory.source_name or ", ".join(p.name for p, _ in read)
    for _, single in read:
        for note in single.warnings:
            rows.append(_issue(single.source_name, FORMAT_RULE, "the CQC file's usual layout", value=note))
    if "providers" not in raw.files or typed["providers"].is_empty():
        rows.append(
            _issue(name, APPLIED_RULE, "a providers file to check", value="not used: the drop has no providers")
        )
        return rows
    filled, report = apply_cqc(typed["providers"], directory)
    typed["providers"] = filled
    for finding in report.iter_rows(named=True):
        issue = finding["issue"]
        column = CQC_COLUMNS.get(issue, "cqc_location_id")
        value = finding["cqc_location_id"] if column == "cqc_location_id" else finding["drop_value"]
        rows.append(
            _issue(
                name,
                issue,
                f"provider {finding['provider_id']}: " + _cqc_expected(ISSUES.get(issue, issue), finding),
                value=_shown(value),
                column=column,
            )
        )
    as_at = f" as at {directory.as_at.isoformat()}" if directory.as_at else ""
    checked = typed["providers"].get_column("cqc_location_id").drop_nulls().len()
    source = f"CQC register{as_at}: {checked} providers with a CQC location ID checked; "
    rows.append(_applied(name, "blank ratings filled from the CQC register", source, report, "issue", "no differences"))
    return rows


def _applied(name: str, filled: str, source: str, report: pl.DataFrame, column: str, nothing: str) -> dict:
    """Return the "applied" row of a public file: what it filled, from which source, and its findings.

    The findings are the report's ``column`` values counted, most common first (``nothing`` when
    the report is empty), e.g. ``ONS RUC 2021 lookup: 3 filled, 1 not_found``.
    """
    counts = report.get_column(column).value_counts(sort=True).iter_rows() if report.height else []
    found = ", ".join(f"{n} {value}" for value, n in counts) or nothing
    return _issue(name, APPLIED_RULE, f"{filled}, never overwritten", value=f"{source}{found}")


def _cqc_expected(meaning: str, finding: dict) -> str:
    parts = [meaning]
    if finding["cqc_location_id"]:
        parts.append(f"location {finding['cqc_location_id']}")
    if finding["drop_value"] is not None:
        parts.append(f"drop: {finding['drop_value']}")
    if finding["cqc_value"] is not None:
        parts.append(f"CQC: {finding['cqc_value']}")
    return "; ".join(parts)


# -- RUC --------------------------------------------------------------------------------------------


def _apply_ruc(raw: RawDrop, typed: dict[str, pl.DataFrame], paths: list[Path]) -> list[dict]:
    from analytics.ingest.importers.ruc import STATUSES, apply_ruc, read_ruc_lookup

    read, rows = _read_all(paths, read_ruc_lookup)
    if not read:
        return rows
    lookup = pl.concat([frame for _, frame in read], how="vertical")
    name = ", ".join(p.name for p, _ in read)
    if "areas" not in raw.files or typed["areas"].is_empty():
        rows.append(_issue(name, APPLIED_RULE, "an areas file to fill", value="not used: the drop has no areas"))
        return rows
    filled, report = apply_ruc(typed["areas"], lookup)
    typed["areas"] = filled
    for finding in report.filter(pl.col("status").is_in(RUC_REPORTED)).iter_rows(named=True):
        expected = STATUSES[finding["status"]]
        details = [
            f"drop: {finding['drop_value']}" if finding["drop_value"] else None,
            f"lookup: {finding['lookup_value']}" if finding["lookup_value"] else None,
            finding["detail"],
        ]
        expected = f"area {finding['area_code']}: " + "; ".join([expected, *(d for d in details if d)])
        offending = finding["lookup_value"] if finding["status"] == "invalid_code" else finding["drop_value"]
        rows.append(_issue(name, finding["status"], expected, value=_shown(offending), column=finding["field"]))
    missing = report.filter(pl.col("status") == "not_found")
    if missing.height:
        codes = missing.get_column("area_code").unique(maintain_order=True).to_list()
        shown = ", ".join(codes[:10]) + (f" and {len(codes) - 10} more" if len(codes) > 10 else "")
        rows.append(
            _issue(
                name,
                "not_found",
                STATUSES["not_found"] + " (the lookup is by LSOA code)",
                value=f"{len(codes)} area(s): {shown}",
                column=", ".join(missing.get_column("field").unique(maintain_order=True).to_list()),
            )
        )
    vintages = "/".join(sorted(lookup.get_column("vintage").unique().to_list()))
    source = f"ONS RUC {vintages} lookup: "
    rows.append(
        _applied(name, "blank ruc21/ruc11 filled from the ONS lookup", source, report, "status", "nothing to fill")
    )
    return rows


# -- CLD --------------------------------------------------------------------------------------------


def _cld_issue(raw: RawDrop, path: Path) -> dict:
    command = CLD_COMMAND.replace("FILE", path.name)
    if "packages" not in raw.files and "packages" not in raw.unreadable:
        return _issue(
            path.name,
            "CLD extract not mapped",
            f"a packages file: run `{command}` on your computer first, then upload the drop with its packages.csv",
            value="the drop has a Client Level Data extract but no packages file",
            severity="error",
        )
    return _issue(
        path.name,
        "CLD extract not used",
        f"nothing: the drop's packages file is used; to build packages from CLD run `{command}`",
        value="kept in the archive, not loaded",
    )
