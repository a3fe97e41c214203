"""The headline JSON through the real command line: the microenterprise figures and a golden file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from small_drop import write_small_drop

from analytics import cli
from analytics.store.snapshots import refresh

GOLDEN = Path(__file__).resolve().parent / "golden" / "headline_demo.json"
REQUIRED_KEYS = [
    "as_of", "people_in_service", "planned_hours_per_week", "providers_active", "microenterprises_active",
    "customers_per_microenterprise", "hours_per_microenterprise", "people_waiting", "hours_waiting",
    "median_wait_days", "hhi", "cr1_pct", "cr3_pct", "areas_with_demand_under_2_providers",
    "rural_gap_waiting_share_pp", "weighted_hourly_rate", "fee_gap_to_minimum_price", "vacancy_rate_pct",
    "handback_hours_12m", "largest_provider_exit_uncovered_hours",
]  # fmt: skip


def _indicators(data_dir: Path, capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert cli.main(["indicators", "--json", "--data-dir", str(data_dir), *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_cumberland_scale_microenterprises(tmp_path: Path, capsys):
    """46 microenterprises, 288 people, 1,308 hours a week (Cumberland's published figures).

    By hand: 288 / 46 = 6.2609 -> 6.26 customers each; 1,308 / 46 = 28.4348 -> 28.43 hours each.
    M1 (a microenterprise with no package) is not active.
    People: 12 microenterprises have 7 customers and 34 have 6 (12*7 + 34*6 = 288).
    Hours: 276 packages of 4.5 h and 12 of 5.5 h (1,242 + 66 = 1,308).
    """

    def providers(rows):
        base = rows[2]  # the small drop's microenterprise
        return rows + [{**base, "provider_id": f"M{i:02d}", "provider_name": f"Micro {i}"} for i in range(46)]

    def packages(rows):
        out, n = [], 0
        for me in range(46):
            for _ in range(7 if me < 12 else 6):
                hours = "5.5" if n < 12 else "4.5"
                out.append({**rows[2], "package_id": f"ME{n:03d}", "person_id": f"MEP{n:03d}",
                            "provider_id": f"M{me:02d}", "planned_hours_per_week": hours})  # fmt: skip
                n += 1
        return out

    drop = write_small_drop(tmp_path / "drop", providers=providers, packages=packages, delivery=None, requests=None)
    outcome = refresh(drop, tmp_path / "store")
    assert outcome.accepted, outcome.result.errors
    figures = _indicators(tmp_path / "store", capsys)
    assert figures["microenterprises_active"] == 46
    assert figures["customers_per_microenterprise"] == 6.26
    assert figures["hours_per_microenterprise"] == 28.43


def test_headline_keys_and_nulls(demo_store: Path, capsys):
    figures = _indicators(demo_store, capsys)
    assert [k for k in REQUIRED_KEYS if k not in figures] == []
    for key in ("cr1_pct", "cr3_pct", "vacancy_rate_pct"):
        assert 0 <= figures[key] <= 100
    fell = _indicators(demo_store, capsys, "--locality", "Fellside")
    assert fell["people_in_service"] < figures["people_in_service"]


def test_golden_headline_on_the_demo_drop(demo_store: Path, capsys):
    """Fails loudly when any headline figure of the demo changes. Regenerate deliberately with
    ``UPDATE_GOLDEN=1 pytest tests/test_headline_json.py`` and review the diff."""
    figures = _indicators(demo_store, capsys)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    changed = {k: (expected.get(k), figures.get(k)) for k in expected.keys() | figures.keys()
               if expected.get(k) != figures.get(k)}  # fmt: skip
    assert changed == {}, f"headline figures changed (golden, now): {changed}"
