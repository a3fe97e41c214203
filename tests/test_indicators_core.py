"""Hand-made fixtures for the part-1 indicators (supply, microenterprises, coverage, waiting, rural
gap, concentration), the marts and the headline. Every expected value is worked out by hand in the
comments next to it.
"""

from __future__ import annotations

import json
import math
import types
from datetime import date

import duckdb
import polars as pl
import pytest
from builders_support import dates
from polars.testing import assert_frame_equal

from analytics.contract import FILES
from analytics.indicators import common, concentration, coverage, microenterprise, rural, supply, waiting
from analytics.indicators import headline as headline_module
from analytics.indicators.headline import HeadlineError, headline, headline_from_store
from analytics.indicators.marts import MartError, build_marts, read_mart, write_mart
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)

# Areas: A1 rural (RLN1), A2 urban (UN1), A3 unclassified (no code, no population),
# A4 rural (RSF1) with a population of 0. A1, A2 are North; A3, A4 South.
AREAS = pl.DataFrame(
    {
        "area_code": ["A1", "A2", "A3", "A4"],
        "area_name": ["Ash", "Birch", "Cedar", "Dale"],
        "locality": ["North", "North", "South", "South"],
        "ruc21": ["RLN1", "UN1", None, "RSF1"],
        "population_65_plus": [1000, 2000, None, 0],
    }
)
PROVIDERS = pl.DataFrame(
    {
        "provider_id": ["P1", "P2", "M1", "M2"],
        "provider_name": ["Alpha", "Beta", "Micro One", "Micro Two"],
        "provider_type": ["agency", "agency", "microenterprise", "microenterprise"],
    }
)
# On D = 31 March 2025:
#   K1 active (ongoing), K2 active (started 10 March), K3 active (ends on D itself),
#   K4 not active (ended 30 March), K5 not active (starts 1 April), K6 active (reablement),
#   K7 active.
PACKAGES = pl.DataFrame(
    {
        "package_id": ["K1", "K2", "K3", "K4", "K5", "K6", "K7"],
        "person_id": ["X1", "X2", "X2", "X3", "X4", "X5", "X6"],
        "area_code": ["A1", "A1", "A2", "A2", "A2", "A2", "A3"],
        "provider_id": ["P1", "M1", "P2", "P1", "M2", "P2", "M1"],
        "start_date": dates("2024-01-01 2025-03-10 2024-06-01 2024-01-01 2025-04-01 2025-02-01 2024-12-01"),
        "end_date": [None, None, date(2025, 3, 31), date(2025, 3, 30), None, None, None],
        "planned_hours_per_week": [10.0, 4.0, 6.0, 20.0, 5.0, 8.0, 2.0],
        "service_type": ["home_care", "home_care", None, "home_care", "home_care", "reablement", "home_care"],
    }
)
# Waiting on D: R1 (A3, 30 days, 5 h), R4 (A2, sourced 2 April so still waiting, 10 days, 2 h),
# R7 (A4, 90 days, 10 h). R3 is withdrawn; R2, R5, R6, R8 were sourced by D.
# Sourced in March (1 to 31 March): R2 20 days, R5 89 days (sourced on D), R6 5 days, R8 12 days.
REQUESTS = pl.DataFrame(
    {
        "request_id": ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"],
        "person_id": ["Y1", "Y2", "Y3", "Y4", "Y1", "Y5", "Y6", "Y7"],
        "area_code": ["A3", "A1", "A2", "A2", "A3", "A1", "A4", "A1"],
        "requested_date": dates(
            "2025-03-01 2025-02-23 2025-01-31 2025-03-21 2025-01-01 2025-03-25 2024-12-31 2025-03-02"
        ),
        "hours_per_week": [5.0, 3.0, 7.0, 2.0, 4.0, 6.0, 10.0, 1.0],
        "sourced_date": dates("- 2025-03-15 - 2025-04-02 2025-03-31 2025-03-30 - 2025-03-14"),
        "outcome": [None, "sourced", "withdrawn", "sourced", "sourced", "sourced", "waiting", "sourced"],
    }
)


@pytest.fixture
def staged() -> Staged:
    return Staged.from_frames(D, areas=AREAS, providers=PROVIDERS, packages=PACKAGES, requests=REQUESTS)


def enriched(staged: Staged) -> pl.DataFrame:
    return common.enriched_packages(staged)


# --- common -------------------------------------------------------------------------------------


def test_active_on_includes_end_day_and_excludes_future_starts(staged):
    got = common.active_on(staged.packages, D).get_column("package_id").to_list()
    assert got == ["K1", "K2", "K3", "K6", "K7"]  # K4 ended the day before, K5 starts the day after


