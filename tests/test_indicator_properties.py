"""Property tests (hypothesis) for concentration, the date rules and locality additivity."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.indicators import common, concentration, supply
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)
EPS = 1e-6

hours = st.floats(min_value=0.25, max_value=168, allow_nan=False, allow_infinity=False)
providers_hours = st.lists(st.lists(hours, min_size=1, max_size=4), min_size=1, max_size=25)


def _packages(per_provider: list[list[float]]) -> pl.DataFrame:
    rows = [
        {
            "package_id": f"P{p}-{i}",
            "person_id": f"X{p}-{i}",
            "area_code": "A1",
            "provider_id": f"P{p:02d}",
            "start_date": date(2024, 1, 1),
            "planned_hours_per_week": h,
        }
        for p, hs in enumerate(per_provider)
        for i, h in enumerate(hs)
    ]
    return Staged.from_frames(D, packages=pl.DataFrame(rows)).packages


@settings(max_examples=60, deadline=None)
@given(providers_hours)
def test_shares_sum_to_100_and_hhi_cr_bounds(per_provider):
    packages = _packages(per_provider)
    shares = concentration.provider_shares(packages, D)
    n = len(per_provider)
    assert shares.height == n
    assert abs(shares.get_column("share_pct").sum() - 100) < EPS
    assert shares.get_column("rank").to_list() == list(range(1, n + 1))
    row = concentration.concentration_on(packages, D)
    assert 10_000 / n - EPS <= row["hhi"] <= 10_000 + EPS
    assert row["cr1_pct"] <= row["cr3_pct"] + EPS
    assert row["cr3_pct"] <= 100 + EPS
    assert row["cr1_pct"] >= 100 / n - EPS  # the largest share is at least the average
    assert abs(row["effective_providers"] * row["hhi"] - 10_000) < 1e-4
    # rank 1 holds the most hours (ties aside)
    assert shares.get_column("planned_hours_per_week")[0] >= shares.get_column("planned_hours_per_week").max() - 1e-6


day = st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31))


def assert_each_month_matches(frame: pl.DataFrame, at_months, on_day, key: str) -> None:
    """The month snapshot ``at_months(frame, months)`` holds, in every month, exactly the rows
    ``on_day(frame, month end)`` picks (compared by ``key``)."""
    months = common.months_frame(D, 36)
    snap = at_months(frame, months)
    for m in months.get_column("month").to_list():
        expected = sorted(on_day(frame, m).get_column(key).to_list())
        got = sorted(snap.filter(pl.col("month") == m).get_column(key).to_list())
        assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(day, st.one_of(st.none(), st.integers(0, 400))), min_size=0, max_size=15))
def test_month_snapshots_match_active_on(spans):
    # active_at_months must give, for every snapshot date, exactly the rows active_on gives.
    frame = pl.DataFrame(
        {
            "id": list(range(len(spans))),
            "start_date": [s for s, _ in spans],
            "end_date": [None if e is None else s + timedelta(days=e) for s, e in spans],
        },
        schema={"id": pl.Int64, "start_date": pl.Date, "end_date": pl.Date},
    )
    assert_each_month_matches(frame, common.active_at_months, common.active_on, "id")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(day, st.one_of(st.none(), st.integers(0, 200)), st.sampled_from([None, "withdrawn", "sourced"])),
        max_size=15,
    )
)
def test_month_waiting_matches_waiting_on(reqs):
    frame = pl.DataFrame(
        {
            "request_id": [str(i) for i in range(len(reqs))],
            "person_id": [str(i) for i in range(len(reqs))],
            "requested_date": [r for r, _, _ in reqs],
            "sourced_date": [None if s is None else r + timedelta(days=s) for r, s, _ in reqs],
            "outcome": [o for _, _, o in reqs],
            "hours_per_week": [1.0] * len(reqs),
        },
        schema={
            "request_id": pl.String,
            "person_id": pl.String,
            "requested_date": pl.Date,
            "sourced_date": pl.Date,
            "outcome": pl.String,
            "hours_per_week": pl.Float64,
        },
    )
    assert_each_month_matches(frame, common.waiting_at_months, common.waiting_on, "request_id")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), hours, st.integers(0, 3)), min_size=1, max_size=20))
def test_locality_hours_add_up_to_council(rows):
    # Every area belongs to one locality, so planned hours by locality sum to the council figure
    # (people and providers need not: one can appear in two localities).
    areas = pl.DataFrame(
        {
            "area_code": [f"A{i}" for i in range(6)],
            "area_name": [f"a{i}" for i in range(6)],
            "locality": ["N", "N", "S", "S", None, "E"],
        }
    )
    packages = pl.DataFrame(
        {
            "package_id": [str(i) for i in range(len(rows))],
            "person_id": [f"X{i}" for i in range(len(rows))],
            "area_code": [f"A{a}" for a, _, _ in rows],
            "provider_id": [f"P{p}" for _, _, p in rows],
            "start_date": [date(2024, 1, 1)] * len(rows),
            "planned_hours_per_week": [h for _, h, _ in rows],
        }
    )
    staged = Staged.from_frames(D, areas=areas, packages=packages)
    council = supply.headline(staged, D, None)
    by_locality = [supply.headline(staged, D, loc) for loc in ("N", "S", "E", "Unassigned")]
    assert abs(sum(x["planned_hours_per_week"] for x in by_locality) - council["planned_hours_per_week"]) < 0.05
    assert sum(x["active_packages"] for x in by_locality) == council["active_packages"]
    assert max(x["providers_active"] for x in by_locality) <= council["providers_active"]
