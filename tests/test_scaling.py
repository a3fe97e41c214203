"""What a regional hub reads, and the fast paths of a refresh, on the demo store.

* ``python -m analytics export-marts`` writes every mart as Hive-partitioned Parquet (council, month)
  that plain DuckDB reads back (``read_parquet(..., hive_partitioning = true)``) with the same rows,
  columns and types as the snapshot, without this project's code; exporting again replaces the
  council's files instead of adding to them.
* The fast pseudonymiser gives exactly the standard HMAC-SHA256 pseudonym.
* Marts built on several threads, from the frames a refresh hands over in memory, equal marts built
  on one thread from the stored ``stg_*`` tables; sorting by key codes equals sorting by the text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics.indicators.common import sorted_by_keys
from analytics.indicators.marts import collect_marts
from analytics.indicators.periods import mask_mart, source_coverage
from analytics.ingest.pseudonymise import pseudonym, pseudonyms
from analytics.ingest.staged import load_staged

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hub(demo_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store's marts exported twice into one hub folder, by the command line."""
    out = tmp_path_factory.mktemp("hub")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "analytics", "export-marts", "--out", str(out), "--data-dir", str(demo_store)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=dict(os.environ),
        )
        assert done.returncode == 0, done.stderr
    assert "Exported" in done.stdout
    return out


def test_export_reads_back_with_plain_duckdb(demo_store: Path, hub: Path) -> None:
    snap = duckdb.connect(str(demo_store / "market.duckdb"), read_only=True)
    council = snap.sql("select council_code from meta_drop").fetchall()[0][0]
    marts = [r[0] for r in snap.sql("select table_name from duckdb_tables() where table_name like 'mart_%'").fetchall()]
    assert len(marts) > 20
    reader = duckdb.connect()
    for mart in marts:
        files = f"{hub}/{mart}/**/*.parquet"
        expected = snap.sql(f'select count(*) from "{mart}"').fetchall()[0][0]
        got = reader.sql(f"select count(*) from read_parquet('{files}', hive_partitioning = true)").fetchall()[0][0]
        assert got == expected, mart  # not doubled by the second export
        described = reader.sql(f"describe select * from read_parquet('{files}', hive_partitioning = true)")
        schema = {r[0]: r[1] for r in described.fetchall()}
        councils = reader.sql(f"select distinct council_code from read_parquet('{files}', hive_partitioning = true)")
        assert councils.fetchall() in ([(council,)], []), mart
        columns = {r[0]: r[1] for r in snap.sql(f'describe "{mart}"').fetchall()}
        for column, kind in columns.items():
            assert schema[column] == kind, (mart, column)
        if "month" in columns and expected:
            months = snap.sql(f'select count(distinct month) from "{mart}"').fetchall()[0][0]
            folders = list((hub / mart / f"council_code={council}").glob("month=*"))
            assert len(folders) == months, mart
    # One mart compared value for value.
    files = f"{hub}/mart_price_month/**/*.parquet"
    exported = reader.sql(f"select * exclude (council_code) from read_parquet('{files}', hive_partitioning = true)")
    columns = [r[0] for r in snap.sql("describe mart_price_month").fetchall()]
    assert_frame_equal(
        exported.pl().select(columns).sort(pl.all()), snap.sql("select * from mart_price_month").pl().sort(pl.all())
    )
    record = json.loads((hub / "_exports" / f"{council}.json").read_text())
    assert record["rows"]["mart_price_month"] == snap.sql("select count(*) from mart_price_month").fetchall()[0][0]


def test_fast_pseudonyms_are_standard_hmac_sha256() -> None:
    values = ["PERSON-0001", "", "Zoë 漢字", "x" * 500]
    for key in (b"k" * 32, os.urandom(32), os.urandom(64), os.urandom(100)):
        expected = ["p_" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in values]
        assert pseudonyms(values, key) == expected
        assert [pseudonym(v, key) for v in values] == expected


def test_marts_are_the_same_on_one_thread_or_several_and_from_the_stored_tables(demo_store: Path) -> None:
    """A refresh hands its in-memory staged frames to the marts and builds modules side by side;
    building again from the ``stg_*`` tables it stored, on one thread or three, gives every mart
    as stored (types and row order exact, floats to 12 significant digits)."""
    con = duckdb.connect(str(demo_store / "market.duckdb"), read_only=True)
    staged = load_staged(con)
    coverage = source_coverage(staged)
    one, three = collect_marts(staged, workers=1), collect_marts(staged, workers=3)
    assert list(one) == list(three) and len(one) > 30
    for name, frame in one.items():
        assert_frame_equal(frame, three[name], check_exact=False, rel_tol=1e-12)  # sums: last bit may vary
        stored = con.sql(f'select * from "{name}"').pl()
        assert_frame_equal(mask_mart(name, frame, coverage), stored, check_exact=False, rel_tol=1e-12), name


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["b", "a", "ab", "é", None]), st.one_of(st.none(), st.integers(-2, 2)), st.text(max_size=2)
        ),
        max_size=30,
        unique=True,
    ),
    st.booleans(),
)
def test_sorting_by_key_codes_equals_sorting_by_the_text(rows: list[tuple], nulls_last: bool) -> None:
    frame = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.Int64, "c": pl.String}, orient="row")
    keys = ["a", "b", "c"]
    assert_frame_equal(sorted_by_keys(frame, keys, nulls_last), frame.sort(keys, nulls_last=nulls_last))
