"""Property tests (hypothesis) for the part-2 indicators, chiefly the provider exit stress test.

For any market (random providers, capacities, some missing, areas with and without a locality, and
packages) and any provider leaving:

* 0 <= uncovered hours <= displaced hours, overall and in every area;
* absorbed + uncovered == displaced (to float rounding);
* no provider gives more than its spare capacity, and the one leaving gives nothing;
* the ranking (``difficult_to_replace``) agrees with one ``exit_impact`` per provider.

Plus a few invariants of the other indicators: shares stay within 0-100 and rating-mix shares sum
to 100.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.indicators import exit_stress, price, quality
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)
LOCALITIES = ["North", "South", None]
TOL = 1e-6

hours = st.floats(min_value=0.25, max_value=60.0, allow_nan=False, allow_infinity=False)
capacity = st.one_of(st.none(), st.floats(min_value=0.0, max_value=400.0, allow_nan=False, allow_infinity=False))


@st.composite
def markets(draw: st.DrawFn) -> Staged:
    n_areas = draw(st.integers(1, 5))
    n_providers = draw(st.integers(1, 7))
    areas = pl.DataFrame(
        {
            "area_code": [f"A{i}" for i in range(n_areas)],
            "area_name": [f"Area {i}" for i in range(n_areas)],
            "locality": [draw(st.sampled_from(LOCALITIES)) for _ in range(n_areas)],
        },
        schema={"area_code": pl.String, "area_name": pl.String, "locality": pl.String},
    )
    pids = [f"P{i}" for i in range(n_providers)]
    providers = pl.DataFrame(
        {
            "provider_id": pids,
            "provider_name": [f"Provider {i}" for i in range(n_providers)],
            "provider_type": ["agency"] * n_providers,
            "weekly_capacity_hours": [draw(capacity) for _ in pids],
            "base_area_code": [draw(st.one_of(st.none(), st.sampled_from(areas["area_code"].to_list()))) for _ in pids],
        },
        schema={
            "provider_id": pl.String,
            "provider_name": pl.String,
            "provider_type": pl.String,
            "weekly_capacity_hours": pl.Float64,
            "base_area_code": pl.String,
        },
    )
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(pids), st.integers(0, n_areas - 1), hours, st.integers(0, 6), st.booleans()),
            min_size=0,
            max_size=25,
        )
    )
    packages = pl.DataFrame(
        {
            "package_id": [f"K{i}" for i in range(len(rows))],
            "person_id": [f"X{person}" for _, _, _, person, _ in rows],
            "area_code": [f"A{area}" for _, area, _, _, _ in rows],
            "provider_id": [pid for pid, _, _, _, _ in rows],
            # Some packages ended before D: they must not count anywhere.
            "start_date": [date(2024, 1, 1)] * len(rows),
            "end_date": [None if active else date(2025, 1, 31) for *_, active in rows],
            "planned_hours_per_week": [h for _, _, h, _, _ in rows],
            "hourly_rate": [20.0 + h / 10 for _, _, h, _, _ in rows],
        },
        schema={
            "package_id": pl.String,
            "person_id": pl.String,
            "area_code": pl.String,
            "provider_id": pl.String,
            "start_date": pl.Date,
            "end_date": pl.Date,
            "planned_hours_per_week": pl.Float64,
            "hourly_rate": pl.Float64,
        },
    )
    return Staged.from_frames(D, areas=areas, providers=providers, packages=packages)


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(markets())
def test_uncovered_between_zero_and_displaced_and_adds_up(staged: Staged) -> None:
    for pid in staged.providers.get_column("provider_id").to_list():
        impact = exit_stress.exit_impact(staged, pid, D)
        assert 0.0 <= impact.hours_uncovered <= impact.hours_displaced + TOL
        assert impact.hours_absorbed + impact.hours_uncovered == pytest.approx(impact.hours_displaced, abs=TOL)
        for row in impact.by_area.iter_rows(named=True):
            absorbed = row["absorbed_same_area"] + row["absorbed_same_locality"]
            assert 0.0 <= row["hours_uncovered"] <= row["hours_displaced"] + TOL
            assert absorbed + row["hours_uncovered"] == pytest.approx(row["hours_displaced"], abs=TOL)
            if row["locality"] == "Unassigned":
                assert row["absorbed_same_locality"] == 0.0
        # Nobody gives more than their spare capacity; the leaver gives nothing; spare is never negative.
        cap = impact.capacity
        assert (cap.get_column("spare_hours") >= 0).all()
        assert (cap.get_column("hours_used") <= cap.get_column("spare_hours") + TOL).all()
        assert pid not in impact.allocations.get_column("provider_id").to_list()
        # Providers without a capacity figure absorb nothing.
        unknown = cap.filter(~pl.col("capacity_known"))
        assert (unknown.get_column("hours_used") == 0).all()


@PROPERTY_SETTINGS
@given(markets())
def test_ranking_agrees_with_single_exits(staged: Staged) -> None:
    ranking = exit_stress.difficult_to_replace(staged, D)
    assert ranking.get_column("rank").to_list() == list(range(1, ranking.height + 1))
    uncovered = ranking.get_column("hours_uncovered").to_list()
    assert uncovered == sorted(uncovered, reverse=True)
    for row in ranking.iter_rows(named=True):
        impact = exit_stress.exit_impact(staged, row["provider_id"], D)
        assert row["hours_uncovered"] == pytest.approx(impact.hours_uncovered, abs=TOL)
        assert row["hours"] == pytest.approx(impact.hours_displaced, abs=TOL)
        assert row["difficult_to_replace"] == (impact.hours_uncovered > 0)


@settings(max_examples=200, deadline=None)
@given(
    needs=st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), hours, max_size=4),
    spare=st.dictionaries(
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        st.floats(min_value=0.0, max_value=80.0, allow_nan=False, allow_infinity=False),
        max_size=4,
    ),
    serves=st.dictionaries(
        st.sampled_from(["A", "B", "C", "D"]),
        st.frozensets(st.sampled_from(["P0", "P1", "P2", "P3", "P4"])),
        max_size=4,
    ),
    local=st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.sampled_from(["N", "S", None])),
    near=st.dictionaries(st.sampled_from(["N", "S"]), st.frozensets(st.sampled_from(["P0", "P1", "P2", "P3", "P4"]))),
)
def test_allocate_properties(needs, spare, serves, local, near) -> None:
    allocations, uncovered = exit_stress.allocate(needs, spare, serves, near, local, exiting="P1")
    for area, need in needs.items():
        absorbed = sum(h for a, _, _, h in allocations if a == area)
        assert 0.0 <= uncovered[area] <= need
        assert absorbed + uncovered[area] == pytest.approx(need, abs=TOL)
    for pid in {p for _, p, _, _ in allocations}:
        assert pid != "P1"
        assert sum(h for _, p, _, h in allocations if p == pid) <= spare[pid] + TOL
    for area, pid, stage, h in allocations:
        assert h > 0
        if stage == exit_stress.SAME_AREA:
            assert pid in serves.get(area, frozenset())
        else:
            assert local.get(area) is not None and pid in near.get(local[area], frozenset())


@PROPERTY_SETTINGS
@given(markets())
def test_shares_stay_within_0_and_100(staged: Staged) -> None:
    mix = quality.rating_mix(staged.packages, staged.providers, D)
    shares = mix.get_column("hours_pct").drop_nulls()
    if shares.len():
        assert sum(shares.to_list()) == pytest.approx(100.0)
    summary = quality.rating_currency(staged.packages, staged.providers, D, 4)
    for key, value in summary.items():
        if key.endswith("_pct") and value is not None:
            assert 0.0 <= value <= 100.0 + TOL
    rate = price.weighted_rate(staged.packages, D)
    if rate["weighted_hourly_rate"] is not None:
        # A weighted average lies between the smallest and largest rate of the active packages.
        active = staged.packages.filter(pl.col("end_date").is_null())
        assert active["hourly_rate"].min() - TOL <= rate["weighted_hourly_rate"] <= active["hourly_rate"].max() + TOL
        assert rate["rate_coverage_pct"] == pytest.approx(100.0)