def test_waiting_on_rule(staged):
    got = common.waiting_on(staged.requests, D).get_column("request_id").to_list()
    assert got == ["R1", "R4", "R7"]  # R3 withdrawn; R5 sourced on D itself; R4 sourced after D


def test_month_ends_caps_latest_month_at_as_of():
    assert common.month_ends(date(2025, 3, 17), 3) == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 17)]
    assert common.month_ends(date(2024, 1, 31), 2) == [date(2023, 12, 31), date(2024, 1, 31)]
    assert len(common.month_ends(D)) == 36


def test_filter_locality_keeps_areas_packages_requests_and_providers(staged):
    north = common.filter_locality(staged, "North")
    assert north.areas.get_column("area_code").to_list() == ["A1", "A2"]
    assert sorted(north.packages.get_column("package_id").to_list()) == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert sorted(north.requests.get_column("request_id").to_list()) == ["R2", "R3", "R4", "R6", "R8"]
    # providers with a package in North at any date: P1, P2, M1 (K2), M2 (K5)
    assert sorted(north.providers.get_column("provider_id").to_list()) == ["M1", "M2", "P1", "P2"]
    assert common.filter_locality(staged, None) is staged
    assert common.filter_locality(staged, "Nowhere").packages.is_empty()


# --- supply -------------------------------------------------------------------------------------


def test_supply_headline(staged):
    # Active: K1 (X1, P1, 10 h), K2 (X2, M1, 4), K3 (X2, P2, 6), K6 (X5, P2, 8), K7 (X6, M1, 2)
    # people X1, X2, X5, X6 = 4; packages 5; hours 30; providers P1, M1, P2 = 3
    # population with a figure: 1,000 + 2,000 + 0 = 3,000 -> 30 / 3,000 x 1,000 = 10.0
    assert supply.headline(staged, D, None) == {
        "people_in_service": 4,
        "active_packages": 5,
        "planned_hours_per_week": 30.0,
        "providers_active": 3,
        "hours_per_1000_65_plus": 10.0,
    }


def test_supply_headline_locality(staged):
    # North (A1, A2): K1, K2, K3, K6 -> people X1, X2, X5 = 3; hours 28; providers 3; pop 3,000
    assert supply.headline(staged, D, "North") == {
        "people_in_service": 3,
        "active_packages": 4,
        "planned_hours_per_week": 28.0,
        "providers_active": 3,
        "hours_per_1000_65_plus": 9.33,  # 28 / 3,000 x 1,000 = 9.333 -> 2 dp
    }


def test_supply_month_with_no_packages_is_zero_not_missing():
    # One package active in January only: February and March have nothing active.
    packages = pl.DataFrame(
        {
            "package_id": ["K1"],
            "person_id": ["X1"],
            "area_code": ["A1"],
            "provider_id": ["P1"],
            "start_date": [date(2025, 1, 1)],
            "end_date": [date(2025, 1, 31)],
            "planned_hours_per_week": [7.5],
        }
    )
    s = Staged.from_frames(D, areas=AREAS, providers=PROVIDERS, packages=packages)
    got = supply.supply_by_month(s.packages, common.months_frame(D, 3))
    expected = pl.DataFrame(
        {
            "month": [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)],
            "people_in_service": [1, 0, 0],
            "active_packages": [1, 0, 0],
            "planned_hours_per_week": [7.5, 0.0, 0.0],
            "providers_active": [1, 0, 0],
        }
    )
    assert_frame_equal(got, expected)
    # ...and the measures that need a denominator are null that month, not 0
    conc = concentration.concentration_by_month(enriched(s), common.months_frame(D, 3))
    assert conc.get_column("hhi").to_list()[1:] == [None, None]
    me = microenterprise.microenterprise_by_month(enriched(s), common.months_frame(D, 3))
    assert me.get_column("microenterprise_share_of_people_pct").to_list() == [0.0, None, None]


def test_supply_no_population_gives_null_rate():
    areas = AREAS.with_columns(pl.lit(None, dtype=pl.Int64).alias("population_65_plus"))
    s = Staged.from_frames(D, areas=areas, providers=PROVIDERS, packages=PACKAGES)
    assert supply.headline(s, D, None)["hours_per_1000_65_plus"] is None


# --- microenterprises ---------------------------------------------------------------------------


def test_microenterprise_headline(staged):
    # Active ME packages: K2 (X2, M1, 4 h) and K7 (X6, M1, 2 h); M2's K5 starts in April.
    # 1 ME, 2 customers, 6 h -> 2.0 customers per ME, 6.0 h per ME, 3.0 h per customer;
    # share of people: 2 of 4 = 50.0%
    assert microenterprise.headline(staged, D, None) == {
        "microenterprises_active": 1,
        "microenterprise_customers": 2,
        "microenterprise_hours_per_week": 6.0,
        "customers_per_microenterprise": 2.0,
        "hours_per_microenterprise": 6.0,
        "hours_per_microenterprise_customer": 3.0,
        "microenterprise_share_of_people_pct": 50.0,
    }


