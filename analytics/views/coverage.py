"""Map and coverage page: a ward map of a chosen measure, thin-market areas marked, and the area table.

``area_frame`` reads the area x month coverage mart for the filters' month, service type and
locality, adds each area's microenterprise customers (a small aggregate of the month's active
microenterprise packages) and its centroid. ``coverage_map`` draws the chosen measure: shaded wards
from the drop's boundaries, else circles at the area centroids, else a spec with no figure whose
text says why. Areas with demand and fewer than ``thresholds.min_providers_per_area`` providers are
outlined (or ringed) in orange. Counts of people and hours worked out from them are suppressed per
area (``analytics.publish.suppression``), with secondary suppression across the areas shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_int, fmt_month, fmt_number
from analytics.indicators.common import MICROENTERPRISE, UNASSIGNED
from analytics.indicators.marts import read_mart
from analytics.publish.charts import FOCUS_OTHER, ChartSpec, bubble_map, choropleth_map, features_for
from analytics.publish.suppression import Suppressed, suppress
from analytics.store.queries import boundaries
from analytics.views.common import (
    DropInfo,
    Formatter,
    Panel,
    add_ignored_note,
    drop_info,
    service_key,
    service_label,
    spec,
    subtitle,
)
from analytics.views.filters import Filters

THIN = "#F46A25"  # AF orange: the thin-market mark, against the blue measure scale


def min_providers() -> int:
    """Return the fewest providers an area with demand should have (config ``min_providers_per_area``)."""
    return int(settings().get("thresholds", {}).get("min_providers_per_area", 2))


@dataclass(frozen=True)
class Measure:
    """A map measure: area frame column, words, format and whether it counts people."""

    key: str
    column: str
    label: str  # for the selectbox and the subtitle
    noun: str  # in titles and text alternatives
    indicator_id: str
    fmt: Formatter = fmt_int
    described: str | None = None  # the measure in the text alternative (default: ``noun``)


def _hours(value: float | None) -> str:
    return fmt_number(value, 0)


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "providers",
            "providers_active",
            "Providers delivering care",
            "providers",
            "providers_per_area",
            described="the number of providers",
        ),
        Measure(
            "hours_per_1000",
            "hours_per_1000_65_plus",
            "Planned hours a week per 1,000 people aged 65 years and over",
            "hours per 1,000 aged 65 years and over",
            "hours_per_1000_65_plus",
            _hours,
            described="planned hours a week per 1,000 people aged 65 years and over",
        ),
        Measure(
            "people_waiting",
            "people_waiting",
            "People waiting for care",
            "people waiting",
            "people_waiting",
            described="the number of people waiting",
        ),
        Measure(
            "hours_waiting",
            "hours_waiting",
            "Hours a week waiting to be sourced",
            "hours a week waiting",
            "hours_waiting",
            _hours,
        ),
        Measure(
            "me_customers",
            "microenterprise_customers",
            "Microenterprise customers",
            "microenterprise customers",
            "microenterprise_customers",
            described="the number of microenterprise customers",
        ),
    )
}

# People counts, and the derived values hidden wherever the count they rest on is.
COUNT_COLS = ("people_in_service", "people_waiting", "microenterprise_customers")
DERIVED = {
    "planned_hours_per_week": "people_in_service",
    "hours_per_1000_65_plus": "people_in_service",
    "hours_waiting": "people_waiting",
}
TABLE_COLUMNS = {
    "area_name": "Area",
    "locality": "Locality",
    "rural_class": "Rural class",
    "providers_active": "Providers",
    "people_in_service": "People receiving care",
    "planned_hours_per_week": "Planned hours a week",
    "hours_per_1000_65_plus": "Hours a week per 1,000 aged 65 years and over",
    "people_waiting": "People waiting",
    "hours_waiting": "Hours a week waiting",
    "microenterprise_customers": "Microenterprise customers",
    "thin": f"Demand and under {min_providers()} providers",
}


def microenterprise_customers(cur: duckdb.DuckDBPyConnection, month: date, service_type: str) -> pl.DataFrame:
    """Return ``area_code, microenterprise_customers``: people with an active microenterprise package on ``month``.

    Same rules as ``analytics.indicators.microenterprise`` (active on the day; blank service type is
    home care); ``service_type`` ``"all"`` counts every service type.
    """
    return cur.sql(
        """
        select p.area_code, count(distinct p.person_id)::bigint as microenterprise_customers
        from stg_packages p join stg_providers v using (provider_id)
        where v.provider_type = ?
          and p.start_date <= ? and (p.end_date is null or p.end_date >= ?)
          and (? = 'all' or coalesce(p.service_type, 'home_care') = ?)
        group by p.area_code
        """,
        params=[MICROENTERPRISE, month, month, service_type, service_type],
    ).pl()


def centroids(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return ``area_code, latitude, longitude`` of every area (nulls where the drop has none)."""
    return cur.sql("select area_code, latitude, longitude from stg_areas").pl()


