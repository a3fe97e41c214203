"""The commissioning cycle on a hand-made drop (values worked out by hand), on a drop without contracts,
and the new pages on the demo: contracts and decisions, lots, the microenterprise programme, early warning.

The hand-made drop is ``small_drop`` (as of 30 September 2025) with contract v2 columns and a
milestones file. Active on the date (hours a week): K1 P1 14 (W01, North, lot ``Lot 1 North``),
K2 P2 10 (W01, ``Lot 1 North``), K3 M1 5 (W02, North, ``Lot 1 North``), K5 P1 21 (W03, South,
contract C3, lot ``Lot 3 South``), K6 M2 10 (W02, no lot): 60 hours in all, 39 in North.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from small_drop import write_small_drop
from streamlit.testing.v1 import AppTest

from analytics import cli
from analytics.store.snapshots import refresh

ROOT = Path(__file__).resolve().parents[1]
V2_CONTRACT_COLUMNS = {
    "lot": "",
    "contract_type": "",
    "commissioned_hours_per_week": "",
    "extension_options": "",
    "extensions_used": "",
    "notice_months": "",
    "procurement_lead_months": "",
    "weight_quality": "",
    "weight_price": "",
    "weight_social_value": "",
}


def _providers(rows):
    for row in rows:
        row.update(contract_id="", lot="")
    rows[0]["weekly_capacity_hours"] = "35"  # P1: 35 active hours, so no spare
    rows[1]["weekly_capacity_hours"] = "10"  # P2: 10 active hours, no spare
    micro = rows[2]
    rows.append({**micro, "provider_id": "M2", "provider_name": "Second Micro", "active_from": ""})
    rows.append({**micro, "provider_id": "M3", "provider_name": "Third Micro", "active_from": ""})
    return rows


def _packages(rows):
    for row in rows:
        row.update(contract_id="", lot="")
    by_id = {r["package_id"]: r for r in rows}
    for key in ("K1", "K2", "K3"):
        by_id[key]["lot"] = "Lot 1 North"
    by_id["K5"].update(contract_id="C3", lot="Lot 3 South")
    by_id["K4"]["end_date"] = "2025-07-31"  # a P2 hand-back inside the 3 months to 30 September
    base = by_id["K3"]
    rows.append({**base, "package_id": "K6", "person_id": "PERSON-0008", "provider_id": "M2",
                 "start_date": "2024-09-01", "planned_hours_per_week": "10", "lot": ""})  # fmt: skip
    rows.append({**base, "package_id": "K7", "person_id": "PERSON-0009", "provider_id": "M3", "area_code": "W03",
                 "start_date": "2023-05-01", "end_date": "2025-05-31", "planned_hours_per_week": "4",
                 "end_reason": "ended_as_planned", "lot": ""})  # fmt: skip
    return rows


def _contracts(rows):
    for row in rows:
        row.update(V2_CONTRACT_COLUMNS)
    # C1: 2023-04-01 to 2026-03-31 with 12+12 options, one used; notice 3 + lead 12 -> decide by 2024-12-31.
    rows[0].update(extension_options="12+12", extensions_used="1", notice_months="3", procurement_lead_months="12",
                   contract_type="framework")  # fmt: skip
    # C2: no notice, lead from config (15 months) -> decide by 2024-12-31; no milestone: overdue.
    rows[1].update(contract_type="framework")
    rows.append({**rows[1], "contract_id": "C3", "provider_id": "", "name": "Extra Care Block South",
                 "start_date": "2025-01-01", "end_date": "2028-12-31", "extension_months_available": "0",
                 "lot": "Lot 3 South", "contract_type": "block"})  # fmt: skip
    return rows


MILESTONES = [
    {"contract_id": "C1", "milestone": "consultation", "planned_date": "2024-12-01", "actual_date": "2025-01-15"},
    {"contract_id": "C1", "milestone": "award", "planned_date": "2025-08-31", "actual_date": ""},
]


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hand")
    drop = write_small_drop(
        folder / "drop", providers=_providers, packages=_packages, contracts=_contracts, milestones=lambda _: MILESTONES
    )
    outcome = refresh(drop, folder / "store")
    assert outcome.accepted, outcome.result.errors
    return folder / "store"


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small drop with no contracts file (and so no milestones)."""
    folder = tmp_path_factory.mktemp("bare")
    outcome = refresh(write_small_drop(folder / "drop", contracts=None, milestones=None), folder / "store")
    assert outcome.accepted, outcome.result.errors
    return folder / "store"