def test_microenterprise_cumberland_scale():
    # A generated drop with exactly 46 microenterprises, 288 people and 1,308 hours a week:
    # person i is served by microenterprise i mod 46 (every one has 6 or 7 customers);
    # 287 packages of 4.5 h + 1 of 16.5 h = 1,291.5 + 16.5 = 1,308 h.
    # 288 / 46 = 6.2609 -> 6.26; 1,308 / 46 = 28.4348 -> 28.43; 1,308 / 288 = 4.5417 -> 4.54.
    n_people, n_me = 288, 46
    providers = pl.DataFrame(
        {
            "provider_id": [f"ME{i:02d}" for i in range(n_me)],
            "provider_name": [f"Micro {i}" for i in range(n_me)],
            "provider_type": ["microenterprise"] * n_me,
        }
    )
    packages = pl.DataFrame(
        {
            "package_id": [f"K{i}" for i in range(n_people)],
            "person_id": [f"X{i}" for i in range(n_people)],
            "area_code": ["A1"] * n_people,
            "provider_id": [f"ME{i % n_me:02d}" for i in range(n_people)],
            "start_date": [date(2024, 1, 1)] * n_people,
            "planned_hours_per_week": [4.5] * (n_people - 1) + [16.5],
        }
    )
    assert packages.get_column("planned_hours_per_week").sum() == 1308
    s = Staged.from_frames(D, areas=AREAS, providers=providers, packages=packages)
    got = microenterprise.headline(s, D, None)
    assert got["microenterprises_active"] == 46
    assert got["microenterprise_customers"] == 288
    assert got["microenterprise_hours_per_week"] == 1308.0
    assert got["customers_per_microenterprise"] == 6.26
    assert got["hours_per_microenterprise"] == 28.43
    assert got["hours_per_microenterprise_customer"] == 4.54


def test_no_microenterprises_gives_null_ratios_not_zero():
    providers = PROVIDERS.with_columns(pl.lit("agency").alias("provider_type"))
    s = Staged.from_frames(D, areas=AREAS, providers=providers, packages=PACKAGES)
    got = microenterprise.headline(s, D, None)
    assert got["microenterprises_active"] == 0
    for key in (
        "customers_per_microenterprise",
        "hours_per_microenterprise",
        "hours_per_microenterprise_customer",
    ):
        assert got[key] is None
    assert got["microenterprise_share_of_people_pct"] == 0.0  # 0 of 4 people: a true zero


def test_microenterprise_new_and_closed_by_month():
    # M1: one package 10 Jan to 20 Feb  -> new in January, closed in February
    # M2: 1 May 2024, ongoing            -> neither in the window, active all three months
    # M3: one package 5 to 20 March      -> new and closed in March, not active on 31 March
    # P1 (agency): Z4 ongoing 10 h
    providers = pl.DataFrame(
        {
            "provider_id": ["M1", "M2", "M3", "P1"],
            "provider_name": ["a", "b", "c", "d"],
            "provider_type": ["microenterprise"] * 3 + ["agency"],
        }
    )
    packages = pl.DataFrame(
        {
            "package_id": ["K1", "K2", "K3", "K4"],
            "person_id": ["Z1", "Z2", "Z3", "Z4"],
            "area_code": ["A1"] * 4,
            "provider_id": ["M1", "M2", "M3", "P1"],
            "start_date": [date(2025, 1, 10), date(2024, 5, 1), date(2025, 3, 5), date(2024, 1, 1)],
            "end_date": [date(2025, 2, 20), None, date(2025, 3, 20), None],
            "planned_hours_per_week": [3.0, 6.0, 2.0, 10.0],
        }
    )
    s = Staged.from_frames(D, areas=AREAS, providers=providers, packages=packages)
    got = microenterprise.microenterprise_by_month(enriched(s), common.months_frame(D, 3))
    # 31 Jan: M1 (Z1, 3 h) and M2 (Z2, 6 h) active -> 2 MEs, 2 customers, 9 h; people Z1, Z2, Z4 = 3
    #   ratios 1.0, 4.5, 4.5; share 2 / 3 = 66.67%
    # 28 Feb and 31 Mar: M2 only -> 1, 1, 6 h; people Z2, Z4 = 2; ratios 1.0, 6.0, 6.0; share 50%
    expected = pl.DataFrame(
        {
            "month": [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)],
            "microenterprises_active": [2, 1, 1],
            "microenterprise_customers": [2, 1, 1],
            "microenterprise_hours_per_week": [9.0, 6.0, 6.0],
            "people_in_service": [3, 2, 2],
            "microenterprises_new": [1, 0, 1],
            "microenterprises_closed": [0, 1, 1],
            "customers_per_microenterprise": [1.0, 1.0, 1.0],
            "hours_per_microenterprise": [4.5, 6.0, 6.0],
            "hours_per_microenterprise_customer": [4.5, 6.0, 6.0],
            "microenterprise_share_of_people_pct": [200 / 3, 50.0, 50.0],
        }
    )
    assert_frame_equal(got, expected)


