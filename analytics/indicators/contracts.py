"""Contracts and decisions: each contract's terms, the decision it needs and when, and the hours it carries.

Definitions used throughout (dates are days; months are calendar months):

* **Current end**: ``end_date``, the end of the current term including any extension already used.
* **Extension options**: ``extension_options`` (months of each option from the award, e.g. ``12+12``);
  the first ``extensions_used`` of them are in the current end. Without ``extension_options``, a
  contract with ``extension_months_available`` > 0 has one option of that many months, unused.
* **Core term**: ``start_date`` to the current end less the months of the options used.
* **Latest possible end**: the current end plus every option still available.
* **Decision date**: the current end less ``notice_months`` (blank = 0) and ``procurement_lead_months``
  (blank = ``config.toml [contracts] procurement_lead_months``): the last day to decide whether to
  extend, re-tender or end and still run a procurement and give notice in time.
* **Milestone done**: a ``milestones`` row with an ``actual_date`` on or before the date; **late**:
  ``planned_date`` before the date and no ``actual_date`` by then.
* **Decision overdue**: a running contract (current end on or after the date) whose decision date is
  before the date and which has no milestone done.
* **A package's contract**: its ``contract_id``; else the running contract of its ``lot``; else its
  provider's ``contract_id``; else a running contract held by its provider (the one ending last).
  Hours are ``planned_hours_per_week`` of packages active on the date; shares are % of all active
  hours (or people), contracted or not.
* **Ending within the horizon**: current end on or after the date and on or before the date plus
  ``[contracts] horizon_months`` (18).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import polars as pl

from analytics.config import settings
from analytics.indicators.common import active_on, area_attributes, filter_locality, rounded, safe_div
from analytics.ingest.staged import Staged

DEFAULT_LEAD_MONTHS = 15
DEFAULT_HORIZON_MONTHS = 18
STATUSES = ("overdue", "decision passed, milestones under way", "due", "later", "ended")
SEGMENTS = ("Core term", "Extension used", "Extension option")


def lead_months() -> int:
    """Return ``[contracts] procurement_lead_months`` (15 if absent)."""
    return int(settings().get("contracts", {}).get("procurement_lead_months", DEFAULT_LEAD_MONTHS))


def horizon_months() -> int:
    """Return ``[contracts] horizon_months`` (18 if absent)."""
    return int(settings().get("contracts", {}).get("horizon_months", DEFAULT_HORIZON_MONTHS))


def shift_months(d: date, months: int) -> date:
    """Return ``d`` moved by ``months`` calendar months (negative = earlier), clamped to the month's end."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def end_less_months(end: date, months: int) -> date:
    """Return the end of a term ``months`` shorter than one ending on ``end`` (``2027-03-31``, 12 -> ``2026-03-31``)."""
    return shift_months(end + timedelta(days=1), -months) - timedelta(days=1)


def parse_options(text: str | None) -> list[int]:
    """Return the months of each extension option: ``"12+12"`` -> ``[12, 12]``; blank -> ``[]``."""
    if text is None or not text.strip():
        return []
    return [int(part) for part in re.split(r"\s*\+\s*", text.strip())]


