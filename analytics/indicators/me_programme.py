"""Microenterprise programme evidence: what the programme has added since it started, against its targets.

The programme's start date and targets are ``config.toml [microenterprise_programme]``. A
microenterprise is a provider whose ``provider_type`` is ``microenterprise`` (as on the
Microenterprises page); it **enters** on the start of its first package and **exits** on the end of
its last package when none is ongoing (within the locality for a locality).

Measures on the date (hours are ``planned_hours_per_week`` of active packages):

* ``net_new``: microenterprises entering minus those exiting from the start date to the date.
* ``customers``: distinct people with an active microenterprise package.
* ``hours_per_week``: their planned hours a week.
* ``rural_areas``: areas of rural class ``rural`` (ONS RUC) with at least one active
  microenterprise customer.
* ``direct_payment_people``: customers with a microenterprise package funded by direct payment.

Each is also taken on the start date, so the evidence shows the change. Reduced demand on statutory
services is not in a drop: the evidence says so rather than guess.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import settings
from analytics.indicators.common import (
    MICROENTERPRISE,
    active_on,
    area_attributes,
    filter_locality,
    months_frame,
    safe_div,
)
from analytics.indicators.geography import UNCLASSIFIED
from analytics.ingest.staged import Staged

MEASURES = (
    ("net_new", "Net new microenterprises since the start", "microenterprises", "target_net_new"),
    ("customers", "Customers of microenterprises", "people", "target_customers"),
    ("hours_per_week", "Hours a week from microenterprises", "hours a week", "target_hours_per_week"),
    ("rural_areas", "Rural areas with a microenterprise customer", "areas", "target_rural_areas"),
    ("direct_payment_people", "Customers using a direct payment", "people", "target_direct_payment_people"),
)
EVIDENCE_SCHEMA = {
    "measure": pl.String,
    "label": pl.String,
    "unit": pl.String,
    "at_start": pl.Float64,
    "now": pl.Float64,
    "change": pl.Float64,
    "target": pl.Float64,
    "progress_pct": pl.Float64,
}


def programme() -> dict:
    """Return ``[microenterprise_programme]`` (``{}`` when absent): ``start_date`` and ``target_*``."""
    return dict(settings().get("microenterprise_programme", {}))


def start_date() -> date | None:
    """Return the programme's start date, or ``None`` when none is configured."""
    value = programme().get("start_date")
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def me_packages(staged: Staged) -> pl.DataFrame:
    """Return the packages of microenterprise providers."""
    ids = staged.providers.filter(pl.col("provider_type") == MICROENTERPRISE).get_column("provider_id")
    return staged.packages.filter(pl.col("provider_id").is_in(ids.implode()))


def me_spans(packages: pl.DataFrame) -> pl.DataFrame:
    """Return ``provider_id, entered, exited`` (exited null while any package is ongoing)."""
    return packages.group_by("provider_id").agg(
        pl.col("start_date").min().alias("entered"),
        pl.when(pl.col("end_date").is_null().any()).then(None).otherwise(pl.col("end_date").max()).alias("exited"),
    )


def net_new(packages: pl.DataFrame, start: date, d: date) -> tuple[int, int]:
    """Return (entries, exits) of microenterprises from ``start`` to ``d`` inclusive."""
    spans = me_spans(packages)
    entries = spans.filter(pl.col("entered").is_between(pl.lit(start), pl.lit(d))).height
    exits = spans.filter(pl.col("exited").is_not_null() & pl.col("exited").is_between(pl.lit(start), pl.lit(d))).height
    return entries, exits


