"""What changed between two accepted drops, and the drop history, for the Data page.

``diff_live(data_dir)`` compares the live snapshot with the previous accepted one still kept under
``<data_dir>/snapshots/`` (or any kept drop given as ``against``); ``diff_snapshots`` compares two
snapshot files. Both snapshots are opened read-only, each through a fresh in-memory DuckDB
instance with the file ATTACHed (as ``store.open_live`` does), so nothing is locked for writers.

Rows are matched per file on the contract's identifying columns (``KEYS``): ``package_id``,
``request_id``, ``provider_id``, ``area_code``, ``contract_id``; delivery rows on
``(period_start, provider_id, area_code, package_id)`` and workforce rows on
``(provider_id, month)`` with ``month`` taken as its calendar month (the contract allows any day
of the month). A row is *added* when its key is only in the newer drop, *removed* when only in the
older, *changed* when the key is in both but another column differs. Rows are compared as
multisets, so duplicate keys (allowed in delivery) are counted correctly. Person identifiers are
compared in their pseudonymised form and never shown.

The headline measures (``analytics.indicators.headline.headline_from_store``) are worked out for both
snapshots, so an analyst can sanity-check a drop before telling commissioners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from analytics.contract import FILES
from analytics.store.snapshots import StorePaths, history, read_audit, store_paths

KEYS: dict[str, tuple[str, ...]] = {
    "areas": ("area_code",),
    "providers": ("provider_id",),
    "packages": ("package_id",),
    "requests": ("request_id",),
    "delivery": ("period_start", "provider_id", "area_code", "package_id"),
    "workforce": ("provider_id", "month"),
    "contracts": ("contract_id",),
    "milestones": ("contract_id", "milestone"),
}
MONTH_KEYS = {("workforce", "month")}
"""Key columns compared by calendar month rather than by exact date."""
EXAMPLE_LIMIT = 20
FILES_SCHEMA = {
    "file": pl.String,
    **dict.fromkeys(("rows_before", "rows_after", "added", "removed", "changed"), pl.Int64),
}
EXAMPLES_SCHEMA = {"file": pl.String, "change": pl.String, "key": pl.String}
HEADLINE_SCHEMA = {
    "key": pl.String,
    "measure": pl.String,
    "before": pl.String,
    "after": pl.String,
    "change": pl.Float64,
    "changed": pl.Boolean,
}


@dataclass(frozen=True)
class SnapshotInfo:
    """Which drop a snapshot holds (from its ``meta_drop`` table)."""

    drop_id: str
    as_of: str | None
    loaded_at: str | None
    loaded_by: str | None
    source: str | None


@dataclass(frozen=True)
class DropDiff:
    """The difference between an older (``before``) and a newer (``after``) snapshot.

    ``files``: one row per contract file (``FILES_SCHEMA``); ``examples``: up to ``EXAMPLE_LIMIT``
    keys per file and change; ``headline``: every headline measure before and after
    (``HEADLINE_SCHEMA``; ``change`` is after - before when both are numbers); the raw headline
    dicts; ``headline_error`` when the headline could not be worked out for one of them.
    """

    before: SnapshotInfo
    after: SnapshotInfo
    files: pl.DataFrame
    examples: pl.DataFrame
    headline: pl.DataFrame
    headline_before: dict
    headline_after: dict
    headline_error: str | None = None

    def headline_table(self, only_changed: bool = True) -> pl.DataFrame:
        """Return the headline before/after table for display (only measures that changed, by default)."""
        table = self.headline.filter(pl.col("changed")) if only_changed else self.headline
        return table.drop("key", "changed")

    @property
    def total_changes(self) -> int:
        return int(self.files.select(pl.sum_horizontal("added", "removed", "changed").sum()).item() or 0)


def open_snapshot(path: Path | str, alias: str = "market") -> duckdb.DuckDBPyConnection:
    """Return a new connection with the snapshot file at ``path`` attached read-only as ``alias`` and in use."""
    con = duckdb.connect()
    con.execute(f"ATTACH ? AS {alias} (READ_ONLY)", [str(path)])
    con.execute(f"USE {alias}")
    return con


def snapshot_info(cur: duckdb.DuckDBPyConnection) -> SnapshotInfo:
    row = cur.sql("select drop_id, as_of, loaded_at, loaded_by, source from meta_drop").fetchall()[0]
    return SnapshotInfo(row[0], row[1].isoformat() if row[1] else None, row[2], row[3], row[4])


# -- which drops ------------------------------------------------------------------------------------


def kept_drops(data_dir: Path | str | None = None) -> list[dict]:
    """Return the accepted drops whose snapshot is still kept, newest first (audit ``refresh`` events).

    Each dict has ``drop_id``, ``as_of``, ``at``, ``by``, ``source`` and ``live``.
    """
    events = [e for e in history(data_dir) if e.get("event") == "refresh" and e.get("snapshot_kept")]
    return list(reversed(events))


def previous_drop(data_dir: Path | str | None = None, current: str | None = None) -> str | None:
    """Return the accepted drop loaded before ``current`` (default: the live one) whose snapshot is kept.

    This is the drop ``store.rollback`` goes back to. ``None`` when there is none.
    """
    paths = store_paths(data_dir)
    if current is None:
        from analytics.store.snapshots import live_drop_id

        current = live_drop_id(paths)
    order = [e["drop_id"] for e in read_audit(paths) if e.get("event") == "refresh"]
    earlier = order[: order.index(current)] if current in order else order
    kept = [d for d in earlier if paths.snapshot(d).exists() and d != current]
    return kept[-1] if kept else None


# -- diff -------------------------------------------------------------------------------------------


def diff_live(data_dir: Path | str | None = None, against: str | None = None) -> DropDiff | None:
    """Compare the live snapshot with ``against`` (default: the previous kept drop); None if none."""
    paths: StorePaths = store_paths(data_dir)
    if not paths.live.exists():
        return None
    target = against or previous_drop(data_dir)
    if target is None or not paths.snapshot(target).exists():
        return None
    return diff_snapshots(paths.snapshot(target), paths.live)


def diff_snapshots(before: Path | str, after: Path | str, example_limit: int = EXAMPLE_LIMIT) -> DropDiff:
    """Return what changed from the snapshot file ``before`` to the snapshot file ``after``."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS b (READ_ONLY)", [str(before)])
        con.execute("ATTACH ? AS a (READ_ONLY)", [str(after)])
        files, examples = [], []
        for name in FILES:
            counts, keys = _diff_table(con, name, example_limit)
            files.append(counts)
            examples.extend(keys)
    finally:
        con.close()
    headline, before_info, after_info, error = _headlines(before, after)
    before_values, after_values = headline
    return DropDiff(
        before=before_info,
        after=after_info,
        files=pl.DataFrame(files, schema=FILES_SCHEMA, orient="row"),
        examples=pl.DataFrame(examples, schema=EXAMPLES_SCHEMA, orient="row"),
        headline=headline_table(before_values, after_values),
        headline_before=before_values,
        headline_after=after_values,
        headline_error=error,
    )


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = ? and table_name = ? order by column_index",
        [catalog, table],
    ).fetchall()
    return [r[0] for r in rows]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _diff_table(con: duckdb.DuckDBPyConnection, name: str, limit: int) -> tuple[dict, list[dict]]:
    table = f"stg_{name}"
    before_cols, after_cols = _columns(con, "b", table), _columns(con, "a", table)
    common = [c for c in after_cols if c in before_cols]
    keys = [k for k in KEYS[name] if k in common]
    empty = {"file": name, "rows_before": 0, "rows_after": 0, "added": 0, "removed": 0, "changed": 0}
    if not before_cols and not after_cols:
        return empty, []
    if not before_cols or not after_cols or not keys:
        rows_b = _count(con, "b", table) if before_cols else 0
        rows_a = _count(con, "a", table) if after_cols else 0
        return {**empty, "rows_before": rows_b, "rows_after": rows_a, "added": rows_a, "removed": rows_b}, []
    cols = ", ".join(_quote(c) for c in common)
    key_exprs = [f"date_trunc('month', {_quote(k)})::date" if (name, k) in MONTH_KEYS else _quote(k) for k in keys]
    key_select = ", ".join(f"{e} as k{i}" for i, e in enumerate(key_exprs))
    key_names = [f"k{i}" for i in range(len(keys))]
    on = " and ".join(f"ob.{k} is not distinct from oa.{k}" for k in key_names)
    label = " || ' · ' || ".join(f"coalesce(cast(coalesce(ob.{k}, oa.{k}) as varchar), '(blank)')" for k in key_names)
    con.execute(
        f"""
        create or replace temp table _keys as
        with b as (select {cols} from b.{table}),
             a as (select {cols} from a.{table}),
             only_b as (select * from b except all select * from a),
             only_a as (select * from a except all select * from b),
             ob as (select {key_select}, count(*) as n from only_b group by all),
             oa as (select {key_select}, count(*) as n from only_a group by all)
        select {label} as key, coalesce(ob.n, 0) as nb, coalesce(oa.n, 0) as na
        from ob full outer join oa on {on}
        """
    )
    summary = con.sql(
        """
        select coalesce(sum(least(nb, na)), 0), coalesce(sum(nb - least(nb, na)), 0),
               coalesce(sum(na - least(nb, na)), 0)
        from _keys
        """
    ).fetchall()[0]
    changed, removed, added = (int(v) for v in summary)
    counts = {
        "file": name,
        "rows_before": _count(con, "b", table),
        "rows_after": _count(con, "a", table),
        "added": added,
        "removed": removed,
        "changed": changed,
    }
    examples = []
    for change, condition in (("added", "na > nb"), ("removed", "nb > na"), ("changed", "nb > 0 and na > 0")):
        found = con.execute(f"select key from _keys where {condition} order by key limit ?", [limit]).fetchall()
        examples += [{"file": name, "change": change, "key": r[0]} for r in found]
    return counts, examples


