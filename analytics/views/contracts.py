"""Contracts and decisions page: every contract's timeline and decision, lots, the microenterprise programme.

Figures are on the drop's as-of date (contracts and lots are decided on today's position), read from
``mart_contracts``, ``mart_contract_segments``, ``mart_milestones``, ``mart_contract_locality``,
``mart_lots``, ``mart_lot_providers``, ``mart_me_programme`` and ``mart_me_programme_month`` (see
``analytics.indicators.contracts``, ``lots`` and ``me_programme`` for every definition). Every
sentence is built from the figures shown and says nothing the data does not hold: with no
``contracts`` file the page says what it would show and which file gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from analytics.formatting import fmt_date, fmt_int, fmt_month, fmt_number, fmt_pct
from analytics.indicators.marts import read_mart
from analytics.publish.charts import ChartSpec, add_line, bar_chart, line_chart, merge_layout, new_figure
from analytics.views.common import DropInfo, Panel, drop_info, ignored_note, spec
from analytics.views.filters import Filters

HORIZON_MONTHS = 18
SEGMENT_COLOURS = {"Core term": "#12436D", "Extension used": "#2073BC", "Extension option": "#BFBFBF"}
STATUS_WORDS = {
    "overdue": "Overdue: decision date passed, no milestone done",
    "decision passed, milestones under way": "Decision date passed, milestones under way",
    "due": "Due within 18 months",
    "later": "Later",
    "ended": "Ended",
}
NO_CONTRACTS = (
    "No contracts in this drop. With a `contracts` file (one row per contract: start and end dates, "
    "extension options and how many are used, notice and procurement lead months, lot, annual value) "
    "this page shows a timeline of every contract with its core term, extension options and decision "
    "date, each contract's share of today's hours and people, the decisions due in the next 18 months "
    "and a red mark where a decision date has passed with no milestone done (from a `milestones` file: "
    "contract_id, milestone, planned_date, actual_date). See docs/data-drops.md."
)
NO_PROGRAMME = (
    "No microenterprise programme evidence: it needs `config.toml [microenterprise_programme] start_date` "
    "on or before the drop's date and providers of type `microenterprise` in the `providers` file, with "
    "their packages in `packages`."
)


def _as_of_note(info: DropInfo, filters: Filters) -> str | None:
    if filters.month.replace(day=1) == info.as_of.replace(day=1):
        return None
    return (
        f"Contracts, lots and the programme are shown as at the drop's date ({fmt_date(info.as_of)}), "
        f"not the chosen month ({fmt_month(filters.month)})."
    )


# --- contracts ---------------------------------------------------------------------------------


def contracts_frame(cur: duckdb.DuckDBPyConnection, mart: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return ``mart_contracts`` (one row per contract), by decision date (``mart``: the mart already read)."""
    return (read_mart(cur, "mart_contracts") if mart is None else mart).sort("decision_date", "contract_id")


