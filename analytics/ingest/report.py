"""Validation reports: Markdown for people, JSON for machines, one line per defect for terminals.

Every report leads with its distinct defects (``analytics.ingest.defects``): the console, the
Markdown and JSON reports and the Data page all show the same ``defects`` list (errors) and
``warning_defects`` list (warnings), then every finding row by row.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl

from analytics.ingest.defects import describe_issue, group_defects
from analytics.ingest.private import private_dir, write_private_text
from analytics.ingest.validation import ValidationResult

MARKDOWN_ROW_LIMIT = 500


__all__ = ["describe_issue", "issues_frame", "report_dict", "report_markdown", "write_reports"]


def report_dict(result: ValidationResult, source: str, status: str, drop_id: str | None = None) -> dict:
    """Return the JSON-ready report of one validation run."""
    return {
        "status": status,
        "source": source,
        "drop_id": drop_id,
        "checked_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "as_of": result.as_of.isoformat() if isinstance(result.as_of, date) else None,
        "files": result.files,
        "error_count": result.errors.height,
        "warning_count": result.warnings.height,
        "defects": group_defects(result.errors, result.causes),
        "warning_defects": group_defects(result.warnings),
        "errors": result.errors.to_dicts(),
        "warnings": result.warnings.to_dicts(),
    }


def report_markdown(report: dict) -> str:
    """Return a readable Markdown report from ``report_dict`` output."""
    lines = [
        f"# Drop validation report: {report['status'].upper()}",
        "",
        f"- Drop: `{report['source']}`",
        f"- Checked at: {report['checked_at']}",
        f"- Data as at: {report['as_of'] or 'unknown'}",
        f"- Errors: {report['error_count']} · Warnings: {report['warning_count']}",
    ]
    if report.get("drop_id"):
        lines.append(f"- Drop id: `{report['drop_id']}`")
    defects, warning_defects = report.get("defects") or [], report.get("warning_defects") or []
    if defects:
        lines += ["", f"## {_count(len(defects), 'distinct defect')} (fix these; every error row is listed below)", ""]
        lines += [f"{n}. {_md_text(d['summary'])}" for n, d in enumerate(defects, 1)]
    if warning_defects:
        lines += ["", f"## {_count(len(warning_defects), 'distinct warning')} (not blocking)", ""]
        lines += [f"{n}. {_md_text(d['summary'])}" for n, d in enumerate(warning_defects, 1)]
    if report.get("shrink"):
        shrink = report["shrink"]
        done = (
            f"Loaded anyway: the shrink was confirmed by {shrink['accepted_by']}."
            if shrink.get("accepted_by")
            else "To load it anyway, confirm the shrink: `refresh --accept-shrink`, or confirm twice on the Data page."
        )
        lines += ["", "## Shrink check", "", _md_text(shrink["reason"]), "", done]
    lines += ["", "## Files", "", "| file | format | encoding | rows | sha256 |", "|---|---|---|---:|---|"]
    for f in report["files"]:
        lines.append(
            f"| {f['filename']} | {f['format']} | {f['encoding'] or ''} | {f['rows']:,} | `{f['sha256'][:12]}…` |"
        )
    for title, key in (
        ("Errors (the drop is rejected until these are fixed)", "errors"),
        ("Warnings", "warnings"),
    ):
        rows = report[key]
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("None.")
            continue
        lines += ["| file | row | column | value | expected | rule |", "|---|---:|---|---|---|---|"]
        for r in rows[:MARKDOWN_ROW_LIMIT]:
            cells = [
                r["file"],
                r["row"] if r["row"] is not None else "",
                r["column"] or "",
                r["value"] or "",
                r["expected"],
                r["rule"],
            ]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
        if len(rows) > MARKDOWN_ROW_LIMIT:
            lines.append(f"\n…and {len(rows) - MARKDOWN_ROW_LIMIT:,} more: see the JSON report for all of them.")
    return "\n".join(lines) + "\n"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _md_text(text: str) -> str:
    """Return a line of plain text safe in a Markdown list (no table or heading syntax)."""
    return str(text).replace("\n", " ").replace("|", "\\|")


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_reports(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write ``<stamp>-<status>.md`` and ``.json`` into ``folder`` plus ``latest.json``; return both paths."""
    private_dir(folder)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    base = folder / f"{stamp}-{report['status']}"
    md_path, json_path = base.with_suffix(".md"), base.with_suffix(".json")
    write_private_text(md_path, report_markdown(report))
    text = json.dumps(report, indent=2, default=str)
    write_private_text(json_path, text)
    write_private_text(folder / "latest.json", text)
    return md_path, json_path


def issues_frame(report: dict, key: str = "errors") -> pl.DataFrame:
    """Return the errors (or warnings) of a report dict as a frame (for the Data page)."""
    from analytics.ingest.issues import ISSUE_SCHEMA

    schema = {k: v for k, v in ISSUE_SCHEMA.items() if k != "severity"}
    return pl.DataFrame(report.get(key, []), schema=schema)
