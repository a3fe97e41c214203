"""Provider exit and demand page: what if a provider left, and will today's capacity meet future demand?

Exit stress test (``indicators.exit_stress``): one provider leaves on the chosen month's date and
its hours are re-homed with other providers' spare capacity (same area first, then same locality).
The ranking of every provider comes from ``mart_exit_ranking`` on the drop's date for the whole
council, and is recomputed from the staged areas, providers and packages (milliseconds) for another
month or a locality. One provider's exit is computed from the same staged tables; the page caches
it per provider.

People counts by area are returned raw (``people``), so publication mode can suppress them later.

Demand projection (``indicators.projection``): hours needed = today's hours x (1 + g/100)^year, from
``mart_projection`` (year 0 is today's hours; capacity for the whole council only), so the growth
rate ``g`` can change without touching staged data.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date

import duckdb
import polars as pl

from analytics.formatting import fmt_date, fmt_hours, fmt_int, fmt_month, fmt_number, fmt_pct
from analytics.indicators import exit_stress
from analytics.indicators.marts import read_mart
from analytics.indicators.projection import projection_settings
from analytics.ingest.staged import Staged
from analytics.publish.charts import ChartSpec, bubble_map, choropleth_map, features_for, line_chart, stacked_bar
from analytics.publish.suppression import is_primary, round_count, rule, suppression_rule_text
from analytics.store import queries
from analytics.views.common import EVERY_BREAKDOWN, Tile, drop_info, geography, ignored_note, make_tile, spec
from analytics.views.filters import Filters

NO_MAP = (
    "This drop has no area boundaries and no area centroids (latitude and longitude in areas.csv), "
    "so the map cannot be drawn; the table below lists the hours by area."
)
PARTS = (
    ("absorbed_same_area", "Absorbed in the same area"),
    ("absorbed_same_locality", "Absorbed elsewhere in the locality"),
    ("hours_uncovered", "Uncovered"),
)


def _hours(value: float | None) -> str:
    return fmt_hours(value, 0)


# The packages' columns the exit stress test reads (who, where, which provider, when, how many
# hours); the rest (service type, funding, rates, contract...) stay blank: reading every column
# of every package was a third of the market's time at 50x.
PACKAGE_COLUMNS = (
    "package_id",
    "person_id",
    "area_code",
    "provider_id",
    "start_date",
    "end_date",
    "planned_hours_per_week",
)


def market_tables(cur: duckdb.DuckDBPyConnection) -> Staged:
    """Return the staged areas, providers and packages (all the exit stress test needs) as a ``Staged``.

    Packages carry only ``PACKAGE_COLUMNS``; their other columns are blank.
    """
    info = drop_info(cur)
    frames = {name: cur.sql(f"select * from stg_{name}").pl() for name in ("areas", "providers")}
    frames["packages"] = cur.sql(f"select {', '.join(PACKAGE_COLUMNS)} from stg_packages").pl()
    return Staged.from_frames(info.as_of, **frames)


# The staged tables and the market on one date, per snapshot (drop id and load time) and date, for
# the last few asked: a month change on the Exit page needs both the ranking and one provider's
# exit of that month, and each read every package and indexed who serves where (0.3 s of CPU at
# 50x, 4,800 providers). Never changed once made (allocation copies nothing into it).
_MARKETS: OrderedDict[tuple, tuple[Staged, exit_stress.Market]] = OrderedDict()
_MARKETS_KEPT = 4
_markets_lock = threading.Lock()


def market(cur: duckdb.DuckDBPyConnection, month: date) -> tuple[Staged, exit_stress.Market]:
    """Return ``(market_tables(cur), exit_stress.prepare_market(those, month))``, made once per snapshot and month."""
    summary = queries.drop_summary(cur)
    key = (summary.drop_id, summary.loaded_at, month)
    with _markets_lock:
        if key in _MARKETS:
            _MARKETS.move_to_end(key)
            return _MARKETS[key]
    staged = market_tables(cur)
    made = (staged, exit_stress.prepare_market(staged, month))
    with _markets_lock:
        _MARKETS[key] = made
        while len(_MARKETS) > _MARKETS_KEPT:
            _MARKETS.popitem(last=False)
    return made


# --- ranking -------------------------------------------------------------------------------------


def ranking(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """Return every provider ranked by the hours its exit alone would leave uncovered (``RANKING_SCHEMA``).

    ``mart_exit_ranking`` when the month is the drop's date and there is no locality filter;
    otherwise ``exit_stress.difficult_to_replace`` on the staged tables for that month and locality.
    """
    info = drop_info(cur)
    if filters.month == info.as_of and not filters.locality:
        return read_mart(cur, "mart_exit_ranking").sort("rank")
    staged, month_market = market(cur, filters.month)
    return exit_stress.difficult_to_replace(staged, filters.month, filters.locality, month_market)


def provider_options(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """Return ``(provider_id, label)`` for providers with hours, in ranking order (most uncovered first)."""
    rows = frame.filter(pl.col("hours") > 0).sort("rank")
    return [
        (
            r["provider_id"],
            f"{r['provider_name'] or r['provider_id']} ({r['provider_id']}): {fmt_hours(r['hours'], 0)} a week, "
            f"{fmt_hours(r['hours_uncovered'], 0)} uncovered",
        )
        for r in rows.iter_rows(named=True)
    ]


def ranking_display(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the difficult-to-replace ranking for people: providers with hours, formatted, flags in words."""
    return (
        frame.filter(pl.col("hours") > 0)
        .sort("rank")
        .select(
            pl.col("rank").alias("Rank"),
            pl.col("provider_name").fill_null(pl.col("provider_id")).alias("Provider"),
            pl.col("provider_type").str.replace_all("_", " ").alias("Type"),
            pl.col("people").alias("People"),
            pl.col("hours").round(1).alias("Hours a week"),
            pl.col("hours_uncovered").round(1).alias("Hours uncovered if it left"),
            pl.col("uncovered_pct").round(1).alias("% uncovered"),
            pl.col("cover_ratio").round(2).alias("Cover ratio"),
            pl.when(pl.col("difficult_to_replace"))
            .then(pl.lit("Yes"))
            .otherwise(pl.lit("No"))
            .alias("Difficult to replace"),
            pl.when(pl.col("market_oversight"))
            .then(pl.format("Yes: {}", pl.col("market_oversight_reason")))
            .otherwise(pl.lit("No"))
            .alias("National market oversight"),
        )
    )