def locality_hours(cur: duckdb.DuckDBPyConnection, filters: Filters, mart: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return ``contract_id, hours_per_week, people, hours_share_pct`` for the filters' area on the drop's date.

    ``mart`` is ``mart_contracts`` already read (the whole council's figures are its columns).
    """
    if filters.locality:
        return read_mart(cur, "mart_contract_locality", locality=filters.locality).select(
            "contract_id", "hours_per_week", "people", "hours_share_pct"
        )
    mart = read_mart(cur, "mart_contracts") if mart is None else mart
    return mart.select("contract_id", "hours_per_week", "people", "hours_share_pct")


@dataclass(frozen=True)
class _Read:
    """What the contract figures are made from, each read once: the drop, contracts, the area's hours."""

    info: DropInfo
    contracts: pl.DataFrame  # ``contracts_frame``: by decision date
    hours: pl.DataFrame  # ``locality_hours``

    @classmethod
    def of(cls, cur: duckdb.DuckDBPyConnection, filters: Filters) -> _Read:
        """Read the drop, ``mart_contracts`` (once) and the hours of the filters' locality."""
        mart = read_mart(cur, "mart_contracts")
        return cls(drop_info(cur), contracts_frame(cur, mart), locality_hours(cur, filters, mart))


def _read(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None) -> _Read:
    return _Read.of(cur, filters) if read is None else read


def timeline_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None = None) -> ChartSpec:
    """Return the timeline: each contract's core term, extensions used and options left, and its decision date.

    A red cross marks a decision date that has passed with no milestone done; a dark diamond any
    other decision date; a vertical line the drop's date. ``read``: the contracts already read.
    """
    read = _read(cur, filters, read)
    info, contracts = read.info, read.contracts
    segments = read_mart(cur, "mart_contract_segments")
    order = contracts.get_column("name").to_list()[::-1]
    fig = new_figure()
    for segment, colour in SEGMENT_COLOURS.items():
        part = segments.filter(pl.col("segment") == segment)
        if part.is_empty():
            continue
        starts = part.get_column("start").to_list()
        ends = part.get_column("end").to_list()
        fig.add_bar(
            _validate=False,
            y=part.get_column("name").to_list(),
            x=[((e - s).days + 1) * 86_400_000 for s, e in zip(starts, ends, strict=True)],  # ms on a date axis
            base=[s.isoformat() for s in starts],
            orientation="h",
            name=segment,
            marker={"color": colour},
            hovertext=[
                f"{n}: {segment.lower()} {fmt_date(s)} to {fmt_date(e)}"
                for n, s, e in zip(part.get_column("name").to_list(), starts, ends, strict=True)
            ],
            hoverinfo="text",
        )
    overdue = contracts.filter(pl.col("status") == "overdue")
    others = contracts.filter(pl.col("status") != "overdue")
    for frame, name, symbol, colour in (
        (others, "Decision date", "diamond", "#0B0C0C"),
        (overdue, "Decision overdue (no milestone done)", "x", "#D4351C"),
    ):
        if frame.is_empty():
            continue
        fig.add_scatter(
            _validate=False,
            y=frame.get_column("name").to_list(),
            x=[d.isoformat() for d in frame.get_column("decision_date").to_list()],
            mode="markers",
            name=name,
            marker={"symbol": symbol, "size": 13, "color": colour, "line": {"width": 1, "color": "white"}},
            hovertext=[f"{n}: decide by {fmt_date(d)}" for n, d in frame.select("name", "decision_date").iter_rows()],
            hoverinfo="text",
        )
    merge_layout(
        fig,
        barmode="overlay",
        showlegend=True,
        height=max(420, 60 + 34 * len(order)),
        yaxis={"categoryorder": "array", "categoryarray": order, "type": "category"},
        xaxis={"type": "date", "tickformat": "%b %Y"},
    )
    add_line(fig, x=info.as_of.isoformat(), line={"color": "#505A5F", "dash": "dot", "width": 1})
    n_overdue = overdue.height
    due = contracts.filter(pl.col("status") == "due").height
    if contracts.is_empty():
        title = "No contracts in this drop"
    elif n_overdue:
        first = overdue.row(0, named=True)
        title = (
            f"{fmt_int(n_overdue)} decision{'s' if n_overdue != 1 else ''} overdue: "
            f"{_short(first['name'])} was due {fmt_month(first['decision_date'])}"
        )
    else:
        title = f"No decision is overdue; {fmt_int(due)} due within {HORIZON_MONTHS} months"
    table = contracts.select(
        "contract_id", "name", "start_date", "core_end", "end_date", "latest_end", "decision_date", "status"
    )
    alt = (
        f"Timeline of {fmt_int(contracts.height)} contracts: core term, extensions used and options left, "
        f"with decision dates; {fmt_int(n_overdue)} overdue, {fmt_int(due)} due within {HORIZON_MONTHS} months."
    )
    chart_spec = spec(
        info,
        "contracts-timeline",
        title,
        f"Contract terms and decision dates (end less notice and procurement lead), as at {fmt_date(info.as_of)}",
    )
    chart = chart_spec.complete(fig, table, alt, bar_from_zero=False)
    merge_layout(chart.figure, xaxis={"type": "date", "tickformat": "%b %Y", "rangemode": "normal", "autorange": True})
    return chart


def _short(name: str) -> str:
    """Return a contract name short enough for a headline (the part after the last comma)."""
    return name.rsplit(", ", 1)[-1]


def share_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None = None) -> ChartSpec:
    """Return each contract's share of today's hours (filters' area), largest first."""
    read = _read(cur, filters, read)
    info = read.info
    contracts = read.contracts.select("contract_id", "name", "end_date", "status")
    hours = read.hours
    limit = _months_after(info.as_of, HORIZON_MONTHS)
    data = (
        contracts.join(hours, on="contract_id", how="left")
        .with_columns(pl.col("hours_share_pct").fill_null(0.0))
        .sort("hours_share_pct", descending=True)
        .select(
            pl.col("name").alias("contract"),
            "hours_share_pct",
            # the title's "contracts carrying N% of hours end within 18 months" is this group's total
            pl.when(pl.col("end_date").is_between(info.as_of, limit))
            .then(pl.lit(f"ends within {HORIZON_MONTHS} months"))
            .otherwise(pl.lit("later or ended"))
            .alias("ends"),
            # and its "one of N overdue" this group's count (every contract, with hours here or not)
            pl.when(pl.col("status") == "overdue")
            .then(pl.lit("overdue"))
            .otherwise(pl.lit("not overdue"))
            .alias("decision"),
        )
    )
    title = ending_sentence(cur, filters, read) or "No hours are linked to a contract"
    return bar_chart(
        data,
        "contract",
        "hours_share_pct",
        spec=spec(
            info,
            "contracts-hours-share",
            title.rstrip("."),
            f"Share of planned hours a week in care by contract, {filters.area_label()}, {fmt_date(info.as_of)}",
        ),
        measure="share of hours",
        orientation="h",
        value_format=lambda v: fmt_pct(v, 1),
        value_label="% of hours",
        noun="contracts",
    )


