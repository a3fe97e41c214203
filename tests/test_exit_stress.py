"""Hand-made fixtures for the provider exit stress test (``analytics.indicators.exit_stress``).

The market on D (every package below is active that day; hours a week):

    area  locality  packages
    A1    North     P1: K1 20 h (X1), K2 10 h (X2);  P2: K4 15 h (X4)
    A2    North     P3: K5 10 h (X5)
    A3    South     P1: K3 10 h (X3);  P4: K6 5 h (X6)
    A4    (none)    P2: K7 8 h (X7)

    provider  capacity  current hours  spare
    P1        100       40             60
    P2        33        23             10
    P3        30        10             20
    P4        (none)    5              0  (listed as an assumption)
    P5        6         0              6  (no packages, based in A3 = South)
    P6        500       0              -  (left on 31 Dec 2024: not active, never absorbs)

Total spare of active providers = 60 + 10 + 20 + 0 + 6 = 96.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from builders_support import rows
from polars.testing import assert_frame_equal

from analytics.indicators import exit_stress
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)

AREAS = pl.DataFrame(
    {
        "area_code": ["A1", "A2", "A3", "A4"],
        "area_name": ["Ash", "Birch", "Cedar", "Dale"],
        "locality": ["North", "North", "South", None],
    }
)
PROVIDERS = pl.DataFrame(
    {
        "provider_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
        "provider_name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"],
        "provider_type": ["agency", "agency", "agency", "microenterprise", "agency", "agency"],
        "weekly_capacity_hours": [100.0, 33.0, 30.0, None, 6.0, 500.0],
        "base_area_code": [None, None, None, None, "A3", "A3"],
        "active_from": [None, None, None, None, date(2020, 1, 1), date(2020, 1, 1)],
        "active_to": [None, None, None, None, None, date(2024, 12, 31)],
    }
)
PACKAGES = pl.DataFrame(
    {
        "package_id": ["K1", "K2", "K3", "K4", "K5", "K6", "K7"],
        "person_id": ["X1", "X2", "X3", "X4", "X5", "X6", "X7"],
        "area_code": ["A1", "A1", "A3", "A1", "A2", "A3", "A4"],
        "provider_id": ["P1", "P1", "P1", "P2", "P3", "P4", "P2"],
        "start_date": [date(2024, 1, 1)] * 7,
        "planned_hours_per_week": [20.0, 10.0, 10.0, 15.0, 10.0, 5.0, 8.0],
    }
)


# Columns of ExitImpact.by_area, in order.
BY_AREA_COLUMNS = [
    "area_code",
    "area_name",
    "locality",
    "people",
    "packages",
    "hours_displaced",
    "absorbed_same_area",
    "absorbed_same_locality",
    "hours_uncovered",
]


def market(**changes: pl.DataFrame) -> Staged:
    frames = {"areas": AREAS, "providers": PROVIDERS, "packages": PACKAGES}
    frames.update(changes)
    return Staged.from_frames(D, **frames)


def test_exit_of_largest_provider_by_area() -> None:
    impact = exit_stress.exit_impact(market(), "P1", D)
    # Area order: A1 (30 h) then A3 (10 h).
    # Step 1 (same area): A1 <- P2 (serves A1, spare 10): 10; A3 <- P4 (serves A3, spare 0): nothing.
    # Step 2 (same locality): A1 (North) <- P3 (serves A2, spare 20): 20, A1 covered;
    #                         A3 (South) <- P5 (based in A3, spare 6): 6, 4 h left uncovered.
    # P6 has 500 h of capacity but left in December: not used.
    expected_by_area = rows(
        BY_AREA_COLUMNS,
        ("A1", "Ash", "North", 2, 2, 30.0, 10.0, 20.0, 0.0),
        ("A3", "Cedar", "South", 1, 1, 10.0, 0.0, 6.0, 4.0),
    )
    assert_frame_equal(impact.by_area, expected_by_area)
    expected_allocations = pl.DataFrame(
        {
            "area_code": ["A1", "A1", "A3"],
            "provider_id": ["P2", "P3", "P5"],
            "provider_name": ["Beta", "Gamma", "Epsilon"],
            "stage": ["same_area", "same_locality", "same_locality"],
            "hours": [10.0, 20.0, 6.0],
        }
    )
    assert_frame_equal(impact.allocations, expected_allocations)
    expected_by_locality = rows(
        ["locality", "people", "packages", "hours_displaced", "hours_absorbed", "hours_uncovered"],
        ("North", 2, 2, 30.0, 30.0, 0.0),
        ("South", 1, 1, 10.0, 6.0, 4.0),
    )
    assert_frame_equal(impact.by_locality, expected_by_locality)
    # Totals: 3 people, 3 packages, 40 h displaced, 36 absorbed, 4 uncovered.
    # Spare elsewhere 10 + 20 + 0 + 6 = 36 -> cover ratio 36 / 40 = 0.9.
    assert (impact.people_displaced, impact.packages_displaced) == (3, 3)
    assert (impact.hours_displaced, impact.hours_absorbed, impact.hours_uncovered) == (40.0, 36.0, 4.0)
    assert impact.spare_capacity_elsewhere == 36.0
    assert impact.cover_ratio == 0.9


def test_capacity_frame_and_provider_without_capacity() -> None:
    impact = exit_stress.exit_impact(market(), "P1", D)
    # P4 has no capacity figure: spare 0, listed, and named in the assumptions.
    expected = pl.DataFrame(
        {
            "provider_id": ["P2", "P3", "P4", "P5"],
            "provider_name": ["Beta", "Gamma", "Delta", "Epsilon"],
            "weekly_capacity_hours": [33.0, 30.0, None, 6.0],
            "current_hours": [23.0, 10.0, 5.0, 0.0],
            "spare_hours": [10.0, 20.0, 0.0, 6.0],
            "capacity_known": [True, True, False, True],
            "hours_used": [10.0, 20.0, 0.0, 6.0],
            "spare_after": [0.0, 0.0, 0.0, 0.0],
        }
    )
    assert_frame_equal(impact.capacity, expected)
    assert impact.providers_without_capacity == ["P4"]
    text = " ".join(impact.assumptions)
    assert "no weekly capacity figure" in text and "P4" in text
    assert "Allocation rule" in text and "used once only" in text
    assert all(isinstance(a, str) and a for a in impact.assumptions)


def test_area_without_locality_gets_same_area_cover_only() -> None:
    impact = exit_stress.exit_impact(market(), "P2", D)
    # P2: A1 15 h, A4 8 h. A1 <- P1 (serves A1, spare 60): 15. A4 has no locality and no other
    # provider there: 8 h uncovered, even though P1 still has 45 h spare.
    assert impact.by_area.select("area_code", "hours_uncovered").rows() == [("A1", 0.0), ("A4", 8.0)]
    assert (impact.hours_displaced, impact.hours_absorbed, impact.hours_uncovered) == (23.0, 15.0, 8.0)


def test_exit_locality_counts_only_hours_there() -> None:
    impact = exit_stress.exit_impact(market(), "P1", D, locality="South")
    # Only A3's 10 h: P4 has no spare, P5 takes 6, 4 uncovered. Cover 36 / 10 = 3.6.
    assert (impact.hours_displaced, impact.hours_uncovered) == (10.0, 4.0)
    assert impact.cover_ratio == 3.6
    assert any("Only hours in South" in a for a in impact.assumptions)


def test_exit_of_provider_without_packages_and_unknown_provider() -> None:
    impact = exit_stress.exit_impact(market(), "P5", D)
    assert (impact.hours_displaced, impact.hours_uncovered, impact.cover_ratio) == (0.0, 0.0, None)
    assert impact.by_area.is_empty()
    with pytest.raises(KeyError):
        exit_stress.exit_impact(market(), "NOPE", D)


def test_difficult_to_replace_ranking() -> None:
    # One exit per provider (spare total 96):
    #   P2: 23 h, uncovered 8 (A4), absorbed 15, 8/23 = 34.78%, cover (96 - 10) / 23 = 3.739...
    #   P1: 40 h, uncovered 4, absorbed 36, 10%, cover (96 - 60) / 40 = 0.9
    #   P3: A2 10 h, no other provider in A2; North <- P1 (60 spare): covered; cover 76 / 10 = 7.6
    #   P4: A3 5 h <- P1 (serves A3): covered; cover 96 / 5 = 19.2
    #   P5, P6: no packages: 0 h, no % and no cover ratio.
    # Order: uncovered desc, then hours desc, then id.
    expected = pl.DataFrame(
        {
            "rank": [1, 2, 3, 4, 5, 6],
            "provider_id": ["P2", "P1", "P3", "P4", "P5", "P6"],
            "provider_name": ["Beta", "Alpha", "Gamma", "Delta", "Epsilon", "Zeta"],
            "provider_type": ["agency", "agency", "agency", "microenterprise", "agency", "agency"],
            "people": [2, 3, 1, 1, 0, 0],
            "packages": [2, 3, 1, 1, 0, 0],
            "hours": [23.0, 40.0, 10.0, 5.0, 0.0, 0.0],
            "people_high_intensity": [0, 0, 0, 0, 0, 0],
            "areas_served": [2, 2, 1, 1, 0, 0],
            "hours_absorbed": [15.0, 36.0, 10.0, 5.0, 0.0, 0.0],
            "hours_uncovered": [8.0, 4.0, 0.0, 0.0, 0.0, 0.0],
            "uncovered_pct": [800 / 23, 10.0, 0.0, 0.0, None, None],
            "cover_ratio": [86 / 23, 0.9, 7.6, 19.2, None, None],
            "difficult_to_replace": [True, True, False, False, False, False],
            "market_oversight": [False] * 6,
            "market_oversight_reason": [None] * 6,
        },
        schema=exit_stress.RANKING_SCHEMA,
    )
    assert_frame_equal(exit_stress.difficult_to_replace(market(), D), expected)


def test_ranking_matches_single_exits() -> None:
    ranking = exit_stress.difficult_to_replace(market(), D)
    for pid, uncovered in ranking.select("provider_id", "hours_uncovered").iter_rows():
        assert exit_stress.exit_impact(market(), pid, D).hours_uncovered == uncovered


def test_market_oversight_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    # Scaled-down thresholds so the hand-made market can meet them: 40 h a week, 3 people, or 1 person
    # with more than 15 h (the regulation's values are 30,000 h, 2,000 people, 800 people at > 30 h).
    monkeypatch.setattr(
        exit_stress,
        "oversight_thresholds",
        lambda: {
            "hours_per_week": 40.0,
            "people_per_week": 3.0,
            "people_high_intensity": 1.0,
            "high_intensity_hours_per_person": 15.0,
        },
    )
    ranking = exit_stress.difficult_to_replace(market(), D)
    flagged = ranking.filter(pl.col("market_oversight")).select("provider_id", "market_oversight_reason").rows()
    # P1: 40 h (>= 40), 3 people (>= 3) and X1 has 20 h (> 15): all three reasons.
    assert flagged == [
        (
            "P1",
            "at least 40 hours a week; at least 3 people; at least 1 people with more than 15 hours a week",
        )
    ]
    assert ranking.filter(pl.col("provider_id") == "P1").get_column("people_high_intensity").item() == 1


def test_oversight_thresholds_from_config() -> None:
    # config.toml [reference.market_oversight] holds the SI 2015/314 values.
    assert exit_stress.oversight_thresholds() == {
        "hours_per_week": 30000.0,
        "people_per_week": 2000.0,
        "people_high_intensity": 800.0,
        "high_intensity_hours_per_person": 30.0,
    }


def test_largest_provider_ties_broken_by_id() -> None:
    # P3 and P2 both get 23 h: P2 wins the tie (lowest id) over P3; P1 (40 h) is still largest overall.
    tied = PACKAGES.with_columns(
        pl.when(pl.col("package_id") == "K5")
        .then(23.0)
        .otherwise(pl.col("planned_hours_per_week"))
        .alias("planned_hours_per_week")
    )
    assert exit_stress.largest_provider(market(packages=tied), D) == "P1"
    no_p1 = tied.filter(pl.col("provider_id") != "P1")
    assert exit_stress.largest_provider(market(packages=no_p1), D) == "P2"
    # Reversed row order does not change the answer.
    assert exit_stress.largest_provider(market(packages=no_p1.reverse()), D) == "P2"


HEADLINE_KEYS = (
    "largest_provider_exit_uncovered_hours",
    "largest_provider_exit_displaced_hours",
    "largest_provider_exit_cover_ratio",
    "providers_difficult_to_replace",
    "providers_market_oversight",
)


@pytest.mark.parametrize(
    ("locality", "expected"),
    [
        # Largest = P1: 40 h displaced, 4 uncovered, cover 0.9; difficult: P2 and P1; none in oversight.
        pytest.param(None, (4.0, 40.0, 0.9, 2, 0), id="council"),
        # South: largest there is P1 (10 h vs P4 5 h); 4 h uncovered; cover 36 / 10 = 3.6. In South only
        # P1 leaves hours uncovered (P4's 5 h go to P1).
        pytest.param("South", (4.0, 10.0, 3.6, 1, 0), id="south"),
    ],
)
def test_headline(locality, expected) -> None:
    assert exit_stress.headline(market(), D, locality) == dict(zip(HEADLINE_KEYS, expected, strict=True))


def test_headline_without_packages_is_none() -> None:
    empty = market(packages=PACKAGES.clear())
    assert exit_stress.headline(empty, D, None) == dict.fromkeys(
        (
            "largest_provider_exit_uncovered_hours",
            "largest_provider_exit_displaced_hours",
            "largest_provider_exit_cover_ratio",
            "providers_difficult_to_replace",
            "providers_market_oversight",
        )
    )
    marts = exit_stress.build_marts(empty)
    assert marts["mart_exit_largest_by_area"].is_empty()
    assert marts["mart_exit_ranking"].height == 6


def test_build_marts() -> None:
    marts = exit_stress.build_marts(market())
    assert set(marts) == {"mart_exit_ranking", "mart_exit_largest_by_area"}
    by_area = marts["mart_exit_largest_by_area"]
    assert by_area.get_column("provider_id").unique().to_list() == ["P1"]
    assert by_area.get_column("hours_uncovered").sum() == 4.0


def test_ranking_is_fast_for_90_providers() -> None:
    import time

    providers = pl.DataFrame(
        {
            "provider_id": [f"P{i:02d}" for i in range(90)],
            "provider_name": [f"Provider {i}" for i in range(90)],
            "provider_type": ["agency"] * 90,
            "weekly_capacity_hours": [None if i % 10 == 0 else 50.0 + i for i in range(90)],
        }
    )
    areas = pl.DataFrame(
        {
            "area_code": [f"A{i:02d}" for i in range(30)],
            "area_name": [f"Area {i}" for i in range(30)],
            "locality": [f"L{i % 5}" for i in range(30)],
        }
    )
    n = 3000
    packages = pl.DataFrame(
        {
            "package_id": [f"K{i}" for i in range(n)],
            "person_id": [f"X{i}" for i in range(n)],
            "area_code": [f"A{(i * 7) % 30:02d}" for i in range(n)],
            "provider_id": [f"P{(i * 13) % 90:02d}" for i in range(n)],
            "start_date": [date(2024, 1, 1)] * n,
            "planned_hours_per_week": [float(1 + i % 20) for i in range(n)],
        }
    )
    s = Staged.from_frames(D, areas=areas, providers=providers, packages=packages)
    start = time.perf_counter()
    ranking = exit_stress.difficult_to_replace(s, D)
    elapsed = time.perf_counter() - start
    assert ranking.height == 90
    assert elapsed < 1.0, f"ranking took {elapsed:.2f} s"
