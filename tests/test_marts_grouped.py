"""The geography marts built in one grouped pass equal the old loop over geographies, on any market.

Each mart below used to be built by looping over every geography (``common.per_geography``),
filtering the whole drop to its areas (``common.filter_areas``) and, for most, over every service
type (``churn.per_service_type``). They are now one grouped pass per geography level. The loop is
kept here as the oracle: for random markets (areas with and without a locality or a rural class,
packages of several service types or none, ended with and without a reason, delivery rows with an
area, only a package, or neither, providers with and without ratings and rates), every grouped mart
must equal the loop, row for row and in the same order, floats to 1e-9.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from builders_support import dates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics.indicators import churn, delivery, price, projection, quality, workforce
from analytics.indicators.churn import drop_service_types, per_service_type
from analytics.indicators.common import (
    COUNCIL,
    active_at_months,
    filter_areas,
    geographies,
    months_frame,
    per_geography,
    waiting_at_months,
)
from analytics.ingest.staged import Staged

AS_OF = date(2025, 3, 17)
MONTHS = months_frame(AS_OF, 6)
DAYS = dates("2024-08-20 2024-10-01 2024-12-31 2025-02-14 2025-03-17 2025-03-30")


@st.composite
def markets(draw: st.DrawFn) -> Staged:
    n_areas = draw(st.integers(1, 4))
    areas = pl.DataFrame(
        {
            "area_code": [f"A{i}" for i in range(n_areas)],
            "area_name": [f"Area {i}" for i in range(n_areas)],
            "locality": [draw(st.sampled_from(["North", "South", None])) for _ in range(n_areas)],
            "ruc21": [draw(st.sampled_from(["UN1", "RSF1", None])) for _ in range(n_areas)],
            "population_65_plus": [draw(st.one_of(st.none(), st.integers(0, 3000))) for _ in range(n_areas)],
        }
    )
    pids = [f"P{i}" for i in range(draw(st.integers(1, 4)))]
    providers = pl.DataFrame(
        {
            "provider_id": pids,
            "provider_name": [f"Provider {p}" for p in pids],
            "provider_type": ["agency"] * len(pids),
            "cqc_rating": [draw(st.sampled_from(["Good", "Outstanding", "Inadequate", None])) for _ in pids],
            "cqc_rating_date": [draw(st.sampled_from([None, date(2019, 1, 1), date(2024, 6, 1)])) for _ in pids],
        },
        schema_overrides={"cqc_rating": pl.String, "cqc_rating_date": pl.Date},
    )
    area_choice = st.sampled_from([f"A{i}" for i in range(n_areas)] + ["ELSEWHERE"])
    n = draw(st.integers(0, 14))
    starts = [draw(st.sampled_from(DAYS)) for _ in range(n)]
    packages = pl.DataFrame(
        {
            "package_id": [f"K{i}" for i in range(n)],
            "person_id": [f"X{draw(st.integers(0, 4))}" for _ in range(n)],
            "area_code": [draw(area_choice) for _ in range(n)],
            "provider_id": [draw(st.sampled_from(pids)) for _ in range(n)],
            "start_date": starts,
            "end_date": [draw(st.sampled_from([None, *[d for d in DAYS if d >= s]])) for s in starts],
            "planned_hours_per_week": [draw(st.sampled_from([0.0, 2.5, 7.25, 14.0])) for _ in range(n)],
            "hourly_rate": [draw(st.sampled_from([None, 19.5, 23.1])) for _ in range(n)],
            "service_type": [draw(st.sampled_from([None, "home_care", "reablement"])) for _ in range(n)],
            "end_reason": [draw(st.sampled_from([None, "provider_handback", "died"])) for _ in range(n)],
        },
        schema_overrides={"end_date": pl.Date, "hourly_rate": pl.Float64, "service_type": pl.String,
                          "end_reason": pl.String, "package_id": pl.String, "person_id": pl.String,
                          "area_code": pl.String, "provider_id": pl.String, "start_date": pl.Date},
    )  # fmt: skip
    m = draw(st.integers(0, 10))
    delivery_rows = pl.DataFrame(
        {
            "period_start": [draw(st.sampled_from(DAYS)) for _ in range(m)],
            "provider_id": [draw(st.sampled_from(pids)) for _ in range(m)],
            "area_code": [draw(st.one_of(st.none(), area_choice)) for _ in range(m)],
            "package_id": [draw(st.sampled_from([None, "K0", "K1", "K2"])) for _ in range(m)],
            "commissioned_hours": [draw(st.sampled_from([None, 10.0, 12.5])) for _ in range(m)],
            "delivered_hours": [draw(st.sampled_from([0.0, 9.0, 12.5])) for _ in range(m)],
        },
        schema_overrides={"period_start": pl.Date, "provider_id": pl.String, "area_code": pl.String,
                          "package_id": pl.String, "commissioned_hours": pl.Float64, "delivered_hours": pl.Float64},
    )  # fmt: skip
    workforce_rows = pl.DataFrame(
        {
            "provider_id": pids,
            "month": [date(2025, 2, 1)] * len(pids),
            "filled_posts": [draw(st.integers(0, 30)) for _ in pids],
            "vacancies": [draw(st.one_of(st.none(), st.integers(0, 5))) for _ in pids],
        }
    )
    return Staged.from_frames(
        AS_OF, areas=areas, providers=providers, packages=packages, delivery=delivery_rows, workforce=workforce_rows
    )


def loop_over_geographies(staged: Staged, per_packages) -> pl.DataFrame:
    """The old way: every geography, every service type, filtering the whole drop each time."""
    types = drop_service_types(staged.packages)

    def compute(geo) -> pl.DataFrame:
        return per_service_type(filter_areas(staged, geo.area_codes).packages, types, per_packages)

    return per_geography(geographies(staged.areas), compute)


def loop_delivery(staged: Staged) -> pl.DataFrame:
    def compute(geo) -> pl.DataFrame:
        rows = staged.delivery if geo.level == COUNCIL else filter_areas(staged, geo.area_codes).delivery
        return delivery.delivery_by_month(rows, MONTHS)

    return per_geography(geographies(staged.areas), compute)


def loop_exposure(staged: Staged) -> pl.DataFrame:
    rates = workforce.provider_workforce(staged, AS_OF).select("provider_id", "vacancy_rate_pct")
    schema = dict.fromkeys(workforce.EXPOSURE_COLUMNS, pl.Float64)
    return per_geography(
        geographies(staged.areas),
        lambda geo: pl.DataFrame(
            [workforce.vacancy_exposure(filter_areas(staged, geo.area_codes), AS_OF, rates)], schema=schema
        ),
    )


def loop_projection(staged: Staged) -> pl.DataFrame:
    capacity = projection.current_capacity(staged, AS_OF)["capacity_hours"]

    def compute(geo) -> pl.DataFrame:
        if geo.level == COUNCIL:
            return projection.demand_projection(staged, AS_OF, capacity_hours=capacity)
        return projection.demand_projection(filter_areas(staged, geo.area_codes), AS_OF)

    return per_geography(geographies(staged.areas, levels=("council", "locality")), compute)


def same(grouped: pl.DataFrame, looped: pl.DataFrame) -> None:
    assert_frame_equal(grouped, looped, check_dtypes=False, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_grouped_marts_equal_the_loop_over_geographies(staged: Staged) -> None:
    providers = staged.providers
    same(
        quality.rating_mix_by_geography(staged, MONTHS),
        loop_over_geographies(staged, lambda pk: quality.rating_mix_by_month(pk, providers, MONTHS)),
    )
    same(
        price.price_by_geography(staged, MONTHS),
        loop_over_geographies(staged, lambda pk: price.price_by_month(pk, MONTHS)),
    )
    same(
        churn.handbacks_by_geography(staged, MONTHS),
        loop_over_geographies(staged, lambda pk: churn.handbacks_by_month(pk, MONTHS)),
    )
    same(delivery.delivery_by_geography(staged, MONTHS), loop_delivery(staged))
    rates = workforce.provider_workforce(staged, AS_OF).select("provider_id", "vacancy_rate_pct")
    same(workforce.vacancy_exposure_by_geography(staged, AS_OF, rates), loop_exposure(staged))
    same(projection.build_marts(staged)["mart_projection"], loop_projection(staged))


@settings(max_examples=40, deadline=None)
@given(markets())
def test_month_runs_equal_the_range_join(staged: Staged) -> None:
    """``active_at_months`` and ``waiting_at_months`` (binary search + explode) equal a range join."""
    spans = staged.packages.with_columns(pl.col("end_date").fill_null(date(9999, 12, 31)).alias("__end"))
    joined = spans.join_where(
        MONTHS.select("month"), pl.col("start_date") <= pl.col("month"), pl.col("__end") >= pl.col("month")
    ).drop("__end")
    key = ["package_id", "month"]
    assert_frame_equal(active_at_months(staged.packages, MONTHS).sort(key), joined.sort(key))
    requests = staged.packages.select(
        pl.col("package_id").alias("request_id"),
        pl.col("start_date").alias("requested_date"),
        pl.col("end_date").alias("sourced_date"),
        pl.col("end_reason").replace({"died": "withdrawn"}).alias("outcome"),
    )
    live = requests.filter(pl.col("outcome").is_null() | (pl.col("outcome") != "withdrawn"))
    waiting = live.with_columns(pl.col("sourced_date").fill_null(date(9999, 12, 31)).alias("__s")).join_where(
        MONTHS.select("month"), pl.col("requested_date") <= pl.col("month"), pl.col("__s") > pl.col("month")
    )
    got = waiting_at_months(requests, MONTHS).sort("request_id", "month")
    assert got.select("request_id", "month").equals(waiting.select("request_id", "month").sort("request_id", "month"))
