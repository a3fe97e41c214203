"""Every chart the dashboard can draw, by a stable id, buildable headless from a cursor and ``Filters``.

The briefing pack, the ``brief`` command and the pages' "add to briefing" button all go through
this registry, so a chart in a pack is rebuilt from the live data exactly as the page draws it::

    from analytics.briefing import registry as chart_registry
    spec = chart_registry.build(cur, "waiting-people", filters)              # as on the page
    spec = chart_registry.build_published(cur, "waiting-people", filters)    # small numbers protected

Each ``ChartEntry`` wraps a view function of ``analytics.views`` (the wrappers are in
``analytics.briefing.view_charts``; the views are not changed):

* ``id``: a stable slug (``waiting-people``). Usually the view's own ``ChartSpec.id``; a view that
  draws one spec id for several choices (the coverage map's measure, the microenterprise ratio by
  area) gets one entry per choice, with the choice in ``params`` and the page's widget key in
  ``state_params``, so ``resolve`` finds the right entry from the spec and the session state.
* ``params``: fixed keyword arguments of this entry (a variant). ``state_params``: keyword
  arguments a page chooses with a widget (a provider, a growth rate): ``(argument, session key)``;
  "add to briefing" stores their values with the chart, the command line uses the defaults.
* ``level``: ``"area"`` when the chart is of the filters' area (whole council: no suppression;
  a locality: suppressed), ``"split"`` when it splits the area into wards, localities, rural classes
  or providers (always suppressed in publication mode).
* ``counts``: how to add the count of people a derived figure rests on when the chart's table
  leaves it out (hours or days waiting in a locality), so publication can hide it.
* ``names_providers``: the chart, its table or its wording names providers (commercially
  sensitive: internal packs only; ``PROVIDER_CHARTS`` lists them).
* ``fallback``: the chart one level up (by locality instead of by area) that a pack draws instead
  when every mark of this one would be hidden to protect small numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import duckdb
import polars as pl

from analytics.briefing import view_charts
from analytics.briefing.view_charts import Builder, ChartUnavailable
from analytics.publish.charts import ChartSpec
from analytics.publish.publication import publish
from analytics.publish.suppression import Suppressed
from analytics.views import gaps
from analytics.views.filters import Filters

CountsHook = Callable[[duckdb.DuckDBPyConnection, Filters, pl.DataFrame], pl.DataFrame]
Level = Literal["area", "split"]


class UnknownChart(KeyError):
    """No chart has this id (the message lists the ids there are)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown chart"


@dataclass(frozen=True)
class ChartEntry:
    """One chart: how to build it and how to publish it (see the module docstring)."""

    id: str
    title: str
    page: str
    build: Builder
    indicator_ids: tuple[str, ...] = ()
    level: Level = "split"
    spec_id: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    state_params: tuple[tuple[str, str], ...] = ()
    counts: CountsHook | None = None
    names_providers: bool = False
    fallback: str | None = None

    @property
    def view_id(self) -> str:
        """The id the view gives its ``ChartSpec``."""
        return self.spec_id or self.id

    def council_level(self, filters: Filters) -> bool:
        """Whether the chart is of the whole council with no split (then nothing needs suppressing)."""
        return self.level == "area" and filters.locality is None


REGISTRY: dict[str, ChartEntry] = {}


def register(entry: ChartEntry) -> ChartEntry:
    """Add ``entry`` (ids are unique) and return it."""
    if entry.id in REGISTRY:
        raise ValueError(f"chart id {entry.id!r} is registered twice")
    REGISTRY[entry.id] = entry
    return entry


def chart_ids() -> list[str]:
    """Return every chart id, in page order."""
    return list(REGISTRY)


def entry(chart_id: str) -> ChartEntry:
    """Return the entry for ``chart_id``; ``UnknownChart`` lists the known ids."""
    try:
        return REGISTRY[chart_id]
    except KeyError:
        raise UnknownChart(f"no chart {chart_id!r}; known charts: {', '.join(REGISTRY)}") from None


