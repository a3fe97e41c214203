"""The command line: ``python -m analytics COMMAND``.

Exit codes: 0 success; 2 drop rejected or refused (the report is printed: a drop over a
``[limits]`` value, a broken zip or a link is refused the same way), a valid drop held because it
would shrink the live data by more than ``[store] shrink_confirm_share`` (``refresh
--accept-shrink`` loads it), or a ``--locality`` or month not in the live data; 1 anything else.
Every command takes ``--data-dir PATH`` (the whole data store; default ``data/`` or
``MARKET_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 2


def _progress_bar(description: str) -> tuple[Callable[[str, float], None], Callable[[], None]]:
    """Return (callback, close) for a tqdm bar on stderr (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=description, unit="%", disable=None, file=sys.stderr, leave=False)

    def update(step: str, fraction: float) -> None:
        bar.set_description(step)
        bar.update(max(0, round(fraction * 100) - bar.n))

    return update, bar.close


def _print_issues(report: dict, limit: int = 50) -> None:
    """Print the report's distinct defects, then its distinct warnings (each one line, at most ``limit``).

    Every error and warning row belongs to exactly one line (with its row ranges); the report files
    list them row by row.
    """
    for key, count_key, mark, lead in (
        ("defects", "error_count", "✗", "the drop is rejected and the live data is unchanged."),
        ("warning_defects", "warning_count", "!", "not blocking."),
    ):
        lines = report.get(key) or []
        if not lines:
            continue
        count = report[count_key]
        kind = "error" if key == "defects" else "warning"
        distinct = f"{len(lines):,} distinct {'defect' if key == 'defects' else 'warning'}(s)"
        print(f"\n{count:,} {kind}(s) in {distinct}: {lead}")
        for defect in lines[:limit]:
            print(f"  {mark} " + defect["summary"])
        if len(lines) > limit:
            print(f"  …and {len(lines) - limit:,} more (see the report files)")


def cmd_demo(args: argparse.Namespace) -> int:
    from analytics.demo import SHAPES, generate_drop

    summary = generate_drop(
        Path(args.out),
        seed=args.seed,
        scale=args.scale,
        as_of=args.as_of or date(2026, 10, 31),
        shape=SHAPES[args.shape],
    )
    print(f"Demo drop written to {args.out}: " + json.dumps(summary, default=str))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from analytics.ingest.report import write_reports
    from analytics.store.snapshots import check_drop, recover, store_paths

    recover(store_paths(args.data_dir))  # clean what an interrupted refresh left, if anything
    update, close = _progress_bar("Validating")
    try:
        result, report = check_drop(args.drop, progress=update)
    finally:
        close()
    folder = Path(args.report_dir) if args.report_dir else store_paths(args.data_dir).reports
    md, js = write_reports(report, folder)
    print(f"{'VALID' if result.ok else 'REJECTED'}: {args.drop} (as at {report['as_of']})")
    _print_issues(report)
    print(f"\nReports: {md}\n         {js}")
    return EXIT_OK if result.ok else EXIT_REJECTED


def cmd_refresh(args: argparse.Namespace) -> int:
    from analytics.store.snapshots import refresh

    update, close = _progress_bar("Refreshing")
    try:
        outcome = refresh(
            args.drop, args.data_dir, loaded_by=args.by, progress=update, accept_shrink=args.accept_shrink
        )
    finally:
        close()
    _print_issues(outcome.report)
    md, js = outcome.report_paths
    if outcome.held:
        print(f"\nHELD: {args.drop}\n{outcome.shrink['reason']}")
        print(
            "If the fall is real, load it with: python -m analytics refresh "
            f"{args.drop} --accept-shrink{_data_dir_flag(args)}\nReports: {md}\n         {js}"
        )
        return EXIT_REJECTED
    if not outcome.accepted:
        print(f"\nREJECTED: {args.drop}\nReports: {md}\n         {js}")
        return EXIT_REJECTED
    if outcome.shrink is not None:
        print("\nShrink accepted (--accept-shrink): " + outcome.shrink["reason"].split(" (this drop")[0] + ".")
    print(f"\nLIVE: drop {outcome.drop_id} (as at {outcome.report['as_of']})")
    for table, rows in (outcome.row_counts or {}).items():
        if table.startswith("stg_"):
            print(f"  {table[4:]:<10} {rows:>9,} rows")
    print(f"Reports: {md}")
    return EXIT_OK


