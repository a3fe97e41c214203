"""Care episodes of the demo council: one person's continuous care, before it is split into packages.

People arrive as a Poisson process over ten years before ``as_of`` (a little growth a year),
scaled so that about the calibrated number are in service at ``as_of``, and stay for a random
time. Four groups: general home care and supported living (agency, personal assistant, community
organisation; some start with in-house reablement), extra care schemes, in-house reablement, and
microenterprise customers filling each enterprise's "slots" one after another.

An episode is a dict of arrays, one entry an episode: ``area``, ``start``, ``nat_end`` and
``nat_reason`` (its natural end), ``provider`` (-1: to be drawn), ``hours`` and ``stype`` of the
first package, ``ep_hours``/``ep_stype`` after a reablement hand-over, ``forced`` (day of that
hand-over), ``switchable`` (may change provider), ``kind``, ``funding`` and ``cgroup`` codes.
"""

from __future__ import annotations

import numpy as np

from analytics.demo.areas import Areas
from analytics.demo.common import (
    CG,
    ER,
    FU,
    KIND_ME,
    KIND_NEW,
    KIND_REABLEMENT,
    NEVER,
    ST,
    YEAR,
    Copy,
    categorical,
    gamma_hours,
)
from analytics.demo.providers import EXTRA_CARE_SCHEMES, Providers

# Calibration targets at as_of (Cumberland Council 2025; ADASS, Spring Survey 2025; Skills for Care 2024/25).
# People in service is about 2,000:
# the general pool (agency, PA, other, in-house bridging) + extra care + reablement + microenterprises.
TARGET_GENERAL_PEOPLE = 1_570
TARGET_EXTRA_CARE_PEOPLE = 60
TARGET_REABLEMENT_PEOPLE = 26
ME_CUSTOMERS = 288  # 46 x 6.26 (Cumberland: 288 customers, 1,308 hours a week)
ME_HOURS_PER_CUSTOMER = 4.5
GROWTH_PER_YEAR = 0.02  # demand growth

# Durations in days.
HOME_CARE_SHORT_SHARE, HOME_CARE_SHORT_DAYS, HOME_CARE_LONG_DAYS = 0.30, 90.0, 850.0
SUPPORTED_LIVING_SHARE, SUPPORTED_LIVING_DAYS = 0.02, 1_800.0
EXTRA_CARE_DAYS = 900.0
ME_PACKAGE_DAYS, ME_GAP_DAYS = 420.0, 25.0
REABLEMENT_PHASE_SHARE = 0.15  # of general episodes outside remote wards, start with in-house reablement


def draw_episodes(copy: Copy, areas: Areas, providers: Providers) -> dict[str, np.ndarray]:
    """Draw every care episode (one person's continuous care) of every group."""
    groups = [
        _general_episodes(copy, areas, providers),
        _extra_care_episodes(copy, areas, providers),
        _reablement_episodes(copy, areas, providers),
    ]
    groups.append(_me_episodes(copy, providers))
    return {key: np.concatenate([g[key] for g in groups]) for key in groups[0]}


def _arrivals(copy: Copy, target_active: float, survival) -> np.ndarray:
    """Return start days of a Poisson arrival process expected to leave ``target_active`` active at as_of."""
    days = np.arange(copy.history_start, copy.horizon + 1)
    growth = np.exp(GROWTH_PER_YEAR * (days - copy.as_of) / YEAR)
    past = days <= copy.as_of
    expected = float((growth[past] * survival((copy.as_of - days[past]).astype(np.float64))).sum())
    lam = growth * target_active / expected
    return np.repeat(days, copy.rng.poisson(lam))


def _blank_episodes(n: int) -> dict[str, np.ndarray]:
    return {
        "area": np.zeros(n, dtype=np.int64),
        "start": np.zeros(n, dtype=np.int64),
        "nat_end": np.zeros(n, dtype=np.int64),
        "nat_reason": np.zeros(n, dtype=np.int64),
        "provider": np.full(n, -1, dtype=np.int64),
        "hours": np.zeros(n),
        "stype": np.full(n, ST["home_care"], dtype=np.int64),
        "ep_hours": np.zeros(n),
        "ep_stype": np.full(n, ST["home_care"], dtype=np.int64),
        "forced": np.full(n, NEVER, dtype=np.int64),
        "switchable": np.ones(n, dtype=bool),
        "kind": np.full(n, KIND_NEW, dtype=np.int64),
        "funding": np.full(n, FU["council"], dtype=np.int64),
        "cgroup": np.full(n, CG["older_people"], dtype=np.int64),
    }


