"""Providers and concentration page: shares of hours, CR1/CR3/HHI by locality, the provider table, a drill-down.

Shares are worked out from the staged packages for the filters' locality and service type
(``provider_shares_now``, the same rule as ``mart_concentration_month`` and the headline, so the
largest provider's share is one figure everywhere); concentration comes from
``mart_concentration_month`` (by service type). The drill-down trend reads ``mart_provider_share_month``
(all service types, said in its note). The provider table adds the CQC rating and
stated capacity (``stg_providers``, one row a provider), hand-backs in the 12 months to the drop
date (``mart_handbacks_provider``), the month's vacancy rate (``mart_workforce_provider_month``) and
the next contract end date (``stg_contracts``). HHI bands are descriptive only (config thresholds
``hhi_concentrated`` and ``hhi_highly_concentrated``, UK 2010 merger guidelines). Counts of people
per provider are suppressed (``analytics.publish.suppression``); hours are not (catalogue: not person counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_int, fmt_month, fmt_month_range, fmt_number, fmt_pct
from analytics.indicators.concentration import provider_shares
from analytics.indicators.marts import read_mart
from analytics.publish.charts import FOCUS, ChartSpec, add_line, bar_chart, line_chart, merge_layout
from analytics.publish.headlines import trend_headline
from analytics.publish.suppression import suppress
from analytics.views.common import (
    DropInfo,
    Panel,
    add_ignored_note,
    drop_info,
    geography,
    hbars,
    service_key,
    service_label,
    spec,
    subtitle,
)
from analytics.views.filters import Filters

HANDBACK = "provider_handback"
TABLE_COLUMNS = {
    "rank": "Rank",
    "provider_name": "Provider",
    "provider_type": "Type",
    "cqc_rating": "CQC rating",
    "share_pct": "Share of planned hours (%)",
    "planned_hours_per_week": "Planned hours a week",
    "people_in_service": "People receiving care",
    "handback_packages_12m": "Packages handed back, 12 months",
    "handback_hours_12m": "Hours a week handed back, 12 months",
    "vacancy_rate_pct": "Vacancy rate (%)",
    "weekly_capacity_hours": "Stated capacity, hours a week",
    "contract_end": "Contract ends",
}


def hhi_thresholds() -> tuple[float, float]:
    """Return the HHI band thresholds (concentrated, highly concentrated) from ``config.toml``."""
    t = settings().get("thresholds", {})
    return float(t.get("hhi_concentrated", 1000)), float(t.get("hhi_highly_concentrated", 2000))


def band_explanation() -> str:
    """Return the HHI bands in words (descriptive, not a test)."""
    low, high = hhi_thresholds()
    return (
        f"The Herfindahl-Hirschman Index (HHI) adds up the squares of every provider's percentage share "
        f"of planned hours: 10,000 means one provider has all of it. Above {fmt_int(low)} a market is "
        f"described as concentrated, above {fmt_int(high)} as highly concentrated (UK 2010 merger "
        f"guidelines). The bands describe the market; they are not a test of anything. CR1 and CR3 "
        f"are the shares of the largest and the three largest providers."
    )


def _type_label(value: str | None) -> str | None:
    return None if value is None else value.replace("_", " ").capitalize()


def provider_frame(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return one row per provider active in the filters' month and area, largest share first.

    Columns: rank, provider_id, provider_name, provider_type, cqc_rating, share_pct,
    planned_hours_per_week, people_in_service, handback_packages_12m, handback_hours_12m,
    vacancy_rate_pct, weekly_capacity_hours, contract_end. The sidebar provider type filter applies.
    """
    shares = provider_shares_now(cur, filters)
    if filters.provider_type:
        shares = shares.filter(pl.col("provider_type") == filters.provider_type)
    # One query for what the table adds to each provider (a query costs 1 to 2 ms however small):
    # rating and capacity, hand-backs in 12 months, the month's vacancy rate, the next contract end.
    details = cur.sql(
        """
        select s.provider_id, p.cqc_rating, p.weekly_capacity_hours,
               h.packages_12m as handback_packages_12m, h.hours_12m as handback_hours_12m,
               w.vacancy_rate_pct, c.contract_end
        from (select unnest(?::varchar[]) as provider_id) s
        left join stg_providers p using (provider_id)
        left join mart_handbacks_provider h using (provider_id)
        left join (select provider_id, vacancy_rate_pct from mart_workforce_provider_month where month = ?) w
            using (provider_id)
        left join (
            select provider_id, coalesce(min(end_date) filter (where end_date >= ?), max(end_date)) as contract_end
            from stg_contracts group by provider_id
        ) c using (provider_id)
        """,
        params=[shares["provider_id"].to_list(), filters.month, filters.month],
    ).pl()
    frame = (
        shares.join(details, on="provider_id", how="left")
        .with_columns(
            pl.col("handback_packages_12m").fill_null(0),
            pl.col("handback_hours_12m").fill_null(0.0),
            pl.col("provider_type").map_elements(_type_label, return_dtype=pl.String),
        )
        .sort("rank")
    )
    return frame.select(list(TABLE_COLUMNS) + ["provider_id"]) if frame.height else frame