def cmd_export_marts(args: argparse.Namespace) -> int:
    from analytics.store.export import export_marts

    done = export_marts(args.out, args.data_dir, drop_id=args.drop)
    print(
        f"Exported {len(done.rows)} marts ({sum(done.rows.values()):,} rows) of drop {done.drop_id} "
        f"(as at {done.as_of}) for council {done.council_code} to {done.out}"
    )
    print(
        "Read with any engine, e.g. DuckDB: select * from "
        "read_parquet('OUT/mart_price_month/**/*.parquet', hive_partitioning = true)"
    )
    return EXIT_OK


def _data_dir_flag(args: argparse.Namespace) -> str:
    return f" --data-dir {args.data_dir}" if args.data_dir else ""


def cmd_history(args: argparse.Namespace) -> int:
    from analytics.store.snapshots import history

    events = history(args.data_dir)
    if args.json:
        print(json.dumps(events, indent=2, default=str))
        return EXIT_OK
    if not events:
        print("No drops loaded yet.")
        return EXIT_OK
    print(f"{'when':<26} {'event':<9} {'drop id':<34} {'as at':<11} {'by':<12} details")
    for e in events:
        mark = " (live)" if e.get("live") else ""
        if e["event"] == "refresh":
            rows = e.get("row_counts") or {}
            detail = f"{e.get('source')}: " + ", ".join(
                f"{k[4:]} {v:,}" for k, v in rows.items() if k.startswith("stg_")
            )
            if e.get("shrink"):
                detail += " (shrink confirmed with --accept-shrink or on the Data page)"
        elif e["event"] == "rollback":
            detail = f"from {e.get('from_drop_id')}"
        elif e["event"] == "recovered":
            detail = "removed after an interrupted refresh: " + ", ".join(e.get("removed") or [])
        elif e.get("reason"):
            detail = f"{e.get('source')}: {e['reason']}"
        else:
            detail = f"{e.get('source')}: {e.get('errors')} error(s)"
        print(
            f"{e['at']:<26} {e['event']:<9} {(e.get('drop_id') or '-') + mark:<34} {e.get('as_of') or '-':<11} "
            f"{e.get('by') or '-':<12} {detail}"
        )
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from analytics.store.snapshots import rollback

    entry = rollback(args.data_dir, to=args.to, by=args.by)
    print(f"Rolled back: {entry['from_drop_id']} -> {entry['drop_id']} is live again.")
    return EXIT_OK


def headline_service_types(cur, wanted: str | None) -> list[str] | None:  # noqa: ANN001 - a DuckDB cursor
    """Return the service types the headline covers: the dashboard's default filter when ``wanted`` is
    ``None`` (home care when the drop has it, else every type), every type for ``"all"``, else ``wanted``.

    One scope rule: ``indicators --json`` gives the figures the dashboard's tiles and the briefing
    pack show for the same filters. An unknown service type raises ``ValueError``.
    """
    from analytics.store.queries import filter_options
    from analytics.views.filters import default_filters

    options = filter_options(cur)
    if wanted is None:
        service = default_filters(options).service_type
        return None if service is None else [service]
    if wanted == "all":
        return None
    if wanted not in options.service_types:
        known = ", ".join(["all", *options.service_types])
        raise ValueError(f"service type {wanted!r} is not in the live data; choose one of: {known}")
    return [wanted]