def _general_episodes(copy: Copy, areas: Areas, providers: Providers) -> dict[str, np.ndarray]:
    """Agency, personal-assistant and community-organisation episodes (home care, supported living)."""
    rng = copy.rng
    s, ds, dl = HOME_CARE_SHORT_SHARE, HOME_CARE_SHORT_DAYS, HOME_CARE_LONG_DAYS
    p_sl, d_sl = SUPPORTED_LIVING_SHARE, SUPPORTED_LIVING_DAYS

    def survival(x):
        home = s * np.exp(-x / ds) + (1 - s) * np.exp(-x / dl)
        return (1 - p_sl) * home + p_sl * np.exp(-x / d_sl)

    start = _arrivals(copy, TARGET_GENERAL_PEOPLE, survival)
    n = start.size
    ep = _blank_episodes(n)
    ep["start"] = start
    ep["area"] = rng.choice(len(areas.demand), size=n, p=areas.demand / areas.demand.sum())
    supported = rng.random(n) < p_sl
    short = ~supported & (rng.random(n) < s)
    mean = np.where(supported, d_sl, np.where(short, ds, dl))
    duration = np.ceil(rng.exponential(1.0, n) * mean).astype(np.int64) + 6
    ep["nat_end"] = start + duration - 1
    ep["stype"] = np.where(supported, ST["supported_living"], ST["home_care"])
    hours = gamma_hours(rng, n, 13.3, 2.2, 1.5, 56.0, 0.25)
    ep["hours"] = np.where(supported, gamma_hours(rng, n, 30.0, 4.0, 10.0, 84.0, 0.5), hours)
    reason_short = categorical(
        rng, n, {"ended_as_planned": 0.5, "deceased": 0.22, "moved_to_residential": 0.12, "other": 0.16}, ER
    )
    reason_long = categorical(
        rng, n, {"deceased": 0.40, "moved_to_residential": 0.28, "ended_as_planned": 0.18, "other": 0.14}, ER
    )
    reason_sl = categorical(rng, n, {"other": 0.5, "ended_as_planned": 0.3, "deceased": 0.2}, ER)
    ep["nat_reason"] = np.where(supported, reason_sl, np.where(short, reason_short, reason_long))
    ep["funding"] = categorical(
        rng,
        n,
        {"council": 0.80, "direct_payment": 0.08, "health": 0.07, "self_funded": 0.04, "other": 0.01},
        FU,
    )
    older = categorical(
        rng,
        n,
        {
            "older_people": 0.82,
            "physical_disability": 0.09,
            "mental_health": 0.04,
            "learning_disability": 0.03,
            "other": 0.02,
        },
        CG,
    )
    sl = categorical(rng, n, {"learning_disability": 0.7, "mental_health": 0.2, "physical_disability": 0.1}, CG)
    ep["cgroup"] = np.where(supported, sl, older)
    # Some start with in-house reablement, then hand over to long-term care.
    reab = ~supported & ~areas.remote[ep["area"]] & (rng.random(n) < REABLEMENT_PHASE_SHARE)
    ep["ep_hours"] = ep["hours"].copy()
    ep["ep_stype"] = ep["stype"].copy()
    ep["provider"] = np.where(reab, providers.inhouse, -1)
    ep["hours"] = np.where(reab, np.round(rng.uniform(5, 14, n) * 4) / 4, ep["hours"])
    ep["stype"] = np.where(reab, ST["reablement"], ep["stype"])
    ep["forced"] = np.where(reab, start + rng.integers(14, 43, n) - 1, NEVER)
    ep["kind"] = np.where(reab, KIND_REABLEMENT, KIND_NEW)
    return ep


def _extra_care_episodes(copy: Copy, areas: Areas, providers: Providers) -> dict[str, np.ndarray]:
    rng = copy.rng
    start = _arrivals(copy, TARGET_EXTRA_CARE_PEOPLE, lambda x: np.exp(-x / EXTRA_CARE_DAYS))
    n = start.size
    ep = _blank_episodes(n)
    scheme = rng.integers(0, len(EXTRA_CARE_SCHEMES), n)
    ep["start"] = start
    ep["area"] = np.array([areas.ward_index[w] for _, w in EXTRA_CARE_SCHEMES])[scheme]
    ep["provider"] = np.array(providers.extra_care)[scheme]
    ep["nat_end"] = start + np.ceil(rng.exponential(EXTRA_CARE_DAYS, n)).astype(np.int64) + 13
    ep["nat_reason"] = categorical(
        rng, n, {"deceased": 0.45, "moved_to_residential": 0.35, "ended_as_planned": 0.1, "other": 0.1}, ER
    )
    ep["hours"] = ep["ep_hours"] = gamma_hours(rng, n, 8.0, 2.5, 1.5, 30.0, 0.25)
    ep["stype"] = ep["ep_stype"] = np.full(n, ST["extra_care"], dtype=np.int64)
    ep["switchable"] = np.zeros(n, dtype=bool)
    ep["funding"] = categorical(rng, n, {"council": 0.85, "self_funded": 0.10, "direct_payment": 0.05}, FU)
    return ep