# --- coverage -----------------------------------------------------------------------------------


def test_coverage_by_area(staged):
    got = coverage.coverage_on(enriched(staged), staged.requests, staged.areas, D, minimum=2).drop("month")
    # A1: K1 (P1, X1, 10 h), K2 (M1, X2, 4 h) -> 2 providers, 1 ME, 2 people, 14 h; nobody waiting
    #     demand, not under 2, not single; 14 / 1,000 x 1,000 = 14.0
    # A2: K3 (P2, X2, 6), K6 (P2, X5, 8) -> 1 provider, 2 people, 14 h; R4 waiting (2 h)
    #     under 2 and single; 14 / 2,000 x 1,000 = 7.0
    # A3: K7 (M1, X6, 2) -> 1 provider (an ME), 1 person, 2 h; R1 waiting (5 h); no population -> null
    # A4: no package; R7 waiting (10 h) -> demand with 0 providers; population 0 -> null
    expected = pl.DataFrame(
        {
            "area_code": ["A1", "A2", "A3", "A4"],
            "area_name": ["Ash", "Birch", "Cedar", "Dale"],
            "locality": ["North", "North", "South", "South"],
            "rural_class": ["rural", "urban", "unclassified", "rural"],
            "providers_active": [2, 1, 1, 0],
            "microenterprises_active": [1, 0, 1, 0],
            "people_in_service": [2, 2, 1, 0],
            "planned_hours_per_week": [14.0, 14.0, 2.0, 0.0],
            "people_waiting": [0, 1, 1, 1],
            "hours_waiting": [0.0, 2.0, 5.0, 10.0],
            "has_demand": [True, True, True, True],
            "under_min_providers": [False, True, True, True],
            "single_provider": [False, True, True, False],
            "population_65_plus": [1000, 2000, None, 0],
            "hours_per_1000_65_plus": [14.0, 7.0, None, None],
        }
    )
    assert_frame_equal(got, expected)


def test_coverage_headline(staged):
    # From the table above: 4 areas with demand, 3 under 2 providers (A2, A3, A4), 2 single (A2, A3)
    got = coverage.headline(staged, D, None)
    assert got == {"areas_with_demand": 4, "areas_with_demand_under_2_providers": 3, "areas_single_provider": 2}
    # North: A1 (2 providers) and A2 (1 provider, single)
    got = coverage.headline(staged, D, "North")
    assert got == {"areas_with_demand": 2, "areas_with_demand_under_2_providers": 1, "areas_single_provider": 1}


def test_coverage_area_without_demand_is_not_flagged():
    # A1 has no package and nobody waiting: no demand, so not under the minimum even with 0 providers
    s = Staged.from_frames(D, areas=AREAS.filter(pl.col("area_code") == "A1"), providers=PROVIDERS)
    got = coverage.headline(s, D, None)
    assert got == {"areas_with_demand": 0, "areas_with_demand_under_2_providers": 0, "areas_single_provider": 0}


# --- waiting ------------------------------------------------------------------------------------


def test_waiting_on_day(staged):
    got = waiting.waiting_on(staged.requests, D)
    # Waiting: R1 30 days (5 h), R4 10 days (2 h), R7 90 days (10 h): 3 people, 17 h
    # median of [10, 30, 90] = 30; p90 at position 0.9 x 2 = 1.8 -> 30 + 0.8 x 60 = 78
    # Sourced 1-31 March: R6 5, R8 12, R2 20, R5 89 days -> median (12 + 20) / 2 = 16;
    # p90 at 0.9 x 3 = 2.7 -> 20 + 0.7 x 69 = 68.3; within 7: 1/4, 14: 2/4, 28: 3/4
    assert got == {
        "month": D,
        "requests_waiting": 3,
        "people_waiting": 3,
        "hours_waiting": 17.0,
        "median_wait_days": 30.0,
        "p90_wait_days": pytest.approx(78.0),
        "requests_sourced": 4,
        "median_days_to_source": 16.0,
        "p90_days_to_source": pytest.approx(68.3),
        "sourced_within_7_days_pct": 25.0,
        "sourced_within_14_days_pct": 50.0,
        "sourced_within_28_days_pct": 75.0,
    }