def resolve(spec_id: str, state: Mapping[str, Any] | None = None) -> tuple[ChartEntry, dict[str, Any]] | None:
    """Return the entry a page's spec belongs to and the page's choices for it, or ``None``.

    ``state`` is the session state (widget values): it picks the variant (coverage measure) and
    supplies the chosen provider or growth rate.
    """
    state = {} if state is None else state  # not ``state or {}``: session state builds a dict to answer len()
    candidates = [e for e in REGISTRY.values() if e.view_id == spec_id]
    if not candidates:
        return None
    chosen = candidates[0]
    for e in candidates:
        wanted = dict(e.params)
        keys = dict(e.state_params)
        if wanted and all(state.get(keys.get(k, ""), None) == v for k, v in wanted.items() if k in keys):
            chosen = e
            break
    params = {
        arg: state[key]
        for arg, key in chosen.state_params
        if arg not in dict(chosen.params) and state.get(key) is not None
    }
    return chosen, params


def build(
    cur: duckdb.DuckDBPyConnection, chart_id: str, filters: Filters, params: Mapping[str, Any] | None = None
) -> ChartSpec:
    """Return chart ``chart_id`` for ``filters`` as the page draws it (raw counts where the page shows them)."""
    e = entry(chart_id)
    kwargs = {**dict(e.params), **dict(params or {})}
    spec = e.build(cur, filters, **kwargs)
    if spec is None:
        raise ChartUnavailable(f"chart {chart_id!r} has nothing to draw for these filters")
    return gaps.explain(spec, gaps.missing(cur), chart_id)  # a chart of a source the drop lacks says so


def publish_spec(cur: duckdb.DuckDBPyConnection, chart_id: str, spec: ChartSpec, filters: Filters) -> ChartSpec:
    """Return ``spec`` (of chart ``chart_id``) with small numbers protected as the entry says."""
    e = entry(chart_id)
    council = e.council_level(filters)
    if not council and e.counts is not None and spec.data is not None and not _is_suppressed(spec):
        spec = _with_data(spec, e.counts(cur, filters, spec.data))
    return publish(spec, indicator_ids=e.indicator_ids, council_level=council)


def build_published(
    cur: duckdb.DuckDBPyConnection, chart_id: str, filters: Filters, params: Mapping[str, Any] | None = None
) -> ChartSpec:
    """Return chart ``chart_id`` ready for a public paper: built, then published (``publish_spec``)."""
    return publish_spec(cur, chart_id, build(cur, chart_id, filters, params), filters)


def build_chart(
    cur: duckdb.DuckDBPyConnection, chart_id: str, filters: Filters, params: tuple = (), published: bool = False
) -> ChartSpec:
    """``build`` or ``build_published`` with hashable arguments (for ``ui.render.cached``)."""
    fn = build_published if published else build
    return fn(cur, chart_id, filters, dict(params))


def _is_suppressed(spec: ChartSpec) -> bool:
    return isinstance(spec.data, Suppressed)


def _with_data(spec: ChartSpec, data: pl.DataFrame) -> ChartSpec:
    return replace(spec, data=data)


def _slug(text: str) -> str:
    return text.replace("_", "-")


# --- Overview
register(
    ChartEntry(
        "overview-people-waiting",
        "People waiting, trend (Overview)",
        "Overview",
        view_charts.overview("overview-people-waiting"),
        ("people_waiting",),
        level="area",
    )
)
register(
    ChartEntry(
        "overview-planned-hours-per-week",
        "Planned hours a week, trend (Overview)",
        "Overview",
        view_charts.overview("overview-planned-hours-per-week"),
        ("planned_hours_per_week",),
        level="area",
        counts=view_charts.people_in_service,
    )
)

# --- Map and coverage: one entry per measure (the page's "coverage_measure" selectbox)
for _key, _label, _indicator in (
    ("providers", "Providers delivering care by area (map)", "providers_per_area"),
    ("hours_per_1000", "Planned hours per 1,000 aged 65 years and over by area (map)", "hours_per_1000_65_plus"),
    ("people_waiting", "People waiting by area (map)", "people_waiting"),
    ("hours_waiting", "Hours waiting by area (map)", "hours_waiting"),
    ("me_customers", "Microenterprise customers by area (map)", "microenterprise_customers"),
):
    register(
        ChartEntry(
            "coverage-map" if _key == "providers" else f"coverage-map-{_slug(_key)}",
            _label,
            "Map and coverage",
            view_charts.coverage,
            (_indicator, "areas_with_demand_under_min_providers"),
            level="split",
            spec_id="coverage-map",
            params=(("measure_key", _key),),
            state_params=(("measure_key", "coverage_measure"),),
        )
    )

