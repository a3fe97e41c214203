"""Microenterprises page: counts, customers and hours over time, by locality and rural class, against comparators.

Figures come from ``mart_microenterprise_month`` (council, locality and rural class x month; all
service types). The comparator programmes are ``config.toml [reference.microenterprise_comparators]``
(Community Catalysts, Westmorland and Furness 2022-24; Cumberland Council, care micro-enterprise
service 2025), drawn as dashed reference lines and
listed in a comparison table. Areas with demand but no active microenterprise come from the area
coverage mart, rural areas first, with counts of people suppressed per area.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_int, fmt_month, fmt_month_range, fmt_number
from analytics.indicators.common import UNASSIGNED
from analytics.indicators.marts import read_mart
from analytics.publish.charts import ChartSpec, bar_chart, line_chart
from analytics.publish.headlines import trend_headline
from analytics.publish.suppression import suppress
from analytics.views.common import (
    DropInfo,
    Formatter,
    Panel,
    add_ignored_note,
    drop_info,
    geography,
    service_key,
    service_label,
    spec,
    subtitle,
    value_at,
)
from analytics.views.filters import Filters

COMPARATOR_NAMES = {"westmorland_furness": "Westmorland and Furness", "cumberland": "Cumberland"}
REFERENCE_COLOURS = ("#3D3D3D", "#801650")


def _one_dp(value: float | None) -> str:
    return fmt_number(value, 1)


@dataclass(frozen=True)
class Ratio:
    """A microenterprise ratio: mart column, comparator config suffix and words."""

    key: str
    column: str
    comparator: str  # suffix in [reference.microenterprise_comparators]
    label: str
    noun: str
    indicator_id: str


RATIOS: dict[str, Ratio] = {
    r.key: r
    for r in (
        Ratio(
            "customers_per_me",
            "customers_per_microenterprise",
            "customers_per_me",
            "Customers per microenterprise",
            "customers per microenterprise",
            "customers_per_microenterprise",
        ),
        Ratio(
            "hours_per_customer",
            "hours_per_microenterprise_customer",
            "hours_per_customer",
            "Hours a week per customer",
            "hours a week per customer",
            "hours_per_microenterprise_customer",
        ),
        Ratio(
            "hours_per_me",
            "hours_per_microenterprise",
            "hours_per_me",
            "Hours a week per microenterprise",
            "hours a week per microenterprise",
            "hours_per_microenterprise",
        ),
    )
}


def ratio_options() -> dict[str, str]:
    """Return ``{ratio key: label}`` for the ratio selectbox."""
    return {key: r.label for key, r in RATIOS.items()}


def comparators() -> dict[str, dict[str, float]]:
    """Return ``{programme name: {ratio key: value}}`` from ``config.toml``."""
    raw = settings().get("reference", {}).get("microenterprise_comparators", {})
    out: dict[str, dict[str, float]] = {}
    for prefix, name in COMPARATOR_NAMES.items():
        values = {key: raw.get(f"{prefix}_{r.comparator}") for key, r in RATIOS.items()}
        if any(v is not None for v in values.values()):
            out[name] = {k: float(v) for k, v in values.items() if v is not None}
    return out


def monthly(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return the microenterprise mart rows for the filters' area, months up to the filters' month."""
    rows = read_mart(cur, "mart_microenterprise_month", **geography(filters))
    return rows.filter(pl.col("month") <= filters.month).sort("month")


def _change_title(frame: pl.DataFrame, column: str, noun: str, fmt: Formatter) -> str:
    """Return the headline of the series drawn, by the one headline writer (``analytics.publish.headlines``)."""
    return trend_headline(frame, column, noun, fmt)


def count_chart(frame: pl.DataFrame, filters: Filters, info: DropInfo) -> ChartSpec:
    """Return active microenterprises by month (line from zero)."""
    data = frame.select("month", "microenterprises_active")
    period = fmt_month_range(data["month"].min(), data["month"].max()) if data.height else fmt_month(filters.month)
    return line_chart(
        data,
        "month",
        "microenterprises_active",
        spec=spec(
            info,
            "me-count",
            _change_title(data, "microenterprises_active", "active microenterprises", fmt_int),
            subtitle("Active microenterprises, all service types", filters, period),
        ),
        measure="active microenterprises",
        from_zero=True,
    )


