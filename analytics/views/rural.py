"""Rural gaps page: every key measure split rural / urban / unclassified, and the rural waiting gap.

Reads ``mart_rural_month`` and ``mart_rural_gap_month`` (council and locality rows, all service
types), the council or locality totals from ``mart_supply_summary_month``, ``mart_waiting_month``
and ``mart_microenterprise_month``, and, for the RUC21 detail, the staged requests and areas (a few
thousand rows: cheap). Rural = RUC21 ``R*`` (else RUC11 D1/D2/E1/E2); areas with neither code are
``unclassified``, never urban, and are left out of the rural and urban shares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import polars as pl

from analytics.formatting import fmt_hours, fmt_int, fmt_month, fmt_month_range, fmt_number, fmt_pct
from analytics.indicators.common import months_frame, waiting_at_months
from analytics.indicators.marts import read_mart
from analytics.indicators.waiting import waiting_stats
from analytics.publish.charts import ChartSpec, bar_chart, line_chart
from analytics.views.common import (
    EVERY_BREAKDOWN,
    Tile,
    drop_info,
    fmt_dp,
    geography,
    geography_trend,
    hbars,
    ignored_note,
    spec,
    tall,
    trend_tile,
    value_at,
)
from analytics.views.filters import Filters

CLASSES = ("rural", "urban", "unclassified")
CLASS_LABELS = {"rural": "Rural", "urban": "Urban", "unclassified": "Unclassified", "total": "Total"}
RUC21_NAMES = {
    "UN1": "Urban: nearer to a major town or city",
    "UF1": "Urban: further from a major town or city",
    "RLN1": "Larger rural: nearer to a major town or city",
    "RLF1": "Larger rural: further from a major town or city",
    "RSN1": "Smaller rural: nearer to a major town or city",
    "RSF1": "Smaller rural: further from a major town or city",
}
NO_RUC21 = "No RUC21 code"

# Measure id, label, formatter, additive across rural classes (so the classes sum to the total).
MEASURES: tuple[tuple[str, str, object, bool], ...] = (
    ("people_in_service", "People receiving care", fmt_int, True),
    ("planned_hours_per_week", "Planned hours a week", lambda v: fmt_hours(v, 1, unit=False), True),
    ("providers_active", "Providers active", fmt_int, False),
    ("population_65_plus", "Residents aged 65 years and over", fmt_int, True),
    (
        "hours_per_1000_65_plus",
        "Planned hours a week per 1,000 residents aged 65 years and over",
        lambda v: fmt_number(v, 1),
        False,
    ),
    ("people_waiting", "People waiting", fmt_int, True),
    ("hours_waiting", "Hours a week waiting", lambda v: fmt_hours(v, 1, unit=False), True),
    ("median_wait_days", "Median wait so far (days)", lambda v: fmt_number(v, 1), False),
    ("p90_wait_days", "90th percentile wait so far (days)", lambda v: fmt_number(v, 1), False),
    ("microenterprises_active", "Microenterprises active", fmt_int, False),
    ("microenterprise_customers", "Microenterprise customers", fmt_int, True),
)
ADDITIVE = tuple(m[0] for m in MEASURES if m[3])
# Measures whose rural share is compared with the rural share of residents aged 65 and over.
SHARE_MEASURES = (
    ("population_65_plus", "Residents aged 65 years and over"),
    ("people_in_service", "People receiving care"),
    ("planned_hours_per_week", "Planned hours of care"),
    ("people_waiting", "People waiting"),
    ("hours_waiting", "Hours waiting"),
    ("microenterprise_customers", "Microenterprise customers"),
)


def times_phrase(ratio: float | None) -> str | None:
    """Return how one wait compares with another: "3.2 times as long as", "32% longer than", ..."""
    if ratio is None:
        return None
    if ratio >= 1.5:
        return f"{fmt_number(ratio, 1)} times as long as"
    if ratio >= 1.1:
        return f"{fmt_pct((ratio - 1) * 100, 0)} longer than"
    if ratio > 0.9:
        return "about as long as"
    return "shorter than"


# --- the split ---------------------------------------------------------------------------------


def _totals(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, float | None]:
    """Return the geography's totals at ``filters.month`` for every measure (exact distinct counts)."""
    where = {**geography(filters), "month": filters.month}
    supply = read_mart(cur, "mart_supply_summary_month", service_type="all", **where)
    waiting = read_mart(cur, "mart_waiting_month", **where)
    micro = read_mart(cur, "mart_microenterprise_month", **where)
    out: dict[str, float | None] = {}
    for frame, columns in (
        (
            supply,
            (
                "people_in_service",
                "planned_hours_per_week",
                "providers_active",
                "population_65_plus",
                "hours_per_1000_65_plus",
            ),
        ),
        (waiting, ("people_waiting", "hours_waiting", "median_wait_days", "p90_wait_days")),
        (micro, ("microenterprises_active", "microenterprise_customers")),
    ):
        row = frame.row(0, named=True) if frame.height else {}
        out.update({c: row.get(c) for c in columns})
    return out