def contract_terms(contracts: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Return each contract's terms, decision date and status on ``as_of`` (before milestones).

    Output: every ``contracts`` column plus ``options`` (List[Int64], months of each option),
    ``used`` (options used), ``core_end``, ``latest_end`` (Date), ``options_remaining_months``,
    ``notice`` and ``lead`` (months, blanks filled), ``decision_date`` (Date) and ``running``
    (current end on or after ``as_of``).
    """
    default_lead = lead_months()
    rows = []
    for row in contracts.iter_rows(named=True):
        options = parse_options(row["extension_options"])
        if options:
            used = min(int(row["extensions_used"] or 0), len(options))
        else:
            spare = int(row["extension_months_available"] or 0)
            options, used = ([spare] if spare > 0 else []), 0
        notice = int(row["notice_months"] or 0)
        lead = default_lead if row["procurement_lead_months"] is None else int(row["procurement_lead_months"])
        end = row["end_date"]
        rows.append(
            {
                "contract_id": row["contract_id"],
                "options": options,
                "used": used,
                "core_end": max(end_less_months(end, sum(options[:used])), row["start_date"]),
                "latest_end": shift_months(end + timedelta(days=1), sum(options[used:])) - timedelta(days=1),
                "options_remaining_months": sum(options[used:]),
                "notice": notice,
                "lead": lead,
                "decision_date": end_less_months(end, notice + lead),
            }
        )
    schema = {
        "contract_id": pl.String,
        "options": pl.List(pl.Int64),
        "used": pl.Int64,
        "core_end": pl.Date,
        "latest_end": pl.Date,
        "options_remaining_months": pl.Int64,
        "notice": pl.Int64,
        "lead": pl.Int64,
        "decision_date": pl.Date,
    }
    terms = pl.DataFrame(rows, schema=schema, orient="row")
    return contracts.join(terms, on="contract_id", how="left", maintain_order="left").with_columns(
        (pl.col("end_date") >= pl.lit(as_of)).alias("running")
    )


def milestone_status(milestones: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Return ``milestones`` with ``status``: ``done`` (actual on or before ``as_of``), ``late`` (planned
    before ``as_of``, not done) or ``planned``."""
    done = pl.col("actual_date").is_not_null() & (pl.col("actual_date") <= pl.lit(as_of))
    return milestones.with_columns(
        pl.when(done)
        .then(pl.lit("done"))
        .when(pl.col("planned_date") < pl.lit(as_of))
        .then(pl.lit("late"))
        .otherwise(pl.lit("planned"))
        .alias("status")
    ).sort("contract_id", "planned_date", "milestone")


def contract_status(contracts: pl.DataFrame, milestones: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Return ``contract_terms`` plus milestone counts and a ``status`` (one of ``STATUSES``).

    Added columns: ``milestones_total``, ``milestones_done``, ``milestones_late`` (Int64),
    ``next_milestone`` and ``next_milestone_date`` (first not done, by planned date), ``status``.
    """
    terms = contract_terms(contracts, as_of)
    marked = milestone_status(milestones, as_of)
    counts = marked.group_by("contract_id").agg(
        pl.len().cast(pl.Int64).alias("milestones_total"),
        (pl.col("status") == "done").sum().cast(pl.Int64).alias("milestones_done"),
        (pl.col("status") == "late").sum().cast(pl.Int64).alias("milestones_late"),
    )
    upcoming = (
        marked.filter(pl.col("status") != "done")
        .sort("planned_date", "milestone")
        .group_by("contract_id", maintain_order=True)
        .first()
        .select(
            "contract_id",
            pl.col("milestone").alias("next_milestone"),
            pl.col("planned_date").alias("next_milestone_date"),
        )
    )
    horizon = shift_months(as_of, horizon_months())
    out = (
        terms.join(counts, on="contract_id", how="left", maintain_order="left")
        .join(upcoming, on="contract_id", how="left", maintain_order="left")
        .with_columns(pl.col("milestones_total", "milestones_done", "milestones_late").fill_null(0))
    )
    passed = pl.col("decision_date") < pl.lit(as_of)
    return out.with_columns(
        pl.when(~pl.col("running"))
        .then(pl.lit("ended"))
        .when(passed & (pl.col("milestones_done") == 0))
        .then(pl.lit("overdue"))
        .when(passed)
        .then(pl.lit("decision passed, milestones under way"))
        .when(pl.col("decision_date") <= pl.lit(horizon))
        .then(pl.lit("due"))
        .otherwise(pl.lit("later"))
        .alias("status")
    )


def package_contracts(
    packages: pl.DataFrame, providers: pl.DataFrame, contracts: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """Return ``packages`` with ``contract`` (the package's contract id by the module rule, or null)."""
    running = contracts.filter(pl.col("end_date") >= pl.lit(as_of)).sort(
        "end_date", "contract_id", descending=[True, False]
    )
    by_lot = (
        running.filter(pl.col("lot").is_not_null())
        .unique("lot", keep="first", maintain_order=True)
        .select("lot", pl.col("contract_id").alias("__by_lot"))
    )
    by_provider = (
        running.filter(pl.col("provider_id").is_not_null())
        .unique("provider_id", keep="first", maintain_order=True)
        .select("provider_id", pl.col("contract_id").alias("__by_provider"))
    )
    own = providers.select("provider_id", pl.col("contract_id").alias("__provider_contract"))
    return (
        packages.join(by_lot, on="lot", how="left", maintain_order="left")
        .join(own, on="provider_id", how="left", maintain_order="left")
        .join(by_provider, on="provider_id", how="left", maintain_order="left")
        .with_columns(pl.coalesce("contract_id", "__by_lot", "__provider_contract", "__by_provider").alias("contract"))
        .drop("__by_lot", "__provider_contract", "__by_provider")
    )


def contract_hours(staged: Staged, packages: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, float, int]:
    """Return (hours and people per contract on ``as_of``, total active hours, total people).

    ``packages`` is the packages frame to count (the whole drop or one locality's). Output columns:
    ``contract_id``, ``hours_per_week`` (Float64), ``people`` (Int64).
    """
    active = package_contracts(active_on(packages, as_of), staged.providers, staged.contracts, as_of)
    total_hours = float(active.get_column("planned_hours_per_week").sum() or 0.0)
    total_people = int(active.get_column("person_id").n_unique()) if active.height else 0
    per = (
        active.filter(pl.col("contract").is_not_null())
        .group_by(pl.col("contract").alias("contract_id"))
        .agg(
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_per_week"),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
        )
    )
    return per, total_hours, total_people


def contracts_table(staged: Staged, as_of: date, packages: pl.DataFrame | None = None) -> pl.DataFrame:
    """Return one row per contract on ``as_of``: terms, status, milestones, hours and people, shares.

    Columns: ``contract_id, name, provider_id, provider_name, lot, contract_type, start_date,
    core_end, end_date, latest_end, extension_options, extensions_used, options_remaining_months,
    notice_months, procurement_lead_months, decision_date, status, milestones_total,
    milestones_done, milestones_late, next_milestone, next_milestone_date, hours_per_week, people,
    hours_share_pct, people_share_pct, annual_value, commissioned_hours_per_week, weight_quality,
    weight_price, weight_social_value`` (hours a week; shares % of all active hours or people;
    notice and lead with blanks filled). Sorted by decision date.
    """
    if staged.contracts.is_empty():
        return pl.DataFrame(schema=TABLE_SCHEMA)
    status = contract_status(staged.contracts, staged.milestones, as_of)
    per, total_hours, total_people = contract_hours(staged, staged.packages if packages is None else packages, as_of)
    names = staged.providers.select("provider_id", "provider_name")
    out = (
        status.join(per, on="contract_id", how="left", maintain_order="left")
        .join(names, on="provider_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("hours_per_week").fill_null(0.0),
            pl.col("people").fill_null(0),
            pl.col("used").alias("extensions_used"),
            pl.col("notice").alias("notice_months"),
            pl.col("lead").alias("procurement_lead_months"),
            pl.col("options").list.eval(pl.element().cast(pl.String)).list.join("+").alias("extension_options"),
        )
        .with_columns(
            (pl.col("hours_per_week") / total_hours * 100 if total_hours else pl.lit(None, dtype=pl.Float64)).alias(
                "hours_share_pct"
            ),
            (pl.col("people") / total_people * 100 if total_people else pl.lit(None, dtype=pl.Float64)).alias(
                "people_share_pct"
            ),
        )
    )
    return out.select([pl.col(c).cast(t) for c, t in TABLE_SCHEMA.items()]).sort("decision_date", "contract_id")


TABLE_SCHEMA = {
    "contract_id": pl.String,
    "name": pl.String,
    "provider_id": pl.String,
    "provider_name": pl.String,
    "lot": pl.String,
    "contract_type": pl.String,
    "start_date": pl.Date,
    "core_end": pl.Date,
    "end_date": pl.Date,
    "latest_end": pl.Date,
    "extension_options": pl.String,
    "extensions_used": pl.Int64,
    "options_remaining_months": pl.Int64,
    "notice_months": pl.Int64,
    "procurement_lead_months": pl.Int64,
    "decision_date": pl.Date,
    "status": pl.String,
    "milestones_total": pl.Int64,
    "milestones_done": pl.Int64,
    "milestones_late": pl.Int64,
    "next_milestone": pl.String,
    "next_milestone_date": pl.Date,
    "hours_per_week": pl.Float64,
    "people": pl.Int64,
    "hours_share_pct": pl.Float64,
    "people_share_pct": pl.Float64,
    "annual_value": pl.Float64,
    "commissioned_hours_per_week": pl.Float64,
    "weight_quality": pl.Float64,
    "weight_price": pl.Float64,
    "weight_social_value": pl.Float64,
}


def contract_segments(staged: Staged, as_of: date) -> pl.DataFrame:
    """Return the timeline bars: one row per contract and term (core term, each option used or available).

    Columns: ``contract_id``, ``name``, ``segment`` (one of ``SEGMENTS``), ``start``, ``end`` (Date),
    ``months`` (Int64; null for the core term), ``decision_date`` (Date, repeated).
    """
    schema = {
        "contract_id": pl.String,
        "name": pl.String,
        "segment": pl.String,
        "start": pl.Date,
        "end": pl.Date,
        "months": pl.Int64,
        "decision_date": pl.Date,
    }
    if staged.contracts.is_empty():
        return pl.DataFrame(schema=schema)
    rows = []
    for row in contract_terms(staged.contracts, as_of).iter_rows(named=True):
        base = {"contract_id": row["contract_id"], "name": row["name"], "decision_date": row["decision_date"]}
        rows.append(
            {**base, "segment": SEGMENTS[0], "start": row["start_date"], "end": row["core_end"], "months": None}
        )
        end = row["core_end"]
        for i, months in enumerate(row["options"]):
            new_end = shift_months(end + timedelta(days=1), months) - timedelta(days=1)
            kind = SEGMENTS[1] if i < row["used"] else SEGMENTS[2]
            rows.append({**base, "segment": kind, "start": end + timedelta(days=1), "end": new_end, "months": months})
            end = new_end
    return pl.DataFrame(rows, schema=schema, orient="row")


def milestones_table(staged: Staged, as_of: date) -> pl.DataFrame:
    """Return every milestone with its contract's name and ``status`` (done, late, planned)."""
    names = staged.contracts.select("contract_id", "name")
    return (
        milestone_status(staged.milestones, as_of)
        .join(names, on="contract_id", how="left")
        .select("contract_id", "name", "milestone", "planned_date", "actual_date", "status")
    )


def contract_hours_by_locality(staged: Staged, as_of: date) -> pl.DataFrame:
    """Return ``locality, contract_id, hours_per_week, people, hours_share_pct`` on ``as_of`` (each
    locality's active hours by contract; share of the locality's hours)."""
    attrs = area_attributes(staged.areas).select("area_code", "locality")
    active = package_contracts(active_on(staged.packages, as_of), staged.providers, staged.contracts, as_of).join(
        attrs, on="area_code", how="left"
    )
    totals = active.group_by("locality").agg(pl.col("planned_hours_per_week").sum().alias("__total"))
    return (
        active.filter(pl.col("contract").is_not_null())
        .group_by("locality", pl.col("contract").alias("contract_id"))
        .agg(
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours_per_week"),
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
        )
        .join(totals, on="locality", how="left")
        .with_columns((pl.col("hours_per_week") / pl.col("__total") * 100).alias("hours_share_pct"))
        .drop("__total")
        .sort("locality", "contract_id")
    )


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return the contract marts, all on the drop's ``as_of``.

    * ``mart_contracts``: ``contracts_table`` (one row per contract).
    * ``mart_contract_segments``: ``contract_segments`` (the timeline bars).
    * ``mart_milestones``: ``milestones_table``.
    * ``mart_contract_locality``: ``contract_hours_by_locality``.
    """
    as_of = staged.as_of
    return {
        "mart_contracts": contracts_table(staged, as_of),
        "mart_contract_segments": contract_segments(staged, as_of),
        "mart_milestones": milestones_table(staged, as_of),
        "mart_contract_locality": contract_hours_by_locality(staged, as_of),
    }


# One scope rule (analytics.indicators.headline): contract shares are of every service type's hours
# (the Contracts page has no service split).
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | int | None]:
    """Return ``contracts_ending_18m_hours_share`` and ``decisions_overdue`` for ``locality`` on ``as_of``.

    ``contracts_ending_18m_hours_share``: % of active hours (in the locality) whose contract's current
    end is within the horizon (2 dp); ``None`` without contracts, active hours or any package linked
    to a contract. ``decisions_overdue``: running contracts whose decision is overdue (for a
    locality, those carrying hours there); ``None`` without contracts.
    """
    if staged.contracts.is_empty():
        return {"contracts_ending_18m_hours_share": None, "decisions_overdue": None}
    packages = filter_locality(staged, locality).packages
    table = contracts_table(staged, as_of, packages)
    per_hours = table.get_column("hours_per_week")
    linked = float(per_hours.sum() or 0.0)
    total = float(active_on(packages, as_of).get_column("planned_hours_per_week").sum() or 0.0)
    horizon = shift_months(as_of, horizon_months())
    ending = table.filter((pl.col("end_date") >= pl.lit(as_of)) & (pl.col("end_date") <= pl.lit(horizon)))
    share = safe_div(float(ending.get_column("hours_per_week").sum() or 0.0), total, 100.0) if linked > 0 else None
    overdue = table.filter(pl.col("status") == "overdue")
    if locality is not None:
        overdue = overdue.filter(pl.col("hours_per_week") > 0)
    return {"contracts_ending_18m_hours_share": rounded(share), "decisions_overdue": overdue.height}