def area_frame(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return one row per area in scope for the filters' month and service type.

    Columns: the coverage mart's (area, locality, rural class, providers, people, hours, waiting,
    has_demand, under_min_providers, ...) plus ``microenterprise_customers``, ``latitude``,
    ``longitude`` and ``thin`` (demand and fewer than the minimum providers).
    """
    service = service_key(filters)
    kwargs = {"locality": filters.locality} if filters.locality else {}
    frame = read_mart(cur, "mart_coverage_area_month", month=filters.month, service_type=service, **kwargs)
    frame = frame.with_columns(pl.col("locality").fill_null(UNASSIGNED))
    me = microenterprise_customers(cur, filters.month, service)
    return (
        frame.join(me, on="area_code", how="left")
        .join(centroids(cur), on="area_code", how="left")
        .with_columns(
            pl.col("microenterprise_customers").fill_null(0),
            # blank, never "No", where demand is unknown (a month without the waiting list: ``demand_known``)
            pl.when(pl.col("has_demand").is_null())
            .then(None)
            .otherwise((pl.col("has_demand") & pl.col("under_min_providers")).fill_null(False))
            .alias("thin"),
        )
        .sort("area_name")
    )


def demand_known(frame: pl.DataFrame) -> bool:
    """Return whether ``area_frame`` can tell which areas have demand (an active package or someone waiting).

    Not in a month the waiting list (requests) does not cover, nor in a month without area figures at
    all (before the packages start): ``has_demand`` is then blank (``analytics.indicators.periods``).
    """
    return bool(frame.height) and frame.get_column("has_demand").is_not_null().any()


def demand_unknown_text(frame: pl.DataFrame, filters: Filters) -> str:
    """Return why areas with demand (and thin markets) can't be counted for ``filters.month``."""
    month = fmt_month(filters.month)
    if frame.is_empty():
        return f"No area figures for {month}: the drop's data does not cover that month"
    return (
        f"Areas with demand can't be counted for {month}: demand includes people waiting, and the drop "
        "has no waiting list (requests) for that month"
    )


def suppressed_areas(frame: pl.DataFrame) -> Suppressed:
    """Return ``frame`` with counts of people (and hours worked out from them) suppressed per area.

    The areas of each locality add up to that locality's figures, published as they are (its tiles,
    the by-locality charts; hours are not rounded), so secondary suppression works per locality: a
    locality with one hidden area gets a second hidden, and the council total is then safe too (no
    locality has exactly one). Without a locality column the whole frame is one group.
    """
    group_by = ["locality"] if "locality" in frame.columns else []
    return suppress(frame, count_cols=list(COUNT_COLS), derived=dict(DERIVED), group_by=group_by)