def _compare_words(value: float | None, ratio: Ratio, refs: dict[str, dict[str, float]]) -> str:
    """Return how ``value`` sits against the comparators: ", above both comparators" and the like."""
    points = sorted((v[ratio.key], name) for name, v in refs.items() if ratio.key in v)
    if value is None or not points:
        return ""
    below = [n for v, n in points if value < v]
    above = [n for v, n in points if value >= v]
    if len(points) == 1:
        return f", {'below' if below else 'above'} {points[0][1]}"
    if not above:
        return ", below both comparators"
    if not below:
        return ", above both comparators"
    return ", between the two comparators"


def ratio_chart(frame: pl.DataFrame, filters: Filters, info: DropInfo, ratio_key: str) -> ChartSpec:
    """Return the chosen ratio by month, with the comparator programmes as dashed reference lines."""
    ratio = RATIOS[ratio_key]
    data = frame.select("month", ratio.column)
    refs = comparators()
    now = value_at(frame, ratio.column, filters.month)
    if now is None:
        title = f"No {ratio.noun} figure for {fmt_month(filters.month)}"
    else:
        title = f"{_one_dp(now)} {ratio.noun}{_compare_words(now, ratio, refs)}"
    period = fmt_month_range(data["month"].min(), data["month"].max()) if data.height else fmt_month(filters.month)
    chart = line_chart(
        data,
        "month",
        ratio.column,
        spec=spec(
            info,
            f"me-{ratio.key.replace('_', '-')}",
            title,
            subtitle(f"{ratio.label}, all service types, against comparator programmes", filters, period),
            source="Council data drop; comparators: Westmorland and Furness and Cumberland programme figures",
        ),
        measure=ratio.noun,
        value_format=_one_dp,
        from_zero=True,
    )
    for (name, values), colour in zip(refs.items(), REFERENCE_COLOURS, strict=False):
        if ratio.key in values:
            chart.figure.add_hline(
                y=values[ratio.key],
                line={"color": colour, "width": 2, "dash": "dash"},
                annotation={"text": f"{name} {_one_dp(values[ratio.key])}", "font": {"size": 12, "color": colour}},
                annotation_position="top left",
            )
    return chart


