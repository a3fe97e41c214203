"""Packages of the demo council: care episodes split into packages, people numbered, ``packages.csv``.

An episode is split into packages whenever the provider leaves the market, hands the package
back, the person moves provider, or in-house reablement hands over to long-term care; the next
provider is drawn from those active and serving the ward that month. Hazards are events a year
per package; a package's hourly rate is its provider's current rate at the fee level of the year
it ended, plus a rural enhancement for agencies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.contract import CLIENT_GROUPS, END_REASONS, FUNDING, SERVICE_TYPES
from analytics.demo.areas import Areas
from analytics.demo.common import (
    ER,
    FU,
    KIND_CONTINUATION,
    KIND_NEW,
    NEVER,
    ST,
    YEAR,
    Copy,
    date_series,
    financial_year,
    float_series,
    ids,
    lookup,
    piecewise_event,
)
from analytics.demo.providers import Providers, choose

# Hazards, events a year per package.
HANDBACK_RATE = 0.012
DOMINANT_HANDBACK_RATES = (0.03, 0.12, 0.25)  # before the last year, its first half, its second half
RURAL_HANDBACK_FACTOR = 1.5
DOMINANT_RURAL_HANDBACK_FACTOR = 2.0
MOVE_RATE = 0.025
ME_MOVE_RATE = 0.01
FEE_UPLIFT = 1.06  # a year; older packages carry the rate of the year they ended
RURAL_ENHANCEMENT = 0.50  # £ an hour added to agency rates in rural wards


@dataclass(frozen=True)
class People:
    """Person numbers of one copy: ``numbers`` one an episode; ``withdrawn_day``/``withdrawn_person``
    one a withdrawn request (people who asked for care and never had a package)."""

    numbers: np.ndarray
    withdrawn_day: np.ndarray
    withdrawn_person: np.ndarray


def number_people(copy: Copy, ep: dict[str, np.ndarray]) -> People:
    """Number people in the order they first came to the council (withdrawn requests included)."""
    rng = copy.rng
    n_withdrawn = int(round(0.06 * (copy.as_of - copy.window_start) * 5.2))
    withdrawn_day = np.sort(rng.integers(copy.window_start, copy.as_of + 1, n_withdrawn))
    first = np.concatenate([ep["start"], withdrawn_day])
    order = np.argsort(first, kind="stable")
    numbers = np.empty(first.size, dtype=np.int64)
    numbers[order] = 1_000 + np.arange(first.size)
    return People(numbers[: ep["start"].size], withdrawn_day, numbers[ep["start"].size :])


def split_packages(copy: Copy, areas: Areas, providers: Providers, ep: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Split episodes into packages at provider exits, hand-backs, moves and reablement hand-overs."""
    rng = copy.rng
    unassigned = ep["provider"] < 0
    provider = ep["provider"].copy()
    provider[unassigned] = choose(copy, providers, ep["start"][unassigned], ep["area"][unassigned])
    cur = {
        "ep": np.arange(ep["start"].size),
        "start": ep["start"].copy(),
        "provider": provider,
        "hours": ep["hours"].copy(),
        "stype": ep["stype"].copy(),
        "forced": ep["forced"].copy(),
        "kind": ep["kind"].copy(),
    }
    done: list[dict[str, np.ndarray]] = []
    breaks = (copy.last_year, copy.last_half_year)
    for _ in range(50):
        n = cur["start"].size
        if n == 0:
            break
        e = cur["ep"]
        p = cur["provider"]
        area = ep["area"][e]
        rural = areas.rural[area]
        switchable = ep["switchable"][e]
        nat_end = ep["nat_end"][e]
        exit_day = np.where(providers.active_to[p] < NEVER, providers.active_to[p], NEVER)
        rates = np.zeros((n, 3))
        base_rate = np.where(providers.is_agency[p], HANDBACK_RATE, 0.0)
        base_rate = np.where(p == providers.other_org, HANDBACK_RATE, base_rate)
        rates[:] = (base_rate * np.where(rural, RURAL_HANDBACK_FACTOR, 1.0))[:, None]
        dom = p == providers.dominant
        dom_factor = np.where(rural, DOMINANT_RURAL_HANDBACK_FACTOR, 1.0)
        for j, r in enumerate(DOMINANT_HANDBACK_RATES):
            rates[dom, j] = r * dom_factor[dom]
        rates = rates * switchable[:, None] / YEAR
        handback = piecewise_event(rng, cur["start"] + 7, rates, breaks)
        move_rate = np.where(providers.is_me[p], ME_MOVE_RATE, MOVE_RATE) * (p != providers.inhouse)
        move = np.where(
            switchable & (move_rate > 0),
            cur["start"] + 30 + np.floor(rng.exponential(1.0, n) * YEAR / np.maximum(move_rate, 1e-9)),
            NEVER,
        ).astype(np.int64)
        move = np.minimum(move, NEVER)
        candidates = np.stack([exit_day, handback, move, cur["forced"]], axis=1)
        which = candidates.argmin(axis=1)
        switch_day = candidates[np.arange(n), which]
        switching = (switch_day < nat_end) & (switch_day < copy.as_of)
        # Draw the next provider; a move or hand-back with no one else serving the ward
        # (only the in-house fallback) does not happen, unless the provider is leaving anyway.
        choice = np.full(n, -1, dtype=np.int64)
        choice[switching] = choose(copy, providers, switch_day[switching] + 1, area[switching], exclude=p[switching])
        stuck = (
            switching
            & (choice == providers.inhouse)
            & ((which == 1) | (which == 2))
            & (exit_day >= nat_end)
            & (cur["forced"] >= nat_end)
        )
        switching &= ~stuck
        end = np.where(switching, switch_day, nat_end)
        exit_reason = np.where(providers.is_me[p], ER["moved_provider"], ER["provider_handback"])
        reason = np.select(
            [which == 0, which == 1, which == 2],
            [exit_reason, ER["provider_handback"], ER["moved_provider"]],
            ER["ended_as_planned"],
        )
        reason = np.where(switching, reason, ep["nat_reason"][e])
        done.append({**cur, "end": end, "reason": reason})
        idx = np.flatnonzero(switching)
        new_start = switch_day[idx] + 1
        forced = which[idx] == 3
        new_provider = choice[idx]
        cur = {
            "ep": e[idx],
            "start": new_start,
            "provider": new_provider,
            "hours": np.where(forced, ep["ep_hours"][e[idx]], cur["hours"][idx]),
            "stype": np.where(
                forced | (cur["stype"][idx] == ST["reablement"]), ep["ep_stype"][e[idx]], cur["stype"][idx]
            ),
            "forced": np.full(idx.size, NEVER, dtype=np.int64),
            "kind": np.full(idx.size, KIND_CONTINUATION, dtype=np.int64),
        }
    seg = {key: np.concatenate([d[key] for d in done]) for key in done[0]}
    seg["area"] = ep["area"][seg["ep"]]
    # Personal-assistant packages are always direct payments; reablement is council-funded.
    funding = ep["funding"][seg["ep"]]
    funding = np.where(np.isin(seg["provider"], providers.pa_pools), FU["direct_payment"], funding)
    seg["funding"] = np.where(seg["stype"] == ST["reablement"], FU["council"], funding)
    order = np.lexsort((seg["provider"], seg["ep"], seg["start"]))
    return {key: value[order] for key, value in seg.items()}