def _count(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> int:
    return int(con.sql(f"select count(*) from {catalog}.{table}").fetchall()[0][0])


# -- headline ---------------------------------------------------------------------------------------


def _headlines(
    before: Path | str, after: Path | str
) -> tuple[tuple[dict, dict], SnapshotInfo, SnapshotInfo, str | None]:
    from analytics.indicators.headline import headline_from_store

    values: list[dict] = []
    infos: list[SnapshotInfo] = []
    error = None
    for path in (before, after):
        con = open_snapshot(path)
        try:
            infos.append(snapshot_info(con))
            try:
                cur = con.cursor()
                cur.execute("USE market")  # cursors do not inherit USE
                values.append(headline_from_store(cur))
            except Exception as exc:  # noqa: BLE001 - an old snapshot may not compute; say so, don't fail
                values.append({})
                error = f"{infos[-1].drop_id}: the headline could not be worked out ({exc})"
        finally:
            con.close()
    return (values[0], values[1]), infos[0], infos[1], error


def _label(key: str) -> str:
    try:
        from analytics.indicators.catalogue import by_headline_key

        found = by_headline_key().get(key)
    except Exception:  # noqa: BLE001 - labels are a nicety; the key itself is shown instead
        found = None
    return found.title if found is not None else key.replace("_", " ").capitalize()


def _shown(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"
    return str(value)


def headline_table(before: dict, after: dict) -> pl.DataFrame:
    """Return every headline key of ``before`` or ``after`` with both values and the change (``HEADLINE_SCHEMA``)."""
    rows = []
    for key in dict.fromkeys([*after, *before]):
        if key == "as_of":
            continue
        old, new = before.get(key), after.get(key)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
        change = round(float(new) - float(old), 4) if numeric else None
        rows.append(
            {
                "key": key,
                "measure": _label(key),
                "before": _shown(old),
                "after": _shown(new),
                "change": change,
                "changed": old != new,
            }
        )
    return pl.DataFrame(rows, schema=HEADLINE_SCHEMA, orient="row")


# -- history ----------------------------------------------------------------------------------------

AUDIT_SCHEMA = {
    "at": pl.String,
    "event": pl.String,
    "drop_id": pl.String,
    "as_of": pl.String,
    "source": pl.String,
    "by": pl.String,
    "errors": pl.Int64,
    "warnings": pl.Int64,
    "from_drop_id": pl.String,
    "live": pl.Boolean,
    "snapshot_kept": pl.Boolean,
    "reason": pl.String,
}
AUDIT_LABELS = {
    "at": "When",
    "event": "What happened",
    "drop_id": "Drop",
    "as_of": "Data as at",
    "source": "Source",
    "by": "By",
    "errors": "Errors",
    "warnings": "Warnings",
    "from_drop_id": "Was live before",
    "live": "Live now",
    "snapshot_kept": "Snapshot kept",
    "reason": "Reason",
}
"""Headings the Data page shows ``audit_table``'s columns under (the frame keeps its own names)."""
EVENT_NAMES = {
    "refresh": "loaded",
    "rejected": "rejected",
    "rollback": "rolled back",
    "failed": "failed (nothing changed)",
    "upload rejected": "upload rejected",
    "recovered": "cleaned up after an interrupted refresh",
    "checked": "upload checked",
    "held": "held: shrink not confirmed (nothing changed)",
    "pack": "briefing pack made",
}


def _shrink_note(measures: list[dict] | None) -> str | None:
    """Return "shrink confirmed: people in service 50% fewer, ..." for a drop loaded with ``--accept-shrink``."""
    if not measures:
        return None
    return "shrink confirmed: " + ", ".join(f"{m['measure']} {m['fall']:.0%} fewer" for m in measures if m["fall"] > 0)


def audit_table(data_dir: Path | str | None = None) -> pl.DataFrame:
    """Return the store's audit events, newest first: who loaded, rejected or rolled back what, and when.

    ``errors`` is 0 for a loaded drop (it passed every check) and blank where an event has no check
    (a rollback, a pack)."""
    rows = []
    for event in reversed(history(data_dir)):
        rows.append(
            {
                "at": event.get("at"),
                "event": EVENT_NAMES.get(event.get("event"), event.get("event")),
                "drop_id": event.get("drop_id"),
                "as_of": event.get("as_of"),
                "source": event.get("source"),
                "by": event.get("by"),
                # a loaded drop passed every check: 0 errors, not a blank (older audit lines do not record it)
                "errors": event.get("errors", 0 if event.get("event") == "refresh" else None),
                "warnings": event.get("warnings"),
                "from_drop_id": event.get("from_drop_id"),
                "live": bool(event.get("live", False)),
                "snapshot_kept": event.get("snapshot_kept"),
                "reason": event.get("reason") or _shrink_note(event.get("shrink")),
            }
        )
    return pl.DataFrame(rows, schema=AUDIT_SCHEMA, orient="row")
