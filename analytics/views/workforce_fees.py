"""Workforce and fees page: provider vacancy and turnover, and what the council pays against benchmarks.

The tiles and the page are assembled here from ``views.workforce`` (vacancy and turnover) and
``views.fees`` (rates, benchmarks, cost of closing the gap), whose names are re-exported.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from analytics.formatting import fmt_gbp, fmt_month, fmt_pct
from analytics.publish.charts import ChartSpec
from analytics.views.common import Tile, drop_info, ignored_note, trend_tile
from analytics.views.fees import (
    benchmark_notes,
    benchmarks_now,
    fmt_gbp_short,
    gap_cost_chart,
    price_series,
    provider_rate_chart,
    provider_rates,
    rate_chart,
)
from analytics.views.filters import Filters
from analytics.views.workforce import (
    WORKFORCE_MEASURES,
    national,
    provider_chart,
    provider_workforce,
    rates,
    workforce_series,
    workforce_trend_chart,
)

# --- the page ------------------------------------------------------------------------------------


def tiles(
    cur: duckdb.DuckDBPyConnection, filters: Filters, workforce: pl.DataFrame, prices: pl.DataFrame
) -> list[Tile]:
    """Return the workforce and fee tiles on ``filters.month`` with changes on last month and last year.

    Workforce returns are per provider, not per service type: with a service type chosen, the vacancy
    and turnover tiles say they cover all service types (the providers' whole workforce).
    """
    staff_scope = " (all service types)" if filters.service_type else ""

    def tile(frame, label, column, fmt, indicator_id, higher_is_worse, percent=False):
        return trend_tile(
            frame,
            filters.month,
            label,
            column,
            fmt,
            indicator_id=indicator_id,
            higher_is_worse=higher_is_worse,
            percent_change=percent,
        )

    return [
        tile(workforce, "Vacancy rate" + staff_scope, "vacancy_rate_pct", fmt_pct, "vacancy_rate_pct", True),
        tile(workforce, "Turnover rate" + staff_scope, "turnover_rate_pct", fmt_pct, "turnover_rate_pct", True),
        tile(prices, "Weighted hourly rate", "weighted_hourly_rate", fmt_gbp, "weighted_hourly_rate", False),
        tile(prices, "Gap to HCA minimum price", "gap_to_minimum_price", fmt_gbp, "fee_gap_to_minimum_price", True),
        tile(
            prices,
            "Gap to Fair Cost of Care",
            "gap_to_fair_cost_of_care",
            fmt_gbp,
            "fee_gap_to_fair_cost_of_care",
            True,
        ),
        tile(
            prices,
            "Cost a year to pay the HCA minimum",
            "annual_cost_to_close_minimum_price_gap",
            fmt_gbp_short,
            "annual_cost_to_close_minimum_price_gap",
            True,
            True,
        ),
    ]


# The page caches its parts apart, each on what it depends on: workforce returns are per provider
# (the locality picks the providers), fees follow the locality and service type, provider rates
# are the drop's date's, and only the provider chart follows the measure. A client group, funding
# or provider type change then builds nothing but the notes; a measure change one chart.


@dataclass(frozen=True)
class WorkforcePart:
    """The workforce figures of the filters' locality and month: the providers and the rates over time."""

    workforce_chart: ChartSpec
    providers: pl.DataFrame


@dataclass(frozen=True)
class FeesPart:
    """The tiles and fee charts of the filters' locality, service type and month, and their notes."""

    tiles: list[Tile]
    rate_chart: ChartSpec
    gap_cost_chart: ChartSpec
    notes: list[str]  # the rates' date and any benchmark taken from an earlier year


@dataclass(frozen=True)
class RatesPart:
    """Each provider's hourly rate on the drop's date (providers of a locality, or all)."""

    provider_rate_chart: ChartSpec
    provider_rates: pl.DataFrame


@dataclass(frozen=True)
class WorkforceFeesPage:
    """Everything the Workforce and fees page shows for one set of filters and workforce measure."""

    tiles: list[Tile]
    provider_chart: ChartSpec
    workforce_chart: ChartSpec
    rate_chart: ChartSpec
    provider_rate_chart: ChartSpec
    gap_cost_chart: ChartSpec
    providers: pl.DataFrame
    provider_rates: pl.DataFrame
    notes: list[str]


def _check(measure: str) -> None:
    if measure not in WORKFORCE_MEASURES:
        raise ValueError(f"measure must be one of {sorted(WORKFORCE_MEASURES)}, not {measure!r}")


def workforce_part(cur: duckdb.DuckDBPyConnection, filters: Filters) -> WorkforcePart:
    """Return the providers' workforce and the rates over time (the month and locality only)."""
    return WorkforcePart(
        workforce_chart=workforce_trend_chart(cur, filters, workforce_series(cur, filters)),
        providers=provider_workforce(cur, filters),
    )


def provider_part(cur: duckdb.DuckDBPyConnection, filters: Filters, measure: str = "vacancy") -> ChartSpec:
    """Return the provider chart of ``measure`` (``vacancy`` or ``turnover``; the month and locality only)."""
    _check(measure)
    return provider_chart(cur, filters, measure)


def fees_part(cur: duckdb.DuckDBPyConnection, filters: Filters) -> FeesPart:
    """Return the tiles and fee charts (the month, locality and service type only) and their notes."""
    workforce = workforce_series(cur, filters)
    prices = price_series(cur, filters)
    as_of = drop_info(cur).as_of
    notes = [
        n
        for n in (
            (
                f"Provider rates are for {fmt_month(as_of)}, the drop's own date, whatever month is chosen."
                if filters.month != as_of
                else None
            ),
            *benchmark_notes(prices, filters.month),
        )
        if n
    ]
    return FeesPart(
        tiles=tiles(cur, filters, workforce, prices),
        rate_chart=rate_chart(cur, filters, prices),
        gap_cost_chart=gap_cost_chart(cur, filters, prices),
        notes=notes,
    )


def rates_part(cur: duckdb.DuckDBPyConnection, locality: str | None) -> RatesPart:
    """Return each provider's hourly rate on the drop's date, providers of ``locality`` (``None``: all)."""
    filters = Filters(month=drop_info(cur).as_of, locality=locality)  # rates are the drop's date's
    bench = benchmarks_now(cur)
    rates_now = provider_rates(cur, filters, bench)
    return RatesPart(provider_rate_chart=provider_rate_chart(cur, filters, rates_now, bench), provider_rates=rates_now)


def page_notes(filters: Filters, fees: FeesPart) -> list[str]:
    """Return the page's notes: the filters workforce and fee figures ignore, then ``fees.notes``."""
    ignored = (
        ignored_note(
            filters, what="Workforce figures", covers="every provider's whole workforce (returns are per provider)"
        ),
        ignored_note(
            filters,
            supported=("locality", "service_type"),
            what="Fee figures",
            covers="every client group, funding route and provider type",
        ),
    )
    return [n for n in ignored if n] + fees.notes


def assemble(
    filters: Filters, workforce: WorkforcePart, provider: ChartSpec, fees: FeesPart, rates: RatesPart
) -> WorkforceFeesPage:
    """Return the page's view for ``filters`` from its parts (each cached on what it depends on)."""
    return WorkforceFeesPage(
        tiles=fees.tiles,
        provider_chart=provider,
        workforce_chart=workforce.workforce_chart,
        rate_chart=fees.rate_chart,
        provider_rate_chart=rates.provider_rate_chart,
        gap_cost_chart=fees.gap_cost_chart,
        providers=workforce.providers,
        provider_rates=rates.provider_rates,
        notes=page_notes(filters, fees),
    )


def workforce_fees_page(
    cur: duckdb.DuckDBPyConnection, filters: Filters, measure: str = "vacancy"
) -> WorkforceFeesPage:
    """Return everything the Workforce and fees page shows; ``measure`` is ``vacancy`` or ``turnover``."""
    _check(measure)
    area = filters.only("locality")
    return assemble(
        filters,
        workforce_part(cur, area),
        provider_part(cur, area, measure),
        fees_part(cur, filters.only("locality", "service_type")),
        rates_part(cur, filters.locality),
    )


__all__ = [
    "WORKFORCE_MEASURES",
    "FeesPart",
    "RatesPart",
    "WorkforceFeesPage",
    "WorkforcePart",
    "assemble",
    "fees_part",
    "fmt_gbp_short",
    "gap_cost_chart",
    "national",
    "page_notes",
    "price_series",
    "provider_chart",
    "provider_part",
    "provider_rate_chart",
    "provider_rates",
    "provider_workforce",
    "rate_chart",
    "rates",
    "rates_part",
    "tiles",
    "workforce_fees_page",
    "workforce_part",
    "workforce_series",
    "workforce_trend_chart",
]