def test_waiting_by_month(staged):
    got = waiting.waiting_by_month(staged.requests, common.months_frame(D, 3)).select(
        "month", "people_waiting", "hours_waiting", "median_wait_days", "requests_sourced"
    )
    # 31 Jan: R5 (30 days, 4 h), R7 (31 days, 10 h); R3 withdrawn -> 2 people, 14 h, median 30.5
    #         nothing sourced in January
    # 28 Feb: R5 (58), R7 (59), R2 (5, 3 h) -> 3 people (Y1, Y6, Y2), 17 h, median 58; none sourced
    # 31 Mar: as test_waiting_on_day
    expected = pl.DataFrame(
        {
            "month": [date(2025, 1, 31), date(2025, 2, 28), D],
            "people_waiting": [2, 3, 3],
            "hours_waiting": [14.0, 17.0, 17.0],
            "median_wait_days": [30.5, 58.0, 30.0],
            "requests_sourced": [0, 0, 4],
        }
    )
    assert_frame_equal(got, expected)


def test_waiting_headline_and_no_requests_file(staged):
    assert waiting.headline(staged, D, None) == {
        "people_waiting": 3,
        "requests_waiting": 3,
        "hours_waiting": 17.0,
        "median_wait_days": 30.0,
        "p90_wait_days": 78.0,
    }
    # North: only R4 (10 days, 2 h) waits
    assert waiting.headline(staged, D, "North") == {
        "people_waiting": 1,
        "requests_waiting": 1,
        "hours_waiting": 2.0,
        "median_wait_days": 10.0,
        "p90_wait_days": 10.0,
    }
    no_requests = Staged.from_frames(D, areas=AREAS, providers=PROVIDERS, packages=PACKAGES)
    assert set(waiting.headline(no_requests, D, None).values()) == {None}


# --- rural gap ----------------------------------------------------------------------------------


def test_rural_gap(staged):
    # Rural areas A1, A4; urban A2; unclassified A3 (left out of shares).
    # Planned hours: rural 14 + 0, urban 14 -> rural share 14 / 28 = 50%
    # Hours waiting: rural 0 + 10, urban 2 -> rural share 10 / 12 = 83.33%
    # Gap = 83.33 - 50 = 33.33 pp. Median wait: rural 90 (R7), urban 10 (R4) -> ratio 9.0
    assert rural.headline(staged, D, None) == {
        "rural_gap_waiting_share_pp": 33.33,
        "rural_share_planned_hours_pct": 50.0,
        "rural_share_hours_waiting_pct": 83.33,
        "rural_urban_median_wait_ratio": 9.0,
    }


def test_by_rural_class(staged):
    got = rural.by_rural_class(
        enriched(staged),
        common.enriched_requests(staged),
        staged.areas,
        common.months_frame(D, 1),
    ).select(
        "rural_class",
        "people_in_service",
        "planned_hours_per_week",
        "providers_active",
        "hours_waiting",
        "population_65_plus",
        "share_of_planned_hours_pct",
        "share_of_hours_waiting_pct",
        "share_of_population_65_plus_pct",
    )
    # rural: A1 (X1, X2; P1, M1; 14 h) + A4 (nothing, 10 h waiting); population 1,000 + 0
    # unclassified: A3 (X6; M1; 2 h; 5 h waiting); no population
    # urban: A2 (X2, X5; P2; 14 h; 2 h waiting); population 2,000
    # population shares of rural + urban: 1,000 / 3,000 and 2,000 / 3,000
    expected = pl.DataFrame(
        {
            "rural_class": ["rural", "unclassified", "urban"],
            "people_in_service": [2, 1, 2],
            "planned_hours_per_week": [14.0, 2.0, 14.0],
            "providers_active": [2, 1, 1],
            "hours_waiting": [10.0, 5.0, 2.0],
            "population_65_plus": [1000, None, 2000],
            "share_of_planned_hours_pct": [50.0, None, 50.0],
            "share_of_hours_waiting_pct": [1000 / 12, None, 200 / 12],
            "share_of_population_65_plus_pct": [100 / 3, None, 200 / 3],
        }
    )
    assert_frame_equal(got, expected)


def test_rural_gap_all_unclassified_is_null(staged):
    areas = AREAS.with_columns(pl.lit(None, dtype=pl.String).alias("ruc21"))
    s = Staged.from_frames(D, areas=areas, providers=PROVIDERS, packages=PACKAGES, requests=REQUESTS)
    assert set(rural.headline(s, D, None).values()) == {None}


# --- concentration ------------------------------------------------------------------------------