def rural_classes(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return ``mart_rural_month`` rows (three rural classes) for the geography, every month."""
    return read_mart(cur, "mart_rural_month", **geography(filters)).sort("month", "rural_class")


def split(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return the rural split at ``filters.month``: one row per measure (``MEASURES``), numeric.

    Columns: ``measure_id, measure, rural, urban, unclassified, total``. ``total`` is the
    geography's own figure (distinct counts are not the sum of the classes: a provider can work in
    rural and urban areas); for additive measures the three classes sum to it.
    """
    classes = rural_classes(cur, filters).filter(pl.col("month") == filters.month)
    totals = _totals(cur, filters)
    by_class = {row["rural_class"]: row for row in classes.iter_rows(named=True)}
    rows = []
    for measure_id, label, _, _ in MEASURES:
        rows.append(
            {
                "measure_id": measure_id,
                "measure": label,
                **{cls: _float(by_class.get(cls, {}).get(measure_id)) for cls in CLASSES},
                "total": _float(totals.get(measure_id)),
            }
        )
    schema = {"measure_id": pl.String, "measure": pl.String, **dict.fromkeys((*CLASSES, "total"), pl.Float64)}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _float(value: object) -> float | None:
    return None if value is None else float(value)


def split_display(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``split`` formatted for people: one string per cell, ``[x]`` where there is no value."""
    formats = {m[0]: m[2] for m in MEASURES}
    rows = []
    for row in frame.iter_rows(named=True):
        fmt = formats[row["measure_id"]]
        rows.append({"Measure": row["measure"], **{CLASS_LABELS[c]: fmt(row[c]) for c in (*CLASSES, "total")}})
    return pl.DataFrame(rows, schema=dict.fromkeys(["Measure", "Rural", "Urban", "Unclassified", "Total"], pl.String))


# --- charts ------------------------------------------------------------------------------------


def shares(frame: pl.DataFrame) -> pl.DataFrame:
    """Return rural and urban shares (% of rural + urban) of the ``SHARE_MEASURES`` from a ``split`` frame.

    Columns: ``measure, area_type, share_pct`` (null when neither class has any).
    """
    rows = []
    values = {r["measure_id"]: r for r in frame.iter_rows(named=True)}
    for measure_id, label in SHARE_MEASURES:
        row = values.get(measure_id, {})
        rural, urban = row.get("rural"), row.get("urban")
        total = (rural or 0.0) + (urban or 0.0)
        for cls, value in (("Rural", rural), ("Urban", urban)):
            # A class with no areas has no population figure (null): it holds 0% of a non-zero total.
            share = None if total == 0 else (value or 0.0) * 100.0 / total
            rows.append({"measure": label, "area_type": cls, "share_pct": share})
    return pl.DataFrame(rows, schema={"measure": pl.String, "area_type": pl.String, "share_pct": pl.Float64})


def share_title(data: pl.DataFrame) -> str:
    """Return the headline of the share chart: rural share of residents 65+ against of hours waiting."""

    def rural(label: str) -> float | None:
        hit = data.filter((pl.col("measure") == label) & (pl.col("area_type") == "Rural"))
        return hit.item(0, "share_pct") if hit.height else None

    pop, waiting = rural("Residents aged 65 years and over"), rural("Hours waiting")
    if pop is None:
        return "No area here has a rural or urban classification"
    if pop == 0:
        return "No area here is classified as rural"
    if pop == 100:
        return "Every classified area here is rural"
    if waiting is None:
        return f"Rural areas have {fmt_pct(pop, 0)} of residents aged 65 years and over; nobody is waiting"
    joiner = "but" if waiting > pop + 2 else "and"
    return (
        f"Rural areas have {fmt_pct(pop, 0)} of residents aged 65 years and over {joiner} "
        f"{fmt_pct(waiting, 0)} of the hours waiting"
    )


def share_alt_text(data: pl.DataFrame) -> str:
    """Return the text alternative of the share chart: the rural share of every measure."""
    rural = data.filter(pl.col("area_type") == "Rural")
    parts = [
        f"{fmt_pct(v, 0)} of {m[0].lower() + m[1:]}"
        for m, v in rural.select("measure", "share_pct").iter_rows()
        if v is not None
    ]
    if not parts:
        return "There is no rural or urban figure to compare."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Rural areas have {listed}; urban areas have the rest."


def share_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the rural and urban shares of each key measure as grouped horizontal bars."""
    frame = split(cur, filters) if frame is None else frame
    data = shares(frame)
    base = replace(
        spec(
            drop_info(cur),
            "rural-shares",
            share_title(data),
            f"Share of rural and urban areas' total (%), all service types, {filters.area_label()}, "
            f"{fmt_month(filters.month)}; unclassified areas left out",
        ),
        alt_text=share_alt_text(data),
    )
    return bar_chart(
        data,
        "measure",
        "share_pct",
        spec=base,
        measure="share of the rural and urban total",
        orientation="h",
        color="area_type",
        value_format=lambda v: fmt_pct(v, 0),
        value_label="Share (%)",
    )


def gap_series(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return ``mart_rural_gap_month`` for the geography up to ``filters.month`` (oldest first)."""
    return geography_trend(cur, "mart_rural_gap_month", filters)


def gap_title(series: pl.DataFrame) -> str:
    """Return the headline of the gap chart: in how many months rural areas carried more waiting than care."""
    if series.is_empty():
        return "There is no rural waiting gap to show"
    planned = series.get_column("rural_share_planned_hours_pct").drop_nulls()
    if not planned.is_empty() and ((planned == 100).all() or (planned == 0).all()):
        kind = "rural" if (planned == 100).all() else "urban"
        return f"Every classified area here is {kind}, so there is no rural-urban gap to measure"
    gaps = series.get_column("rural_gap_waiting_share_pp").drop_nulls()
    if gaps.is_empty():
        return "There is no rural waiting gap to show"
    above, below, n = int((gaps > 0).sum()), int((gaps < 0).sum()), gaps.len()
    if above >= below:
        return f"Rural areas carried more of the waiting than of the care in {above} of {n} months"
    return f"Rural areas carried less of the waiting than of the care in {below} of {n} months"


def gap_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, series: pl.DataFrame | None = None) -> ChartSpec:
    """Return the waiting share gap (rural share of hours waiting minus of planned hours) over time."""
    series = gap_series(cur, filters) if series is None else series
    period = fmt_month_range(series.item(0, "month"), series.item(-1, "month")) if series.height else "no months"
    base = spec(
        drop_info(cur),
        "rural-waiting-gap",
        gap_title(series),
        "Rural share of hours waiting minus rural share of planned hours (percentage points), "
        f"all service types, {filters.area_label()}, {period}",
    )
    data = series.select(
        "month",
        pl.col("rural_gap_waiting_share_pp").alias("gap_pp"),
        pl.col("rural_share_hours_waiting_pct").alias("rural_share_of_hours_waiting_pct"),
        pl.col("rural_share_planned_hours_pct").alias("rural_share_of_planned_hours_pct"),
    )
    return line_chart(
        data,
        "month",
        "gap_pp",
        spec=base,
        measure="the rural waiting share gap",
        value_format=lambda v: f"{fmt_number(v, 1)} points",
        value_label="Percentage points (above 0: rural areas wait more)",
        from_zero=True,
    )


def wait_title(rural: float | None, urban: float | None) -> str:
    """Return the headline of the waits-by-class chart from the rural and urban median waits (days)."""
    if rural is None and urban is None:
        return "Nobody is waiting in a rural or urban area"
    if rural is None or urban is None:
        who, days = ("rural", rural) if urban is None else ("urban", urban)
        return f"Only {who} areas here have people waiting (median {fmt_number(days, 0)} days so far)"
    phrase = times_phrase(rural / urban if urban > 0 else None)
    if phrase is None:
        return f"People waiting in rural areas have waited a median of {fmt_number(rural, 0)} days so far"
    return f"Rural waits so far are {phrase} urban waits"


def wait_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, classes: pl.DataFrame | None = None) -> ChartSpec:
    """Return median and 90th percentile days waited so far by rural class at ``filters.month``."""
    classes = rural_classes(cur, filters) if classes is None else classes
    order = {cls: i for i, cls in enumerate(CLASSES)}
    now = (
        classes.filter(pl.col("month") == filters.month)
        .with_columns(pl.col("rural_class").replace_strict(order, default=len(order)).alias("__order"))
        .sort("__order")
    )
    data = now.select(
        pl.col("rural_class").replace_strict(CLASS_LABELS, default=None).alias("area_type"),
        "people_waiting",
        pl.col("median_wait_days").alias("Median"),
        pl.col("p90_wait_days").alias("90th percentile"),
    ).unpivot(index=["area_type", "people_waiting"], variable_name="statistic", value_name="days")
    medians = {r["rural_class"]: r["median_wait_days"] for r in now.iter_rows(named=True)}
    base = spec(
        drop_info(cur),
        "rural-waits",
        wait_title(medians.get("rural"), medians.get("urban")),
        f"Days waited so far by people waiting, by area type, all service types, {filters.area_label()}, "
        f"{fmt_month(filters.month)}",
    )
    return bar_chart(
        data,
        "area_type",
        "days",
        spec=base,
        measure="days waited",
        color="statistic",
        value_format=lambda v: fmt_number(v, 0),
        value_label="Days",
    )


# --- RUC21 detail ------------------------------------------------------------------------------


def _areas(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    areas = cur.sql(
        "select area_code, area_name, coalesce(locality, 'Unassigned') as locality, ruc21 from stg_areas"
    ).pl()
    return areas.filter(pl.col("locality") == filters.locality) if filters.locality else areas


def ruc21_waits(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return waits by RUC21 class at ``filters.month``, in RUC21 order (areas with no code last).

    Columns: ``ruc21, ruc21_name, areas, people_waiting, hours_waiting, median_wait_days,
    p90_wait_days``. Counts are 0 (days null) for a class with areas but nobody waiting.
    """
    areas = _areas(cur, filters).with_columns(pl.col("ruc21").fill_null(NO_RUC21))
    requests = cur.sql("select * from stg_requests").pl().join(areas.select("area_code", "ruc21"), on="area_code")
    stats = waiting_stats(waiting_at_months(requests, months_frame(filters.month, 1)), ["ruc21"])
    order = [*RUC21_NAMES, NO_RUC21]
    counts = areas.group_by("ruc21").agg(pl.len().cast(pl.Int64).alias("areas"))
    return (
        counts.join(stats, on="ruc21", how="left")
        .with_columns(
            pl.col("ruc21").replace_strict(RUC21_NAMES, default=NO_RUC21).alias("ruc21_name"),
            pl.col("people_waiting").fill_null(0),
            pl.col("hours_waiting").fill_null(0.0),
            pl.col("ruc21").replace_strict({c: i for i, c in enumerate(order)}, default=len(order)).alias("__order"),
        )
        .sort("__order")
        .select("ruc21", "ruc21_name", "areas", "people_waiting", "hours_waiting", "median_wait_days", "p90_wait_days")
    )


def ruc21_title(frame: pl.DataFrame) -> str:
    """Return the headline of the RUC21 chart: the class with the longest median wait."""
    shown = frame.drop_nulls("median_wait_days")
    if shown.is_empty():
        return "Nobody is waiting in any RUC21 class"
    top = shown.row(shown.get_column("median_wait_days").arg_max(), named=True)
    name = top["ruc21_name"]
    who = "Areas with no RUC21 code" if name == NO_RUC21 else name.replace(":", " areas")
    return f"{who} have the longest median wait ({fmt_number(top['median_wait_days'], 0)} days)"


def ruc21_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return the median days waited so far by RUC21 class at ``filters.month`` (horizontal bars)."""
    frame = ruc21_waits(cur, filters) if frame is None else frame
    base = spec(
        drop_info(cur),
        "rural-ruc21-waits",
        ruc21_title(frame),
        f"Median days waited so far, by 2021 Rural-Urban Classification of the person's area, "
        f"{filters.area_label()}, {fmt_month(filters.month)}",
    )
    label = (
        pl.when(pl.col("ruc21") == NO_RUC21)
        .then(pl.col("ruc21"))
        .otherwise(pl.format("{} ({})", "ruc21_name", "ruc21"))
    )
    data = frame.select(label.alias("class"), "median_wait_days", "people_waiting")
    chart = hbars(
        data,
        "class",
        "median_wait_days",
        base,
        measure="the median days waited",
        noun="classes",
        scale=(lambda v: fmt_number(v, 0), "Median days waited"),
    )
    return tall(chart, data.height)


# --- the page ----------------------------------------------------------------------------------


def tiles(cur: duckdb.DuckDBPyConnection, filters: Filters, series: pl.DataFrame | None = None) -> list[Tile]:
    """Return the rural gap headline tiles at ``filters.month`` with changes on last month and last year."""
    series = gap_series(cur, filters) if series is None else series
    # The rural marts have no service type: figures built on planned hours say so in their label.
    planned_scope = " (all service types)" if filters.service_type else ""

    def tile(label, measure, fmt, indicator_id, higher_is_worse):
        return trend_tile(
            series,
            filters.month,
            label,
            measure,
            fmt,
            indicator_id=indicator_id,
            higher_is_worse=higher_is_worse,
            percent_change=False,
        )

    return [
        tile(
            "Rural waiting gap" + planned_scope,
            "rural_gap_waiting_share_pp",
            fmt_dp(1),
            "rural_gap_waiting_share_pp",
            True,
        ),
        tile(
            "Rural share of hours waiting",
            "rural_share_hours_waiting_pct",
            fmt_pct,
            "rural_share_hours_waiting_pct",
            True,
        ),
        tile(
            "Rural share of planned hours" + planned_scope,
            "rural_share_planned_hours_pct",
            fmt_pct,
            "rural_share_planned_hours_pct",
            None,
        ),
        tile(
            "Rural to urban median wait ratio",
            "rural_urban_median_wait_ratio",
            fmt_dp(1),
            "rural_urban_median_wait_ratio",
            True,
        ),
    ]


@dataclass(frozen=True)
class RuralPage:
    """Everything the Rural gaps page shows for one set of filters."""

    tiles: list[Tile]
    split: pl.DataFrame
    split_display: pl.DataFrame
    share_chart: ChartSpec
    gap_chart: ChartSpec
    wait_chart: ChartSpec
    ruc21: pl.DataFrame
    ruc21_chart: ChartSpec
    unclassified_areas: int | None
    notes: list[str]


def rural_page(cur: duckdb.DuckDBPyConnection, filters: Filters) -> RuralPage:
    """Return everything the Rural gaps page shows (one call, so the page caches it once)."""
    frame = split(cur, filters)
    series = gap_series(cur, filters)
    classes = rural_classes(cur, filters)
    ruc = ruc21_waits(cur, filters)
    unclassified = value_at(series, "unclassified_areas", filters.month)
    notes = [
        note
        for note in (
            ignored_note(filters, what="Rural figures", covers=EVERY_BREAKDOWN),
            (
                f"{fmt_int(unclassified)} area(s) here have no rural-urban code and are counted as "
                "unclassified, not urban; they are left out of the rural and urban shares."
                if unclassified
                else None
            ),
            "Providers and microenterprises working in both rural and urban areas count once in each, "
            "so those two rows do not add up to the total.",
        )
        if note
    ]
    return RuralPage(
        tiles=tiles(cur, filters, series),
        split=frame,
        split_display=split_display(frame),
        share_chart=share_chart(cur, filters, frame),
        gap_chart=gap_chart(cur, filters, series),
        wait_chart=wait_chart(cur, filters, classes),
        ruc21=ruc,
        ruc21_chart=ruc21_chart(cur, filters, ruc),
        unclassified_areas=None if unclassified is None else int(unclassified),
        notes=notes,
    )


__all__ = [
    "MEASURES",
    "RuralPage",
    "gap_chart",
    "gap_series",
    "rural_page",
    "ruc21_chart",
    "ruc21_waits",
    "share_chart",
    "split",
    "split_display",
    "tiles",
    "wait_chart",
]