def ending_share(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None = None) -> float | None:
    """Return the % of the area's hours under contracts ending within 18 months (``None`` if none linked)."""
    read = _read(cur, filters, read)
    info = read.info
    contracts = read.contracts.select("contract_id", "end_date")
    hours = read.hours
    if hours.is_empty() or float(hours.get_column("hours_per_week").sum() or 0) <= 0:
        return None
    limit = _months_after(info.as_of, HORIZON_MONTHS)
    ending = contracts.filter((pl.col("end_date") >= info.as_of) & (pl.col("end_date") <= limit)).join(
        hours, on="contract_id"
    )
    return float(ending.get_column("hours_share_pct").sum() or 0.0)


def _months_after(d: date, months: int) -> date:
    import calendar

    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def ending_sentence(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None = None) -> str | None:
    """Return "Contracts carrying 80% of hours end within 18 months; the decision on Lot 2 was due in June 2025, one
    of 3 overdue"."""
    read = _read(cur, filters, read)
    share = ending_share(cur, filters, read)
    if share is None:
        return None
    text = f"Contracts carrying {fmt_pct(share, 0)} of hours end within {HORIZON_MONTHS} months"
    overdue = read.contracts.filter(pl.col("status") == "overdue")
    if overdue.height:
        first = overdue.row(0, named=True)
        text += f"; the decision on {_short(first['name'])} was due in {fmt_month(first['decision_date'])}"
        if overdue.height > 1:
            text += f", one of {fmt_int(overdue.height)} overdue"
    return text + "."