def geography_frame(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return the filters' month for each locality and rural class (``group``: Locality / Rural class)."""
    rows = read_mart(
        cur, "mart_microenterprise_month", geography_level=["locality", "rural_class"], month=filters.month
    )
    return rows.with_columns(
        pl.when(pl.col("geography_level") == "locality")
        .then(pl.lit("Locality"))
        .otherwise(pl.lit("Rural class"))
        .alias("group"),
        pl.when(pl.col("geography_level") == "rural_class")
        .then(pl.col("geography").str.slice(0, 1).str.to_uppercase() + pl.col("geography").str.slice(1))
        .otherwise(pl.col("geography"))
        .alias("area"),
    ).sort("group", "area")


def geography_chart(frame: pl.DataFrame, filters: Filters, info: DropInfo, ratio_key: str) -> ChartSpec:
    """Return the chosen ratio by locality and by rural class for the filters' month."""
    ratio = RATIOS[ratio_key]
    data = frame.select("area", "group", ratio.column)
    shown = data.drop_nulls(ratio.column)
    if shown.is_empty():
        title = f"No {ratio.noun} figure by area for {fmt_month(filters.month)}"
    else:
        top = shown.sort(ratio.column, descending=True).row(0, named=True)
        title = f"{top['area']} has the most {ratio.noun}: {_one_dp(top[ratio.column])}"
    chart = bar_chart(
        data,
        "area",
        ratio.column,
        spec=spec(
            info,
            "me-by-area",
            title,
            subtitle(f"{ratio.label}, all service types, by locality and rural class", filters),
        ),
        measure=ratio.noun,
        color="group",
        value_format=_one_dp,
        noun="areas",
    )
    # Each area is in one group only, so overlaid bars sit centred on their label.
    chart.figure.update_layout(barmode="overlay")
    return chart


def comparison_table(frame: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Return this area's month against the comparator programmes: one row each, the three ratios."""
    here = f"{filters.area_label().capitalize()}, {fmt_month(filters.month)}"
    rows = [
        {
            "Programme": here,
            **{r.label: value_at(frame, r.column, filters.month) for r in RATIOS.values()},
        }
    ]
    for name, values in comparators().items():
        rows.append({"Programme": name, **{r.label: values.get(key) for key, r in RATIOS.items()}})
    table = pl.DataFrame(rows, schema={"Programme": pl.String, **{r.label: pl.Float64 for r in RATIOS.values()}})
    return table.with_columns(pl.col(r.label).round(1) for r in RATIOS.values())


def areas_without(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return the areas with demand but no active microenterprise in the filters' month, rural first.

    Columns for people: area, locality, rural class, people receiving care, people waiting, hours a
    week waiting (people suppressed per area; hours hidden where the people waiting are).
    """
    kwargs = {"locality": filters.locality} if filters.locality else {}
    rows = read_mart(
        cur, "mart_coverage_area_month", month=filters.month, service_type=service_key(filters), **kwargs
    ).filter(pl.col("has_demand") & (pl.col("microenterprises_active") == 0))
    rows = rows.with_columns(pl.col("locality").fill_null(UNASSIGNED)).sort(
        pl.col("rural_class") != "rural", "area_name"
    )
    table = rows.select("area_name", "locality", "rural_class", "people_in_service", "people_waiting", "hours_waiting")
    shown = suppress(
        table, count_cols=["people_in_service", "people_waiting"], derived={"hours_waiting": "people_waiting"}
    ).display
    return shown.rename(
        {
            "area_name": "Area",
            "locality": "Locality",
            "rural_class": "Rural class",
            "people_in_service": "People receiving care",
            "people_waiting": "People waiting",
            "hours_waiting": "Hours a week waiting",
        }
    )


def areas_sentence(table: pl.DataFrame, filters: Filters) -> str:
    """Return one sentence counting the areas with demand but no microenterprise (and how many are rural)."""
    n = table.height
    if n == 0:
        return f"Every area with demand had an active microenterprise in {fmt_month(filters.month)}."
    rural = table.filter(pl.col("Rural class") == "rural").height
    noun = "area" if n == 1 else "areas"
    verb = "has" if n == 1 else "have"
    return (
        f"{fmt_int(n)} {noun} with demand for {service_label(filters)} {verb} no active microenterprise in "
        f"{fmt_month(filters.month)}; {fmt_int(rural)} of them rural."
    )


@dataclass(frozen=True)
class MicroenterprisesView:
    """Everything the Microenterprises page shows."""

    count: Panel
    ratio: Panel
    by_area: Panel
    comparison: pl.DataFrame
    areas_without: pl.DataFrame
    areas_sentence: str
    notes: list[str]


def microenterprises(
    cur: duckdb.DuckDBPyConnection, filters: Filters, ratio_key: str = "customers_per_me"
) -> MicroenterprisesView:
    """Return the Microenterprises page for ``filters`` and the chosen ratio (a key of ``RATIOS``)."""
    info = drop_info(cur)
    frame = monthly(cur, filters)
    ratio = RATIOS[ratio_key]
    without = areas_without(cur, filters)
    notes = [
        "Microenterprise figures cover all service types; the table of areas without a microenterprise "
        "follows the service type filter. The locality and rural class chart compares every locality.",
    ]
    add_ignored_note(notes, filters, supported=("locality", "service_type"))
    return MicroenterprisesView(
        count=Panel(count_chart(frame, filters, info), ("microenterprises_active", "microenterprise_customers")),
        ratio=Panel(ratio_chart(frame, filters, info, ratio_key), (ratio.indicator_id,)),
        by_area=Panel(geography_chart(geography_frame(cur, filters), filters, info, ratio_key), (ratio.indicator_id,)),
        comparison=comparison_table(frame, filters),
        areas_without=without,
        areas_sentence=areas_sentence(without, filters),
        notes=notes,
    )