@dataclass(frozen=True)
class RankingView:
    """The ranking and the provider choices for the exit page."""

    ranking: pl.DataFrame
    display: pl.DataFrame
    options: list[tuple[str, str]]
    default_provider: str | None
    difficult: int
    oversight: int
    sentence: str


def ranking_view(cur: duckdb.DuckDBPyConnection, filters: Filters) -> RankingView:
    """Return the ranking, the selectbox options and the default provider (most hours uncovered)."""
    frame = ranking(cur, filters)
    options = provider_options(frame)
    difficult = int(frame.get_column("difficult_to_replace").sum())
    oversight = int(frame.get_column("market_oversight").sum())
    where = f" in {filters.locality}" if filters.locality else ""
    if not options:  # never "0 of 0 providers are difficult to replace"
        sentence = f"No provider has hours in care{where} at the end of {fmt_month(filters.month)}: nothing to rank."
    else:
        sentence = (
            f"{difficult} of {len(options)} providers{where} {'is' if difficult == 1 else 'are'} difficult to replace: "
            "if any one of them left, some of its hours could not be re-homed with the spare capacity of the others. "
            f"{'No provider meets' if oversight == 0 else str(oversight) + (' meets' if oversight == 1 else ' meet')} "
            "a national market oversight threshold (SI 2015/314) on the council's packages alone."
        )
    return RankingView(
        ranking=frame,
        display=ranking_display(frame),
        options=options,
        default_provider=options[0][0] if options else None,
        difficult=difficult,
        oversight=oversight,
        sentence=sentence,
    )


# --- one provider's exit -------------------------------------------------------------------------


def exit_title(impact: exit_stress.ExitImpact) -> str:
    """Return the headline: how many hours would be left uncovered if the provider left."""
    name = impact.provider_name or impact.provider_id
    if impact.hours_displaced == 0:
        return f"{name} has no active packages here"
    if impact.hours_uncovered > 0:
        pct = impact.hours_uncovered * 100 / impact.hours_displaced
        return (
            f"If {name} left, {_hours(impact.hours_uncovered)} a week ({fmt_pct(pct, 0)} of its hours) "
            "would have no provider"
        )
    return f"Other providers could absorb all {_hours(impact.hours_displaced)} a week of {name}"