def area_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the area table for people: named columns, suppressed counts, thin-market areas first."""
    shown = suppressed_areas(frame.sort(["thin", "area_name"], descending=[True, False])).display
    shown = shown.with_columns(
        pl.when(pl.col("thin").is_null())
        .then(None)  # demand unknown: blank, not "No"
        .when(pl.col("thin"))
        .then(pl.lit("Yes"))
        .otherwise(pl.lit("No"))
        .alias("thin")
    )
    return shown.select(list(TABLE_COLUMNS)).rename(TABLE_COLUMNS)


def _title(frame: pl.DataFrame, shown: pl.DataFrame, measure: Measure) -> str:
    """Return a title stating the finding for ``measure``.

    ``shown`` is the suppressed values frame (hidden cells null), so a title never reveals a
    hidden count: when every non-zero value is hidden it counts the areas with any instead.
    """
    thin = frame.filter(pl.col("thin"))
    demand = frame.filter(pl.col("has_demand"))
    least = min_providers()
    if measure.key == "providers":
        if frame.is_empty():
            return "No area figures for this month"
        if not demand_known(frame):
            few = frame.filter(pl.col("providers_active") < least).height
            return f"{few} of {frame.height} areas have fewer than {least} providers (demand unknown: no waiting list)"
        if demand.is_empty():  # never "every area with demand has ..." when no area has any
            return "No area has anyone in care or waiting"
        if thin.is_empty():
            return f"Every area with demand has at least {least} providers"
        names = thin.sort("area_name")["area_name"].to_list()
        which = names[0] if len(names) == 1 else f"{len(names)} of {demand.height} areas with demand"
        verb = "has" if len(names) == 1 else "have"
        return f"{which} {verb} fewer than {least} providers"
    values = shown.filter(pl.col(measure.column).is_not_null() & (pl.col(measure.column) > 0))
    if values.is_empty():
        hidden = shown.filter(pl.col(measure.column).is_null()).height
        if hidden == 0:
            return f"No area has any {measure.noun}"
        return f"{hidden} of {shown.height} areas have {measure.noun}; counts too small to show by area"
    top = values.sort([measure.column, "area_name"], descending=[True, False]).row(0, named=True)
    return f"{top['area_name']} has the most {measure.noun}: {measure.fmt(top[measure.column])}"


def coverage_map(
    frame: pl.DataFrame,
    filters: Filters,
    measure_key: str,
    info: DropInfo,
    geojson: dict | None,
) -> ChartSpec:
    """Return the ward map of ``measure_key`` for the areas in ``frame``.

    Shaded wards when ``geojson`` (features keyed by ``properties.area_code``) is given; circles at
    the centroids when not; with no centroids either, a spec without a figure whose ``alt_text``
    says what is missing. Thin-market areas (demand and too few providers) are outlined in orange.
    """
    measure = MEASURES[measure_key]
    data = suppressed_areas(frame)
    base = spec(
        info,
        "coverage-map",
        _title(frame, data.values, measure),
        subtitle(f"{measure.label}, {service_label(filters)}, by area", filters),
    )
    mark = f"Demand but fewer than {min_providers()} providers"
    if geojson:
        chart = choropleth_map(
            geojson,
            data,
            "area_code",
            measure.column,
            spec=base,
            measure=measure.described or measure.noun,
            featureidkey="properties.area_code",
            name="area_name",
            value_format=measure.fmt,
        )
        top = data.values[measure.column].max()
        chart.figure.update_traces(zmin=0, zmax=max(top or 0, 1), selector=0)
        thin = frame.filter(pl.col("thin"))
        if thin.height:
            chart.figure.add_choroplethmap(
                geojson=features_for(geojson, thin["area_code"].to_list(), "properties.area_code"),
                featureidkey="properties.area_code",
                locations=thin["area_code"].to_list(),
                z=[0] * thin.height,
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False,
                marker={"line": {"color": THIN, "width": 4}},
                hovertext=[f"{n}: {mark.lower()}" for n in thin["area_name"]],
                hoverinfo="text",
                name=mark,
                showlegend=False,
            )
            # An empty point trace gives the outline a visible legend key.
            chart.figure.add_scattermap(
                lat=[None], lon=[None], mode="markers", marker={"size": 12, "color": THIN}, name=mark, hoverinfo="skip"
            )
            chart.figure.update_layout(showlegend=True)
            chart.style(chart.figure)
        return _with_thin_sentence(chart, frame)
    located = frame.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    if located.is_empty():
        return replace(
            base,
            alt_text=(
                "This drop has no area boundaries and no area centroids (latitude and longitude in "
                "areas.csv), so the map cannot be drawn; the table shows every area."
            ),
        )
    data = suppressed_areas(located)
    chart = bubble_map(
        data,
        "latitude",
        "longitude",
        measure.column,
        spec=base,
        measure=measure.described or measure.noun,
        name="area_name",
        value_format=measure.fmt,
        noun="areas",
    )
    chart.figure.update_traces(name=measure.label, selector=0)
    hidden = data.values.filter(pl.col(measure.column).is_null())
    if hidden.height:  # hidden or missing values: a grey dot, so the area is still on the map
        chart.figure.add_scattermap(
            lat=hidden["latitude"].to_list(),
            lon=hidden["longitude"].to_list(),
            mode="markers",
            marker={"size": 7, "color": FOCUS_OTHER},
            name="Not shown ([c] or [x])",
            hovertext=[f"{n}: not shown" for n in hidden["area_name"]],
            hoverinfo="text",
        )
    thin = located.filter(pl.col("thin"))
    if thin.height:
        chart.figure.add_scattermap(
            lat=thin["latitude"].to_list(),
            lon=thin["longitude"].to_list(),
            mode="markers",
            marker={"size": 12, "color": THIN},
            name=mark,
            hovertext=[f"{n}: {mark.lower()}" for n in thin["area_name"]],
            hoverinfo="text",
        )
    chart.figure.update_layout(showlegend=True)
    chart.style(chart.figure)
    if located.height < frame.height:
        missing = frame.height - located.height
        chart = replace(
            chart, alt_text=f"{chart.alt_text} {fmt_int(missing)} areas have no centroid and are not drawn."
        )
    return _with_thin_sentence(chart, frame)


def _with_thin_sentence(chart: ChartSpec, frame: pl.DataFrame) -> ChartSpec:
    thin = frame.filter(pl.col("thin")).sort("area_name")["area_name"].to_list()
    if not thin:
        return chart
    listed = thin[0] if len(thin) == 1 else f"{', '.join(thin[:-1])} and {thin[-1]}"
    verb = "is" if len(thin) == 1 else "are"
    return replace(chart, alt_text=f"{chart.alt_text} {listed} {verb} outlined: demand but too few providers.")


@dataclass(frozen=True)
class CoverageView:
    """Everything the Map and coverage page shows."""

    map: Panel
    table: pl.DataFrame
    summary: str
    notes: list[str]


def coverage_summary(frame: pl.DataFrame, filters: Filters) -> str:
    """Return the page's sentence on thin markets for ``area_frame`` rows: "3 of 12 areas with demand have
    fewer than 2 providers delivering home care.", or why areas with demand can't be counted, or that none has any.
    """
    if not demand_known(frame):  # never "0 of 0 areas with demand": the drop cannot say which areas have demand
        return demand_unknown_text(frame, filters) + "."
    thin, demand = int(frame["thin"].sum()), int(frame["has_demand"].sum())
    if demand == 0:  # nor when no area has any
        month = fmt_month(filters.month)
        where = f"any area of {filters.locality}" if filters.locality else "any area"
        return f"No one is in {service_label(filters)} or waiting for care in {where} at the end of {month}."
    return (
        f"{fmt_int(thin)} of {fmt_int(demand)} areas with demand have fewer than {min_providers()} providers "
        f"delivering {service_label(filters)}."
    )


def coverage(cur: duckdb.DuckDBPyConnection, filters: Filters, measure_key: str = "providers") -> CoverageView:
    """Return the Map and coverage page for ``filters`` and the chosen measure (a key of ``MEASURES``)."""
    frame = area_frame(cur, filters)
    info = drop_info(cur)
    chart = coverage_map(frame, filters, measure_key, info, boundaries(cur))
    measure = MEASURES[measure_key]
    summary = coverage_summary(frame, filters)
    notes = [
        "People waiting and hours waiting cover all service types: requests carry no service type.",
        "Counts of people are rounded and small counts hidden per area; hours are hidden where the "
        "count of people they rest on is.",
    ]
    add_ignored_note(notes, filters, supported=("locality", "service_type"), what="The map and table")
    return CoverageView(
        map=Panel(chart, (measure.indicator_id, "areas_with_demand_under_min_providers")),
        table=area_table(frame),
        summary=summary,
        notes=notes,
    )


def measure_options() -> dict[str, str]:
    """Return ``{measure key: label}`` for the measure selectbox, in display order."""
    return {key: m.label for key, m in MEASURES.items()}