# --- Waiting and sourcing
register(
    ChartEntry(
        "waiting-people",
        "People waiting, trend",
        "Waiting and sourcing",
        view_charts.waiting("people_chart"),
        ("people_waiting",),
        level="area",
    )
)
register(
    ChartEntry(
        "waiting-hours",
        "Hours waiting, trend",
        "Waiting and sourcing",
        view_charts.waiting("hours_chart"),
        ("hours_waiting",),
        level="area",
        counts=view_charts.waiting_people,
    )
)
register(
    ChartEntry(
        "waiting-days",
        "Days waited so far, median and 90th percentile, trend",
        "Waiting and sourcing",
        view_charts.waiting("wait_days_chart"),
        ("median_wait_days", "p90_wait_days"),
        level="area",
        counts=view_charts.waiting_people,
    )
)
register(
    ChartEntry(
        "waiting-distribution",
        "Requests waiting by days waited so far",
        "Waiting and sourcing",
        view_charts.waiting("histogram_chart"),
        ("requests_waiting",),
        level="area",
    )
)
register(
    ChartEntry(
        "waiting-sourcing",
        "Requests sourced within 7, 14 and 28 days, trend",
        "Waiting and sourcing",
        view_charts.waiting("sourcing_chart"),
        ("sourced_within_7_days_pct", "sourced_within_14_days_pct", "sourced_within_28_days_pct"),
        level="area",
    )
)
register(
    ChartEntry(
        "waiting-localities",
        "Hours waiting by locality",
        "Waiting and sourcing",
        view_charts.waiting("locality_chart"),
        ("hours_waiting",),
        level="split",
    )
)
register(
    ChartEntry(
        "waiting-areas",
        "Hours waiting by area",
        "Waiting and sourcing",
        view_charts.waiting("area_chart"),
        ("hours_waiting", "people_waiting"),
        level="split",
    )
)

# --- Rural gaps
register(
    ChartEntry(
        "rural-shares",
        "Rural and urban shares of each measure",
        "Rural gaps",
        view_charts.rural("share_chart"),
        ("measures_by_rural_class", "rural_share_planned_hours_pct", "rural_share_hours_waiting_pct"),
    )
)
register(
    ChartEntry(
        "rural-waiting-gap",
        "Rural waiting share gap, trend",
        "Rural gaps",
        view_charts.rural("gap_chart"),
        ("rural_gap_waiting_share_pp",),
    )
)
register(
    ChartEntry(
        "rural-waits",
        "Days waited by area type",
        "Rural gaps",
        view_charts.rural("wait_chart"),
        ("rural_urban_median_wait_ratio", "median_wait_days"),
    )
)
register(
    ChartEntry(
        "rural-ruc21-waits",
        "Median days waited by Rural-Urban Classification",
        "Rural gaps",
        view_charts.rural("ruc21_chart"),
        ("median_wait_days", "p90_wait_days"),
    )
)

# --- Microenterprises
register(
    ChartEntry(
        "me-count",
        "Active microenterprises, trend",
        "Microenterprises",
        view_charts.me_trend("count"),
        ("microenterprises_active", "microenterprise_customers"),
        level="area",
    )
)
for _ratio, _label, _indicator in (
    ("customers_per_me", "Customers per microenterprise", "customers_per_microenterprise"),
    ("hours_per_customer", "Hours a week per microenterprise customer", "hours_per_microenterprise_customer"),
    ("hours_per_me", "Hours a week per microenterprise", "hours_per_microenterprise"),
):
    register(
        ChartEntry(
            f"me-{_slug(_ratio)}",
            f"{_label}, trend against comparators",
            "Microenterprises",
            view_charts.me_trend(_ratio),
            (_indicator,),
            level="area",
            counts=view_charts.me_customers_by_month,
        )
    )
    register(
        ChartEntry(
            "me-by-area" if _ratio == "customers_per_me" else f"me-by-area-{_slug(_ratio)}",
            f"{_label} by locality and rural class",
            "Microenterprises",
            view_charts.me_by_area,
            (_indicator,),
            level="split",
            spec_id="me-by-area",
            params=(("ratio_key", _ratio),),
            state_params=(("ratio_key", "me_ratio"),),
            counts=view_charts.me_customers_by_area,
        )
    )