def _areas(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    areas = cur.sql(
        "select area_code, area_name, coalesce(locality, 'Unassigned') as locality, latitude, longitude from stg_areas"
    ).pl()
    return areas.filter(pl.col("locality") == filters.locality) if filters.locality else areas


def by_area(impact: exit_stress.ExitImpact, areas: pl.DataFrame) -> pl.DataFrame:
    """Return every area in scope with the provider's displaced people and hours (0 where none).

    Columns: ``area_code, area_name, locality, people, packages, hours_displaced, absorbed_same_area,
    absorbed_same_locality, hours_uncovered`` (people and packages are raw counts).
    """
    measures = ["people", "packages", "hours_displaced", *[p[0] for p in PARTS]]
    detail = impact.by_area.select("area_code", *measures)
    return (
        areas.select("area_code", "area_name", "locality")
        .join(detail, on="area_code", how="left")
        .with_columns(
            pl.col("people", "packages").fill_null(0).cast(pl.Int64),
            pl.col("hours_displaced", *[p[0] for p in PARTS]).fill_null(0.0),
        )
        .sort(["hours_displaced", "area_name"], descending=[True, False])
    )


def map_chart(
    cur: duckdb.DuckDBPyConnection, filters: Filters, impact: exit_stress.ExitImpact, areas: pl.DataFrame
) -> ChartSpec:
    """Return displaced hours by area on a map (areas shaded; bubbles at area centres with no boundaries)."""
    name = impact.provider_name or impact.provider_id
    frame = by_area(impact, areas)
    hit = frame.filter(pl.col("hours_displaced") > 0)
    if hit.is_empty():
        title = f"{name} has no active packages in {filters.area_label()}"
    else:
        top = hit.row(0, named=True)
        title = f"{name} works in {hit.height} areas here, most hours in {top['area_name']}"
    base = spec(
        drop_info(cur),
        "exit-map",
        title,
        f"Hours a week that would need a new provider, by area, if {name} left, {filters.area_label()}, "
        f"{fmt_month(filters.month)}",
    )
    geojson = queries.boundaries(cur)
    data = frame.select("area_code", "area_name", "locality", "people", "hours_displaced")
    if geojson is not None:
        return choropleth_map(
            features_for(geojson, data.get_column("area_code").to_list(), "properties.area_code"),
            data,
            "area_code",
            "hours_displaced",
            spec=base,
            measure="hours a week needing a new provider",
            featureidkey="properties.area_code",
            name="area_name",
            value_format=_hours,
            value_label="Hours a week",
        )
    points = frame.join(areas.select("area_code", "latitude", "longitude"), on="area_code").filter(
        pl.col("hours_displaced") > 0
    )
    located = points.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    if located.is_empty() and not points.is_empty():
        return replace(base, alt_text=NO_MAP)
    chart = bubble_map(
        located.select("area_name", "latitude", "longitude", "people", "hours_displaced"),
        "latitude",
        "longitude",
        "hours_displaced",
        spec=base,
        measure="hours a week needing a new provider",
        name="area_name",
        value_format=_hours,
        noun="areas",
    )
    missing = points.height - located.height
    if missing:
        chart = replace(
            chart, alt_text=f"{chart.alt_text} {fmt_int(missing)} areas have no centroid and are not drawn."
        )
    return chart


def outcome_by_locality(impact: exit_stress.ExitImpact) -> pl.DataFrame:
    """Return displaced hours by locality split into ``PARTS`` (long: ``locality, outcome, hours``)."""
    frame = impact.by_area.group_by("locality").agg(pl.col(p[0]).sum() for p in PARTS)
    order = impact.by_locality.get_column("locality").to_list()
    rows = []
    for locality in order:
        row = frame.filter(pl.col("locality") == locality)
        for column, label in PARTS:
            rows.append({"locality": locality, "outcome": label, "hours": row.item(0, column) if row.height else 0.0})
    return pl.DataFrame(rows, schema={"locality": pl.String, "outcome": pl.String, "hours": pl.Float64})


def outcome_title(impact: exit_stress.ExitImpact, frame: pl.DataFrame) -> str:
    """Return the headline of the absorbed-versus-uncovered chart (where the uncovered hours are)."""
    uncovered = frame.filter(pl.col("outcome") == "Uncovered").sort("hours", descending=True)
    if impact.hours_displaced == 0:
        return "There are no displaced hours to re-home"
    if uncovered.is_empty() or uncovered.item(0, "hours") <= 0:
        return f"Every locality could absorb its share of the {_hours(impact.hours_displaced)} a week"
    top = uncovered.row(0, named=True)
    return f"{top['locality']} would have the most uncovered hours: {_hours(top['hours'])} a week"


def outcome_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, impact: exit_stress.ExitImpact) -> ChartSpec:
    """Return displaced hours by locality stacked as absorbed in the area, in the locality, or uncovered."""
    frame = outcome_by_locality(impact)
    name = impact.provider_name or impact.provider_id
    base = spec(
        drop_info(cur),
        "exit-outcome",
        outcome_title(impact, frame),
        f"Hours a week displaced if {name} left, by locality and whether other providers could absorb them, "
        f"{filters.area_label()}, {fmt_month(filters.month)}",
    )
    return stacked_bar(
        frame,
        "locality",
        "hours",
        "outcome",
        spec=base,
        measure="hours a week displaced",
        value_format=_hours,
        value_label="Hours a week",
        noun="localities",
    )


