"""Provider exit stress test: what if a provider left tomorrow? (local version of CQC market oversight).

``exit_impact`` takes one provider out of the market on ``as_of`` and re-homes its hours with the
spare capacity of the others. ``difficult_to_replace`` runs that for every provider and ranks them.

Rules (each is repeated, in plain English, in ``ExitImpact.assumptions``):

* **Displaced**: the provider's packages active on ``as_of`` (``common.active_on``): their people
  (distinct ``person_id``), packages and planned hours a week, by area and locality.
* **Spare capacity** of every other provider active on ``as_of`` (``churn.provider_activity``) =
  ``weekly_capacity_hours`` - planned hours of its packages active on ``as_of`` (all areas), floored
  at 0. A provider with no capacity figure has spare capacity 0 and is listed.
* **Allocation rule** (greedy, deterministic):
  1. *Same area*: areas in order of displaced hours (largest first, ties by area code); each takes
     from providers already serving that area (an active package there), largest remaining spare
     capacity first (ties by provider id), until its hours are covered or those providers are full.
  2. *Same locality*: then, in the same area order, what is left takes from providers serving
     another area of the area's locality, or based there (``base_area_code``), the same way. Areas
     with no locality (``Unassigned``) get no step 2.
  A provider's spare capacity is used at most once across all areas and both steps. Providers that
  serve only other localities are not used. What is left is **uncovered**.
* Hours move as they are (no change of package size; a person's hours may be split between
  providers); travel and double-handed calls are not modelled.

Hours are hours a week throughout. ``difficult_to_replace`` reuses one prepared market and a
pure-Python allocation per provider, so ranking 90 providers costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_number
from analytics.indicators.churn import providers_active_on
from analytics.indicators.common import UNASSIGNED, active_on, area_attributes, rounded
from analytics.ingest.staged import Staged

SAME_AREA, SAME_LOCALITY = "same_area", "same_locality"
OVERSIGHT_DEFAULTS = {
    "hours_per_week": 30000,
    "people_per_week": 2000,
    "people_high_intensity": 800,
    "high_intensity_hours_per_person": 30,
}


def _people_packages_hours(hours: str) -> list[pl.Expr]:
    """Aggregations of package rows: distinct ``people``, ``packages`` and planned hours a week (named ``hours``)."""
    return [
        pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
        pl.len().cast(pl.Int64).alias("packages"),
        pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias(hours),
    ]


def oversight_thresholds() -> dict[str, float]:
    """Return ``[reference.market_oversight]`` (SI 2015/314) from config, with the regulation's values as defaults."""
    configured = settings().get("reference", {}).get("market_oversight", {})
    return {key: float(configured.get(key, default)) for key, default in OVERSIGHT_DEFAULTS.items()}