def _reablement_episodes(copy: Copy, areas: Areas, providers: Providers) -> dict[str, np.ndarray]:
    rng = copy.rng
    start = _arrivals(copy, TARGET_REABLEMENT_PEOPLE, lambda x: np.clip((42 - x) / 28, 0, 1))
    n = start.size
    ep = _blank_episodes(n)
    weights = areas.demand * ~areas.remote
    ep["start"] = start
    ep["area"] = rng.choice(len(weights), size=n, p=weights / weights.sum())
    ep["provider"] = np.full(n, providers.inhouse, dtype=np.int64)
    ep["nat_end"] = start + rng.integers(14, 43, n) - 1
    ep["nat_reason"] = categorical(
        rng, n, {"ended_as_planned": 0.85, "moved_to_residential": 0.07, "deceased": 0.03, "other": 0.05}, ER
    )
    ep["hours"] = ep["ep_hours"] = np.round(rng.uniform(5, 14, n) * 4) / 4
    ep["stype"] = ep["ep_stype"] = np.full(n, ST["reablement"], dtype=np.int64)
    ep["switchable"] = np.zeros(n, dtype=bool)
    ep["kind"] = np.full(n, KIND_REABLEMENT, dtype=np.int64)
    ep["funding"] = categorical(rng, n, {"council": 0.9, "health": 0.1}, FU)
    return ep


def _me_episodes(copy: Copy, providers: Providers) -> dict[str, np.ndarray]:
    """Microenterprise customers: each enterprise has a few slots filled one customer after another."""
    rng = copy.rng
    me = np.arange(providers.me_start, providers.n)
    n_me = me.size
    active_at = providers.active_to[me] >= copy.as_of
    occupancy = ME_PACKAGE_DAYS / (ME_PACKAGE_DAYS + ME_GAP_DAYS)
    target_slots = int(round(ME_CUSTOMERS / occupancy))
    slots = np.clip(rng.poisson(5.6, n_me) + 1, 2, 12)
    movable = np.flatnonzero(active_at)
    while slots[active_at].sum() != target_slots:
        j = rng.choice(movable)
        if slots[active_at].sum() > target_slots and slots[j] > 2:
            slots[j] -= 1
        elif slots[active_at].sum() < target_slots and slots[j] < 12:
            slots[j] += 1
    owner = np.repeat(me, slots)
    af = providers.active_from[owner]
    ramp = np.clip(0.8 * (copy.as_of - af), 1, 240)
    opened = af + (rng.random(owner.size) * ramp).astype(np.int64)
    k = 10
    durations = np.ceil(rng.exponential(ME_PACKAGE_DAYS, (owner.size, k))).astype(np.int64) + 7
    gaps = np.ceil(rng.exponential(ME_GAP_DAYS, (owner.size, k))).astype(np.int64) + 1
    starts = opened[:, None] + np.concatenate(
        [np.zeros((owner.size, 1), dtype=np.int64), np.cumsum(durations + gaps, axis=1)[:, :-1]], axis=1
    )
    keep = (starts <= np.minimum(providers.active_to[owner] - 1, copy.horizon)[:, None]).ravel()
    start = starts.ravel()[keep]
    provider = np.repeat(owner, k)[keep]
    n = start.size
    ep = _blank_episodes(n)
    ep["start"] = start
    ep["nat_end"] = start + durations.ravel()[keep] - 1
    ep["provider"] = provider
    # Customers live in the enterprise's base ward, or a neighbouring ward it serves.
    home = providers.base[provider]
    other = np.array([_random_served(copy.rng, providers, p) for p in provider], dtype=np.int64)
    ep["area"] = np.where(rng.random(n) < 0.7, home, other)
    ep["hours"] = ep["ep_hours"] = gamma_hours(rng, n, ME_HOURS_PER_CUSTOMER, 2.5, 1.0, 16.0, 0.5)
    ep["nat_reason"] = categorical(
        rng, n, {"ended_as_planned": 0.4, "deceased": 0.25, "moved_to_residential": 0.15, "other": 0.2}, ER
    )
    ep["kind"] = np.full(n, KIND_ME, dtype=np.int64)
    ep["funding"] = categorical(rng, n, {"council": 0.55, "direct_payment": 0.30, "self_funded": 0.15}, FU)
    ep["cgroup"] = categorical(
        rng, n, {"older_people": 0.85, "physical_disability": 0.08, "mental_health": 0.05, "other": 0.02}, CG
    )
    return ep


def _random_served(rng: np.random.Generator, providers: Providers, provider: int) -> int:
    wards = np.flatnonzero(providers.serve[:, provider])
    return int(wards[rng.integers(0, wards.size)])