def test_concentration_headline(staged):
    # Hours by provider: P2 6 + 8 = 14, P1 10, M1 4 + 2 = 6; total 30
    # shares 46.67, 33.33, 20 -> CR1 46.67, CR3 100
    # HHI = (14^2 + 10^2 + 6^2) / 30^2 x 10,000 = 332 / 900 x 10,000 = 3,688.89; effective 900 / 332 = 2.71
    got = concentration.headline(staged, D, None)
    assert got == {"hhi": 3688.89, "cr1_pct": 46.67, "cr3_pct": 100.0, "effective_providers": 2.71}


def test_provider_shares(staged):
    got = concentration.provider_shares(enriched(staged), D)
    expected = pl.DataFrame(
        {
            "provider_id": ["P2", "P1", "M1"],
            "people_in_service": [2, 1, 2],
            "planned_hours_per_week": [14.0, 10.0, 6.0],
            "share_pct": [1400 / 30, 1000 / 30, 20.0],
            "rank": [1, 2, 3],
        }
    )
    assert_frame_equal(got, expected)


def _packages(hours_by_provider: dict[str, list[float]]) -> pl.DataFrame:
    rows = [
        {
            "package_id": f"{pid}-{i}",
            "person_id": f"{pid}-{i}",
            "area_code": "A1",
            "provider_id": pid,
            "start_date": date(2024, 1, 1),
            "planned_hours_per_week": h,
        }
        for pid, hours in hours_by_provider.items()
        for i, h in enumerate(hours)
    ]
    return Staged.from_frames(D, packages=pl.DataFrame(rows)).packages


def test_concentration_ties_broken_by_provider_id():
    # PB and PA both 10 h, PC 5 h: tie for largest -> PA (lowest id) is rank 1.
    # shares 40, 40, 20 -> CR1 40, CR3 100, HHI 1,600 + 1,600 + 400 = 3,600, largest PA
    packages = _packages({"PB": [10.0], "PA": [4.0, 6.0], "PC": [5.0]})
    shares = concentration.provider_shares(packages, D)
    assert shares.get_column("provider_id").to_list() == ["PA", "PB", "PC"]
    assert shares.get_column("rank").to_list() == [1, 2, 3]
    row = concentration.concentration_on(packages, D)
    assert row["cr1_pct"] == 40.0
    assert row["cr3_pct"] == 100.0
    assert row["hhi"] == pytest.approx(3600.0)
    assert row["largest_provider_id"] == "PA"
    assert row["hhi_band"] == "highly concentrated"


def test_concentration_tie_survives_float_noise():
    # 0.1 + 0.2 = 0.30000000000000004 > 0.3 in floating point; the rank compares hours rounded to
    # 6 dp, so PA (0.3) and PB (0.1 + 0.2) tie and PA, the lower id, is the largest.
    packages = _packages({"PB": [0.1, 0.2], "PA": [0.3]})
    assert concentration.concentration_on(packages, D)["largest_provider_id"] == "PA"


def test_concentration_single_provider_and_none():
    one = _packages({"PA": [3.0, 4.0]})
    row = concentration.concentration_on(one, D)
    assert (row["cr1_pct"], row["cr3_pct"], row["hhi"], row["effective_providers"]) == (100.0, 100.0, 10000.0, 1.0)
    empty = Staged.from_frames(D).packages
    assert concentration.concentration_on(empty, D)["hhi"] is None


# --- headline -----------------------------------------------------------------------------------

MY_KEYS = {
    "as_of",
    "people_in_service",
    "planned_hours_per_week",
    "providers_active",
    "microenterprises_active",
    "customers_per_microenterprise",
    "hours_per_microenterprise",
    "people_waiting",
    "hours_waiting",
    "median_wait_days",
    "hhi",
    "cr1_pct",
    "cr3_pct",
    "areas_with_demand_under_2_providers",
    "rural_gap_waiting_share_pp",
}


def test_headline_has_required_keys_and_is_json(staged):
    got = headline(staged)
    assert set(got) >= MY_KEYS
    assert got["as_of"] == "2025-03-31"
    assert got["people_in_service"] == 4
    assert got["hhi"] == 3688.89
    text = json.dumps(got, allow_nan=False)  # no NaN or infinity anywhere
    assert json.loads(text) == got


def test_headline_empty_drop_never_raises_and_uses_null(staged):
    got = headline(Staged.from_frames(D))
    for key in ("customers_per_microenterprise", "hhi", "cr1_pct", "median_wait_days", "rural_gap_waiting_share_pp"):
        assert got[key] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in got.values())


def test_headline_locality_and_service_type_filters(staged):
    north = headline(staged, locality="North")
    assert north["people_in_service"] == 3
    assert north["people_waiting"] == 1
    # reablement only: K6 (X5, P2, 8 h) -> 1 person, 8 h, 1 provider, HHI 10,000
    reablement = headline(staged, service_types=["reablement"])
    assert (reablement["people_in_service"], reablement["planned_hours_per_week"], reablement["hhi"]) == (
        1,
        8.0,
        10000.0,
    )
    # blank service type counts as home care: K1, K2, K3 (blank), K7 -> X1, X2, X6
    assert headline(staged, service_types=["home_care"])["people_in_service"] == 3