# --- Providers and concentration
register(
    ChartEntry(
        "providers-share",
        "Largest providers' shares of planned hours",
        "Providers and concentration",
        view_charts.providers_share,
        ("provider_share_pct", "cr1_pct", "cr3_pct"),
    )
)
register(
    ChartEntry(
        "providers-hhi",
        "Market concentration (HHI) by locality",
        "Providers and concentration",
        view_charts.providers_hhi,
        ("hhi",),
    )
)
for _id, _label, _indicator in (
    ("provider-hours", "One provider's planned hours, trend", "planned_hours_per_week"),
    ("provider-people", "One provider's people receiving care, trend", "people_in_service"),
    ("provider-handbacks", "One provider's hours handed back by month", "handback_hours_12m"),
):
    register(
        ChartEntry(
            _id,
            _label,
            "Providers and concentration",
            view_charts.provider(_id),
            (_indicator,),
            state_params=(("provider_id", "provider_drilldown"),),
        )
    )

# --- Provider exit and demand
register(
    ChartEntry(
        "exit-map",
        "If a provider left: hours needing a new provider by area (map)",
        "Provider exit and demand",
        view_charts.exit("map_chart"),
        ("exit_uncovered_hours_by_provider",),
        state_params=(("provider_id", "exit_provider"),),
    )
)
register(
    ChartEntry(
        "exit-outcome",
        "If a provider left: hours absorbed or uncovered by locality",
        "Provider exit and demand",
        view_charts.exit("outcome_chart"),
        ("exit_uncovered_hours_by_provider",),
        state_params=(("provider_id", "exit_provider"),),
    )
)
register(
    ChartEntry(
        "demand-projection",
        "Hours needed over five years against today's capacity",
        "Provider exit and demand",
        view_charts.projection,
        ("projection_hours_needed_final_year", "projection_capacity_hours", "projection_shortfall_hours_final_year"),
        level="area",
        state_params=(("growth_pct", "growth_rate"),),
    )
)

# --- Workforce and fees
for _measure, _label in (("vacancy", "Vacancy rate"), ("turnover", "Turnover rate")):
    register(
        ChartEntry(
            f"workforce-{_measure}-by-provider",
            f"{_label} by provider",
            "Workforce and fees",
            view_charts.workforce_provider(_measure),
            (f"{_measure}_rate_pct", "hours_weighted_vacancy_rate"),
        )
    )
register(
    ChartEntry(
        "workforce-trend",
        "Vacancy and turnover rates, trend",
        "Workforce and fees",
        view_charts.fees("workforce_trend_chart"),
        ("vacancy_rate_pct", "turnover_rate_pct"),
        level="area",
    )
)
register(
    ChartEntry(
        "fees-rate-trend",
        "Council's hourly rate against the benchmarks, trend",
        "Workforce and fees",
        view_charts.fees("rate_chart"),
        ("weighted_hourly_rate", "fee_gap_to_minimum_price", "fee_gap_to_fair_cost_of_care"),
        level="area",
    )
)
register(
    ChartEntry(
        "fees-rate-by-provider",
        "Hourly rate of the largest providers",
        "Workforce and fees",
        view_charts.fees("provider_rate_chart"),
        ("weighted_hourly_rate", "rate_coverage_pct"),
    )
)
register(
    ChartEntry(
        "fees-gap-cost",
        "Annual cost of closing the fee gaps",
        "Workforce and fees",
        view_charts.fees("gap_cost_chart"),
        ("annual_cost_to_close_minimum_price_gap",),
        level="area",
    )
)