def snapshot(staged: Staged, packages: pl.DataFrame, d: date) -> dict[str, float | None]:
    """Return customers, hours, rural areas and direct-payment customers of microenterprises on ``d``.

    ``rural_areas`` is ``None`` (unknown, never 0) when no area of ``staged`` has a rural-urban class.
    """
    active = active_on(packages, d)
    attrs = area_attributes(staged.areas)
    rural = attrs.filter(pl.col("rural_class") == "rural").get_column("area_code")
    classified = attrs.filter(pl.col("rural_class") != UNCLASSIFIED).height > 0
    return {
        "customers": float(active.get_column("person_id").n_unique()) if active.height else 0.0,
        "hours_per_week": float(active.get_column("planned_hours_per_week").sum() or 0.0),
        "rural_areas": float(
            active.filter(pl.col("area_code").is_in(rural.implode())).get_column("area_code").n_unique()
        )
        if classified
        else None,
        "direct_payment_people": float(
            active.filter(pl.col("funding") == "direct_payment").get_column("person_id").n_unique()
        ),
    }


def evidence(staged: Staged, d: date, locality: str | None = None) -> pl.DataFrame:
    """Return the programme's evidence table on ``d`` (``EVIDENCE_SCHEMA``; one row per ``MEASURES``).

    ``at_start`` is the measure on the start date (0 for net new), ``change`` = now - at start,
    ``progress_pct`` = now / target x 100 (null without a target). Empty when no start date is
    configured, the start is after ``d``, or the drop has no microenterprise.
    """
    start = start_date()
    scoped = filter_locality(staged, locality)
    packages = me_packages(scoped)
    if start is None or start > d or staged.providers.filter(pl.col("provider_type") == MICROENTERPRISE).is_empty():
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    entries, exits = net_new(packages, start, d)
    now = {"net_new": float(entries - exits), **snapshot(scoped, packages, d)}
    before = {"net_new": 0.0, **snapshot(scoped, packages, start)}
    targets = programme()
    rows = []
    for key, label, unit, target_key in MEASURES:
        target = targets.get(target_key)
        target = None if target is None else float(target)
        rows.append(
            {
                "measure": key,
                "label": label,
                "unit": unit,
                "at_start": before[key],
                "now": now[key],
                "change": None if now[key] is None or before[key] is None else now[key] - before[key],
                "target": target,
                "progress_pct": safe_div(now[key], target, 100.0) if target and now[key] is not None else None,
            }
        )
    return pl.DataFrame(rows, schema=EVIDENCE_SCHEMA, orient="row")


def programme_by_month(staged: Staged, d: date) -> pl.DataFrame:
    """Return ``month, entries, exits, net_new_since_start`` (Int64) for the 36 months to ``d``.

    Entries and exits count in the month they happen; ``net_new_since_start`` is the running total
    from the start date to the month's snapshot date (null before the start). Empty without a start.
    """
    schema = {"month": pl.Date, "entries": pl.Int64, "exits": pl.Int64, "net_new_since_start": pl.Int64}
    start = start_date()
    if start is None:
        return pl.DataFrame(schema=schema)
    months = months_frame(d)
    spans = me_spans(me_packages(staged))
    rows = []
    for month, first in months.select("month", "month_start").iter_rows():
        entries = spans.filter(pl.col("entered").is_between(pl.lit(first), pl.lit(month))).height
        exits = spans.filter(pl.col("exited").is_between(pl.lit(first), pl.lit(month))).height
        running = None
        if month >= start:
            since = pl.lit(start), pl.lit(month)
            running = (
                spans.filter(pl.col("entered").is_between(*since)).height
                - spans.filter(pl.col("exited").is_between(*since)).height
            )
        rows.append({"month": month, "entries": entries, "exits": exits, "net_new_since_start": running})
    return pl.DataFrame(rows, schema=schema, orient="row")


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_me_programme`` (``evidence`` on ``as_of``, council) and ``mart_me_programme_month``."""
    return {
        "mart_me_programme": evidence(staged, staged.as_of),
        "mart_me_programme_month": programme_by_month(staged, staged.as_of),
    }


# One scope rule (analytics.indicators.headline): the microenterprise programme counts every microenterprise.
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, int | None]:
    """Return ``me_net_new_since_start`` (entries minus exits since the programme start; ``None``
    without a start date on or before ``as_of`` or without microenterprises in the drop)."""
    table = evidence(staged, as_of, locality)
    if table.is_empty():
        return {"me_net_new_since_start": None}
    return {"me_net_new_since_start": int(table.filter(pl.col("measure") == "net_new").item(0, "now"))}