def test_headline_duplicate_key_raises(staged, monkeypatch):
    one = types.SimpleNamespace(__name__="one", headline=lambda s, d, loc: {"x": 1})
    two = types.SimpleNamespace(__name__="two", headline=lambda s, d, loc: {"x": 2})
    monkeypatch.setattr(headline_module, "modules_with", lambda name: [one, two])
    with pytest.raises(HeadlineError, match="'x'"):
        headline(staged)


# --- marts --------------------------------------------------------------------------------------


def _store(staged: Staged) -> duckdb.DuckDBPyConnection:
    """An in-memory store with stg_* tables and meta_drop, as analytics.store.snapshots writes them."""
    con = duckdb.connect()
    for name in FILES:  # every file of the contract, as the store writes them
        frame = getattr(staged, name)
        con.register("v", frame)
        con.execute(f"create table stg_{name} as select * from v")
        con.unregister("v")
    con.execute("create table meta_drop as select 'test' as drop_id, ?::date as as_of", [staged.as_of])
    return con


def test_build_marts_writes_tables_and_latest_month_matches_headline(staged):
    con = _store(staged)
    counts = build_marts(con)
    tables = {r[0] for r in con.sql("select table_name from information_schema.tables").fetchall()}
    assert set(counts) <= tables
    assert all(name.startswith("mart_") for name in counts)
    for name, rows in counts.items():
        assert con.sql(f"select count(*) from {name}").fetchall()[0][0] == rows
    mine = {
        "mart_supply_month",
        "mart_supply_summary_month",
        "mart_microenterprise_month",
        "mart_coverage_area_month",
        "mart_coverage_month",
        "mart_waiting_area_month",
        "mart_waiting_month",
        "mart_rural_month",
        "mart_rural_gap_month",
        "mart_concentration_month",
        "mart_provider_share_month",
    }
    assert mine <= set(counts)

    head = headline_from_store(con)
    latest = {"month": D, "geography_level": "council"}
    sup = read_mart(con, "mart_supply_summary_month", service_type="all", **latest).row(0, named=True)
    assert (sup["people_in_service"], sup["planned_hours_per_week"], sup["providers_active"]) == (
        head["people_in_service"],
        head["planned_hours_per_week"],
        head["providers_active"],
    )
    me = read_mart(con, "mart_microenterprise_month", **latest).row(0, named=True)
    assert round(me["customers_per_microenterprise"], 2) == head["customers_per_microenterprise"]
    wait = read_mart(con, "mart_waiting_month", **latest).row(0, named=True)
    assert (wait["people_waiting"], wait["median_wait_days"]) == (head["people_waiting"], head["median_wait_days"])
    conc = read_mart(con, "mart_concentration_month", service_type="all", **latest).row(0, named=True)
    assert round(conc["hhi"], 2) == head["hhi"]
    cov = read_mart(con, "mart_coverage_month", service_type="all", **latest).row(0, named=True)
    assert cov["areas_under_min_providers"] == head["areas_with_demand_under_2_providers"]
    gap = read_mart(con, "mart_rural_gap_month", **latest).row(0, named=True)
    assert round(gap["rural_gap_waiting_share_pp"], 2) == head["rural_gap_waiting_share_pp"]
    # every mart month is one of the 36 snapshot dates, inside the packages' coverage (no invented
    # zeros before the data starts), and the latest month is always there
    shown = set(read_mart(con, "mart_supply_summary_month").get_column("month").to_list())
    assert shown <= set(common.month_ends(D)) and D in shown
    assert min(shown) > staged.packages.get_column("start_date").min()


def test_supply_detail_mart_adds_up_to_summary(staged):
    months = common.months_frame(D, 36)
    detail = supply.supply_detail(enriched(staged), months)
    summary = supply.supply_summary(staged, months).filter(
        (pl.col("geography_level") == "council") & (pl.col("service_type") == "all")
    )
    by_month = detail.group_by("month").agg(pl.col("active_packages", "planned_hours_per_week").sum())
    joined = summary.join(by_month, on="month", how="left", suffix="_detail").fill_null(0)
    assert (joined["active_packages"] == joined["active_packages_detail"]).all()
    assert (joined["planned_hours_per_week"] - joined["planned_hours_per_week_detail"]).abs().max() < 1e-9