def use_every_provider(copy: Copy, providers: Providers, seg: dict[str, np.ndarray]) -> None:
    """Give a provider with no package in the 36 months one new single-package episode it could take."""
    live = (seg["start"] <= copy.as_of) & (seg["end"] >= copy.window_start)
    used = np.zeros(providers.n, dtype=bool)
    used[seg["provider"][live]] = True
    single = np.bincount(seg["ep"])[seg["ep"]] == 1
    for p in np.flatnonzero(~used):
        ok = (
            live
            & single
            & (seg["kind"] == KIND_NEW)
            & (seg["stype"] == ST["home_care"])
            & providers.is_agency[seg["provider"]]
            & (seg["provider"] != providers.dominant)
            & providers.serve[seg["area"], p]
            & (seg["start"] >= max(providers.active_from[p], copy.window_start))
            & (seg["end"] <= providers.active_to[p])
        )
        candidates = np.flatnonzero(ok)
        if candidates.size:
            seg["provider"][candidates[copy.rng.integers(0, candidates.size)]] = p


def packages_frame(
    copy: Copy,
    areas: Areas,
    providers: Providers,
    people: People,
    seg: dict[str, np.ndarray],
    ep: dict[str, np.ndarray],
) -> pl.DataFrame:
    rng = copy.rng
    keep = (seg["start"] <= copy.as_of) & (seg["end"] >= copy.window_start)
    s = {key: value[keep] for key, value in seg.items()}
    n = s["start"].size
    ongoing = s["end"] > copy.as_of
    provider = s["provider"]
    # Hourly rate: the provider's current rate, at the fee level of the year the package ended;
    # agencies get a rural enhancement. In-house has no hourly price.
    reference = np.minimum(s["end"], copy.as_of)
    years = financial_year(np.array([copy.as_of]))[0] - financial_year(reference)
    rate = providers.rate[provider] / FEE_UPLIFT**years
    rate = rate + np.where(providers.is_agency[provider] & areas.rural[s["area"]], RURAL_ENHANCEMENT, 0.0)
    pa = np.isin(provider, providers.pa_pools)
    rate = np.where(pa, rate + np.round(rng.uniform(-1.5, 1.75, n) * 4) / 4, rate)
    person = people.numbers[s["ep"]]
    return pl.DataFrame(
        [
            ids("package_id", f"{copy.prefix}PK", np.arange(1, n + 1), 7),
            copy.person_ids(person),
            lookup("area_code", areas.codes, s["area"]),
            lookup("provider_id", providers.ids, provider),
            date_series("start_date", s["start"]),
            date_series("end_date", s["end"], ongoing),
            float_series("planned_hours_per_week", s["hours"], 2),
            lookup("service_type", SERVICE_TYPES, s["stype"]),
            lookup("funding", FUNDING, s["funding"]),
            lookup("client_group", CLIENT_GROUPS, ep["cgroup"][s["ep"]]),
            float_series("hourly_rate", rate, 2, np.isnan(rate)),
            lookup("end_reason", END_REASONS, np.where(ongoing, -1, s["reason"])),
        ]
    )