def provider_shares_now(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return each provider's share of planned hours on ``filters.month`` in the filters' locality and
    service type (one scope rule: the same packages as CR1, CR3 and HHI on the tiles and in
    ``indicators --json``). Columns: ``concentration.provider_shares`` plus provider_name, provider_type.
    """
    where = ["p.start_date <= ?", "(p.end_date is null or p.end_date >= ?)"]
    params: list[object] = [filters.month, filters.month]
    if filters.service_type:
        where.append("coalesce(p.service_type, 'home_care') = ?")
        params.append(filters.service_type)
    if filters.locality:
        where.append("a.locality_name = ?")
        params.append(filters.locality)
    packages = cur.sql(
        "select p.person_id, p.provider_id, p.planned_hours_per_week, p.start_date, p.end_date from stg_packages p "
        "join (select area_code, coalesce(locality, 'Unassigned') as locality_name from stg_areas) a "
        f"using (area_code) where {' and '.join(where)}",
        params=params,
    ).pl()
    names = cur.sql("select provider_id, provider_name, provider_type from stg_providers").pl()
    return provider_shares(packages, filters.month).join(names, on="provider_id", how="left").sort("rank")


def filter_table(frame: pl.DataFrame, *, types: Sequence[str] = (), ratings: Sequence[str] = ()) -> pl.DataFrame:
    """Return ``frame`` restricted to provider ``types`` and CQC ``ratings`` (empty: no restriction)."""
    if types:
        frame = frame.filter(pl.col("provider_type").is_in(list(types)))
    if ratings:
        frame = frame.filter(pl.col("cqc_rating").fill_null("Not rated").is_in(list(ratings)))
    return frame


def provider_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the provider table for people: named columns, people counts suppressed, numbers rounded."""
    if frame.is_empty():
        return pl.DataFrame({label: [] for label in TABLE_COLUMNS.values()})
    shown = suppress(
        frame.drop("provider_id"),
        count_cols=["people_in_service", "handback_packages_12m"],
        formats={"people_in_service": fmt_int},
    ).display
    rounded = ("share_pct", "planned_hours_per_week", "handback_hours_12m", "vacancy_rate_pct", "weekly_capacity_hours")
    return shown.with_columns(
        *(pl.col(c).cast(pl.Float64).round(1) for c in rounded),
        pl.col("cqc_rating").fill_null("Not rated"),
    ).rename(TABLE_COLUMNS)


def share_chart(frame: pl.DataFrame, filters: Filters, info: DropInfo, top: int = 10) -> ChartSpec:
    """Return a horizontal bar chart of the ``top`` providers' shares of planned hours."""
    data = frame.head(top).select("provider_name", "share_pct")
    if data.is_empty():
        title = "No provider had planned hours in this month"
    else:
        leader = frame.row(0, named=True)
        title = f"{leader['provider_name']} has the largest share: {fmt_pct(leader['share_pct'])} of planned hours"
    chart = spec(
        info,
        "providers-share",
        title,
        subtitle(f"Share of planned hours a week, largest {top} providers, {service_label(filters)}", filters),
    )
    built = hbars(
        data,
        "provider_name",
        "share_pct",
        chart,
        measure="the share of planned hours",
        noun="providers",
        scale=(fmt_pct, "Share of planned hours (%)"),
    )
    # The house template caps value axes at 8 ticks; a category axis needs a label per bar.
    merge_layout(built.figure, yaxis={"nticks": data.height + 1})
    if data.height > 2:
        top3 = float(frame.head(3)["share_pct"].sum())
        built = replace(built, alt_text=f"{built.alt_text} The largest 3 providers have {fmt_pct(top3)}.")
    return built


def concentration_frame(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return CR1, CR3, HHI, band and providers for the council and each locality in the filters' month."""
    rows = read_mart(
        cur,
        "mart_concentration_month",
        geography_level=["council", "locality"],
        month=filters.month,
        service_type=service_key(filters),
    )
    return rows.select(
        pl.when(pl.col("geography_level") == "council")
        .then(pl.lit("Whole council"))
        .otherwise(pl.col("geography"))
        .alias("area"),
        "geography_level",
        "providers_active",
        "cr1_pct",
        "cr3_pct",
        "hhi",
        "effective_providers",
        "hhi_band",
    ).sort(pl.col("geography_level") != "council", "area")


def concentration_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the concentration table for people (rounded, named columns)."""
    return frame.select(
        pl.col("area").alias("Area"),
        pl.col("providers_active").alias("Providers"),
        pl.col("cr1_pct").round(1).alias("CR1 (%)"),
        pl.col("cr3_pct").round(1).alias("CR3 (%)"),
        pl.col("hhi").round(0).cast(pl.Int64, strict=False).alias("HHI"),
        pl.col("effective_providers").round(1).alias("Effective number of providers"),
        (pl.col("hhi_band").str.slice(0, 1).str.to_uppercase() + pl.col("hhi_band").str.slice(1)).alias("Band"),
    )


def concentration_chart(frame: pl.DataFrame, filters: Filters, info: DropInfo) -> ChartSpec:
    """Return HHI by locality as bars, with the band thresholds as reference lines."""
    data = frame.filter(pl.col("geography_level") == "locality").select("area", "hhi").drop_nulls("hhi")
    low, high = hhi_thresholds()
    if data.is_empty():
        title = "No locality had planned hours in this month"
    else:
        top = data.sort("hhi", descending=True).row(0, named=True)
        band = "highly concentrated" if top["hhi"] > high else "concentrated" if top["hhi"] > low else "unconcentrated"
        title = f"{top['area']} has the most concentrated market: HHI {fmt_int(top['hhi'])} ({band})"
    chart = spec(
        info,
        "providers-hhi",
        title,
        subtitle(f"Herfindahl-Hirschman Index of planned hours, {service_label(filters)}, by locality", filters),
    )
    built = bar_chart(
        data,
        "area",
        "hhi",
        spec=chart,
        measure="the HHI",
        focus=[filters.locality] if filters.locality else None,
        value_label="HHI (0 to 10,000)",
        noun="localities",
    )
    # Band thresholds: dashed lines named in the legend (labels on the plot would sit on the bars).
    built.figure.update_traces(showlegend=False, selector={"type": "bar"})
    for level, word, dash in ((low, "Concentrated", "dot"), (high, "Highly concentrated", "dash")):
        line = {"color": "#3D3D3D", "width": 1.5, "dash": dash}
        add_line(built.figure, y=level, line=line)
        built.figure.add_scatter(
            _validate=False,
            x=[None],
            y=[None],
            mode="lines",
            line=line,
            name=f"{word}: HHI above {fmt_int(level)}",
            hoverinfo="skip",
        )
    merge_layout(built.figure, showlegend=True)
    built.style(built.figure)
    return built


def table_choices(frame: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Return the provider types and CQC ratings present in ``frame`` (for the table filters)."""
    types = sorted(t for t in frame["provider_type"].unique().to_list() if t is not None)
    order = ["Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated"]
    present = set(frame["cqc_rating"].fill_null("Not rated").to_list())
    return types, [r for r in order if r in present] + sorted(present - set(order))


def provider_options(frame: pl.DataFrame) -> dict[str, str]:
    """Return ``{provider_id: name}`` for the drill-down, largest share first."""
    return dict(zip(frame["provider_id"].to_list(), frame["provider_name"].to_list(), strict=True))


def handbacks_by_month(
    cur: duckdb.DuckDBPyConnection, provider_id: str, filters: Filters, months: Sequence[date]
) -> pl.DataFrame:
    """Return ``month, hours_handed_back`` of ``provider_id`` for each month in ``months`` (0 when none).

    Same rule as ``analytics.indicators.churn``: a package ending with reason ``provider_handback``
    counts on its end date; the locality and service type filters apply.
    """
    frame = cur.sql(
        """
        select last_day(p.end_date) as month_end, sum(p.planned_hours_per_week)::double as hours_handed_back
        from stg_packages p left join stg_areas a using (area_code)
        where p.provider_id = ? and p.end_reason = ?
          and (?::varchar is null or coalesce(a.locality, 'Unassigned') = ?)
          and (? = 'all' or coalesce(p.service_type, 'home_care') = ?)
        group by 1
        """,
        params=[
            provider_id,
            HANDBACK,
            filters.locality,
            filters.locality,
            service_key(filters),
            service_key(filters),
        ],
    ).pl()
    grid = pl.DataFrame({"month": list(months)}, schema={"month": pl.Date}).with_columns(
        pl.col("month").dt.month_end().alias("month_end")
    )
    return (
        grid.join(frame, on="month_end", how="left")
        .select("month", pl.col("hours_handed_back").fill_null(0.0))
        .sort("month")
    )


def provider_trend(cur: duckdb.DuckDBPyConnection, filters: Filters, provider_id: str) -> list[Panel]:
    """Return the drill-down charts for one provider: planned hours, people and hours handed back by month."""
    info = drop_info(cur)
    rows = (
        read_mart(cur, "mart_provider_share_month", **geography(filters), provider_id=provider_id)
        .filter(pl.col("month") <= filters.month)
        .sort("month")
    )
    if rows.is_empty():
        return []
    name = rows["provider_name"][-1]
    months = read_mart(cur, "mart_supply_summary_month", **geography(filters), service_type="all")["month"]
    months = sorted(m for m in months.to_list() if m <= filters.month)
    period = fmt_month_range(months[0], months[-1])
    grid = pl.DataFrame({"month": months}, schema={"month": pl.Date})
    series = grid.join(rows.select("month", "planned_hours_per_week", "people_in_service"), on="month", how="left")
    first = series.drop_nulls("planned_hours_per_week")
    hours_title = _trend_title(first, "planned_hours_per_week")
    hours = line_chart(
        series.select("month", "planned_hours_per_week"),
        "month",
        "planned_hours_per_week",
        spec=spec(info, "provider-hours", hours_title, subtitle(f"Planned hours a week, {name}", filters, period)),
        measure="planned hours a week",
        value_format=lambda v: fmt_number(v, 0),
        from_zero=True,
    )
    people_data = suppress(series.select("month", "people_in_service"), count_cols=["people_in_service"])
    shown = people_data.values.drop_nulls("people_in_service")
    people_title = (
        f"{fmt_int(shown['people_in_service'][-1])} people receiving care, {fmt_month(shown['month'][-1])}"
        if shown.height
        else "Too few people receiving care to show"
    )
    people = line_chart(
        people_data,
        "month",
        "people_in_service",
        spec=spec(
            info, "provider-people", people_title, subtitle(f"People receiving care from {name}", filters, period)
        ),
        measure="people receiving care",
        from_zero=True,
    )
    back = handbacks_by_month(cur, provider_id, filters, months)
    last12 = float(back.tail(12)["hours_handed_back"].sum())
    back_title = (
        "No care handed back in the last 12 months"
        if last12 == 0
        else f"{fmt_number(last12, 0)} hours a week handed back in 12 months"
    )
    handbacks = bar_chart(
        back,
        "month",
        "hours_handed_back",
        spec=spec(
            info,
            "provider-handbacks",
            back_title,
            subtitle(f"Hours a week of care handed back, by month handed back, {name}", filters, period),
        ),
        measure="hours a week handed back",
        value_format=lambda v: fmt_number(v, 0),
        labels=False,
        noun="months",
    )
    handbacks.figure.update_traces(marker_color=FOCUS)
    merge_layout(handbacks.figure, xaxis={"tickformat": "%b %Y"})  # the template's number format would garble dates
    note = "Shares and people cover all service types; hand-backs follow the service type filter."
    return [
        Panel(hours, ("planned_hours_per_week",), note),
        Panel(people, ("people_in_service",)),
        Panel(handbacks, ("handback_hours_12m",)),
    ]


def _trend_title(data: pl.DataFrame, column: str) -> str:
    """Return the headline of the provider's planned hours over the period, by the one headline writer
    (the provider is in the subtitle): "Planned hours a week: 6,083, down from 7,749 in Dec 2023"."""
    return trend_headline(data, column, "Planned hours a week", lambda v: fmt_number(v, 0))


@dataclass(frozen=True)
class ProvidersView:
    """Everything the Providers and concentration page shows (before the page's own table filters)."""

    providers: pl.DataFrame  # raw provider frame (``provider_frame``); filter with ``filter_table``
    shares: Panel
    concentration: Panel
    concentration_table: pl.DataFrame
    bands: str
    notes: list[str]


def page_notes(filters: Filters) -> list[str]:
    """Return the page's notes: what follows which filter, and the filters the page ignores."""
    notes = [
        "Shares of planned hours, the provider table, CR1, CR3 and HHI follow the locality and service type "
        "filters. Hand-backs in the table are for the 12 months to the data date, whole council, all "
        "service types.",
    ]
    add_ignored_note(
        notes, filters, supported=("locality", "service_type", "provider_type"), what="The charts and the table"
    )
    if filters.provider_type:
        notes.append("The provider type filter narrows the provider table and share chart, not the HHI.")
    return notes


def providers(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ProvidersView:
    """Return the Providers and concentration page for ``filters``.

    The client group and funding filters shape nothing here: the page caches this on
    ``filters.only("locality", "service_type", "provider_type")`` and shows ``page_notes`` of the full filters.
    """
    info = drop_info(cur)
    frame = provider_frame(cur, filters)
    conc = concentration_frame(cur, filters)
    notes = page_notes(filters)
    return ProvidersView(
        providers=frame,
        shares=Panel(share_chart(frame, filters, info), ("provider_share_pct", "cr1_pct", "cr3_pct")),
        concentration=Panel(concentration_chart(conc, filters, info), ("hhi", "cr1_pct", "cr3_pct")),
        concentration_table=concentration_table(conc),
        bands=band_explanation(),
        notes=notes,
    )