def exit_tiles(impact: exit_stress.ExitImpact) -> list[Tile]:
    """Return the exit headline tiles (no change columns: a stress test has no last month)."""
    hours = lambda v: fmt_hours(v, 0, unit=False)  # noqa: E731 - the labels say "hours a week"
    return [
        make_tile("People displaced", impact.people_displaced, fmt_int, help="People who would need a new provider."),
        make_tile(
            "Hours displaced", impact.hours_displaced, hours, help="Planned hours a week needing a new provider."
        ),
        make_tile(
            "Hours absorbed",
            impact.hours_absorbed,
            hours,
            help="Hours a week other providers' spare capacity could take on (same area, then same locality).",
        ),
        make_tile(
            "Hours uncovered",
            impact.hours_uncovered,
            hours,
            indicator_id="exit_uncovered_hours_by_provider",
            help="Hours a week with no provider after re-homing.",
        ),
        make_tile(
            "Cover ratio",
            impact.cover_ratio,
            lambda v: fmt_number(v, 2),
            indicator_id="largest_provider_exit_cover_ratio",
            help="Spare capacity of every other provider, wherever it is, divided by the displaced hours.",
        ),
    ]


def published_exit(impact: exit_stress.ExitImpact, tiles: list[Tile], title: str, assumptions: list[str]):
    """Return ``(tiles, title, assumptions)`` of one provider's exit as they may be published.

    The people and packages a provider's exit displaces are counts of people below council level
    (``docs/exports.md``): 1 to 7 read ``[c]``, others are rounded to the nearest 5. While the people
    are hidden, the hours displaced, absorbed and uncovered and the cover ratio (hours of those same
    people) read ``[c]`` too, and the headline and first assumption quote none of them.
    """
    r = rule()
    hidden = is_primary(impact.people_displaced, r.threshold)
    name = impact.provider_name or impact.provider_id

    def count(value: int) -> str:
        return r.symbol if is_primary(value, r.threshold) else fmt_int(round_count(value, r.base))

    out = []
    for tile in tiles:
        if tile.label == "People displaced":
            shown = None if hidden else round_count(impact.people_displaced, r.base)
            tile = replace(tile, value=shown, text=count(impact.people_displaced))
        elif hidden:
            tile = replace(tile, value=None, text=r.symbol)
        out.append(tile)
    if hidden:
        title = f"If {name} left, its figures here are hidden to protect small numbers"
    first = assumptions[0].rsplit(": ", 1)[0]  # "Every package of <name> ...": a name may hold ": "
    hours = r.symbol if hidden else fmt_number(impact.hours_displaced, 1)
    packages = r.symbol if hidden else count(impact.packages_displaced)
    return out, title, [f"{first}: {packages} packages, {hours} hours a week.", *assumptions[1:]]


@dataclass(frozen=True)
class ExitView:
    """One provider's exit, ready to show."""

    provider_id: str
    provider_name: str | None
    people_displaced: int
    packages_displaced: int
    hours_displaced: float
    hours_absorbed: float
    hours_uncovered: float
    cover_ratio: float | None
    title: str
    tiles: list[Tile]
    by_area: pl.DataFrame
    by_locality: pl.DataFrame
    map_chart: ChartSpec
    outcome_chart: ChartSpec
    assumptions: list[str]
    notes: list[str]