def _indicators(data_dir: Path, capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert cli.main(["indicators", "--json", "--data-dir", str(data_dir), *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_new_headline_figures_by_hand(hand_store: Path, capsys):
    figures = _indicators(hand_store, capsys)
    # K1 (14, P1 -> C1) and K2 (10, P2 -> C2) end 2026-03-31, within 18 months; K5 is C3 (2028): 24 / 60.
    assert figures["contracts_ending_18m_hours_share"] == 40.0
    # C1's decision passed but a milestone is done; C2's passed with none; C3 decides in 2027.
    assert figures["decisions_overdue"] == 1
    # Lot 1 North: 29 hours; P1 14 + 0 spare and P2 10 + 0 spare carry 24: 5 left over. Lot 3 South: P1 carries 21.
    assert figures["lots_failing_primary_cover"] == 1
    # Since 2024-08-01: M2 (Sep 2024) and M1 (Sep 2025) started, M3 stopped (May 2025): 2 - 1.
    assert figures["me_net_new_since_start"] == 1
    # P2: rated RI (1) + handed back 21 h, >= 5% of its 10 h (2) + 16.7% share (1) = 4.
    # P1: 58% share (2) + vacancy 5 / 45 = 11.1% (1) = 3. M2: share only (1): not listed.
    assert figures["early_warning_top"] == ["P2", "P1"]


def test_new_headline_figures_for_a_locality(hand_store: Path, capsys):
    north = _indicators(hand_store, capsys, "--locality", "North")
    assert north["contracts_ending_18m_hours_share"] == pytest.approx(61.54)  # 24 of North's 39 hours
    assert north["decisions_overdue"] == 1  # C2 carries K2 in North
    assert north["lots_failing_primary_cover"] == 1
    assert north["me_net_new_since_start"] == 2  # M3 worked in South
    south = _indicators(hand_store, capsys, "--locality", "South")
    assert south["contracts_ending_18m_hours_share"] == 0.0  # K5 is under C3, ending 2028
    assert south["decisions_overdue"] == 0
    assert south["lots_failing_primary_cover"] == 0


def test_contract_terms_and_milestones_in_the_marts(hand_store: Path):
    from analytics.store.snapshots import open_live

    con = open_live(hand_store)
    try:
        rows = {r["contract_id"]: r for r in con.sql("select * from mart_contracts").pl().to_dicts()}
        late = con.sql("select milestone from mart_milestones where status = 'late'").fetchall()
    finally:
        con.close()
    c1 = rows["C1"]
    assert str(c1["core_end"]) == "2025-03-31" and str(c1["latest_end"]) == "2027-03-31"
    assert str(c1["decision_date"]) == "2024-12-31"
    assert str(rows["C2"]["decision_date"]) == "2024-12-31"  # 15 months' lead from config.toml
    assert rows["C2"]["status"] == "overdue" and rows["C3"]["status"] == "later"
    assert late == [("award",)]


def test_drop_without_contracts_gives_blank_contract_figures(bare_store: Path, capsys):
    figures = _indicators(bare_store, capsys)
    assert figures["contracts_ending_18m_hours_share"] is None
    assert figures["decisions_overdue"] is None
    # No lots anywhere: localities stand in. North (W01, W02) has 29 hours: P1 14 + spare 65 and P2 10 + spare 50.
    assert figures["lots_failing_primary_cover"] == 0


def _contracts_page(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("MARKET_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/contracts.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_contracts_page_without_contracts_says_what_it_would_show(bare_store: Path, monkeypatch):
    at = _contracts_page(bare_store, monkeypatch)
    info = " ".join(i.value for i in at.info)
    assert "No contracts in this drop" in info and "`contracts` file" in info and "`milestones` file" in info
    assert "localities (the drop has no lots)" in " ".join(m.value for m in at.markdown)


def test_contracts_page_on_the_demo(demo_store: Path, monkeypatch):
    at = _contracts_page(demo_store, monkeypatch)
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "1 decision overdue: Lot 2 Fellside was due June 2025" in titles
    text = " ".join(m.value for m in at.markdown)
    assert "the decision on Lot 2 Fellside was due in June 2025" in text
    assert "Lot 1 North Coast fails first" in text
    decisions = next(
        d.value for d in at.dataframe if "Decide by" in d.value.columns and "Milestones late" in d.value.columns
    )
    assert decisions["Status"].str.startswith("🔴").sum() == 1
    at.slider(key="lots_primary").set_value(8).run()
    assert "the 8 largest providers" in " ".join(m.value for m in at.markdown)


def test_quality_page_on_the_demo(app: AppTest):
    at = app.run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Fellcare Homecare Ltd heads the early-warning list with 8 points" in titles
    assert any(t.endswith("of hours are with providers now rated Good or Outstanding") for t in titles)
    assert any("delivered under the red threshold" in t for t in titles)
    warning = next(d.value for d in at.dataframe if "Reasons" in d.value.columns)
    assert warning["Provider"][0] == "Fellcare Homecare Ltd" and "rated Requires improvement" in warning["Reasons"][0]
