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


def workforce_fees_page(
    cur: duckdb.DuckDBPyConnection, filters: Filters, measure: str = "vacancy"
) -> WorkforceFeesPage:
    """Return everything the Workforce and fees page shows; ``measure`` is ``vacancy`` or ``turnover``."""
    if measure not in WORKFORCE_MEASURES:
        raise ValueError(f"measure must be one of {sorted(WORKFORCE_MEASURES)}, not {measure!r}")
    providers = provider_workforce(cur, filters)
    workforce = workforce_series(cur, filters)
    prices = price_series(cur, filters)
    rates_now = provider_rates(cur, filters)
    as_of = drop_info(cur).as_of
    notes = [
        n
        for n in (
            ignored_note(
                filters, what="Workforce figures", covers="every provider's whole workforce (returns are per provider)"
            ),
            ignored_note(
                filters,
                supported=("locality", "service_type"),
                what="Fee figures",
                covers="every client group, funding route and provider type",
            ),
            (
                f"Provider rates are for {fmt_month(as_of)}, the drop's own date, whatever month is chosen."
                if filters.month != as_of
                else None
            ),
            *benchmark_notes(prices, filters.month),
        )
        if n
    ]
    return WorkforceFeesPage(
        tiles=tiles(cur, filters, workforce, prices),
        provider_chart=provider_chart(cur, filters, measure, providers),
        workforce_chart=workforce_trend_chart(cur, filters, workforce),
        rate_chart=rate_chart(cur, filters, prices),
        provider_rate_chart=provider_rate_chart(cur, filters, rates_now),
        gap_cost_chart=gap_cost_chart(cur, filters, prices),
        providers=providers,
        provider_rates=rates_now,
        notes=notes,
    )


__all__ = [
    "WORKFORCE_MEASURES",
    "WorkforceFeesPage",
    "fmt_gbp_short",
    "gap_cost_chart",
    "national",
    "price_series",
    "provider_chart",
    "provider_rate_chart",
    "provider_rates",
    "provider_workforce",
    "rate_chart",
    "rates",
    "tiles",
    "workforce_fees_page",
    "workforce_series",
    "workforce_trend_chart",
]