def decisions_table(cur: duckdb.DuckDBPyConnection, contracts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return the decisions due in the next 18 months or overdue, with a status in words (never colour alone).

    ``contracts``: ``contracts_frame`` already read.
    """
    rows = (contracts_frame(cur) if contracts is None else contracts).filter(
        pl.col("status").is_in(["overdue", "due", "decision passed, milestones under way"])
    )
    return rows.select(
        pl.when(pl.col("status") == "overdue").then(pl.lit("🔴 ")).otherwise(pl.lit("")).alias("__mark"),
        "status",
        "name",
        "lot",
        "decision_date",
        "end_date",
        "options_remaining_months",
        "next_milestone",
        "next_milestone_date",
        "milestones_late",
        "hours_share_pct",
        "annual_value",
    ).select(
        (pl.col("__mark") + pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status"))).alias("Status"),
        pl.col("name").alias("Contract"),
        pl.col("lot").alias("Lot"),
        pl.col("decision_date").alias("Decide by"),
        pl.col("end_date").alias("Current end"),
        pl.col("options_remaining_months").alias("Extension months left"),
        pl.col("next_milestone").alias("Next milestone"),
        pl.col("next_milestone_date").alias("Planned"),
        pl.col("milestones_late").alias("Milestones late"),
        pl.col("hours_share_pct").round(1).alias("% of hours"),
        pl.col("annual_value").alias("£ a year"),
    )


def contracts_table(cur: duckdb.DuckDBPyConnection, filters: Filters, read: _Read | None = None) -> pl.DataFrame:
    """Return every contract: terms, decision, share of the area's hours and people, annual value.

    People are counts of people: the page shows them to commissioners; exports go through suppression.
    """
    read = _read(cur, filters, read)
    hours = read.hours.rename({"hours_per_week": "__hours", "people": "__people", "hours_share_pct": "__share"})
    frame = read.contracts.join(hours, on="contract_id", how="left")
    return frame.select(
        pl.col("name").alias("Contract"),
        pl.col("provider_name").alias("Provider"),
        pl.col("contract_type").alias("Type"),
        pl.col("start_date").alias("Start"),
        pl.col("core_end").alias("Core term ends"),
        pl.col("end_date").alias("Current end"),
        pl.col("extension_options").alias("Extension options (months)"),
        pl.col("extensions_used").alias("Used"),
        pl.col("latest_end").alias("Latest possible end"),
        pl.col("decision_date").alias("Decide by"),
        pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Status"),
        pl.col("__hours").fill_null(0.0).round(1).alias("Hours a week today"),
        pl.col("__people").fill_null(0).alias("People today"),
        pl.col("__share").fill_null(0.0).round(1).alias("% of hours"),
        pl.col("annual_value").alias("£ a year"),
    )


def milestones_table(cur: duckdb.DuckDBPyConnection, milestones: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return every milestone with its status (done, late, planned), late first (``milestones``: the mart read)."""
    rows = read_mart(cur, "mart_milestones") if milestones is None else milestones
    return rows.sort(pl.col("status") != "late", "planned_date", "name").select(
        pl.col("name").alias("Contract"),
        pl.col("milestone").alias("Milestone"),
        pl.col("planned_date").alias("Planned"),
        pl.col("actual_date").alias("Done"),
        pl.when(pl.col("status") == "late").then(pl.lit("🔴 late")).otherwise(pl.col("status")).alias("Status"),
    )


# --- lots --------------------------------------------------------------------------------------


def lots_frame(cur: duckdb.DuckDBPyConnection, n: int | None = None) -> pl.DataFrame:
    """Return ``mart_lots`` with the cover check redone for ``n`` primary providers (``None`` = as built)."""
    lots = read_mart(cur, "mart_lots")
    if n is None or lots.is_empty():
        return lots
    ranked = read_mart(cur, "mart_lot_providers")
    top = ranked.filter(pl.col("rank") <= n).group_by("lot").agg(pl.col("can_carry").sum().alias("__cover"))
    out = (
        lots.drop("cover_at_n", "left_over_at_n", "left_over_pct", "fails_at_n", "fails_first", "primary_n")
        .join(top, on="lot", how="left")
        .with_columns(pl.col("__cover").fill_null(0.0).alias("cover_at_n"), pl.lit(n).alias("primary_n"))
        .with_columns((pl.col("hours_per_week") - pl.col("cover_at_n")).clip(lower_bound=0.0).alias("left_over_at_n"))
        .with_columns(
            (pl.col("left_over_at_n") / pl.col("hours_per_week") * 100).alias("left_over_pct"),
            (pl.col("left_over_at_n") > 1e-9).alias("fails_at_n"),
        )
        .drop("__cover")
        .sort(
            [pl.col("providers_needed").is_null(), "providers_needed", "left_over_pct", "lot"],
            descending=[True, True, True, False],
            nulls_last=True,
        )
    )
    first = out.filter(pl.col("fails_at_n")).head(1).get_column("lot").to_list()
    return out.with_columns(pl.col("lot").is_in(first).alias("fails_first"))


def lots_sentence(lots: pl.DataFrame) -> str:
    """Return how many lots fail the cover check and which fails first (from the frame shown)."""
    if lots.is_empty():
        return "No package is active on the drop's date, so there is no lot to check."
    n = int(lots.item(0, "primary_n"))
    noun = "lots" if lots.item(0, "lot_basis") == "lot" else "localities (the drop has no lots)"
    failing = lots.filter(pl.col("fails_at_n"))
    if failing.is_empty():
        return (
            f"In each of the {fmt_int(lots.height)} {noun}, the {fmt_int(n)} largest providers could carry all "
            "of its hours at their stated capacity."
        )
    first = failing.row(0, named=True)
    needed = first["providers_needed"]
    need_text = (
        f"it needs its {fmt_int(needed)} largest providers"
        if needed is not None
        else "even all its providers together fall short"
    )
    return (
        f"In {fmt_int(failing.height)} of {fmt_int(lots.height)} {noun}, the {fmt_int(n)} largest providers could not "
        f"carry all the hours at their stated capacity. {first['lot']} fails first: "
        f"{fmt_number(first['left_over_at_n'])} hours a week ({fmt_pct(first['left_over_pct'], 0)}) would be "
        f"left over, and {need_text}."
    )


def lots_chart(
    cur: duckdb.DuckDBPyConnection, filters: Filters, n: int | None = None, lots: pl.DataFrame | None = None
) -> ChartSpec:
    """Return hours a week left over in each lot if only its ``n`` largest providers carried it.

    ``lots``: ``lots_frame(cur, n)`` already read.
    """
    info = drop_info(cur)
    lots = lots_frame(cur, n) if lots is None else lots
    data = lots.select("lot", pl.col("left_over_at_n").round(1).alias("hours_left_over"))
    n_used = int(lots.item(0, "primary_n")) if lots.height else (n or 0)
    failing = lots.filter(pl.col("fails_at_n"))
    if lots.is_empty():
        title = "No lot to check"
    elif failing.is_empty():
        title = f"The {fmt_int(n_used)} largest providers could carry every lot"
    else:
        left = fmt_number(failing.item(0, "left_over_at_n"))
        title = f"{failing.item(0, 'lot')} fails first: {left} hours a week left over"
    return bar_chart(
        data,
        "lot",
        "hours_left_over",
        spec=spec(
            info,
            "lots-left-over",
            title,
            f"Hours a week each lot's {fmt_int(n_used)} largest providers could not carry at stated capacity, "
            f"{fmt_date(info.as_of)}",
        ),
        measure="hours a week left over",
        orientation="h",
        focus=failing.head(1).get_column("lot").to_list(),
        value_label="hours a week",
        noun="lots",
    )


def lots_table(lots: pl.DataFrame) -> pl.DataFrame:
    """Return the lots for people: providers, hours, spare, people and hours waiting, CR1, the cover check."""
    return lots.select(
        pl.col("lot").alias("Lot"),
        pl.col("providers").alias("Providers"),
        pl.col("hours_per_week").round(1).alias("Hours a week"),
        pl.col("people").alias("People in care"),
        pl.col("spare_hours").round(1).alias("Stated spare hours"),
        pl.col("people_waiting").alias("People waiting"),
        pl.col("hours_waiting").round(1).alias("Hours a week waiting"),
        pl.col("cr1_pct").round(1).alias("Largest provider %"),
        pl.col("left_over_at_n").round(1).alias("Left over with the largest N"),
        pl.col("providers_needed").alias("Providers needed"),
        pl.when(pl.col("fails_first"))
        .then(pl.lit("🔴 fails first"))
        .when(pl.col("fails_at_n"))
        .then(pl.lit("fails"))
        .otherwise(pl.lit("covered"))
        .alias("Check"),
    )


# --- microenterprise programme -----------------------------------------------------------------


def programme_frame(cur: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return ``mart_me_programme`` (one row per measure)."""
    return read_mart(cur, "mart_me_programme")


def programme_chart(cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pl.DataFrame | None = None) -> ChartSpec:
    """Return each programme measure's progress against its target, % (``frame``: ``programme_frame`` read)."""
    info = drop_info(cur)
    frame = programme_frame(cur) if frame is None else frame
    data = frame.select(pl.col("label").alias("measure"), pl.col("progress_pct").round(1))
    met = frame.filter(pl.col("progress_pct") >= 100)
    if frame.is_empty():
        title = "No programme evidence"
    else:
        targets = frame.filter(pl.col("target").is_not_null() & pl.col("progress_pct").is_not_null()).height
        title = f"{fmt_int(met.height)} of {fmt_int(targets)} programme targets met"  # of those measurable
    return bar_chart(
        data,
        "measure",
        "progress_pct",
        spec=spec(
            info,
            "me-programme-progress",
            title,
            f"Microenterprise programme: value on {fmt_date(info.as_of)} as % of target, whole council",
            source="Council data drop; targets: config.toml [microenterprise_programme]",
        ),
        measure="progress against target",
        orientation="h",
        value_format=lambda v: fmt_pct(v, 0),
        value_label="% of target",
        noun="measures",
    )


def programme_trend(cur: duckdb.DuckDBPyConnection, filters: Filters) -> ChartSpec:
    """Return net new microenterprises since the programme's start, by month."""
    info = drop_info(cur)
    data = read_mart(cur, "mart_me_programme_month").filter(pl.col("net_new_since_start").is_not_null()).sort("month")
    if data.is_empty():
        title = "No months since the programme's start"
    else:
        net = fmt_int(data.item(data.height - 1, "net_new_since_start"))
        title = f"{net} net new microenterprises since the programme started"
    return line_chart(
        data.select("month", "net_new_since_start"),
        "month",
        "net_new_since_start",
        spec=spec(
            info,
            "me-programme-net-new",
            title,
            "Microenterprises starting less those stopping, running total from the programme's start, whole council",
        ),
        measure="net new microenterprises",
        from_zero=True,
    )


def programme_sentences(frame: pl.DataFrame) -> list[str]:
    """Return one sentence per measure: now, change since the start, progress against the target."""
    out = []
    for row in frame.iter_rows(named=True):
        if row["now"] is None:  # unknown, never 0 (rural areas in a drop without rural-urban classes)
            why = "no area in this drop has a rural-urban class" if row["measure"] == "rural_areas" else "no data"
            out.append(f"{row['label']}: can't be measured ({why}).")
            continue
        now = fmt_number(row["now"])
        text = f"{row['label']}: {now} {row['unit']}"
        if row["measure"] != "net_new":
            text += f", {'up' if row['change'] >= 0 else 'down'} {fmt_number(abs(row['change']))} since the start"
        if row["target"] is not None:
            text += f"; target {fmt_number(row['target'])} ({fmt_pct(row['progress_pct'], 0)} of it)"
        out.append(text + ".")
    out.append(
        "Reduced demand on statutory services, the other test for an extension, is not in the data drop: "
        "it needs the council's own evaluation."
    )
    return out


def programme_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the evidence table for people (exportable as the extension decision's evidence)."""
    return frame.select(
        pl.col("label").alias("Measure"),
        pl.col("unit").alias("Unit"),
        pl.col("at_start").alias("At the start"),
        pl.col("now").alias("Now"),
        pl.col("change").alias("Change"),
        pl.col("target").alias("Target"),
        pl.col("progress_pct").round(0).alias("% of target"),
    )


# --- the page ----------------------------------------------------------------------------------
# The page caches its parts apart, each on what it depends on: the contracts on the locality (the
# hours by contract), the lots on the number of primary providers, the programme on nothing, the
# notes on every filter. A change of month, service type, client group, funding or provider type
# then builds nothing but the notes.


@dataclass(frozen=True)
class ContractsPart:
    """The contracts section for one locality (``None``: whole council); ``has_contracts`` false: none."""

    has_contracts: bool
    empty_message: str
    sentences: list[str]
    timeline: Panel | None
    share: Panel | None
    decisions: pl.DataFrame
    contracts: pl.DataFrame
    milestones: pl.DataFrame


@dataclass(frozen=True)
class LotsPart:
    """The lots section for ``primary_n`` primary providers per lot."""

    lots: Panel
    lots_sentence: str
    lots_table: pl.DataFrame


@dataclass(frozen=True)
class ProgrammePart:
    """The microenterprise programme section (``programme`` None: no programme evidence)."""

    programme: Panel | None
    programme_trend: Panel | None
    programme_sentences: list[str]
    programme_table: pl.DataFrame


@dataclass(frozen=True)
class ContractsView:
    """Everything the Contracts and decisions page shows (``has_contracts`` false: ``empty_message`` only)."""

    has_contracts: bool
    empty_message: str
    sentences: list[str]
    timeline: Panel | None
    share: Panel | None
    decisions: pl.DataFrame
    contracts: pl.DataFrame
    milestones: pl.DataFrame
    lots: Panel
    lots_sentence: str
    lots_table: pl.DataFrame
    programme: Panel | None
    programme_trend: Panel | None
    programme_sentences: list[str]
    programme_table: pl.DataFrame
    notes: list[str]


def page_notes(cur: duckdb.DuckDBPyConnection, filters: Filters) -> list[str]:
    """Return the page's notes: figures as at the drop's date, filters it ignores, what a locality changes."""
    info = drop_info(cur)
    notes = [n for n in (_as_of_note(info, filters), ignored_note(filters, supported=("locality",))) if n]
    if filters.locality and not read_mart(cur, "mart_contracts").is_empty():
        notes.append(
            "Hours and people by contract are for the chosen locality; terms, decisions, lots and the "
            "programme are the whole council's."
        )
    return notes


def contracts_part(cur: duckdb.DuckDBPyConnection, locality: str | None) -> ContractsPart:
    """Return the contracts section for ``locality`` (``None``: whole council), on the drop's date."""
    info = drop_info(cur)
    filters = Filters(month=info.as_of, locality=locality)  # the charts read the locality only
    read = _Read.of(cur, filters)
    has = not read.contracts.is_empty()
    if not has:
        empty = pl.DataFrame()
        return ContractsPart(False, NO_CONTRACTS, [], None, None, empty, empty, empty)
    milestones = read_mart(cur, "mart_milestones")
    sentences: list[str] = []
    ending = ending_sentence(cur, filters, read)
    if ending:
        sentences.append(ending)
    due = read.contracts.filter(pl.col("status") == "due")
    if due.height:
        sentences.append(
            f"{fmt_int(due.height)} more decision{'s are' if due.height != 1 else ' is'} due in the next "
            f"{HORIZON_MONTHS} months, the first by {fmt_date(due.item(0, 'decision_date'))} "
            f"({due.item(0, 'name')})."
        )
    late = milestones.filter(pl.col("status") == "late")
    if late.height:
        sentences.append(
            f"{fmt_int(late.height)} milestone{'s are' if late.height != 1 else ' is'} late, the earliest "
            f"'{late.sort('planned_date').item(0, 'milestone')}' planned for "
            f"{fmt_date(late.sort('planned_date').item(0, 'planned_date'))}."
        )
    return ContractsPart(
        has_contracts=True,
        empty_message="",
        sentences=sentences,
        timeline=Panel(timeline_chart(cur, filters, read), ("contract_decision_date", "decisions_overdue")),
        share=Panel(share_chart(cur, filters, read), ("contract_hours_share", "contracts_ending_18m_hours_share")),
        decisions=decisions_table(cur, read.contracts),
        contracts=contracts_table(cur, filters, read),
        milestones=milestones_table(cur, milestones),
    )


def lots_part(cur: duckdb.DuckDBPyConnection, primary_n: int | None = None) -> LotsPart:
    """Return the lots section: the cover check redone for ``primary_n`` primary providers (``None``: as built)."""
    lots = lots_frame(cur, primary_n)
    info = drop_info(cur)
    chart = lots_chart(cur, Filters(month=info.as_of), primary_n, lots)  # whole council, on the drop's date
    return LotsPart(
        lots=Panel(chart, ("lots_failing_primary_cover", "lot_providers_needed")),
        lots_sentence=lots_sentence(lots),
        lots_table=lots_table(lots),
    )


def programme_part(cur: duckdb.DuckDBPyConnection) -> ProgrammePart:
    """Return the microenterprise programme section (whole council, on the drop's date)."""
    programme = programme_frame(cur)
    if not programme.height:
        return ProgrammePart(None, None, [NO_PROGRAMME], programme_table(programme))
    filters = Filters(month=drop_info(cur).as_of)
    return ProgrammePart(
        programme=Panel(programme_chart(cur, filters, programme), ("me_programme_evidence",)),
        programme_trend=Panel(programme_trend(cur, filters), ("me_net_new_since_start",)),
        programme_sentences=programme_sentences(programme),
        programme_table=programme_table(programme),
    )


def assemble(notes: list[str], contracts: ContractsPart, lots: LotsPart, programme: ProgrammePart) -> ContractsView:
    """Return the page's view from its parts (each cached on what it depends on)."""
    return ContractsView(**vars(contracts), **vars(lots), **vars(programme), notes=notes)


def contracts_view(cur: duckdb.DuckDBPyConnection, filters: Filters, primary_n: int | None = None) -> ContractsView:
    """Return the Contracts and decisions page for ``filters`` (locality only) and ``primary_n`` providers per lot."""
    return assemble(
        page_notes(cur, filters), contracts_part(cur, filters.locality), lots_part(cur, primary_n), programme_part(cur)
    )


__all__ = [
    "ContractsPart",
    "ContractsView",
    "LotsPart",
    "ProgrammePart",
    "assemble",
    "contracts_part",
    "contracts_view",
    "lots_part",
    "page_notes",
    "programme_part",
]
