"""Providers of the demo council: who they are, where they work, when they are active, how big
and how dear they are, how new packages are shared among them, and ``providers.csv``.

Provider order (and ids): agencies ``AG01``... (the dominant agency first, then extra care, rural
and other agencies), in-house ``IH01``, two personal-assistant pools ``PA01``/``PA02``, one
community organisation ``OT01``, microenterprises ``ME01``...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.demo.areas import LOCALITIES, Areas
from analytics.demo.common import NEVER, YEAR, Copy, date_series, float_series, lookup
from analytics.demo.hours import PlannedHours

ACTIVE_MICROENTERPRISES = 46
MICROENTERPRISES_CREATED = 50  # 4 of them close before as_of

# Provider choice: the dominant agency's weight in a ward relative to all other agencies there,
# and how much it cuts new intake in the last 12 months.
DOMINANT_WEIGHT = 0.62
DOMINANT_RECENT_INTAKE = 0.55
PA_WEIGHT, OTHER_WEIGHT, FALLBACK_WEIGHT = 0.025, 0.04, 1e-6

DOMINANT_NAME = "Fellcare Homecare Ltd"
# Extra care providers: (name, base ward = the scheme's ward, contract type); block contracts.
EXTRA_CARE_AGENCIES = (
    ("Heronsgate Care Services", "Millbeck", "framework lot 1"),
    ("Dalesway Home Support", "Brackenholme", "framework lot 1"),
)
EXTRA_CARE_SCHEMES = (("Riverside Court", "Millbeck"), ("Fellside Mews", "Brackenholme"))
# The only agencies in most remote wards: (name, base ward, remote wards served, contract type).
RURAL_AGENCIES = (
    ("Fellside Community Care", "Keldside", ("High Stennerdale", "Ravenhause Fell"), "framework lot 2"),
    ("Upper Stenner Home Support", "Thornby Moor", ("Scarrowdale Head",), "spot"),
    ("Eastern Valleys Homecare", "Garth Bridge", ("Mardale Foot", "Bleaberry Head"), "framework lot 2"),
)
DOMINANT_REMOTE_WARDS = ("High Stennerdale", "Mardale Foot")
OTHER_AGENCY_NAMES = (
    "Bluebell Home Care",
    "Castlegate Care at Home",
    "Northdale Home Support",
    "Saltcote Carers",
    "Harbourlight Homecare",
    "Kindred Care Services",
    "Willowbank Domiciliary Care",
    "Brightwater Care",
    "Oakleaf Home Care",
    "Meadowsweet Care Ltd",
    "Greystone Homecare",
    "Cornerstone Care North",
    "Hollybrook Care",
    "Lantern Home Support",
    "Thistledown Care",
    "Silverbirch Homecare",
    "Harmony at Home Northdale",
    "Beacon Care Services",
    "Rowan Tree Care",
    "Springwell Home Care",
    "Compass Care North",
    "Evergreen Support Services",
    "Hearthside Care",
    "Daybreak Homecare",
    "Kestrel Care Ltd",
    "Ashdale Way Care",
    "Moorland Home Care",
    "Pennyroyal Care",
    "Quayside Home Support",
    "Stonebridge Care",
    "Tarnside Homecare",
    "Valerian Care",
    "Westgate Care Services",
    "Wren Homecare",
    "Amberley Home Care",
    "Clover Home Support",
)
ME_NAME_FIRST = ("Bramble", "Heather", "Skylark", "Curlew", "Bilberry", "Hawthorn", "Larch", "Beck", "Fell", "Dale")
ME_NAME_SECOND = ("Home Help", "Companions", "Care & Support", "Helping Hands", "Community Care")
N_AGENCIES = 1 + len(EXTRA_CARE_AGENCIES) + len(RURAL_AGENCIES) + len(OTHER_AGENCY_NAMES)  # 42
N_EXITS, N_ENTRANTS = 3, 3


@dataclass(frozen=True)
class Providers:
    """The providers of one copy, one entry a provider in file order.

    Roles are indices: ``dominant``, ``extra_care``, ``rural``, ``inhouse``, ``pa_pools``,
    ``other_org``, microenterprises from ``me_start``; ``exited``/``entrants`` left or joined the
    market in the 36 months. ``serve`` is (areas, providers) bool; ``active_from``/``active_to``
    are day numbers (``NEVER``: still active); ``size`` is a relative share of referrals; ``rate``
    £ an hour this financial year (NaN in-house); ``weights`` is W[month, area, provider], the
    referral weights for drawing a provider for a new package.
    """

    names: list[str]
    ids: list[str]
    types: list[str]
    contract_type: list[str]
    base: np.ndarray  # base ward index, -1 for the personal-assistant pools
    serve: np.ndarray
    is_agency: np.ndarray
    is_me: np.ndarray
    n: int
    n_agencies: int
    dominant: int
    extra_care: list[int]
    rural: list[int]
    inhouse: int
    pa_pools: list[int]
    other_org: int
    me_start: int
    exited: np.ndarray
    entrants: np.ndarray
    active_from: np.ndarray
    active_to: np.ndarray
    size: np.ndarray
    rate: np.ndarray
    weights: np.ndarray


def draw_providers(copy: Copy, areas: Areas) -> Providers:
    """Draw the providers of one copy: wards served, activity dates, sizes, rates and referral weights."""
    rng = copy.rng
    n_areas = len(areas.codes)
    wi = areas.ward_index
    names: list[str] = []
    types: list[str] = []
    contract: list[str] = []
    base: list[int] = []
    serve_rows: list[np.ndarray] = []
    non_remote = ~areas.remote
    centre = np.stack([areas.col, areas.row], axis=1).astype(np.float64)

    def within(b: int, radius: float) -> np.ndarray:
        return (np.hypot(*(centre - centre[b]).T) <= radius) & non_remote

    def add(name: str, kind: str, ctype: str, ward: int, serves: np.ndarray) -> int:
        names.append(name)
        types.append(kind)
        contract.append(ctype)
        base.append(ward)
        serve_rows.append(serves)
        return len(names) - 1

    # The dominant agency: council-wide, plus two remote wards.
    s = non_remote.copy()
    for w in DOMINANT_REMOTE_WARDS:
        s[wi[w]] = True
    dominant = add(DOMINANT_NAME, "agency", "framework lot 1", wi["Castlegate"], s)
    extra_care = [
        add(name, "agency", ctype, wi[ward], within(wi[ward], 2.3)) for name, ward, ctype in EXTRA_CARE_AGENCIES
    ]
    rural = []
    for name, ward, remote_wards, ctype in RURAL_AGENCIES:
        s = within(wi[ward], 1.5)
        for w in remote_wards:
            s[wi[w]] = True
        rural.append(add(name, "agency", ctype, wi[ward], s))
    others_start = len(names)
    urban_weight = np.where(areas.rural, 0.6, 3.0) * non_remote
    ctypes = ["framework lot 1"] * 12 + ["framework lot 2"] * 9
    ctypes += ["spot"] * (len(OTHER_AGENCY_NAMES) - len(ctypes))
    ctypes = [ctypes[i] for i in rng.permutation(len(ctypes))]
    for k, name in enumerate(OTHER_AGENCY_NAMES):
        b = int(rng.choice(n_areas, p=urban_weight / urban_weight.sum()))
        add(name, "agency", ctypes[k], b, within(b, rng.uniform(1.0, 2.7)))
    n_agencies = len(names)
    # In-house reablement and bridging (not in remote wards), two PA pools, one community organisation.
    inhouse = add(
        "Northdale Council Reablement and Bridging Service",
        "in_house",
        "in-house",
        wi["Market Cross"],
        non_remote.copy(),
    )
    north = np.isin(np.array(areas.localities), [x + copy.suffix for x in LOCALITIES[:3]])
    pa_pools = [
        add(
            f"Direct payment personal assistants, {label} (pooled)",
            "personal_assistant",
            "direct payment",
            -1,
            mask & non_remote,
        )
        for label, mask in (("north", north), ("south", ~north))
    ]
    east = np.isin(np.array(areas.localities), [x + copy.suffix for x in ("Fellside", "Eastern Valleys")])
    other_org = add("Dales Neighbourly Care CIC", "other", "block", wi["Garth Bridge"], east & non_remote)
    # Microenterprises: based in non-remote wards, leaning rural; serve their ward and a neighbour or two.
    me_start = len(names)
    me_names = [f"{a} {b}" for a in ME_NAME_FIRST for b in ME_NAME_SECOND]
    me_names = [me_names[i] for i in rng.permutation(len(me_names))][:MICROENTERPRISES_CREATED]
    me_weight = np.where(areas.rural, 2.5, 1.0) * non_remote
    for name in me_names:
        b = int(rng.choice(n_areas, p=me_weight / me_weight.sum()))
        add(name, "microenterprise", "microenterprise programme", b, within(b, 1.0))
    n = len(names)
    is_agency = np.array([t == "agency" for t in types])
    is_me = np.array([t == "microenterprise" for t in types])

    # Activity dates. Established providers started long before the history begins.
    active_from = copy.history_start - rng.integers(200, 5_000, n)
    active_to = np.full(n, NEVER, dtype=np.int64)
    special = {dominant, *extra_care, *rural}
    candidates = np.array([i for i in range(others_start, n_agencies) if i not in special])
    chosen = rng.choice(candidates, N_EXITS + N_ENTRANTS, replace=False)
    exited = chosen[:N_EXITS]
    entrants = chosen[N_EXITS:]
    active_to[exited] = rng.integers(copy.window_start + 90, copy.as_of - 120, N_EXITS)
    active_from[entrants] = rng.integers(copy.window_start + 90, copy.as_of - 240, N_ENTRANTS)
    # Microenterprises: two pilots before the launch, then growth; four close before as_of.
    n_me = n - me_start
    me_from = np.empty(n_me, dtype=np.int64)
    me_from[:2] = copy.launch - np.array([150, 60])
    span = copy.as_of - 45 - copy.launch
    me_from[2:] = copy.launch + np.sort((rng.beta(1.2, 1.15, n_me - 2) * span).astype(np.int64))
    rng.shuffle(me_from)
    active_from[me_start:] = me_from
    old = np.flatnonzero(me_from < copy.as_of - 520)
    closing = rng.choice(old, n_me - ACTIVE_MICROENTERPRISES, replace=False)
    for j in closing:
        active_to[me_start + j] = me_from[j] + rng.integers(300, copy.as_of - 45 - me_from[j])

    # Size (share of referrals in the wards served) and price.
    size = rng.lognormal(0.0, 0.7, n)
    size[rural] = rng.uniform(1.2, 2.0, len(rural))
    size[extra_care] = rng.uniform(1.5, 2.5, len(extra_care))
    size[entrants] *= 0.8
    size = np.maximum(size, 0.3)
    # £ an hour in the current financial year: framework lots are cheaper than spot purchases.
    price_band = {"framework lot 1": (23.3, 24.3), "framework lot 2": (22.5, 23.4)}
    rate = np.full(n, np.nan)
    for i in range(n_agencies):
        low, high = price_band.get(contract[i], (24.2, 26.0))
        rate[i] = rng.uniform(low, high)
    rate[dominant] = 23.95
    rate[me_start:] = np.round(rng.uniform(20.0, 25.0, n_me) * 2) / 2
    rate[pa_pools] = 15.75
    rate[other_org] = 21.50

    serve = np.stack(serve_rows, axis=1)  # (areas, providers)
    return Providers(
        names=[x + copy.suffix for x in names],
        ids=(
            [f"{copy.prefix}AG{i + 1:02d}" for i in range(n_agencies)]
            + [f"{copy.prefix}IH01", f"{copy.prefix}PA01", f"{copy.prefix}PA02", f"{copy.prefix}OT01"]
            + [f"{copy.prefix}ME{i + 1:02d}" for i in range(n - me_start)]
        ),
        types=types,
        contract_type=contract,
        base=np.array(base),
        serve=serve,
        is_agency=is_agency,
        is_me=is_me,
        n=n,
        n_agencies=n_agencies,
        dominant=dominant,
        extra_care=extra_care,
        rural=rural,
        inhouse=inhouse,
        pa_pools=pa_pools,
        other_org=other_org,
        me_start=me_start,
        exited=exited,
        entrants=entrants,
        active_from=active_from,
        active_to=active_to,
        size=size,
        rate=rate,
        weights=_referral_weights(
            copy, serve, size, is_agency, is_me, dominant, pa_pools, other_org, inhouse, active_from, active_to
        ),
    )


def _referral_weights(
    copy: Copy,
    serve: np.ndarray,
    size: np.ndarray,
    is_agency: np.ndarray,
    is_me: np.ndarray,
    dominant: int,
    pa_pools: list[int],
    other_org: int,
    inhouse: int,
    active_from: np.ndarray,
    active_to: np.ndarray,
) -> np.ndarray:
    """Referral weights W[month, area, provider] for drawing a provider for a new package."""
    static = serve * size[None, :] * is_agency[None, :]
    static[:, dominant] = 0.0
    agency_total = static.sum(axis=1)
    static[:, dominant] = DOMINANT_WEIGHT * agency_total * serve[:, dominant]
    for p in pa_pools:
        static[:, p] = PA_WEIGHT * agency_total * serve[:, p]
    static[:, other_org] = OTHER_WEIGHT * agency_total * serve[:, other_org]
    static[:, inhouse] = FALLBACK_WEIGHT  # only when no one else can take it
    static[:, is_me] = 0.0
    ms = copy.month_starts
    month_end = np.append(ms[1:], ms[-1] + 31) - 1
    eligible = (active_from[None, :] <= ms[:, None]) & (active_to[None, :] >= month_end[:, None])
    eligible[:, inhouse] = True
    weights = static[None, :, :] * eligible[:, None, :]
    recent = ms >= copy.last_year
    weights[recent, :, dominant] *= DOMINANT_RECENT_INTAKE
    return weights


def choose(
    copy: Copy, providers: Providers, day: np.ndarray, area: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Draw a provider for packages starting on ``day`` in ``area`` (never ``exclude``)."""
    n = day.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = np.clip(np.searchsorted(copy.month_starts, day, side="right") - 1, 0, len(copy.month_starts) - 1)
    w = providers.weights[m, area]
    if exclude is not None:
        w[np.arange(n), exclude] = 0.0
    cum = np.cumsum(w, axis=1)
    total = cum[:, -1]
    u = copy.rng.random(n) * total
    pick = (cum <= u[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, w.shape[1] - 1), providers.inhouse).astype(np.int64)


