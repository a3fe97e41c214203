"""How the chart registry draws each chart: small wrappers around the page views.

Each function returns a builder ``(cur, filters, **params) -> ChartSpec`` (or is one) for a
``ChartEntry`` of ``analytics.briefing.registry``, picking one chart out of a page's view; the
``counts`` hooks add the count of people a derived figure rests on, so publication can hide it.
Views are imported inside the functions, so a slow or broken page does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import polars as pl

from analytics.publish.charts import ChartSpec
from analytics.views.filters import Filters

Builder = Callable[..., ChartSpec]


class ChartUnavailable(RuntimeError):
    """The chart exists but cannot be drawn for these filters (e.g. no provider is active)."""


def _pick(specs: Sequence[Any], spec_id: str) -> ChartSpec | None:
    """Return the spec (or ``Panel.spec``) with id ``spec_id`` from a view's list."""
    for item in specs:
        spec = getattr(item, "spec", item)
        if spec.id == spec_id:
            return spec
    return None


def _join_counts(data: pl.DataFrame, counts: pl.DataFrame, on: str | Sequence[str]) -> pl.DataFrame:
    """Add the columns of ``counts`` (keyed by ``on``) that ``data`` lacks."""
    keys = [on] if isinstance(on, str) else list(on)
    extra = [c for c in counts.columns if c not in keys and c not in data.columns]
    if any(k not in data.columns for k in keys) or not extra:
        return data
    return data.join(counts.select(*keys, *extra), on=keys, how="left", maintain_order="left")


def overview(spec_id: str) -> Builder:
    def build_overview(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec | None:
        from analytics.views import overview
        from analytics.views.common import drop_info

        frame = overview.monthly_headline(cur, filters)
        return _pick(overview.trend_charts(frame, filters, drop_info(cur)), spec_id)

    return build_overview


def people_in_service(cur: duckdb.DuckDBPyConnection, filters: Filters, data: pl.DataFrame) -> pl.DataFrame:
    """People receiving care each month: the count planned hours rest on (hidden with it in a small locality)."""
    from analytics.views import overview

    frame = overview.monthly_headline(cur, filters).select("month", "people_in_service")
    return _join_counts(data, frame, "month")


def coverage(cur: duckdb.DuckDBPyConnection, filters: Filters, measure_key: str = "providers") -> ChartSpec:
    from analytics.views import coverage

    return coverage.coverage(cur, filters, measure_key).map.spec


def waiting(name: str) -> Builder:
    def build_waiting(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import waiting

        return getattr(waiting, name)(cur, filters)

    return build_waiting


def waiting_people(cur: duckdb.DuckDBPyConnection, filters: Filters, data: pl.DataFrame) -> pl.DataFrame:
    """People waiting each month: the count that hours and days waiting rest on."""
    from analytics.views import waiting

    return _join_counts(data, waiting.series(cur, filters).select("month", "people_waiting"), "month")


def rural(name: str) -> Builder:
    def build_rural(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import rural

        return getattr(rural, name)(cur, filters)

    return build_rural


def me_trend(kind: str) -> Builder:
    def build_me(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import microenterprises as me
        from analytics.views.common import drop_info

        frame = me.monthly(cur, filters)
        if kind == "count":
            return me.count_chart(frame, filters, drop_info(cur))
        return me.ratio_chart(frame, filters, drop_info(cur), kind)

    return build_me


def me_customers_by_month(cur: duckdb.DuckDBPyConnection, filters: Filters, data: pl.DataFrame) -> pl.DataFrame:
    """Microenterprise customers each month: the people a ratio per customer or per microenterprise rests on."""
    from analytics.views import microenterprises as me

    return _join_counts(data, me.monthly(cur, filters).select("month", "microenterprise_customers"), "month")


def me_by_area(cur: duckdb.DuckDBPyConnection, filters: Filters, ratio_key: str = "customers_per_me") -> ChartSpec:
    from analytics.views import microenterprises as me
    from analytics.views.common import drop_info

    return me.geography_chart(me.geography_frame(cur, filters), filters, drop_info(cur), ratio_key)


def me_customers_by_area(cur: duckdb.DuckDBPyConnection, filters: Filters, data: pl.DataFrame) -> pl.DataFrame:
    from analytics.views import microenterprises as me

    frame = me.geography_frame(cur, filters).select("area", "group", "microenterprise_customers")
    return _join_counts(data, frame, ["area", "group"])


def providers_share(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    from analytics.views import providers
    from analytics.views.common import drop_info

    return providers.share_chart(providers.provider_frame(cur, filters), filters, drop_info(cur))


def providers_hhi(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    from analytics.views import providers
    from analytics.views.common import drop_info

    return providers.concentration_chart(providers.concentration_frame(cur, filters), filters, drop_info(cur))


def default_provider(cur: duckdb.DuckDBPyConnection, filters: Filters) -> str:
    """The provider the drill-down shows first: the largest share of planned hours."""
    from analytics.views import providers

    frame = providers.provider_frame(cur, filters)
    if frame.is_empty():
        raise ChartUnavailable("no provider is active for these filters")
    return frame.item(0, "provider_id")


def provider(spec_id: str) -> Builder:
    def build_provider(cur: duckdb.DuckDBPyConnection, filters: Filters, provider_id: str | None = None) -> ChartSpec:
        from analytics.views import providers

        chosen = provider_id or default_provider(cur, filters)
        return _pick(providers.provider_trend(cur, filters, chosen), spec_id)

    return build_provider


def exit(part: str) -> Builder:
    def build_exit(cur: duckdb.DuckDBPyConnection, filters: Filters, provider_id: str | None = None) -> ChartSpec:
        from analytics.views import exit_demand

        chosen = provider_id or exit_demand.ranking_view(cur, filters).default_provider
        if chosen is None:
            raise ChartUnavailable("no provider has active packages for these filters")
        return getattr(exit_demand.exit_view(cur, filters, chosen), part)

    return build_exit


def projection(cur: duckdb.DuckDBPyConnection, filters: Filters, growth_pct: float | None = None) -> ChartSpec:
    from analytics.views import exit_demand

    return exit_demand.projection_view(cur, filters, growth_pct).chart


def workforce_provider(measure: str) -> Builder:
    def build_workforce(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import workforce_fees

        return workforce_fees.provider_chart(cur, filters, measure)

    return build_workforce


def fees(name: str) -> Builder:
    def build_fees(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import workforce_fees

        return getattr(workforce_fees, name)(cur, filters)

    return build_fees
