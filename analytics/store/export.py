"""Export a snapshot's marts as Hive-partitioned Parquet, for a regional or national hub.

A hub (a region, an integrated care system, a national body) collects many councils' marts and
reads them with an engine it already runs: DuckDB (locally or over object storage), Spark, Trino or
Athena. None of them needs this project's code, only the file layout:

    OUT/
      mart_price_month/
        council_code=E06000047/
          month=2026-10-31/data_0.parquet
          month=2026-09-30/data_0.parquet
      mart_exit_ranking/
        council_code=E06000047/data_0.parquet      (marts with no month column)
      _exports/E06000047.json                     (what was exported, from which drop)

Each mart is one folder; ``council_code`` (from the drop's manifest) and, when the mart has one,
``month`` (the snapshot date, as in the mart) are Hive partition columns: they are in the folder
names, not in the files, and a reader adds them back (``hive_partitioning``). Every other column
keeps its name and type. Many councils export into the same ``OUT`` (a shared folder or bucket
mounted locally); re-exporting a council replaces that council's folders only.

The marts hold small counts (people, packages by locality and month): the export is for analysts
sharing data under an agreement, not for publication. Anything published still goes through
``analytics.publish`` (small-number suppression).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.store.snapshots import StoreError, store_paths

EXPORT_RECORDS = "_exports"
PARTITION_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class MartExport:
    """What ``export_marts`` wrote: the council, the drop, and ``{mart: rows}``."""

    council_code: str
    drop_id: str
    as_of: str | None
    out: Path
    rows: dict[str, int]


def _snapshot_path(data_dir: Path | str | None, drop_id: str | None) -> Path:
    paths = store_paths(data_dir)
    path = paths.live if drop_id is None else paths.snapshot(drop_id)
    if not path.exists():
        what = "live snapshot" if drop_id is None else f"snapshot of drop {drop_id}"
        raise StoreError(f"No {what} in {paths.root}: run `python -m analytics refresh DROP` first")
    return path


def export_marts(out: Path | str, data_dir: Path | str | None = None, drop_id: str | None = None) -> MartExport:
    """Write every ``mart_*`` table of a snapshot as Hive-partitioned Parquet under ``out``.

    Inputs: ``out`` (folder, created if needed, shared by many councils); ``data_dir`` (the data
    store); ``drop_id`` (one of the kept snapshots; default the live one). Output: a ``MartExport``
    with the row count of each mart, also written to ``out/_exports/<council_code>.json``.
    Raises ``StoreError`` when there is no such snapshot or its manifest has no usable
    ``council_code`` (letters, digits, ``_``, ``-``, ``.``).
    """
    out = Path(out)
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS snap (READ_ONLY)", [str(_snapshot_path(data_dir, drop_id))])
        meta = con.sql("select drop_id, council_code, cast(as_of as varchar) from snap.meta_drop").fetchall()[0]
        snapshot_drop, council, as_of = meta
        if not council or not PARTITION_VALUE.match(council):
            raise StoreError(f"The snapshot's council_code {council!r} cannot name a partition folder")
        tables = con.sql(
            "select table_name from duckdb_tables() where database_name = 'snap' and table_name like 'mart\\_%' "
            "escape '\\' order by table_name"
        ).fetchall()
        rows: dict[str, int] = {}
        for (table,) in tables:
            columns = {
                r[0]
                for r in con.sql(
                    "select column_name from duckdb_columns() where database_name = 'snap' and table_name = ?",
                    params=[table],
                ).fetchall()
            }
            target = out / table
            shutil.rmtree(target / f"council_code={council}", ignore_errors=True)
            target.mkdir(parents=True, exist_ok=True)
            partitions = "council_code, month" if "month" in columns else "council_code"
            # Table names come from duckdb_tables() and match mart_*; the council code is checked above.
            con.execute(
                f"copy (select '{council}' as council_code, * from snap.\"{table}\") to '{_sql_path(target)}' "
                f"(format parquet, compression zstd, partition_by ({partitions}), overwrite_or_ignore)"
            )
            rows[table] = con.sql(f'select count(*) from snap."{table}"').fetchall()[0][0]
    finally:
        con.close()
    record = {
        "council_code": council,
        "drop_id": snapshot_drop,
        "as_of": as_of,
        "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "rows": rows,
    }
    (out / EXPORT_RECORDS).mkdir(parents=True, exist_ok=True)
    (out / EXPORT_RECORDS / f"{council}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return MartExport(council, snapshot_drop, as_of, out, rows)


def _sql_path(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
