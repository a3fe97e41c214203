"""What changed between two accepted drops: rows added, removed and changed per file, and the headline.

Drop A is the small drop plus one duplicated delivery row. Drop B changes A by hand, so every
expected count below is worked out from the edits listed in ``drop_b``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from small_drop import write_small_drop

from analytics.store.drop_diff import AUDIT_LABELS, audit_table, diff_live, diff_snapshots, kept_drops, previous_drop
from analytics.store.snapshots import refresh, rollback, store_paths


def drop_a(folder: Path) -> Path:
    def duplicated_delivery(rows):
        rows.append(dict(rows[0]))  # the same delivery row twice (keys may repeat in delivery)

    return write_small_drop(folder, delivery=duplicated_delivery)


def drop_b(folder: Path) -> Path:
    def areas(rows):
        rows[1]["area_name"] = "Brookside"  # W02 changed
        rows.append({**rows[0], "area_code": "W04", "area_name": "Dale"})  # W04 added

    def providers(rows):
        rows.append({**rows[0], "provider_id": "P3", "provider_name": "Gamma Care", "cqc_location_id": "1-103"})

    def packages(rows):
        rows[0]["planned_hours_per_week"] = "16"  # K1 changed (14 -> 16)
        del rows[2]  # K3 removed (5 hours)
        k6 = {"package_id": "K6", "person_id": "PERSON-0008", "area_code": "W04", "provider_id": "P3"}
        rows.append({**rows[0], **k6, "start_date": "2025-09-10", "planned_hours_per_week": "7"})  # K6 added (7 h)

    def requests(rows):
        rows[0].update(sourced_date="2025-09-25", provider_id="P1", outcome="sourced")  # R1 changed
        del rows[3]  # R4 removed

    def delivery(rows):
        rows[1]["delivered_hours"] = "9"  # the P2/K2 row changed
        rows.append({**rows[0], "period_start": "2025-09-08"})  # a new week for K1: added
        # and A's duplicate of the first row is gone: removed

    def workforce(rows):
        rows[0]["month"] = "2025-09-30"  # same calendar month as 2025-09-15: changed, not added/removed
        rows.append({**rows[0], "month": "2025-08-01"})  # an earlier month: added

    return write_small_drop(
        folder,
        areas=areas,
        providers=providers,
        packages=packages,
        requests=requests,
        delivery=delivery,
        workforce=workforce,
    )


EXPECTED = {
    # file: (rows_before, rows_after, added, removed, changed)
    "areas": (3, 4, 1, 0, 1),
    "providers": (3, 4, 1, 0, 0),
    "packages": (5, 5, 1, 1, 1),
    "requests": (4, 3, 0, 1, 1),
    "delivery": (3, 3, 1, 1, 1),
    "workforce": (2, 3, 1, 0, 1),
    "contracts": (2, 2, 0, 0, 0),
    "milestones": (2, 2, 0, 0, 0),
}


@pytest.fixture(scope="module")
def two_drops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("diff")
    data_dir = tmp / "store"
    assert refresh(drop_a(tmp / "a"), data_dir, loaded_by="Ann").accepted
    assert diff_live(data_dir) is None  # nothing to compare with yet
    assert refresh(drop_b(tmp / "b"), data_dir, loaded_by="Bo").accepted
    return data_dir


def test_rows_added_removed_and_changed_per_file(two_drops: Path):
    diff = diff_live(two_drops)
    assert diff is not None and diff.before.loaded_by == "Ann" and diff.after.loaded_by == "Bo"
    got = {r[0]: tuple(r[1:]) for r in diff.files.iter_rows()}
    assert got == EXPECTED
    assert diff.total_changes == sum(a + r + c for _, _, a, r, c in EXPECTED.values())


def test_which_rows_changed(two_drops: Path):
    examples = diff_live(two_drops).examples
    keys = {(r["file"], r["change"], r["key"]) for r in examples.iter_rows(named=True)}
    assert {("packages", "added", "K6"), ("packages", "removed", "K3"), ("packages", "changed", "K1")} <= keys
    assert ("requests", "removed", "R4") in keys and ("areas", "changed", "W02") in keys
    assert ("workforce", "changed", "P1 · 2025-09-01") in keys
    assert ("delivery", "changed", "2025-09-08 · P2 · W01 · K2") in keys
    assert "PERSON" not in " ".join(examples["key"].to_list())  # person identifiers are never shown


def test_headline_before_and_after(two_drops: Path):
    diff = diff_live(two_drops)
    assert diff.headline_error is None
    assert diff.headline_before["planned_hours_per_week"] == 50  # K1 14 + K2 10 + K3 5 + K5 21
    assert diff.headline_after["planned_hours_per_week"] == 54  # K1 16 + K2 10 + K5 21 + K6 7
    assert (diff.headline_before["people_waiting"], diff.headline_after["people_waiting"]) == (2, 1)  # R1 sourced
    rows = {r["key"]: r for r in diff.headline.iter_rows(named=True)}
    assert rows["planned_hours_per_week"]["change"] == 4 and rows["planned_hours_per_week"]["changed"]
    assert rows["people_in_service"]["changed"] is False  # 0003 left (K3), 0008 arrived (K6): still 4
    assert rows["people_in_service"]["measure"] == "People receiving care"  # the catalogue's title


def test_diff_is_symmetric_and_empty_against_itself(two_drops: Path):
    paths = store_paths(two_drops)
    older, newer = (paths.snapshot(e["drop_id"]) for e in reversed(kept_drops(two_drops)))
    back = diff_snapshots(newer, older)
    got = {r[0]: tuple(r[1:]) for r in back.files.iter_rows()}
    assert got == {
        f: (after, before, removed, added, changed) for f, (before, after, added, removed, changed) in EXPECTED.items()
    }
    same = diff_snapshots(older, older)
    assert same.total_changes == 0 and not same.headline["changed"].any()


def test_history_and_previous_drop(two_drops: Path):
    kept = kept_drops(two_drops)
    assert [e["by"] for e in kept] == ["Bo", "Ann"] and kept[0]["live"]
    assert previous_drop(two_drops) == kept[1]["drop_id"]
    table = audit_table(two_drops)
    assert table["event"].to_list() == ["loaded", "loaded"] and table["by"].to_list() == ["Bo", "Ann"]
    assert table.schema["live"] == pl.Boolean
    assert table["errors"].to_list() == [0, 0]  # a loaded drop passed every check: 0, never a blank
    assert set(AUDIT_LABELS) == set(table.columns)  # the Data page heads every column in words


def test_after_a_rollback_history_says_who_rolled_back(tmp_path: Path):
    data_dir = tmp_path / "store"
    assert refresh(drop_a(tmp_path / "a"), data_dir, loaded_by="Ann").accepted
    assert refresh(drop_b(tmp_path / "b"), data_dir, loaded_by="Bo").accepted
    target = previous_drop(data_dir)
    rollback(data_dir, to=target, by="Cy")
    table = audit_table(data_dir)
    assert table.row(0, named=True)["event"] == "rolled back" and table.row(0, named=True)["by"] == "Cy"
    assert table.row(0, named=True)["drop_id"] == target
    assert previous_drop(data_dir) is None  # A was the first drop
