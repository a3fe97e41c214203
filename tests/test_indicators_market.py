"""Hand-made fixtures for the part-2 indicators: churn, quality, price, workforce, delivery and the
demand projection. Every expected value is worked out by hand in the comments next to it.
(The provider exit stress test has its own file, ``test_exit_stress.py``.)
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from builders_support import dates
from polars.testing import assert_frame_equal

from analytics.config import settings
from analytics.indicators import churn, delivery, price, projection, quality, workforce
from analytics.indicators.common import months_frame
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)  # financial year 2024/25

AREAS = pl.DataFrame(
    {
        "area_code": ["A1", "A2", "A3"],
        "area_name": ["Ash", "Birch", "Cedar"],
        "locality": ["North", "North", "South"],
        "ruc21": ["UN1", "RSF1", "UN1"],
        "population_65_plus": [1000, 2000, 1000],
    }
)
# P1 Good, rated 2023 (current on D); P2 Requires improvement rated 1 March 2020, before the 4-year
# cut-off of 31 March 2021 (out of date); P3 no rating (Not rated); P4 Outstanding with no date
# (date unknown); P5 active 2022-01-01 to 2024-12-15 with no packages (left the market in December).
PROVIDERS = pl.DataFrame(
    {
        "provider_id": ["P1", "P2", "P3", "P4", "P5"],
        "provider_name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
        "provider_type": ["agency", "agency", "microenterprise", "agency", "agency"],
        "cqc_rating": ["Good", "Requires improvement", None, "Outstanding", "Good"],
        "cqc_rating_date": [date(2023, 6, 1), date(2020, 3, 1), None, None, date(2022, 1, 1)],
        "weekly_capacity_hours": [40.0, None, 20.0, 10.0, 50.0],
        "active_from": [None, None, None, None, date(2022, 1, 1)],
        "active_to": [None, None, None, None, date(2024, 12, 15)],
    }
)
# Active on D: K1 (P1, A1, 10 h at £27), K2 (P2, A1, 20 h at £22.50), K3 (P3, A2, 5 h, no rate),
# K4 (P4, A3, 5 h at £24): 40 hours. Ended: K5 handed back by P2 on 10 Feb 2025 (7 h, person X5),
# K6 handed back by P1 on 20 Aug 2024 (14 h), K7 X5's new package with P3 from 12 Feb 2025 (ended as
# planned 1 March), K8 handed back by P1 on 10 Jan 2024 (outside 12 months).
PACKAGES = pl.DataFrame(
    {
        "package_id": ["K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"],
        "person_id": ["X1", "X2", "X3", "X4", "X5", "X6", "X5", "X7"],
        "area_code": ["A1", "A1", "A2", "A3", "A2", "A3", "A2", "A1"],
        "provider_id": ["P1", "P2", "P3", "P4", "P2", "P1", "P3", "P1"],
        "start_date": dates("2024-01-01 2024-06-01 2025-01-15 2024-02-01 2024-01-01 2023-05-01 2025-02-12 2023-01-01"),
        "end_date": dates("- - - - 2025-02-10 2024-08-20 2025-03-01 2024-01-10"),
        "planned_hours_per_week": [10.0, 20.0, 5.0, 5.0, 7.0, 14.0, 3.0, 7.0],
        "hourly_rate": [27.0, 22.5, None, 24.0, 22.5, 27.0, None, 27.0],
        "end_reason": [
            None,
            None,
            None,
            None,
            "provider_handback",
            "provider_handback",
            "ended_as_planned",
            "provider_handback",
        ],
    }
)
# Weekly delivery rows (period_start is a Monday, so the rows are weekly).
DELIVERY = pl.DataFrame(
    {
        "period_start": dates("2025-02-03 2025-03-03 2025-03-10 2025-03-03 2025-03-10 2025-03-03 2025-03-03"),
        "provider_id": ["P2", "P1", "P1", "P4", "P4", "P2", "P3"],
        "area_code": ["A1", "A1", "A1", "A3", None, "A1", None],
        "package_id": ["K2", "K1", "K1", None, "K4", "K2", None],
        "commissioned_hours": [20.0, 10.0, 10.0, 5.0, 5.0, 20.0, None],
        "delivered_hours": [15.0, 9.0, 11.0, 4.5, 4.5, 16.0, 3.0],
    }
)
WORKFORCE = pl.DataFrame(
    {
        "provider_id": ["P1", "P2", "P1", "P3"],
        "month": [date(2025, 3, 1), date(2025, 3, 1), date(2025, 2, 1), date(2025, 4, 1)],
        "filled_posts": [8, 10, 9, 3],
        "vacancies": [2, None, 1, 3],
        "leavers_12m": [4, 5, 3, 1],
    }
)


def staged(**changes: pl.DataFrame) -> Staged:
    frames = {
        "areas": AREAS,
        "providers": PROVIDERS,
        "packages": PACKAGES,
        "delivery": DELIVERY,
        "workforce": WORKFORCE,
    }
    frames.update(changes)
    return Staged.from_frames(D, **frames)


def months(*ends: date) -> pl.DataFrame:
    """A months frame with the given snapshot dates (month_start = the 1st of each)."""
    return pl.DataFrame(
        {"month": list(ends), "month_start": [d.replace(day=1) for d in ends]},
        schema={"month": pl.Date, "month_start": pl.Date},
    )


# --- churn -------------------------------------------------------------------------------------


def test_months_before_clamps_to_month_end() -> None:
    assert churn.months_before(date(2025, 5, 31), 3) == date(2025, 2, 28)
    assert churn.months_before(date(2025, 3, 31), 12) == date(2024, 3, 31)
    assert churn.months_before(date(2025, 1, 15), 1) == date(2024, 12, 15)


def test_handback_totals_3_and_12_months() -> None:
    s = staged()
    # 3 months to 31 March = 1 Jan to 31 Mar 2025: K5 only (7 h, 1 package, 1 person).
    got = churn.handback_totals(s.packages, D, 3)
    assert got == {"packages_handed_back": 1, "people_handed_back": 1, "hours_handed_back": 7.0}
    # 12 months = 1 Apr 2024 to 31 Mar 2025: K5 (7 h) + K6 (14 h) = 21 h; K8 (Jan 2024) is outside.
    got = churn.handback_totals(s.packages, D, 12)
    assert got == {"packages_handed_back": 2, "people_handed_back": 2, "hours_handed_back": 21.0}


def test_handback_summary_by_provider_and_locality() -> None:
    s = staged()
    expected = pl.DataFrame(
        {
            "provider_id": ["P1", "P2"],  # P1: K6 14 h; P2: K5 7 h (largest first)
            "packages_handed_back": [1, 1],
            "people_handed_back": [1, 1],
            "hours_handed_back": [14.0, 7.0],
        },
        schema_overrides={"packages_handed_back": pl.Int64, "people_handed_back": pl.Int64},
    )
    assert_frame_equal(churn.handback_summary(s.packages, s.areas, D, 12, "provider_id"), expected)
    # K6 is in A3 (South, 14 h); K5 in A2 (North, 7 h).
    by_locality = churn.handback_summary(s.packages, s.areas, D, 12, "locality")
    assert by_locality.select("locality", "hours_handed_back").rows() == [("South", 14.0), ("North", 7.0)]


def test_handbacks_by_month_has_zero_months() -> None:
    # Jan 2025: none -> 0; Feb: K5 ended 10 Feb (1 package, 1 person, 7 h); Mar: K7 ended as planned -> 0.
    expected = pl.DataFrame(
        {
            "month": [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)],
            "packages_handed_back": [0, 1, 0],
            "people_handed_back": [0, 1, 0],
            "hours_handed_back": [0.0, 7.0, 0.0],
        },
        schema_overrides={"packages_handed_back": pl.Int64, "people_handed_back": pl.Int64},
    )
    assert_frame_equal(churn.handbacks_by_month(PACKAGES, months_frame(D, 3)), expected)


def test_handbacks_not_recorded_are_none() -> None:
    # Packages have ended but no end reason is recorded at all: hand-backs cannot be counted.
    no_reasons = PACKAGES.with_columns(pl.lit(None, dtype=pl.String).alias("end_reason"))
    s = staged(packages=no_reasons)
    assert churn.headline(s, D, None)["handback_hours_12m"] is None
    assert churn.handbacks_by_month(s.packages, months_frame(D, 2))["hours_handed_back"].to_list() == [None, None]
    # No packages at all: also None, never 0.
    empty = Staged.from_frames(D, areas=AREAS, providers=PROVIDERS)
    assert churn.headline(empty, D, None)["handback_hours_3m"] is None


def test_handback_destinations() -> None:
    # K5 (P2 -> X5): X5's K7 with P3 starts 12 Feb, 2 days after the 10 Feb hand-back: re-homed with P3.
    # K6 (P1 -> X6): X6 has no other package: no later package found.
    expected = pl.DataFrame(
        {
            "from_provider_id": ["P1", "P2"],
            "outcome": ["no later package found", "re-homed"],
            "to_provider_id": [None, "P3"],
            "packages": [1, 1],
            "hours_handed_back": [14.0, 7.0],
        },
        schema_overrides={"to_provider_id": pl.String, "packages": pl.Int64},
    )
    assert_frame_equal(churn.handback_destinations(PACKAGES, D, 12), expected)


def test_provider_activity_and_churn_by_month() -> None:
    s = staged()
    # P1 first package K8 (1 Jan 2023), K1 still open -> no last day; P3 first package 15 Jan 2025;
    # P5 from its active_from/active_to dates.
    activity = churn.provider_activity(s.providers, s.packages)
    assert activity.filter(pl.col("provider_id").is_in(["P1", "P3", "P5"])).rows() == [
        ("P1", date(2023, 1, 1), None),
        ("P3", date(2025, 1, 15), None),
        ("P5", date(2022, 1, 1), date(2024, 12, 15)),
    ]
    # Dec 2024: P5 exits (15 Dec); active on 31 Dec: P1, P2, P4 = 3. Jan: P3 enters; 4 active.
    expected = pl.DataFrame(
        {
            "month": [date(2024, 12, 31), date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)],
            "entries": [0, 1, 0, 0],
            "exits": [1, 0, 0, 0],
            "active_providers": [3, 4, 4, 4],
            "net_change": [-1, 1, 0, 0],
        },
        schema_overrides={c: pl.Int64 for c in ("entries", "exits", "active_providers", "net_change")},
    )
    assert_frame_equal(churn.provider_churn_by_month(s.providers, s.packages, months_frame(D, 4)), expected)


CHURN_HEADLINE_KEYS = (
    "handback_hours_3m",
    "handback_hours_12m",
    "handback_packages_12m",
    "provider_entries_12m",
    "provider_exits_12m",
)


@pytest.mark.parametrize(
    ("locality", "expected"),
    [
        # Council: 3 months 7 h; 12 months 21 h, 2 packages; entries P3 (Jan 2025); exits P5 (Dec 2024).
        (None, (7.0, 21.0, 2, 1, 1)),
        # South = A3, packages K4 and K6. Hand-backs: K6 (14 h, 20 Aug 2024) only. Providers there: P1,
        # whose only package in South (K6) ended 20 Aug 2024, so it stopped working in South then (1 exit),
        # and P4 (K4, open since Feb 2024, before the window: no entry).
        ("South", (0.0, 14.0, 1, 0, 1)),
    ],
)
def test_churn_headline_council_and_locality(locality, expected) -> None:
    assert churn.headline(staged(), D, locality) == dict(zip(CHURN_HEADLINE_KEYS, expected, strict=True))


# --- quality -----------------------------------------------------------------------------------


def test_rating_mix_hours_weighted() -> None:
    # Active on D: P4 Outstanding 5 h, P1 Good 10 h, P2 RI 20 h, P3 Not rated 5 h; total 40 h.
    expected = pl.DataFrame(
        {
            "rating": ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated"],
            "providers": [1, 1, 1, 0, 1],
            "packages": [1, 1, 1, 0, 1],
            "hours": [5.0, 10.0, 20.0, 0.0, 5.0],
            "hours_pct": [12.5, 25.0, 50.0, 0.0, 12.5],  # 5/40, 10/40, 20/40, 0, 5/40
        },
        schema_overrides={"providers": pl.Int64, "packages": pl.Int64},
    )
    assert_frame_equal(quality.rating_mix(PACKAGES, PROVIDERS, D), expected)


def test_rating_currency_shares() -> None:
    # Good/Outstanding = P1 10 + P4 5 = 15 of 40 = 37.5%; unrated P3 5 h = 12.5%; out of date P2 20 h =
    # 50%; date unknown P4 5 h = 12.5%; unrated or stale = 30/40 = 75%.
    assert quality.rating_currency(PACKAGES, PROVIDERS, D, 4) == {
        "hours": 40.0,
        "good_outstanding_pct": 37.5,
        "unrated_pct": 12.5,
        "out_of_date_pct": 50.0,
        "date_unknown_pct": 12.5,
        "unrated_or_stale_pct": 75.0,
    }
    # With a 5-year rule, P2's March 2020 rating (cut-off 31 March 2020) is still out of date;
    # with 6 years (cut-off 31 March 2019) it is current: 75 - 50 = 25%.
    assert quality.rating_currency(PACKAGES, PROVIDERS, D, 6)["unrated_or_stale_pct"] == 25.0


def test_rating_mix_by_month_with_a_month_without_packages() -> None:
    # Dec 2022: no package had started (the first starts 1 Jan 2023): hours 0, every % null.
    frame = quality.rating_mix_by_month(PACKAGES, PROVIDERS, months(date(2022, 12, 31), D), 4)
    ratings = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated"]
    expected = pl.DataFrame(
        {
            "month": [date(2022, 12, 31)] * 5 + [D] * 5,
            "rating": ratings * 2,
            "hours": [0.0] * 5 + [5.0, 10.0, 20.0, 0.0, 5.0],
            "hours_pct": [None] * 5 + [12.5, 25.0, 50.0, 0.0, 12.5],
            "good_outstanding_pct": [None] * 5 + [37.5] * 5,
            "unrated_or_stale_pct": [None] * 5 + [75.0] * 5,
        },
        schema_overrides={
            "hours_pct": pl.Float64,
            "good_outstanding_pct": pl.Float64,
            "unrated_or_stale_pct": pl.Float64,
        },
    )
    assert_frame_equal(frame, expected)


def test_provider_ratings_currency_classes() -> None:
    frame = quality.provider_ratings(PROVIDERS, PACKAGES, D, 4)
    # Largest active hours first: P2 20, P1 10, P3 5, P4 5 (tie by id), P5 0.
    assert frame.select("provider_id", "rating", "currency", "hours").rows() == [
        ("P2", "Requires improvement", "out_of_date", 20.0),
        ("P1", "Good", "current", 10.0),
        ("P3", "Not rated", "unrated", 5.0),
        ("P4", "Outstanding", "date_unknown", 5.0),
        ("P5", "Good", "current", 0.0),
    ]


def test_quality_headline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quality, "stale_years", lambda: 4)
    got = quality.headline(staged(), D, None)
    assert got == {"good_outstanding_hours_pct": 37.5, "unrated_or_stale_hours_pct": 75.0}
    # North = A1, A2: P1 10 h (Good, current), P2 20 h (out of date), P3 5 h (unrated): 35 h.
    # Good = 10/35 = 28.571... -> 28.57; unrated or stale = 25/35 = 71.428... -> 71.43.
    got = quality.headline(staged(), D, "North")
    assert got == {"good_outstanding_hours_pct": 28.57, "unrated_or_stale_hours_pct": 71.43}
    # A date before any package: no data, so None (not 0).
    got = quality.headline(staged(), date(2022, 6, 30), None)
    assert got == {"good_outstanding_hours_pct": None, "unrated_or_stale_hours_pct": None}


def test_stale_years_comes_from_config() -> None:
    assert quality.stale_years() == int(settings()["thresholds"]["rating_stale_years"])


# --- price -------------------------------------------------------------------------------------


def test_weighted_rate() -> None:
    # Rated on D: K1 10 h x £27 = 270, K2 20 h x £22.50 = 450, K4 5 h x £24 = 120: 840 / 35 h = £24.00.
    # K3 (5 h) has no rate: coverage 35 / 40 = 87.5%.
    got = price.weighted_rate(PACKAGES, D)
    assert got == {"hours": 40.0, "rated_hours": 35.0, "rate_coverage_pct": 87.5, "weighted_hourly_rate": 24.0}


def test_price_vs_benchmarks_with_overrides() -> None:
    result = price.price_vs_benchmarks(PACKAGES, D, minimum_price=30.0, fair_cost_of_care=25.0)
    # Gap to £30 = £6.00 = 20% of £30; annual = 6 x 40 h x 365/7 = 240 x 52.142857 = £12,514.29.
    assert result["gap_to_minimum_price"] == 6.0
    assert result["gap_to_minimum_price_pct"] == 20.0
    assert result["annual_cost_to_close_minimum_price_gap"] == pytest.approx(240 * 365 / 7)
    # Gap to £25 = £1.00 = 4% of £25; annual = 1 x 40 x 365/7 = £2,085.71.
    assert result["gap_to_fair_cost_of_care"] == 1.0
    assert result["gap_to_fair_cost_of_care_pct"] == 4.0
    assert result["annual_cost_to_close_fair_cost_of_care_gap"] == pytest.approx(40 * 365 / 7)
    assert result["minimum_price_year"] == "override"
    assert result["financial_year"] == "2024/25"
    # A rate above the benchmark: negative gap, and nothing to pay to close it.
    above = price.price_vs_benchmarks(PACKAGES, D, minimum_price=20.0)
    assert above["gap_to_minimum_price"] == -4.0
    assert above["annual_cost_to_close_minimum_price_gap"] == 0.0


def test_benchmarks_come_from_config_for_the_financial_year() -> None:
    ref = settings()["reference"]
    assert price.benchmark("hca_minimum_price", D) == ("2024/25", float(ref["hca_minimum_price"]["2024/25"]))
    assert price.benchmark("hca_minimum_price", date(2025, 4, 1)) == (
        "2025/26",
        float(ref["hca_minimum_price"]["2025/26"]),
    )
    assert price.benchmark("no_such_table", D) is None


def test_price_headline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        price, "benchmark", lambda table, d: ("2024/25", 28.53 if table == price.MINIMUM_PRICE else 24.40)
    )
    # Gap £28.53 - £24.00 = £4.53 = 15.878...% -> 15.88; FCoC gap £0.40;
    # annual = 4.53 x 40 x 365/7 = 66,138 / 7 = £9,448.29 -> 9448.
    assert price.headline(staged(), D, None) == {
        "weighted_hourly_rate": 24.0,
        "rate_coverage_pct": 87.5,
        "fee_gap_to_minimum_price": 4.53,
        "fee_gap_to_minimum_price_pct": 15.88,
        "fee_gap_to_fair_cost_of_care": 0.4,
        "annual_cost_to_close_minimum_price_gap": 9448.0,
    }


def test_no_rates_gives_none() -> None:
    unrated = PACKAGES.with_columns(pl.lit(None, dtype=pl.Float64).alias("hourly_rate"))
    result = price.headline(staged(packages=unrated), D, None)
    # 40 hours are active but none has a rate: coverage is a real 0%, every £ figure None.
    assert result == {
        "weighted_hourly_rate": None,
        "rate_coverage_pct": 0.0,
        "fee_gap_to_minimum_price": None,
        "fee_gap_to_minimum_price_pct": None,
        "fee_gap_to_fair_cost_of_care": None,
        "annual_cost_to_close_minimum_price_gap": None,
    }


def test_price_by_month_with_a_month_without_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        price, "benchmark", lambda table, d: ("2024/25", 30.0 if table == price.MINIMUM_PRICE else 25.0)
    )
    # Dec 2022: nothing active -> every measure null (benchmarks still shown).
    # D: 40 h, 35 h rated, 87.5%, £24.00; gaps 30 - 24 = 6 and 25 - 24 = 1.
    expected = pl.DataFrame(
        {
            "month": [date(2022, 12, 31), D],
            "hours": [None, 40.0],
            "rated_hours": [None, 35.0],
            "rate_coverage_pct": [None, 87.5],
            "weighted_hourly_rate": [None, 24.0],
            "minimum_price": [30.0, 30.0],
            "minimum_price_year": ["2024/25", "2024/25"],
            "fair_cost_of_care": [25.0, 25.0],
            "fair_cost_of_care_year": ["2024/25", "2024/25"],
            "gap_to_minimum_price": [None, 6.0],
            "gap_to_fair_cost_of_care": [None, 1.0],
        }
    )
    assert_frame_equal(price.price_by_month(PACKAGES, months(date(2022, 12, 31), D)), expected)


def test_rates_by_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(price, "benchmark", lambda table, d: ("2024/25", 30.0))
    expected = pl.DataFrame(
        {
            "provider_id": ["P2", "P1", "P3", "P4"],  # hours 20, 10, 5, 5 (tie by id)
            "provider_name": ["Beta", "Alpha", "Gamma", "Delta"],
            "hours": [20.0, 10.0, 5.0, 5.0],
            "rated_hours": [20.0, 10.0, 0.0, 5.0],
            "rate_coverage_pct": [100.0, 100.0, 0.0, 100.0],
            "weighted_hourly_rate": [22.5, 27.0, None, 24.0],
            "gap_to_minimum_price": [7.5, 3.0, None, 6.0],  # 30 - rate
        }
    )
    assert_frame_equal(price.rates_by_provider(PACKAGES, PROVIDERS, D), expected)


# --- workforce ---------------------------------------------------------------------------------

# Workforce test delivery: only P1 reports delivery in March (2 weeks, 9 + 11 = 20 h -> 10 h a week).
WF_DELIVERY = DELIVERY.filter(pl.col("provider_id") == "P1")


def test_workforce_month_is_latest_on_or_before_as_of() -> None:
    # P3's April row is after D; March is the latest month on or before D.
    assert workforce.workforce_month(WORKFORCE, D) == date(2025, 3, 1)
    assert workforce.workforce_month(WORKFORCE, date(2025, 2, 14)) == date(2025, 2, 1)
    assert workforce.workforce_month(WORKFORCE, date(2024, 12, 31)) is None


def test_provider_workforce() -> None:
    s = staged(delivery=WF_DELIVERY)
    # P1: vacancy 2 / (8 + 2) = 20%; turnover 4 / 8 = 50%; 10 h a week delivered -> 8 / 10 x 100 = 80.
    # P2: no vacancy figure -> null; turnover 5 / 10 = 50%; no delivery -> planned K2 20 h -> 50.
    expected = pl.DataFrame(
        {
            "month": [D, D],
            "provider_id": ["P1", "P2"],
            "provider_name": ["Alpha", "Beta"],
            "filled_posts": [8, 10],
            "vacancies": [2, None],
            "leavers_12m": [4, 5],
            "vacancy_rate_pct": [20.0, None],
            "turnover_rate_pct": [50.0, 50.0],
            "hours_per_week": [10.0, 20.0],
            "hours_basis": ["delivered", "planned"],
            "filled_posts_per_100_hours": [80.0, 50.0],
        },
        schema=workforce.PROVIDER_COLUMNS,
    )
    assert_frame_equal(workforce.provider_workforce(s, D), expected)


def test_workforce_headline() -> None:
    # Council (ratios of sums): vacancy 2 / (8 + 2) = 20% (only P1 reports vacancies);
    # turnover (4 + 5) / (8 + 10) = 50%; posts per 100 h = 18 / (10 + 20) x 100 = 60.
    got = workforce.headline(staged(delivery=WF_DELIVERY), D, None)
    assert got == {"vacancy_rate_pct": 20.0, "turnover_rate_pct": 50.0, "filled_posts_per_100_hours": 60.0}


def test_no_workforce_data_gives_none() -> None:
    s = staged(workforce=WORKFORCE.clear())
    got = workforce.headline(s, D, None)
    assert got == {"vacancy_rate_pct": None, "turnover_rate_pct": None, "filled_posts_per_100_hours": None}
    # Data only after the date is no data either.
    assert workforce.headline(staged(), date(2024, 12, 31), None)["vacancy_rate_pct"] is None


def test_workforce_by_month_summary() -> None:
    s = staged(delivery=WF_DELIVERY)
    rows = workforce.provider_workforce_by_month(s.workforce, s.providers, s.packages, s.delivery, months_frame(D, 2))
    # Feb: P1 only: vacancy 1 / (9 + 1) = 10%, turnover 3 / 9 = 33.33%; no Feb delivery for P1, so its
    # planned hours on 28 Feb: K1 10 h -> 9 / 10 x 100 = 90.
    # Mar: as in the headline test.
    expected = pl.DataFrame(
        {
            "month": [date(2025, 2, 28), D],
            "providers_reporting": [1, 2],
            "filled_posts": [9, 18],
            "vacancies": [1, 2],
            "leavers_12m": [3, 9],
            "vacancy_rate_pct": [10.0, 20.0],
            "turnover_rate_pct": [100 / 3, 50.0],
            "filled_posts_per_100_hours": [90.0, 60.0],
        },
        schema_overrides={
            "providers_reporting": pl.Int64,
            "filled_posts": pl.Int64,
            "vacancies": pl.Int64,
            "leavers_12m": pl.Int64,
        },
    )
    assert_frame_equal(workforce.summarise(rows), expected)


def test_vacancy_exposure() -> None:
    s = staged(delivery=WF_DELIVERY)
    # Active hours 40; only P1 (10 h, 20%) has a vacancy rate: coverage 25%, weighted rate 20%.
    assert workforce.vacancy_exposure(s, D) == {
        "hours": 40.0,
        "hours_with_vacancy_data": 10.0,
        "vacancy_data_coverage_pct": 25.0,
        "hours_weighted_vacancy_rate_pct": 20.0,
    }


# --- delivery ----------------------------------------------------------------------------------


def test_delivery_by_month_council_with_an_empty_month() -> None:
    # Jan: no rows -> null. Feb: P2 20 commissioned, 15 delivered -> 75%, 5 undelivered.
    # Mar: commissioned P1 20 + P4 10 + P2 20 = 50; delivered on those rows 20 + 9 + 16 = 45 -> 90%,
    # undelivered 5; delivered_hours counts every row: 45 + P3's 3 = 48.
    expected = pl.DataFrame(
        {
            "month": [date(2025, 1, 31), date(2025, 2, 28), D],
            "commissioned_hours": [None, 20.0, 50.0],
            "delivered_hours": [None, 15.0, 48.0],
            "delivery_rate_pct": [None, 75.0, 90.0],
            "undelivered_hours": [None, 5.0, 5.0],
        }
    )
    assert_frame_equal(delivery.delivery_by_month(DELIVERY, months_frame(D, 3)), expected)


def test_delivery_by_area_fills_area_from_package() -> None:
    rows = delivery.with_area(DELIVERY, PACKAGES)
    # P4's 10 March row has no area but package K4 (A3). P3's row has neither: area stays null.
    # Mar A1: P1 20/20 + P2 20/16 -> 40 commissioned, 36 delivered, 90%, 4 undelivered; A3: 10/9 -> 90%.
    expected = pl.DataFrame(
        {
            "month": [date(2025, 2, 28), D, D, D],
            "area_code": ["A1", None, "A1", "A3"],
            "commissioned_hours": [20.0, None, 40.0, 10.0],
            "delivered_hours": [15.0, 3.0, 36.0, 9.0],
            "delivery_rate_pct": [75.0, None, 90.0, 90.0],
            "undelivered_hours": [5.0, None, 4.0, 1.0],
        }
    )
    assert_frame_equal(delivery.delivery_by_month(rows, months_frame(D, 2), ["area_code"]), expected)


def test_provider_rag_latest_month() -> None:
    # March (latest month on or before D): P2 16/20 = 80% < 90 red; P4 9/10 = 90%: not below red,
    # below 95 -> amber; P1 20/20 = 100% green; P3 has no commissioned hours -> no RAG. Worst first.
    expected = pl.DataFrame(
        {
            "month": [D] * 4,
            "provider_id": ["P2", "P4", "P1", "P3"],
            "provider_name": ["Beta", "Delta", "Alpha", "Gamma"],
            "commissioned_hours": [20.0, 10.0, 20.0, None],
            "delivered_hours": [16.0, 9.0, 20.0, 3.0],
            "delivery_rate_pct": [80.0, 90.0, 100.0, None],
            "undelivered_hours": [4.0, 1.0, 0.0, None],
            "rag": ["red", "amber", "green", None],
        },
        schema=delivery.PROVIDER_RAG_SCHEMA,
    )
    assert_frame_equal(delivery.provider_rag(DELIVERY, PROVIDERS, D, amber_pct=95, red_pct=90), expected)


def test_delivery_headline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "thresholds", lambda: (95.0, 90.0))
    # March: 90% delivered; 5 h undelivered over 2 weekly periods (3 and 10 March) = 2.5 h a week;
    # RAG: 1 red (P2), 1 amber (P4).
    assert delivery.headline(staged(), D, None) == {
        "delivery_rate_pct": 90.0,
        "undelivered_hours_per_week": 2.5,
        "providers_delivery_red": 1,
        "providers_delivery_amber": 1,
    }
    # No delivery file: every figure None.
    assert delivery.headline(staged(delivery=DELIVERY.clear()), D, None) == dict.fromkeys(
        ("delivery_rate_pct", "undelivered_hours_per_week", "providers_delivery_red", "providers_delivery_amber")
    )


def test_weekly_delivery_for_monthly_rows() -> None:
    # Every period_start is a 1st: monthly rows. Feb 2025 has 28 days = 4 weeks: 80 h -> 20 h a week.
    monthly = pl.DataFrame({"period_start": [date(2025, 2, 1)], "provider_id": ["P1"], "delivered_hours": [80.0]})
    frame = delivery.weekly_delivered_by_month(monthly, months(date(2025, 2, 28)))
    assert delivery.period_kind(monthly) == "month"
    assert frame.rows() == [(date(2025, 2, 28), 20.0, 4.0)]


# --- projection --------------------------------------------------------------------------------


def test_current_capacity_counts_missing_capacity_at_planned_hours() -> None:
    # Active on D: P1 40, P2 (no figure: its planned 20 h), P3 20, P4 10 = 90. P5 left in Dec 2024.
    assert projection.current_capacity(staged(), D) == {
        "capacity_hours": 90.0,
        "providers_active": 4,
        "providers_without_capacity": ["P2"],
        "hours_assumed_for_missing_capacity": 20.0,
    }


def test_demand_projection() -> None:
    # 40 h on D; population 65+ 4,000 -> 10 h per 1,000. Growth 10% a year for 2 years:
    # year 1: 44 h (4,400 people); year 2: 48.4 h (4,840). Capacity 90: shortfall -50, -46, -41.6.
    expected = pl.DataFrame(
        {
            "year_offset": [0, 1, 2],
            "financial_year": ["2024/25", "2025/26", "2026/27"],
            "population_65_plus": [4000.0, 4400.0, 4840.0],
            "hours_per_1000_65_plus": [10.0, 10.0, 10.0],
            "hours_needed": [40.0, 44.0, 48.4],
            "capacity_hours": [90.0, 90.0, 90.0],
            "shortfall_hours": [-50.0, -46.0, -41.6],
        },
        schema=projection.PROJECTION_SCHEMA,
    )
    result = projection.demand_projection(staged(), D, years=2, growth_pct=10.0, capacity_hours=90.0)
    assert_frame_equal(result, expected)


def test_projection_headline_uses_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(projection, "projection_settings", lambda: (1, 5.0))
    # 1 year at 5%: 40 x 1.05 = 42; capacity 90; shortfall -48. A locality has no capacity figure.
    assert projection.headline(staged(), D, None) == {
        "projection_hours_needed_final_year": 42.0,
        "projection_capacity_hours": 90.0,
        "projection_shortfall_hours_final_year": -48.0,
    }
    # South (A3): K4 5 h -> 5.25.
    assert projection.headline(staged(), D, "South") == {
        "projection_hours_needed_final_year": 5.25,
        "projection_capacity_hours": None,
        "projection_shortfall_hours_final_year": None,
    }


def test_projection_without_population_or_packages() -> None:
    no_pop = AREAS.with_columns(pl.lit(None, dtype=pl.Int64).alias("population_65_plus"))
    frame = projection.demand_projection(staged(areas=no_pop), D, years=1, growth_pct=0.0)
    # No population: rate and population null, hours still projected (40 at 0% growth).
    assert frame.select("population_65_plus", "hours_per_1000_65_plus", "hours_needed").rows() == [
        (None, None, 40.0),
        (None, None, 40.0),
    ]
    empty = Staged.from_frames(D, areas=AREAS, providers=PROVIDERS.clear())
    assert projection.headline(empty, D, None) == dict.fromkeys(
        ("projection_hours_needed_final_year", "projection_capacity_hours", "projection_shortfall_hours_final_year")
    )


# --- marts -------------------------------------------------------------------------------------


def test_build_marts_names_and_latest_month_matches_headline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quality, "stale_years", lambda: 4)
    s = staged()
    names = {}
    for module in (churn, quality, price, workforce, delivery, projection):
        marts = module.build_marts(s)
        assert all(name.startswith("mart_") for name in marts)
        names.update(marts)
    council = (pl.col("geography_level") == "council") & (pl.col("month") == D)
    mix = names["mart_quality_mix"].filter(council & (pl.col("service_type") == "all"))
    assert mix.get_column("good_outstanding_pct").first() == 37.5
    handbacks = names["mart_handbacks_month"].filter(council & (pl.col("service_type") == "all"))
    assert handbacks.get_column("hours_handed_back").to_list() == [0.0]  # K7 ended as planned in March
    price_row = names["mart_price_month"].filter(council & (pl.col("service_type") == "all"))
    assert price_row.get_column("weighted_hourly_rate").to_list() == [24.0]
    delivery_row = names["mart_delivery_month"].filter(council)
    assert delivery_row.get_column("delivery_rate_pct").to_list() == [90.0]
    # A locality's projection row has no capacity (capacity is not split by area).
    south = names["mart_projection"].filter(pl.col("geography") == "South")
    assert south.get_column("capacity_hours").null_count() == south.height


def test_headline_keys_have_catalogue_entries() -> None:
    from analytics.indicators.catalogue import by_headline_key

    keys = by_headline_key()
    for module in (churn, quality, price, workforce, delivery, projection):
        for key in module.headline(staged(), D, None):
            assert key in keys, f"{module.__name__}: {key} has no catalogue entry"
            assert keys[key].file == "market.toml"


def test_locality_filter_unknown_locality_gives_none_not_error() -> None:
    for module in (quality, price, workforce, delivery):
        values = module.headline(staged(), D, "Nowhere")
        assert all(v is None for v in values.values()), module.__name__


def test_bands_do_not_move_with_the_last_bits_of_a_sum() -> None:
    """A rate or HHI that is on its threshold stays on it whatever order its rows were added in:
    3.8 + 3.8 + 3.8 hours of 12 is 95% (green at an amber line of 95%), although summed in one order it
    is 94.99999999999999%; an HHI a hair above its line (2000.0000000004) is not above it."""
    import polars as pl

    from analytics.config import settings
    from analytics.indicators.concentration import hhi_band_expr
    from analytics.indicators.delivery import _rag_expr

    hours = [3.8, 3.8, 3.8]
    one_order = sum(hours) / 12 * 100  # 94.99999999999999
    assert one_order != 95.0
    rates = pl.DataFrame({"delivery_rate_pct": [one_order, 95.0, 94.9, None]})
    assert rates.select(_rag_expr(90.0, 95.0)).to_series().to_list() == ["green", "green", "amber", None]
    line = float(settings()["thresholds"]["hhi_highly_concentrated"])
    hair = line + 4e-13  # the next floats above the line, as a sum of squared shares can land
    assert hair > line
    hhi = pl.DataFrame({"hhi": [hair, line + 1.0]})
    assert hhi.select(hhi_band_expr()).to_series().to_list() == ["concentrated", "highly concentrated"]


def test_programme_rural_areas_are_unknown_not_zero_without_rural_urban_classes() -> None:
    """A drop whose areas carry no RUC cannot say how many rural areas have a microenterprise customer."""
    from analytics.indicators import me_programme
    from analytics.views.contracts import programme_sentences

    providers = pl.DataFrame({"provider_id": ["M1"], "provider_name": ["Micro"], "provider_type": ["microenterprise"]})
    packages = pl.DataFrame(
        {
            "package_id": ["K1"],
            "person_id": ["P1"],
            "area_code": ["A1"],
            "provider_id": ["M1"],
            "start_date": [date(2025, 1, 1)],
            "planned_hours_per_week": [5.0],
        }
    )
    day = date(2026, 10, 31)

    def rural_row(ruc21: str | None) -> dict:
        areas = pl.DataFrame({"area_code": ["A1"], "area_name": ["Ward"], "ruc21": [ruc21]})
        staged = Staged.from_frames(day, areas=areas, providers=providers, packages=packages)
        frame = me_programme.evidence(staged, day)
        return frame.row(by_predicate=pl.col("measure") == "rural_areas", named=True), frame

    unknown, frame = rural_row(None)
    assert unknown["now"] is None and unknown["change"] is None and unknown["progress_pct"] is None
    assert "Rural areas with a microenterprise customer: can't be measured" in " ".join(programme_sentences(frame))
    known, _ = rural_row("RSN1")  # a rural ward with the customer: one, from none at the start
    assert known["now"] == 1.0 and known["change"] == 1.0