def page_notes(filters: Filters, published: bool = False) -> list[str]:
    """Return the exit stress test's notes: the filters it ignores, and whether people counts are suppressed.

    ``published`` (publication mode): the page's counts of people are protected, and the note says so.
    """
    people = (
        f"People counts are shown as they may be published. {suppression_rule_text()}"
        if published
        else "People counts by area are not suppressed: this page is for internal use."
    )
    return [n for n in (ignored_note(filters, what="Exit stress test figures", covers=EVERY_BREAKDOWN), people) if n]


def exit_view(cur: duckdb.DuckDBPyConnection, filters: Filters, provider_id: str, published: bool = False) -> ExitView:
    """Return ``provider_id``'s exit on ``filters.month`` (displaced hours of the locality, if filtered).

    ``published`` (publication mode): tiles, headline and the first assumption as they may be
    published (``published_exit``); the by-area table is published by the page's table display.

    Spare capacity is council-wide (``exit_stress.exit_impact``). Raises ``KeyError`` for an unknown id.
    Only the month and locality shape it: the page caches it on ``filters.only("locality")`` and shows
    ``page_notes`` of the full filters.
    """
    staged, month_market = market(cur, filters.month)
    impact = exit_stress.exit_impact(staged, provider_id, filters.month, filters.locality, month_market)
    areas = _areas(cur, filters)
    notes = page_notes(filters, published)
    tiles, title, assumptions = exit_tiles(impact), exit_title(impact), impact.assumptions
    if published:
        tiles, title, assumptions = published_exit(impact, tiles, title, assumptions)
    return ExitView(
        provider_id=impact.provider_id,
        provider_name=impact.provider_name,
        people_displaced=impact.people_displaced,
        packages_displaced=impact.packages_displaced,
        hours_displaced=impact.hours_displaced,
        hours_absorbed=impact.hours_absorbed,
        hours_uncovered=impact.hours_uncovered,
        cover_ratio=impact.cover_ratio,
        title=title,
        tiles=tiles,
        by_area=by_area(impact, areas),
        by_locality=impact.by_locality,
        map_chart=map_chart(cur, filters, impact, areas),
        outcome_chart=outcome_chart(cur, filters, impact),
        assumptions=assumptions,
        notes=notes,
    )


# --- demand projection ---------------------------------------------------------------------------


def default_growth() -> float:
    """Return the default growth of the population aged 65 and over, % a year (config ``[projection]``)."""
    return projection_settings()[1]


def projection(cur: duckdb.DuckDBPyConnection, filters: Filters, growth_pct: float | None = None) -> pl.DataFrame:
    """Return hours needed each year at ``growth_pct`` % a year (config default) for the geography.

    Columns as ``mart_projection``: ``year_offset, financial_year, population_65_plus,
    hours_per_1000_65_plus, hours_needed, capacity_hours, shortfall_hours`` (capacity and shortfall
    null for a locality: capacity is not split by area). Hours are hours a week.
    """
    g = default_growth() if growth_pct is None else float(growth_pct)
    frame = read_mart(cur, "mart_projection", **geography(filters)).sort("year_offset")
    if frame.is_empty():
        return frame.drop("geography_level", "geography")
    base = frame.row(0, named=True)
    factor = (1.0 + g / 100.0) ** pl.col("year_offset").cast(pl.Float64)
    return frame.select(
        "year_offset",
        "financial_year",
        (pl.lit(base["population_65_plus"], dtype=pl.Float64) * factor).alias("population_65_plus"),
        "hours_per_1000_65_plus",
        (pl.lit(base["hours_needed"], dtype=pl.Float64) * factor).alias("hours_needed"),
        "capacity_hours",
    ).with_columns((pl.col("hours_needed") - pl.col("capacity_hours")).alias("shortfall_hours"))