def test_read_mart_filters():
    con = duckdb.connect()
    frame = pl.DataFrame({"geography": ["All", "North", "South", None], "value": [1, 2, 3, 4]})
    assert write_mart(con, "mart_test", frame) == 4
    assert read_mart(con, "mart_test", geography="North")["value"].to_list() == [2]
    assert sorted(read_mart(con, "mart_test", geography=["North", "South"])["value"].to_list()) == [2, 3]
    assert read_mart(con, "mart_test", geography=None)["value"].to_list() == [4]
    assert read_mart(con, "mart_test", geography=[]).is_empty()
    assert read_mart(con, "mart_test").height == 4
    with pytest.raises(MartError):
        read_mart(con, "stg_packages")
    with pytest.raises(MartError):
        read_mart(con, "mart_test", **{"value; drop table x": 1})
    with pytest.raises(MartError):
        write_mart(con, "not_a_mart", frame)


@pytest.mark.parametrize("locality", [None, "North", "South"])
def test_geography_marts_match_headline_for_every_locality(staged, locality):
    # The marts group by geography in one pass; the headline filters to the locality. Both must agree.
    months = common.months_frame(D, 36)
    level, name = ("council", "All") if locality is None else ("locality", locality)
    head = headline(staged, locality=locality)

    def latest(frame: pl.DataFrame, **extra) -> dict:
        cond = (pl.col("geography_level") == level) & (pl.col("geography") == name) & (pl.col("month") == D)
        for column, value in extra.items():
            cond = cond & (pl.col(column) == value)
        rows = frame.filter(cond)
        assert rows.height == 1
        return rows.row(0, named=True)

    sup = latest(supply.supply_summary(staged, months), service_type="all")
    assert (sup["people_in_service"], sup["providers_active"]) == (head["people_in_service"], head["providers_active"])
    assert round(sup["planned_hours_per_week"], 2) == head["planned_hours_per_week"]
    me = latest(microenterprise.microenterprise_summary(staged, months))
    assert me["microenterprises_active"] == head["microenterprises_active"]
    assert common.rounded(me["customers_per_microenterprise"]) == head["customers_per_microenterprise"]
    wait = latest(waiting.waiting_summary(staged, months))
    assert (wait["people_waiting"], wait["median_wait_days"]) == (head["people_waiting"], head["median_wait_days"])
    conc = latest(concentration.concentration_summary(staged, months), service_type="all")
    assert (common.rounded(conc["hhi"]), common.rounded(conc["cr1_pct"])) == (head["hhi"], head["cr1_pct"])
    gap = latest(rural.build_marts(staged)["mart_rural_gap_month"])
    assert common.rounded(gap["rural_gap_waiting_share_pp"]) == head["rural_gap_waiting_share_pp"]
    cov = latest(coverage.build_marts(staged)["mart_coverage_month"], service_type="all")
    assert cov["areas_under_min_providers"] == head["areas_with_demand_under_2_providers"]


def test_mart_rural_class_rows_match_rural_class_slices(staged):
    # The rural_class rows of the supply summary equal by_rural_class on the same drop.
    months = common.months_frame(D, 1)
    summary = supply.supply_summary(staged, months).filter(
        (pl.col("geography_level") == "rural_class") & (pl.col("service_type") == "all")
    )
    classes = rural.by_rural_class(enriched(staged), common.enriched_requests(staged), staged.areas, months)
    assert (
        summary.select(pl.col("geography").alias("rural_class"), "people_in_service", "planned_hours_per_week")
        .sort("rural_class")
        .equals(classes.select("rural_class", "people_in_service", "planned_hours_per_week"))
    )


def test_coverage_area_mart_service_type_slices(staged):
    got = (
        coverage.coverage_area_mart(staged, common.months_frame(D, 1))
        .filter(pl.col("service_type") == "reablement")
        .select("area_code", "providers_active", "people_in_service", "planned_hours_per_week", "people_waiting")
    )
    # Only K6 (A2, P2, X5, 8 h) is reablement; waiting is not split by service type (A2: R4, A3: R1, A4: R7)
    expected = pl.DataFrame(
        {
            "area_code": ["A1", "A2", "A3", "A4"],
            "providers_active": [0, 1, 0, 0],
            "people_in_service": [0, 1, 0, 0],
            "planned_hours_per_week": [0.0, 8.0, 0.0, 0.0],
            "people_waiting": [0, 1, 1, 1],
        }
    )
    assert_frame_equal(got, expected)


def test_period_of_labels_dates_with_their_snapshot():
    months = common.months_frame(date(2025, 3, 17), 3)  # periods: January, February, 1 to 17 March
    days = pl.DataFrame(
        {"d": [date(2024, 12, 31), date(2025, 1, 1), date(2025, 2, 28), date(2025, 3, 17), date(2025, 3, 18)]}
    )
    got = days.select(common.period_of("d", months).alias("p")).get_column("p").to_list()
    assert got == [None, date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 17), None]