# --- Contracts and decisions (wrappers and entries appended together)
def _contracts(name: str) -> Builder:
    def build_contracts(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import contracts

        if name in ("timeline_chart", "share_chart") and contracts.contracts_frame(cur).is_empty():
            raise ChartUnavailable("this drop has no contracts file")
        return getattr(contracts, name)(cur, filters)

    return build_contracts


def _lots(cur: duckdb.DuckDBPyConnection, filters: Filters, n: int | None = None) -> ChartSpec:
    from analytics.views import contracts

    return contracts.lots_chart(cur, filters, n)


def _quality(name: str) -> Builder:
    def build_quality(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
        from analytics.views import quality

        return getattr(quality, name)(cur, filters)

    return build_quality


for _id, _label, _name, _indicators, _level in (
    ("contracts-timeline", "Contract timeline and decision dates", "timeline_chart",
     ("contract_decision_date", "decisions_overdue"), "area"),
    ("contracts-hours-share", "Each contract's share of today's hours", "share_chart",
     ("contract_hours_share", "contracts_ending_18m_hours_share"), "split"),
    ("me-programme-progress", "Microenterprise programme progress against targets", "programme_chart",
     ("me_programme_evidence",), "area"),
    ("me-programme-net-new", "Net new microenterprises since the programme started", "programme_trend",
     ("me_net_new_since_start",), "area"),
):  # fmt: skip
    register(ChartEntry(_id, _label, "Contracts and decisions", _contracts(_name), _indicators, level=_level))
register(
    ChartEntry(
        "lots-left-over",
        "Hours each lot's largest providers could not carry",
        "Contracts and decisions",
        _lots,
        ("lots_failing_primary_cover", "lot_providers_needed"),
        state_params=(("n", "lots_primary"),),
    )
)

# --- Quality and market dynamics
for _id, _label, _name, _indicators, _level in (
    ("early-warning-points", "Provider early-warning list (points)", "warning_chart",
     ("early_warning_top", "early_warning_points"), "split"),
    ("quality-rating-mix", "Hours-weighted CQC rating mix over time", "rating_mix_chart",
     ("good_outstanding_hours_pct",), "area"),
    ("quality-largest-ratings", "Ratings of the largest providers", "rating_changes_chart",
     ("good_outstanding_hours_pct",), "split"),
    ("quality-unrated-stale", "Hours with unrated or out-of-date ratings, trend", "stale_chart",
     ("unrated_or_stale_hours_pct",), "area"),
    ("market-entries-exits", "Providers starting and leaving by month", "churn_chart",
     ("provider_entries_12m", "provider_exits_12m"), "area"),
    ("delivery-vs-commissioned", "Hours delivered against commissioned, trend", "delivery_chart",
     ("delivery_rate_pct", "undelivered_hours_per_week"), "area"),
    ("delivery-providers-red", "Providers delivering least of their commissioned hours", "red_chart",
     ("providers_delivery_red",), "split"),
):  # fmt: skip
    register(ChartEntry(_id, _label, "Quality and market dynamics", _quality(_name), _indicators, level=_level))

# --- Charts that name providers (internal packs only) and charts one level up
PROVIDER_CHARTS = frozenset(
    {
        "providers-share",
        "provider-hours",
        "provider-people",
        "provider-handbacks",
        "exit-map",
        "exit-outcome",
        "workforce-vacancy-by-provider",
        "workforce-turnover-by-provider",
        "fees-rate-by-provider",
        "early-warning-points",
        "quality-largest-ratings",
        "delivery-providers-red",
    }
)
FALLBACKS = {
    "coverage-map-hours-waiting": "waiting-localities",
    "coverage-map-people-waiting": "waiting-localities",
    "waiting-areas": "waiting-localities",
}
for _id in PROVIDER_CHARTS:
    REGISTRY[_id] = replace(REGISTRY[_id], names_providers=True)
for _id, _up in FALLBACKS.items():
    REGISTRY[_id] = replace(REGISTRY[_id], fallback=_up)


def public_chart_ids() -> list[str]:
    """Return the ids of the charts a public pack may hold (none names a provider), in page order."""
    return [c for c, e in REGISTRY.items() if not e.names_providers]


__all__ = [
    "FALLBACKS",
    "PROVIDER_CHARTS",
    "REGISTRY",
    "ChartEntry",
    "ChartUnavailable",
    "UnknownChart",
    "build",
    "build_chart",
    "build_published",
    "chart_ids",
    "entry",
    "public_chart_ids",
    "publish_spec",
    "register",
    "resolve",
]