def providers_frame(copy: Copy, areas: Areas, providers: Providers, hours: PlannedHours) -> pl.DataFrame:
    """Return ``providers.csv`` of one copy: CQC ids and ratings, contract type, capacity, activity dates."""
    rng = copy.rng
    pv = providers
    n = pv.n
    as_of = copy.as_of
    cqc_id: list[str | None] = [None] * n
    rating: list[str | None] = [None] * n
    rating_day = np.full(n, 0, dtype=np.int64)
    no_rating_day = np.ones(n, dtype=bool)
    numbers = 1_000_000_000 + copy.index * 1_000_000 + rng.choice(1_000_000, n, replace=False)
    registered = pv.is_agency | (np.arange(n) == pv.inhouse)
    registered[pv.me_start :] = rng.random(n - pv.me_start) < 0.15
    for p in np.flatnonzero(registered):
        cqc_id[p] = f"1-{numbers[p]}"
        start = max(pv.active_from[p], as_of - int(7.5 * YEAR))
        if p in pv.entrants or (pv.is_me[p] and rng.random() < 0.5):
            rating[p] = "Not rated"
            continue
        r = rng.choice(["Outstanding", "Good", "Requires improvement"], p=[0.06, 0.78, 0.16])
        if r == "Requires improvement":
            day = as_of - rng.integers(60, int(3 * YEAR))
        else:
            day = as_of - rng.integers(120, int(6.5 * YEAR))
        rating[p] = str(r)
        rating_day[p] = min(max(day, start + 90), as_of - 7)
        no_rating_day[p] = False
    rating[pv.dominant] = "Requires improvement"
    rating_day[pv.dominant] = as_of - 228
    no_rating_day[pv.dominant] = False
    if len(pv.exited):
        worst = int(pv.exited[0])
        rating[worst] = "Inadequate"
        rating_day[worst] = pv.active_to[worst] - rng.integers(40, 120)
        no_rating_day[worst] = False
    # One agency with a CQC registration but no rating recorded by the council.
    plain = [p for p in range(pv.n_agencies) if rating[p] == "Good" and p not in pv.rural]
    blank = int(plain[rng.integers(0, len(plain))])
    rating[blank] = None
    no_rating_day[blank] = True
    rating_day = np.minimum(rating_day, np.minimum(pv.active_to, as_of))
    # Capacity: what providers say they could deliver, a little above their current planned hours.
    capacity = np.full(n, np.nan)
    for p in range(n):
        day = as_of if pv.active_to[p] >= as_of else pv.active_to[p]
        planned = hours.on(copy, p, day)
        if pv.is_agency[p]:
            factor = 1.04 if p == pv.dominant else rng.uniform(1.05, 1.30)
            capacity[p] = max(round(planned * factor / 10) * 10, 80)
        elif pv.is_me[p]:
            capacity[p] = max(round(planned * rng.uniform(1.1, 1.5) / 5) * 5, 10)
        else:
            capacity[p] = max(round(planned * rng.uniform(1.1, 1.3) / 10) * 10, 20)
    spot = [
        p for p in range(pv.n_agencies) if pv.contract_type[p] == "spot" and p not in pv.rural and p not in pv.exited
    ]
    capacity[spot[rng.integers(0, len(spot))]] = np.nan
    base = np.where(pv.base >= 0, pv.base, -1)
    return pl.DataFrame(
        [
            pl.Series("provider_id", pv.ids, dtype=pl.String),
            pl.Series("provider_name", pv.names, dtype=pl.String),
            pl.Series("provider_type", pv.types, dtype=pl.String),
            pl.Series("cqc_location_id", cqc_id, dtype=pl.String),
            pl.Series("cqc_rating", rating, dtype=pl.String),
            date_series("cqc_rating_date", rating_day, no_rating_day),
            pl.Series("contract_type", pv.contract_type, dtype=pl.String),
            float_series("weekly_capacity_hours", capacity, 1, np.isnan(capacity)),
            lookup("base_area_code", areas.codes, base),
            date_series("active_from", pv.active_from),
            date_series("active_to", pv.active_to, pv.active_to >= NEVER),
        ]
    ).sort("provider_id")