def cmd_indicators(args: argparse.Namespace) -> int:
    from analytics.indicators.headline import headline_from_store
    from analytics.store.queries import check_scope, filter_options
    from analytics.store.snapshots import market_cursor, open_live

    con = open_live(args.data_dir)
    try:
        cur = market_cursor(con)
        check_scope(filter_options(cur), args.locality, args.as_of)  # the same refusal as `brief`
        service_types = headline_service_types(cur, args.service_type)
        figures = headline_from_store(cur, as_of=args.as_of, locality=args.locality, service_types=service_types)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    finally:
        con.close()
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    else:
        for key, value in figures.items():
            print(f"{key:<40} {value}")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from analytics.docs_gen import write_docs

    for path in write_docs():
        print(f"wrote {path}")
    if args.screenshots:
        from analytics.docs_gen import publish_screenshots

        for path in publish_screenshots():
            print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return EXIT_OK


def cmd_brief(args: argparse.Namespace) -> int:
    """Print the chart ids (``--list``) or write a briefing pack (PDF and PowerPoint) headless."""
    from analytics.briefing.pack import list_charts, run_brief

    if args.list:
        for chart_id, title in list_charts():
            print(f"{chart_id}\t{title}")
        return EXIT_OK
    if not args.charts or args.out is None:
        print("error: brief needs --charts ID,ID,... and --out DIR (or --list)", file=sys.stderr)
        return EXIT_ERROR
    ids = [c.strip() for c in args.charts.split(",") if c.strip()]
    files = run_brief(
        ids,
        args.out,
        data_dir=args.data_dir,
        locality=args.locality,
        month=args.month,
        title=args.title,
        audience=args.audience,
        progress=lambda n, total, what: print(f"  {what}", file=sys.stderr),
    )
    print(f"Audience:   {args.audience}")
    print(f"PDF:        {files.pdf} ({files.pages} pages)")
    print(f"PowerPoint: {files.pptx} ({files.slides} slides)")
    if files.stats is not None:
        s = files.stats
        print(f"Pictures:   {s.drawn} drawn, {s.reused} from the picture cache")
        print(
            f"Made in {files.seconds:.1f} s (charts {s.build_s:.1f} s, pictures {s.pictures_s:.1f} s, "
            f"files {files.write_s:.1f} s)"
        )
    else:
        print(f"Made in {files.seconds:.1f} s")
    return EXIT_OK


def cmd_pictures(args: argparse.Namespace) -> int:
    """Print how many chart pictures the data store keeps (``--clear``: delete them all)."""
    from analytics.config import default_data_dir, resolve_path
    from analytics.publish import pictures

    data_dir = resolve_path(args.data_dir) if args.data_dir is not None else default_data_dir()
    count, size = pictures.cache_size(data_dir)
    if args.clear:
        pictures.clear(data_dir)
        print(f"Deleted {count} pictures ({size / 1e6:.1f} MB) from {data_dir / pictures.FOLDER}")
    else:
        print(f"{count} pictures ({size / 1e6:.1f} MB) in {data_dir / pictures.FOLDER}")
    return EXIT_OK