# --- the prepared market -----------------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """The market on one date, as plain Python structures the allocation works on.

    ``active_packages`` (active on ``as_of``, with ``locality``), ``spare`` (provider -> spare hours,
    active providers only), ``capacity_known`` (provider -> bool), ``current_hours`` (provider ->
    planned hours), ``area_servers`` / ``locality_servers`` (area or locality -> providers serving it),
    ``area_locality`` (area -> locality or None), ``names`` (provider -> name).
    """

    as_of: date
    active_packages: pl.DataFrame
    active_providers: tuple[str, ...]
    spare: dict[str, float]
    capacity: dict[str, float | None]
    capacity_known: dict[str, bool]
    current_hours: dict[str, float]
    area_servers: dict[str, frozenset[str]]
    locality_servers: dict[str, frozenset[str]]
    area_locality: dict[str, str | None]
    area_names: dict[str, str | None]
    names: dict[str, str | None]


def prepare_market(staged: Staged, as_of: date) -> Market:
    """Return the ``Market`` of ``staged`` on ``as_of``: everything allocation needs."""
    attrs = area_attributes(staged.areas).select("area_code", "area_name", "locality")
    packages = active_on(staged.packages, as_of).join(attrs, on="area_code", how="left")
    packages = packages.with_columns(pl.col("locality").fill_null(UNASSIGNED))
    active = set(providers_active_on(staged.providers, staged.packages, as_of))
    providers = staged.providers
    capacity = {pid: cap for pid, cap in zip(providers["provider_id"], providers["weekly_capacity_hours"], strict=True)}
    current = dict(packages.group_by("provider_id").agg(pl.col("planned_hours_per_week").sum()).iter_rows())
    spare: dict[str, float] = {}
    for pid in active:
        cap = capacity.get(pid)
        spare[pid] = 0.0 if cap is None else max(float(cap) - float(current.get(pid, 0.0)), 0.0)
    area_servers = {
        area: frozenset(pids)
        for area, pids in packages.group_by("area_code").agg(pl.col("provider_id").unique()).iter_rows()
    }
    locality_sets: dict[str, set[str]] = {}
    for loc, pids in packages.group_by("locality").agg(pl.col("provider_id").unique()).iter_rows():
        locality_sets.setdefault(loc, set()).update(pids)
    based = providers.join(attrs, left_on="base_area_code", right_on="area_code", how="inner")
    for pid, loc in based.select("provider_id", pl.col("locality").fill_null(UNASSIGNED)).iter_rows():
        locality_sets.setdefault(loc, set()).add(pid)
    area_locality = {
        code: (None if loc in (None, UNASSIGNED) else loc)
        for code, loc in attrs.with_columns(pl.col("locality").fill_null(UNASSIGNED))
        .select("area_code", "locality")
        .iter_rows()
    }
    return Market(
        as_of=as_of,
        active_packages=packages,
        active_providers=tuple(sorted(active)),
        spare=spare,
        capacity={pid: (None if cap is None else float(cap)) for pid, cap in capacity.items()},
        capacity_known={pid: capacity.get(pid) is not None for pid in active},
        current_hours={pid: float(h) for pid, h in current.items()},
        area_servers=area_servers,
        locality_servers={loc: frozenset(pids) for loc, pids in locality_sets.items() if loc != UNASSIGNED},
        area_locality=area_locality,
        area_names=dict(attrs.select("area_code", "area_name").iter_rows()),
        names=dict(providers.select("provider_id", "provider_name").iter_rows()),
    )


# --- allocation (pure Python, shared by one exit and the ranking) -------------------------------


def allocate(
    needs: dict[str, float],
    spare: dict[str, float],
    area_servers: dict[str, frozenset[str]],
    locality_servers: dict[str, frozenset[str]],
    area_locality: dict[str, str | None],
    exiting: str,
    orders: dict[frozenset[str], list[str]] | None = None,
) -> tuple[list[tuple[str, str, str, float]], dict[str, float]]:
    """Allocate displaced hours to spare capacity by the module's rule (same area, then same locality).

    Inputs: ``needs`` area -> displaced hours a week; ``spare`` provider -> spare hours a week (only
    providers in it can absorb); ``area_servers`` and ``locality_servers`` who serves where;
    ``area_locality`` area -> locality (``None`` = no step 2); ``exiting`` the provider leaving (never
    an absorber); ``orders``, optional, a dict kept between calls with the same ``spare`` (the
    ranking's one exit per provider) where each candidate set's providers are kept in the order of
    their spare hours. Output: ``(allocations, uncovered)``: allocations as ``(area, provider, stage,
    hours)`` in the order made, and area -> hours left uncovered (0 <= uncovered <= need).

    Each area draws on its candidates with the most spare hours left first (ties by provider id).
    """
    # Spare hours left per provider, filled in as providers are first asked (not copied whole: the
    # ranking allocates once per provider, and copying every provider's spare each time made it
    # quadratic in providers, 4.6 s of an Exit page at 50x). Same arithmetic as a full copy.
    remaining: dict[str, float] = {}
    drawn: set[str] = set()  # providers whose spare this allocation has used (the rest still have ``spare``)
    orders = {} if orders is None else orders
    left = {area: float(hours) for area, hours in needs.items() if hours > 0}
    order = sorted(left, key=lambda area: (-left[area], area))
    allocations: list[tuple[str, str, str, float]] = []

    def spare_left(pid: str) -> float:
        if pid not in remaining:
            hours = spare.get(pid, 0.0)
            remaining[pid] = hours if pid != exiting and hours > 0 else 0.0
        return remaining[pid]

    def in_spare_order(candidates: frozenset[str]) -> list[str]:
        """The candidates with spare hours, most first (ties by id), made once per set (``orders``)."""
        base = orders.get(candidates)
        if base is None:
            base = [p for p in candidates if spare.get(p, 0.0) > 0]
            base.sort(key=lambda p: (-spare[p], p))
            orders[candidates] = base
        return base

    def take(area: str, pid: str, stage: str) -> None:
        hours = min(left[area], spare_left(pid))
        left[area] -= hours
        remaining[pid] -= hours
        drawn.add(pid)
        allocations.append((area, pid, stage, hours))

    def draw(area: str, candidates: frozenset[str], stage: str) -> None:
        """Take from ``candidates`` with spare left, most first (ties by id), until ``area`` is covered.

        The same order as sorting every candidate by what it has left, without sorting them all for
        every area (most of a second of the ranking at 50x: 4,800 providers, a locality of 1,000,
        and an area is usually covered by the first one or two). Providers not drawn on yet still
        have their ``spare``, in the order made once per candidate set; the few drawn on are sorted
        by what they have left and merged in.
        """
        touched = sorted((p for p in drawn if p in candidates and remaining[p] > 0), key=lambda p: (-remaining[p], p))
        t = 0
        for pid in in_spare_order(candidates):
            if pid in drawn or pid == exiting:
                continue
            key = (-spare[pid], pid)
            while t < len(touched) and (-remaining[touched[t]], touched[t]) < key:
                if left[area] <= 0:
                    return
                take(area, touched[t], stage)
                t += 1
            if left[area] <= 0:
                return
            take(area, pid, stage)
        for pid in touched[t:]:
            if left[area] <= 0:
                return
            take(area, pid, stage)

    for area in order:
        draw(area, area_servers.get(area, frozenset()), SAME_AREA)
    for area in order:
        locality = area_locality.get(area)
        if left[area] > 0 and locality is not None:
            draw(area, locality_servers.get(locality, frozenset()), SAME_LOCALITY)
    uncovered = {area: left.get(area, 0.0) for area in needs}
    return allocations, uncovered


# --- one exit ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExitImpact:
    """What happens if ``provider_id`` leaves on ``as_of`` (hours are hours a week).

    Scalars: ``people_displaced`` (distinct people), ``packages_displaced``, ``hours_displaced``,
    ``hours_absorbed``, ``hours_uncovered`` (= displaced - absorbed), ``spare_capacity_elsewhere``
    (sum of every other active provider's spare capacity, wherever it is) and ``cover_ratio``
    (``spare_capacity_elsewhere / hours_displaced``, a local choice; below 1 = cannot absorb even
    ignoring geography; ``None`` when nothing is displaced).

    Frames:
    ``by_area``: ``area_code, area_name, locality, people, packages, hours_displaced,
    absorbed_same_area, absorbed_same_locality, hours_uncovered``;
    ``by_locality``: ``locality, people, packages, hours_displaced, hours_absorbed, hours_uncovered``;
    ``allocations``: ``area_code, provider_id, provider_name, stage, hours``;
    ``capacity``: every other active provider's ``provider_id, provider_name, weekly_capacity_hours,
    current_hours, spare_hours, capacity_known, hours_used, spare_after``.

    ``providers_without_capacity`` lists other active providers with no capacity figure;
    ``assumptions`` states every rule and assumption in plain English.
    """

    provider_id: str
    provider_name: str | None
    as_of: date
    locality: str | None
    people_displaced: int
    packages_displaced: int
    hours_displaced: float
    hours_absorbed: float
    hours_uncovered: float
    spare_capacity_elsewhere: float
    cover_ratio: float | None
    by_area: pl.DataFrame
    by_locality: pl.DataFrame
    allocations: pl.DataFrame
    capacity: pl.DataFrame
    providers_without_capacity: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def _fmt(hours: float) -> str:
    return fmt_number(hours, 1)


def _displaced_packages(market: Market, provider_id: str, locality: str | None) -> pl.DataFrame:
    frame = market.active_packages.filter(pl.col("provider_id") == provider_id)
    if locality is not None:
        frame = frame.filter(pl.col("locality") == locality)
    return frame


def assumptions_for(market: Market, provider_id: str, locality: str | None, displaced: pl.DataFrame) -> list[str]:
    """Return the plain-English assumptions behind an exit of ``provider_id`` (see ``ExitImpact``)."""
    name = market.names.get(provider_id) or provider_id
    others = [pid for pid in market.active_providers if pid != provider_id]
    no_capacity = [pid for pid in others if not market.capacity_known.get(pid, False)]
    over = [
        pid
        for pid in others
        if market.capacity_known.get(pid, False)
        and market.current_hours.get(pid, 0.0) >= (market.capacity.get(pid) or 0.0)
    ]
    hours = float(displaced.get_column("planned_hours_per_week").sum() or 0.0)
    where = f" in {locality}" if locality is not None else ""
    out = [
        f"Every package of {name}{where} active on {market.as_of:%d %B %Y} needs a new provider: "
        f"{displaced.height} packages, {_fmt(hours)} hours a week.",
        "Spare capacity of each other provider active on that date = its stated weekly capacity hours minus "
        "the planned hours of its council packages active that day, floored at 0. Stated capacity covers all "
        "of a provider's clients, so work the council's data does not show (self-funders, other councils) "
        "makes spare capacity an overestimate.",
        "Allocation rule: the displaced hours of each area go first to providers already serving that area "
        "(areas with the most displaced hours first; providers with the most spare capacity first), then, "
        "for all areas, to providers serving another area of the same locality or based there. Each "
        "provider's spare capacity is used once only. Providers serving only other localities are not used; "
        "areas with no locality get same-area cover only.",
        "Hours move as they are: package sizes do not change, one person's hours may be split between "
        "providers, and travel time and double-handed calls are not modelled.",
    ]
    if no_capacity:
        out.append(
            f"{len(no_capacity)} other active provider(s) have no weekly capacity figure and are counted as "
            f"having no spare capacity: {', '.join(no_capacity)}."
        )
    else:
        out.append("Every other active provider has a weekly capacity figure.")
    if over:
        out.append(
            f"{len(over)} other provider(s) already have planned hours at or above their stated capacity and "
            f"are counted as having no spare capacity: {', '.join(over)}."
        )
    if locality is not None:
        out.append(f"Only hours in {locality} are counted as displaced; spare capacity is measured across the council.")
    return out


def _impact(market: Market, provider_id: str, locality: str | None = None) -> ExitImpact:
    displaced = _displaced_packages(market, provider_id, locality)
    area_rows = (
        displaced.group_by("area_code", "area_name", "locality")
        .agg(
            *_people_packages_hours("hours_displaced"),
        )
        .sort(["hours_displaced", "area_code"], descending=[True, False])
    )
    needs = dict(area_rows.select("area_code", "hours_displaced").iter_rows())
    allocations, uncovered = allocate(
        needs, market.spare, market.area_servers, market.locality_servers, market.area_locality, provider_id
    )
    alloc = (
        pl.DataFrame(
            allocations,
            schema={"area_code": pl.String, "provider_id": pl.String, "stage": pl.String, "hours": pl.Float64},
            orient="row",
        )
        .with_columns(
            pl.col("provider_id")
            .replace_strict(market.names, default=None, return_dtype=pl.String)
            .alias("provider_name")
        )
        .select("area_code", "provider_id", "provider_name", "stage", "hours")
    )
    absorbed = alloc.group_by("area_code").agg(
        pl.col("hours").filter(pl.col("stage") == SAME_AREA).sum().alias("absorbed_same_area"),
        pl.col("hours").filter(pl.col("stage") == SAME_LOCALITY).sum().alias("absorbed_same_locality"),
    )
    uncovered_frame = pl.DataFrame(
        {"area_code": list(uncovered), "hours_uncovered": list(uncovered.values())},
        schema={"area_code": pl.String, "hours_uncovered": pl.Float64},
    )
    by_area = (
        area_rows.join(absorbed, on="area_code", how="left")
        .join(uncovered_frame, on="area_code", how="left")
        .with_columns(
            pl.col("absorbed_same_area").fill_null(0.0).cast(pl.Float64),
            pl.col("absorbed_same_locality").fill_null(0.0).cast(pl.Float64),
            pl.col("hours_uncovered").fill_null(0.0),
        )
    )
    by_locality = (
        displaced.group_by("locality")
        .agg(
            *_people_packages_hours("hours_displaced"),
        )
        .join(
            by_area.group_by("locality").agg(
                (pl.col("absorbed_same_area") + pl.col("absorbed_same_locality")).sum().alias("hours_absorbed"),
                pl.col("hours_uncovered").sum().alias("hours_uncovered"),
            ),
            on="locality",
            how="left",
        )
        .sort(["hours_displaced", "locality"], descending=[True, False])
    )
    used: dict[str, float] = {}
    for _, pid, _, hours in allocations:
        used[pid] = used.get(pid, 0.0) + hours
    others = [pid for pid in market.active_providers if pid != provider_id]
    capacity = pl.DataFrame(
        {
            "provider_id": others,
            "provider_name": [market.names.get(p) for p in others],
            "weekly_capacity_hours": [market.capacity.get(p) for p in others],
            "current_hours": [market.current_hours.get(p, 0.0) for p in others],
            "spare_hours": [market.spare.get(p, 0.0) for p in others],
            "capacity_known": [market.capacity_known.get(p, False) for p in others],
            "hours_used": [used.get(p, 0.0) for p in others],
        },
        schema={
            "provider_id": pl.String,
            "provider_name": pl.String,
            "weekly_capacity_hours": pl.Float64,
            "current_hours": pl.Float64,
            "spare_hours": pl.Float64,
            "capacity_known": pl.Boolean,
            "hours_used": pl.Float64,
        },
    ).with_columns((pl.col("spare_hours") - pl.col("hours_used")).alias("spare_after"))
    hours_displaced = float(sum(needs.values()))
    hours_absorbed = float(sum(a[3] for a in allocations))
    spare_elsewhere = float(sum(market.spare.get(p, 0.0) for p in others))
    return ExitImpact(
        provider_id=provider_id,
        provider_name=market.names.get(provider_id),
        as_of=market.as_of,
        locality=locality,
        people_displaced=int(displaced.get_column("person_id").n_unique()),
        packages_displaced=displaced.height,
        hours_displaced=hours_displaced,
        hours_absorbed=hours_absorbed,
        hours_uncovered=float(sum(uncovered.values())),
        spare_capacity_elsewhere=spare_elsewhere,
        cover_ratio=(spare_elsewhere / hours_displaced) if hours_displaced > 0 else None,
        by_area=by_area,
        by_locality=by_locality,
        allocations=alloc,
        capacity=capacity,
        providers_without_capacity=[p for p in others if not market.capacity_known.get(p, False)],
        assumptions=assumptions_for(market, provider_id, locality, displaced),
    )


def exit_impact(
    staged: Staged, provider_id: str, as_of: date, locality: str | None = None, market: Market | None = None
) -> ExitImpact:
    """Return the ``ExitImpact`` of ``provider_id`` leaving on ``as_of``.

    Inputs: ``staged`` (a ``Staged``, the whole drop: spare capacity is council-wide); the provider;
    ``as_of``; ``locality`` to count only the displaced hours in one locality (``None`` = all);
    ``market``, optional, ``prepare_market(staged, as_of)`` made already (the page shares it with
    the ranking). Raises ``KeyError`` for a provider id found in neither providers nor packages.
    """
    known = set(staged.providers.get_column("provider_id").to_list()) | set(
        staged.packages.get_column("provider_id").to_list()
    )
    if provider_id not in known:
        raise KeyError(f"unknown provider_id {provider_id!r}")
    return _impact(market or prepare_market(staged, as_of), provider_id, locality)


# --- every exit: the ranking -------------------------------------------------------------------

RANKING_SCHEMA = {
    "rank": pl.Int64,
    "provider_id": pl.String,
    "provider_name": pl.String,
    "provider_type": pl.String,
    "people": pl.Int64,
    "packages": pl.Int64,
    "hours": pl.Float64,
    "people_high_intensity": pl.Int64,
    "areas_served": pl.Int64,
    "hours_absorbed": pl.Float64,
    "hours_uncovered": pl.Float64,
    "uncovered_pct": pl.Float64,
    "cover_ratio": pl.Float64,
    "difficult_to_replace": pl.Boolean,
    "market_oversight": pl.Boolean,
    "market_oversight_reason": pl.String,
}


def difficult_to_replace(
    staged: Staged, as_of: date, locality: str | None = None, market: Market | None = None
) -> pl.DataFrame:
    """Return every provider ranked by the hours left uncovered if it alone exited on ``as_of``.

    Inputs: ``staged`` (a ``Staged``); ``as_of``; ``locality`` to count only displaced hours there;
    ``market``, optional, ``prepare_market(staged, as_of)`` made already.
    Output (``RANKING_SCHEMA``), one row per provider in ``providers`` or ``packages``: ``rank`` (1 =
    most uncovered hours; ties by hours then provider id), ``provider_id, provider_name,
    provider_type``, ``people`` (distinct), ``packages``, ``hours`` (planned hours a week active on
    ``as_of``), ``people_high_intensity`` (people with more than the config high-intensity hours with this
    provider), ``areas_served``, ``hours_absorbed``, ``hours_uncovered``, ``uncovered_pct`` (% of
    ``hours``; null when 0 hours), ``cover_ratio`` (see ``ExitImpact``), ``difficult_to_replace``
    (any hours uncovered), ``market_oversight`` (meets a national market oversight threshold of SI
    2015/314 on the council's packages alone) and ``market_oversight_reason``.
    """
    market = market or prepare_market(staged, as_of)
    limits = oversight_thresholds()
    packages = market.active_packages
    if locality is not None:
        packages = packages.filter(pl.col("locality") == locality)
    per_person = packages.group_by("provider_id", "person_id").agg(pl.col("planned_hours_per_week").sum().alias("h"))
    stats = (
        packages.group_by("provider_id")
        .agg(
            *_people_packages_hours("hours"),
            pl.col("area_code").n_unique().cast(pl.Int64).alias("areas_served"),
        )
        .join(
            per_person.group_by("provider_id").agg(
                (pl.col("h") > limits["high_intensity_hours_per_person"])
                .sum()
                .cast(pl.Int64)
                .alias("people_high_intensity")
            ),
            on="provider_id",
            how="left",
        )
    )
    needs_by_provider: dict[str, dict[str, float]] = {}
    for pid, area, hours in (
        packages.group_by("provider_id", "area_code").agg(pl.col("planned_hours_per_week").sum()).iter_rows()
    ):
        needs_by_provider.setdefault(pid, {})[area] = float(hours)
    total_spare = sum(market.spare.values())
    results = []
    orders: dict[frozenset[str], list[str]] = {}  # each candidate set in spare order, made once for every exit
    for pid, needs in needs_by_provider.items():
        allocations, uncovered = allocate(
            needs, market.spare, market.area_servers, market.locality_servers, market.area_locality, pid, orders
        )
        displaced = sum(needs.values())
        spare_elsewhere = total_spare - market.spare.get(pid, 0.0)
        results.append(
            (
                pid,
                float(sum(a[3] for a in allocations)),
                float(sum(uncovered.values())),
                spare_elsewhere / displaced if displaced > 0 else None,
            )
        )
    outcome = pl.DataFrame(
        results,
        schema={
            "provider_id": pl.String,
            "hours_absorbed": pl.Float64,
            "hours_uncovered": pl.Float64,
            "cover_ratio": pl.Float64,
        },
        orient="row",
    )
    ids = pl.concat([staged.providers.select("provider_id"), staged.packages.select("provider_id")]).unique()
    hours, people = pl.col("hours"), pl.col("people")
    reasons = pl.concat_list(
        pl.when(hours >= limits["hours_per_week"]).then(
            pl.lit(f"at least {limits['hours_per_week']:,.0f} hours a week")
        ),
        pl.when(people >= limits["people_per_week"]).then(pl.lit(f"at least {limits['people_per_week']:,.0f} people")),
        pl.when(pl.col("people_high_intensity") >= limits["people_high_intensity"]).then(
            pl.lit(
                f"at least {limits['people_high_intensity']:,.0f} people with more than "
                f"{limits['high_intensity_hours_per_person']:,.0f} hours a week"
            )
        ),
    ).list.drop_nulls()
    ranked = (
        ids.join(staged.providers.select("provider_id", "provider_name", "provider_type"), on="provider_id", how="left")
        .join(stats, on="provider_id", how="left")
        .join(outcome, on="provider_id", how="left")
        .with_columns(
            pl.col("people").fill_null(0),
            pl.col("packages").fill_null(0),
            pl.col("hours").fill_null(0.0),
            pl.col("people_high_intensity").fill_null(0),
            pl.col("areas_served").fill_null(0),
            pl.col("hours_absorbed").fill_null(0.0),
            pl.col("hours_uncovered").fill_null(0.0),
        )
        .with_columns(
            pl.when(hours > 0).then(pl.col("hours_uncovered") * 100.0 / hours).otherwise(None).alias("uncovered_pct"),
            (pl.col("hours_uncovered") > 0).alias("difficult_to_replace"),
            reasons.alias("__reasons"),
        )
        .with_columns(
            (pl.col("__reasons").list.len() > 0).alias("market_oversight"),
            pl.when(pl.col("__reasons").list.len() > 0)
            .then(pl.col("__reasons").list.join("; "))
            .otherwise(None)
            .alias("market_oversight_reason"),
        )
        .sort(["hours_uncovered", "hours", "provider_id"], descending=[True, True, False])
        .with_row_index("rank", offset=1)
    )
    return ranked.select([pl.col(c).cast(t) for c, t in RANKING_SCHEMA.items()])


def largest_provider(staged: Staged, as_of: date, locality: str | None = None) -> str | None:
    """Return the provider with the most planned hours active on ``as_of`` (ties: lowest provider id).

    ``locality`` counts only hours there. ``None`` when no package is active.
    """
    attrs = area_attributes(staged.areas).select("area_code", "locality")
    active = active_on(staged.packages, as_of).join(attrs, on="area_code", how="left")
    if locality is not None:
        active = active.filter(pl.col("locality").fill_null(UNASSIGNED) == locality)
    if active.is_empty():
        return None
    totals = active.group_by("provider_id").agg(pl.col("planned_hours_per_week").sum().alias("hours"))
    return totals.sort(["hours", "provider_id"], descending=[True, False]).get_column("provider_id").first()


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_exit_ranking``: ``difficult_to_replace`` on ``as_of`` for the whole council.

    Plus ``mart_exit_largest_by_area``: the ``by_area`` frame of the largest provider's exit
    (``provider_id`` added), empty when no package is active.
    """
    ranking = difficult_to_replace(staged, staged.as_of)
    largest = largest_provider(staged, staged.as_of)
    if largest is None:
        by_area = pl.DataFrame(
            schema={
                "provider_id": pl.String,
                "area_code": pl.String,
                "area_name": pl.String,
                "locality": pl.String,
                "people": pl.Int64,
                "packages": pl.Int64,
                "hours_displaced": pl.Float64,
                "absorbed_same_area": pl.Float64,
                "absorbed_same_locality": pl.Float64,
                "hours_uncovered": pl.Float64,
            }
        )
    else:
        by_area = exit_impact(staged, largest, staged.as_of).by_area.select(
            pl.lit(largest).alias("provider_id"), pl.all()
        )
    return {"mart_exit_ranking": ranking, "mart_exit_largest_by_area": by_area}


# One scope rule (analytics.indicators.headline): a provider's exit displaces all its care, whatever the service type.
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, float | int | None]:
    """Return exit stress headline figures for ``locality`` (``None`` = council).

    Keys: ``largest_provider_exit_uncovered_hours`` and ``largest_provider_exit_displaced_hours``
    (hours a week if the provider with the most planned hours, ties by provider id, exited),
    ``largest_provider_exit_cover_ratio`` (spare capacity elsewhere / displaced hours),
    ``providers_difficult_to_replace`` (providers whose exit would leave hours uncovered) and
    ``providers_market_oversight`` (providers meeting a national oversight threshold on council data).
    A locality counts only displaced hours there, with spare capacity from the whole council. Hours
    and ratio rounded to 2 dp. All ``None`` when no package is active. When ``analytics.indicators.headline``
    filters service types first, providers' hours of other types are not subtracted from their
    capacity, so spare capacity is higher than for the whole market.
    """
    largest = largest_provider(staged, as_of, locality)
    if largest is None:
        return dict.fromkeys(
            (
                "largest_provider_exit_uncovered_hours",
                "largest_provider_exit_displaced_hours",
                "largest_provider_exit_cover_ratio",
                "providers_difficult_to_replace",
                "providers_market_oversight",
            )
        )
    market = prepare_market(staged, as_of)
    impact = _impact(market, largest, locality)
    ranking = difficult_to_replace(staged, as_of, locality)
    return {
        "largest_provider_exit_uncovered_hours": rounded(impact.hours_uncovered),
        "largest_provider_exit_displaced_hours": rounded(impact.hours_displaced),
        "largest_provider_exit_cover_ratio": rounded(impact.cover_ratio),
        "providers_difficult_to_replace": int(ranking.get_column("difficult_to_replace").sum()),
        "providers_market_oversight": int(ranking.get_column("market_oversight").sum()),
    }