def projection_title(frame: pl.DataFrame, growth_pct: float, area: str) -> str:
    """Return the projection headline: when (or whether) hours needed pass today's capacity."""
    if frame.is_empty() or frame.item(-1, "hours_needed") is None:
        return "There is no care today to project from"
    last = frame.row(-1, named=True)
    rate = f"At {fmt_number(growth_pct, 1)}% growth a year"
    if last["capacity_hours"] is None:
        rise = (last["hours_needed"] / frame.item(0, "hours_needed") - 1) * 100
        return (
            f"{rate}, {area} would need {_hours(last['hours_needed'])} a week by {last['financial_year']} "
            f"({'+' if rise >= 0 else '-'}{fmt_pct(abs(rise), 0)})"
        )
    over = frame.filter(pl.col("shortfall_hours") > 0)
    if over.height:
        first = over.row(0, named=True)
        return f"{rate}, hours needed would pass today's capacity in {first['financial_year']}"
    return f"{rate}, today's capacity would still cover demand in {last['financial_year']}"


@dataclass(frozen=True)
class ProjectionView:
    """The demand projection at one growth rate, ready to show."""

    growth_pct: float
    frame: pl.DataFrame
    chart: ChartSpec
    tiles: list[Tile]
    final_year: str | None
    final_hours_needed: float | None
    assumptions: list[str]


def projection_view(
    cur: duckdb.DuckDBPyConnection, filters: Filters, growth_pct: float | None = None
) -> ProjectionView:
    """Return the projection of hours needed against today's capacity at ``growth_pct`` % a year."""
    g = default_growth() if growth_pct is None else float(growth_pct)
    frame = projection(cur, filters, g)
    area = filters.locality or "the council"
    data = frame.select(
        "financial_year",
        pl.col("hours_needed").alias("Hours needed"),
        pl.col("capacity_hours").alias("Today's capacity"),
    ).unpivot(index="financial_year", variable_name="series", value_name="hours")
    data = data.filter(pl.col("hours").is_not_null())
    base = spec(
        drop_info(cur),
        "demand-projection",
        projection_title(frame, g, area),
        f"Planned hours a week needed if the population aged 65 years and over grows by {fmt_number(g, 1)}% a year, "
        f"against providers' stated weekly capacity today, {filters.area_label()}, "
        + (f"{frame.item(0, 'financial_year')} to {frame.item(-1, 'financial_year')}" if frame.height else "no years"),
    )
    chart = line_chart(
        data,
        "financial_year",
        "hours",
        spec=base,
        measure="hours a week",
        color="series" if data.get_column("series").n_unique() > 1 else None,
        value_format=_hours,
        value_label="Hours a week",
        markers=True,
        from_zero=True,
    )
    last = frame.row(-1, named=True) if frame.height else {}
    year = last.get("financial_year")
    tiles = [
        make_tile(
            f"Hours a week needed in {year}" if year else "Hours a week needed",
            last.get("hours_needed"),
            _hours,
            indicator_id="projection_hours_needed_final_year",
        ),
        make_tile(
            "Today's capacity (hours a week)",
            last.get("capacity_hours"),
            _hours,
            indicator_id="projection_capacity_hours",
        ),
        make_tile(
            f"Shortfall in {year} (negative: headroom)" if year else "Shortfall",
            last.get("shortfall_hours"),
            _hours,
            indicator_id="projection_shortfall_hours_final_year",
        ),
    ]
    assumptions = [
        f"The population aged 65 years and over grows by {fmt_number(g, 1)}% a year "
        f"(config default {fmt_number(default_growth(), 1)}%).",
        "Hours of care per 1,000 residents aged 65 and over stay at today's level, and all hours (including "
        "care for people under 65 and every service type) grow at the same rate.",
        "Capacity is the weekly capacity providers state today, held flat; it also serves self-funders and "
        "other councils, so it overstates what the council can use. A provider with no capacity figure "
        "counts at its current planned hours.",
    ]
    assumptions.append(
        f"Today's hours and capacity are those on {fmt_date(drop_info(cur).as_of)}, the drop's date, "
        "whatever month is chosen in the sidebar."
    )
    if filters.locality:
        assumptions.append("Capacity is per provider, not per area, so it is shown for the whole council only.")
    return ProjectionView(
        growth_pct=g,
        frame=frame,
        chart=chart,
        tiles=tiles,
        final_year=year,
        final_hours_needed=last.get("hours_needed"),
        assumptions=assumptions,
    )


__all__ = [
    "ExitView",
    "ProjectionView",
    "RankingView",
    "by_area",
    "default_growth",
    "exit_view",
    "page_notes",
    "market",
    "market_tables",
    "outcome_by_locality",
    "projection",
    "projection_view",
    "provider_options",
    "ranking",
    "ranking_view",
]