def _iso_date(text: str) -> date:
    return date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every command."""
    from analytics.demo.shape import SHAPES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, default=None, help="data store folder (default: data/ or $MARKET_DATA_DIR)"
    )
    parser = argparse.ArgumentParser(prog="python -m analytics", description="Home care market sufficiency data tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", parents=[common], help="write the synthetic demo council's drop")
    p.add_argument("--out", required=True, type=Path, help="folder to write the drop into")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: config [demo] seed)")
    p.add_argument("--scale", type=int, default=1, help="number of council copies (10, 100 for performance work)")
    p.add_argument("--as-of", type=_iso_date, default=None, help="as-of date, YYYY-MM-DD (default 2026-10-31)")
    p.add_argument(
        "--shape",
        choices=list(SHAPES),
        default="northdale",
        help="kind of council (default northdale; others leave files out, blank coordinates, shorten the history...)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("validate", parents=[common], help="check a drop without loading it")
    p.add_argument("drop", type=Path, help="drop folder or .zip")
    p.add_argument("--report-dir", type=Path, default=None, help="where to write the reports (default: store reports/)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("refresh", parents=[common], help="validate a drop and make it live")
    p.add_argument("drop", type=Path, help="drop folder or .zip")
    p.add_argument("--by", default=None, help="who is loading it (default: your login name)")
    p.add_argument(
        "--accept-shrink",
        action="store_true",
        help="load it even if it has far fewer people in service or planned hours than the live drop "
        "(more than [store] shrink_confirm_share; audited)",
    )
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser(
        "export-marts", parents=[common], help="write the marts as Hive-partitioned Parquet (council, month) for a hub"
    )
    p.add_argument("--out", required=True, type=Path, help="folder shared by the councils of the hub")
    p.add_argument("--drop", default=None, help="drop id of a kept snapshot (default: the live one)")
    p.set_defaults(func=cmd_export_marts)

    p = sub.add_parser("history", parents=[common], help="list loaded, rejected and rolled-back drops")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("rollback", parents=[common], help="make the previous snapshot live again")
    p.add_argument("--to", default=None, help="drop id to restore (default: the one before the live drop)")
    p.add_argument("--by", default=None, help="who is rolling back")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("indicators", parents=[common], help="print the headline figures of the live data")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--as-of", type=_iso_date, default=None, help="as-of date (default: the drop's)")
    p.add_argument("--locality", default=None, help="restrict to one locality")
    p.add_argument(
        "--service-type",
        default=None,
        help="service type, or 'all' (default: the dashboard's default, home care when the drop has it)",
    )
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("docs", parents=[common], help="regenerate docs/data-drops.md and docs/indicators.md")
    p.add_argument(
        "--screenshots",
        action="store_true",
        help="also copy build/screenshots (made by the e2e tests) into docs/screenshots, small",
    )
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("brief", parents=[common], help="make a briefing pack (PDF and PowerPoint) of chosen charts")
    p.add_argument("--list", action="store_true", help="print the chart ids, one per line (id, tab, title)")
    p.add_argument("--charts", default=None, help="comma-separated chart ids, in pack order")
    p.add_argument("--out", type=Path, default=None, help="folder to write the PDF and PowerPoint into")
    p.add_argument("--locality", default=None, help="draw the charts for one locality (default: whole council)")
    p.add_argument("--month", default=None, help="as-at month, YYYY-MM (default: the latest)")
    p.add_argument("--title", default=None, help="pack title (default: 'Home care market sufficiency: <month>')")
    p.add_argument(
        "--audience",
        choices=("public", "internal"),
        default="public",
        help="public (default): no chart naming a provider, marked OFFICIAL; "
        "internal: provider charts kept, marked OFFICIAL-SENSITIVE on every page and slide",
    )
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser(
        "pictures", parents=[common], help="show or clear the chart pictures kept for downloads and packs"
    )
    p.add_argument("--clear", action="store_true", help="delete them all (they are drawn again when asked for)")
    p.set_defaults(func=cmd_pictures)

    try:
        from analytics.ingest.importers.cli import add_import_parser, run_import
    except ImportError:
        pass
    else:
        before = set(sub.choices)
        add_import_parser(sub)
        for name in set(sub.choices) - before:
            sub.choices[name].set_defaults(func=run_import)
            _add_common(sub.choices[name])
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Give a parser (and its sub-parsers) ``--data-dir`` if it lacks one."""
    if not any("--data-dir" in a.option_strings for a in parser._actions):
        parser.add_argument("--data-dir", type=Path, default=None)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _add_common(child)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code."""
    from analytics.store.queries import ScopeError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScopeError as exc:  # a --locality or month not in the live data: refused like a bad drop
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except Exception as exc:  # noqa: BLE001 - the CLI turns any failure into a message and exit 1
        if args.__dict__.get("debug") or __import__("os").environ.get("MARKET_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
