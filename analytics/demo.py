"""Synthetic demo council: a seeded, deterministic generator of a complete monthly data drop.

"Northdale (synthetic demo council)" is made up. Its wards, providers, people and figures are
random draws calibrated to published figures (ADASS, Homecare Association, Skills for Care, CQC,
Community Catalysts, Cumberland Council; sources in ``analytics/indicators/sources.toml``); none of it
describes a real place, business or person. Area codes are local (``ND-W01``), never GSS codes.

``generate_drop(out_dir)`` writes one drop folder in the format of ``analytics.contract``:

* ``manifest.toml`` (``as_of``, council code and name from ``config.toml`` ``[demo]``, ``synthetic = true``);
* ``areas.csv``, ``providers.csv``, ``packages.csv``, ``requests.csv``, ``delivery.csv``,
  ``workforce.csv``, ``contracts.csv`` (UTF-8, ISO dates, every contract column in contract order);
* ``boundaries.geojson`` (made-up ward polygons: a jittered grid in northern England).

Calibration at ``as_of`` (seed from ``config.toml``; see ``tests/test_demo.py``): about 2,000 people
in service; agency packages average about 14 planned hours a week at about £24 an hour; 46 active
microenterprises with about 6.3 customers and 28.4 hours a week each; homecare vacancy rate about
10%; 60 to 120 people waiting, rural waits clearly longer than urban ones.

Stories a commissioner should find: one dominant agency (Fellcare Homecare Ltd, about a quarter of
planned hours) rated down to Requires improvement in the last year, handing packages back more and
more and losing staff; remote rural wards served by one or two providers with longer waits; a
microenterprise programme launched 27 months before ``as_of`` growing to 46 enterprises.

Method, in brief: people arrive as a Poisson process over ten years before ``as_of`` (a little
growth a year) and have a care episode of random length; each episode is split into packages
whenever the provider leaves the market, hands the package back, the person moves provider, or
in-house reablement hands over to long-term care; a new provider is drawn from those active and
serving the ward that month. Microenterprise customers fill each enterprise's "slots" one after
another. Delivery and workforce rows are derived from the packages (weekly commissioned hours per
provider and ward, monthly staffing from those hours). All randomness comes from one NumPy
``default_rng`` per council copy, seeded from ``(seed, copy)``; nothing reads the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from analytics.config import settings
from analytics.contract import CLIENT_GROUPS, END_REASONS, FILES, FUNDING, SERVICE_TYPES

DEFAULT_AS_OF = date(2026, 10, 31)
OUTPUT_FILES = ("areas", "providers", "packages", "requests", "delivery", "workforce", "contracts")

EPOCH = date(1970, 1, 1)
NEVER = 10**7  # a day number far beyond any date used: "no end"
YEAR = 365.25

# Calibration targets at as_of (Cumberland Council 2025; ADASS, Spring Survey 2025; Skills for Care 2024/25).
# People in service is about 2,000:
# the general pool (agency, PA, other, in-house bridging) + extra care + reablement + microenterprises.
TARGET_GENERAL_PEOPLE = 1_570
TARGET_EXTRA_CARE_PEOPLE = 60
TARGET_REABLEMENT_PEOPLE = 26
ACTIVE_MICROENTERPRISES = 46
ME_CUSTOMERS = 288  # 46 x 6.26 (Cumberland: 288 customers, 1,308 hours a week)
ME_HOURS_PER_CUSTOMER = 4.5
MICROENTERPRISES_CREATED = 50  # 4 of them close before as_of
GROWTH_PER_YEAR = 0.02  # demand growth

# Durations in days.
HOME_CARE_SHORT_SHARE, HOME_CARE_SHORT_DAYS, HOME_CARE_LONG_DAYS = 0.30, 90.0, 850.0
SUPPORTED_LIVING_SHARE, SUPPORTED_LIVING_DAYS = 0.02, 1_800.0
EXTRA_CARE_DAYS = 900.0
ME_PACKAGE_DAYS, ME_GAP_DAYS = 420.0, 25.0
REABLEMENT_PHASE_SHARE = 0.15  # of general episodes outside remote wards, start with in-house reablement

# Hazards, events a year per package.
HANDBACK_RATE = 0.012
DOMINANT_HANDBACK_RATES = (0.03, 0.12, 0.25)  # before the last year, its first half, its second half
RURAL_HANDBACK_FACTOR = 1.5
DOMINANT_RURAL_HANDBACK_FACTOR = 2.0
MOVE_RATE = 0.025
ME_MOVE_RATE = 0.01

# Provider choice: the dominant agency's weight in a ward relative to all other agencies there,
# and how much it cuts new intake in the last 12 months.
DOMINANT_WEIGHT = 0.62
DOMINANT_RECENT_INTAKE = 0.55
PA_WEIGHT, OTHER_WEIGHT, FALLBACK_WEIGHT = 0.025, 0.04, 1e-6

# Median waits in days (lognormal), by kind of ward; multiplied by pressure in the last year.
WAIT_MEDIAN = {"urban": 9.0, "unclassified": 10.0, "rural": 25.0, "remote": 38.0}
WAIT_SIGMA = 0.7
WAIT_PRESSURE = 0.45  # waits rise by up to 45% over the last 12 months
FEE_UPLIFT = 1.06  # a year; older packages carry the rate of the year they ended
RURAL_ENHANCEMENT = 0.50  # £ an hour added to agency rates in rural wards

# Codes used inside the generator (indices into the contract's allowed values).
ST = {name: i for i, name in enumerate(SERVICE_TYPES)}
ER = {name: i for i, name in enumerate(END_REASONS)}
FU = {name: i for i, name in enumerate(FUNDING)}
CG = {name: i for i, name in enumerate(CLIENT_GROUPS)}
KIND_NEW, KIND_CONTINUATION, KIND_REABLEMENT, KIND_ME = 0, 1, 2, 3

LOCALITIES = ("North Coast", "Fellside", "Northdale Town", "Riverside", "Eastern Valleys")
# (grid column, grid row, name, locality, RUC 2021 code or None, remote)
# Column 0 is the west (coast), row 0 the south. Remote wards are served by one or two providers.
WARDS: tuple[tuple[int, int, str, str, str | None, bool], ...] = (
    (0, 4, "Saltcote Harbour", "North Coast", "UF1", False),
    (1, 4, "Marram Bay", "North Coast", "UF1", False),
    (2, 4, "Gullscar", "North Coast", "RLN1", False),
    (0, 3, "Skelby Sands", "North Coast", "UF1", False),
    (1, 3, "Harbour Quarter", "North Coast", None, False),
    (3, 4, "Brackenholme", "Fellside", "RLN1", False),
    (4, 4, "High Stennerdale", "Fellside", "RSF1", True),
    (5, 4, "Ravenhause Fell", "Fellside", "RSF1", True),
    (4, 3, "Keldside", "Fellside", "RLF1", False),
    (5, 3, "Scarrowdale Head", "Fellside", "RSF1", True),
    (4, 2, "Thornby Moor", "Fellside", "RSN1", False),
    (2, 3, "Castlegate", "Northdale Town", "UN1", False),
    (3, 3, "Abbey Fields", "Northdale Town", "UN1", False),
    (1, 2, "Westgate", "Northdale Town", "UN1", False),
    (2, 2, "Market Cross", "Northdale Town", "UN1", False),
    (3, 2, "St Hild's", "Northdale Town", "UF1", False),
    (2, 1, "Northdale Park", "Northdale Town", "UF1", False),
    (0, 2, "Eskby", "Riverside", "UF1", False),
    (0, 1, "Riverside Meadows", "Riverside", "UF1", False),
    (1, 1, "Millbeck", "Riverside", "UN1", False),
    (0, 0, "Ferrybridge South", "Riverside", "UF1", False),
    (1, 0, "Lowther Quay", "Riverside", "UF1", False),
    (2, 0, "Coldwell", "Riverside", "UF1", False),
    (5, 2, "Hartsop Green", "Eastern Valleys", "RLF1", False),
    (3, 1, "Aldby", "Eastern Valleys", "UF1", False),
    (4, 1, "Garth Bridge", "Eastern Valleys", "RLN1", False),
    (5, 1, "Swindale End", "Eastern Valleys", "RSN1", False),
    (3, 0, "Kirkby Lonsdyke", "Eastern Valleys", "UF1", False),
    (4, 0, "Mardale Foot", "Eastern Valleys", "RSF1", True),
    (5, 0, "Bleaberry Head", "Eastern Valleys", "RSF1", True),
)
BLANK_POPULATION_WARD = "Riverside Meadows"  # a new ward: population not yet published
GRID_LON = (-3.45, -2.65)
GRID_LAT = (54.35, 54.85)
GRID_COLS, GRID_ROWS = 6, 5

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
class _Geometry:
    codes: list[str]
    names: list[str]
    localities: list[str]
    ruc21: list[str | None]
    rural: np.ndarray  # bool
    remote: np.ndarray  # bool
    unclassified: np.ndarray  # bool
    col: np.ndarray
    row: np.ndarray


def generate_drop(out_dir: Path, *, seed: int | None = None, scale: int = 1, as_of: date = DEFAULT_AS_OF) -> dict:
    """Write a complete synthetic drop folder to ``out_dir``; return a summary.

    Inputs: ``out_dir`` (created if missing; files of the same names are overwritten), ``seed``
    (default ``config.toml`` ``[demo] seed``; the same seed gives byte-identical files), ``scale``
    (number of council copies in one drop, each with its own area, provider, package, request,
    contract and person identifiers prefixed ``C02-``, ``C03-``...; for performance work) and
    ``as_of`` (the date the drop describes; 36 months of history end on it).

    Output: the summary ``{"out_dir", "as_of" (ISO date), "seed", "scale", "council_code",
    "council_name", "synthetic": True, "rows": {file: data rows}, "boundary_features"}``.
    Units in the files: hours are hours a week (``delivery``: hours in the week), rates and
    values are £, populations are people, dates are ISO ``YYYY-MM-DD``.
    """
    demo = settings()["demo"]
    seed = int(demo["seed"]) if seed is None else int(seed)
    if scale < 1:
        raise ValueError("scale must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in OUTPUT_FILES}
    features: list[dict] = []
    for index in range(scale):
        frames, copy_features = _CouncilCopy(seed, index, as_of).build()
        for name in OUTPUT_FILES:
            parts[name].append(frames[name])
        features.extend(copy_features)

    rows: dict[str, int] = {}
    for name in OUTPUT_FILES:
        frame = pl.concat(parts[name], how="vertical") if len(parts[name]) > 1 else parts[name][0]
        frame = frame.select(FILES[name].column_names)
        frame.write_csv(out / f"{name}.csv", date_format="%Y-%m-%d")
        rows[name] = frame.height

    geojson = {
        "type": "FeatureCollection",
        "name": "Northdale wards (synthetic)",
        "features": features,
    }
    (out / "boundaries.geojson").write_text(json.dumps(geojson, separators=(",", ":")) + "\n", encoding="utf-8")

    manifest = (
        "# Synthetic demo drop made by analytics.demo: Northdale is a made-up council, not real data.\n"
        f"# seed {seed}, scale {scale}\n"
        f"as_of = {as_of.isoformat()}\n"
        f"council_code = {json.dumps(str(demo['council_code']))}\n"
        f"council_name = {json.dumps(str(demo['council_name']))}\n"
        "synthetic = true\n"
    )
    (out / "manifest.toml").write_text(manifest, encoding="utf-8")

    return {
        "out_dir": str(out),
        "as_of": as_of.isoformat(),
        "seed": seed,
        "scale": scale,
        "council_code": str(demo["council_code"]),
        "council_name": str(demo["council_name"]),
        "synthetic": True,
        "rows": rows,
        "boundary_features": len(features),
    }


# --------------------------------------------------------------------------------------------
# Date helpers (dates are day numbers, days since 1970-01-01, inside the generator)


def _day(d: date) -> int:
    return (d - EPOCH).days


def _to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def _add_months(d: date, months: int) -> date:
    """Return the first of the month ``months`` after (or before, if negative) ``d``'s month."""
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def _financial_year(days: np.ndarray) -> np.ndarray:
    """Return the starting calendar year of the English financial year of each day number."""
    d64 = days.astype("datetime64[D]")
    years = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    months = d64.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return np.where(months >= 4, years, years - 1)


def _date_series(name: str, days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    """Return day numbers as a Date Series, null where ``missing`` (``NEVER`` is clipped before masking)."""
    series = pl.Series(name, np.asarray(days, dtype=np.int64).clip(-(10**6), 10**6).astype(np.int32)).cast(pl.Date)
    if missing is not None and missing.any():
        series = series.set(pl.Series(missing), None)
    return series


def _lookup(name: str, values: list[str] | tuple[str, ...], index: np.ndarray) -> pl.Series:
    """Return ``values[index]`` as a string Series (null where ``index`` is negative)."""
    idx = pl.Series(np.asarray(index, dtype=np.int64))
    idx = idx.set(idx < 0, None) if (np.asarray(index) < 0).any() else idx
    return pl.Series(name, list(values), dtype=pl.String).gather(idx).alias(name)


def _ids(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Return identifiers ``prefix`` + zero-padded ``numbers``, e.g. ``NDP0001234``."""
    digits = pl.Series(name, np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select((pl.lit(prefix) + digits).alias(name)).to_series()


def _float_series(name: str, values: np.ndarray, decimals: int, missing: np.ndarray | None = None) -> pl.Series:
    """Return ``values`` rounded to ``decimals`` as a Float64 Series, null where ``missing``."""
    series = pl.Series(name, np.round(np.asarray(values, dtype=np.float64), decimals))
    if missing is not None and missing.any():
        series = series.set(pl.Series(missing), None)
    return series


def _piecewise_event(
    rng: np.random.Generator, start: np.ndarray, rates: np.ndarray, breaks: tuple[int, ...]
) -> np.ndarray:
    """Return the first event day after ``start`` of Poisson processes with piecewise-constant rates.

    ``rates`` is (rows, len(breaks) + 1), events per day, one column per period split at
    ``breaks`` (day numbers). Rows with no event get ``NEVER``.
    """
    n = start.size
    lows = (-np.inf, *breaks)
    highs = (*breaks, np.inf)
    result = np.full(n, NEVER, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    t = start.astype(np.float64)
    for j, (low, high) in enumerate(zip(lows, highs, strict=True)):
        t0 = np.maximum(t, low)
        draws = rng.standard_exponential(n)
        positive = rates[:, j] > 0
        candidate = t0 + np.where(positive, draws / np.where(positive, rates[:, j], 1.0), np.inf)
        hit = ~done & (t0 < high) & (candidate < high)
        result[hit] = np.minimum(np.floor(candidate[hit]), NEVER).astype(np.int64)
        done |= hit
    return result


def _categorical(rng: np.random.Generator, n: int, probs: dict[str, float], codes: dict[str, int]) -> np.ndarray:
    """Return ``n`` codes drawn with the given probabilities (keys are contract values)."""
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=np.float64)
    picks = rng.choice(len(keys), size=n, p=p / p.sum())
    return np.array([codes[k] for k in keys], dtype=np.int64)[picks]


def _gamma_hours(
    rng: np.random.Generator, n: int, mean: float, shape: float, low: float, high: float, step: float
) -> np.ndarray:
    """Return ``n`` planned hours a week: gamma with this mean, rounded to ``step``, clipped to [low, high]."""
    hours = rng.gamma(shape, mean / shape, size=n)
    return np.clip(np.round(hours / step) * step, low, high)


# --------------------------------------------------------------------------------------------


class _CouncilCopy:
    """One copy of the demo council: every table, drawn from its own random stream."""

    def __init__(self, seed: int, index: int, as_of: date) -> None:
        self.rng = np.random.default_rng([seed, index])
        self.index = index
        self.prefix = "" if index == 0 else f"C{index + 1:02d}-"
        self.suffix = "" if index == 0 else f" (C{index + 1:02d})"
        self.as_of_date = as_of
        self.as_of = _day(as_of)
        month0 = date(as_of.year, as_of.month, 1)
        self.window_start = _day(_add_months(month0, -35))  # 36 months of history
        self.history_start = self.as_of - int(10 * YEAR)
        self.horizon = self.as_of + 240  # episodes starting after as_of make the waiting list
        self.last_year = self.as_of - 365
        self.last_half_year = self.as_of - 182
        self.launch = _day(_add_months(month0, -26))  # microenterprise programme launch
        first_month = date(_to_date(self.history_start).year, _to_date(self.history_start).month, 1)
        last_month = _add_months(_to_date(self.horizon), 1)
        months = []
        m = first_month
        while m <= last_month:
            months.append(_day(m))
            m = _add_months(m, 1)
        self.month_starts = np.array(months, dtype=np.int64)

    # ---------------------------------------------------------------- build

    def build(self) -> tuple[dict[str, pl.DataFrame], list[dict]]:
        """Return this copy's frames (one per contract file) and its boundary features."""
        self._areas()
        self._providers()
        self._weights()
        episodes = self._episodes()
        segments = self._segments(episodes)
        self._use_every_provider(segments)
        self._daily_hours(segments)
        self.persons = self._person_numbers(episodes)
        frames = {
            "areas": self._areas_frame(),
            "packages": self._packages_frame(segments, episodes),
            "requests": self._requests_frame(segments, episodes),
            "delivery": self._delivery_frame(),
            "workforce": self._workforce_frame(),
        }
        frames["providers"] = self._providers_frame()
        frames["contracts"] = self._contracts_frame()
        return frames, self.features

    # ---------------------------------------------------------------- areas and boundaries

    def _areas(self) -> None:
        rng = self.rng
        order = sorted(range(len(WARDS)), key=lambda i: (LOCALITIES.index(WARDS[i][3]), -WARDS[i][1], WARDS[i][0]))
        wards = [WARDS[i] for i in order]
        n = len(wards)
        self.geo = _Geometry(
            codes=[f"{self.prefix}ND-W{i + 1:02d}" for i in range(n)],
            names=[w[2] + self.suffix for w in wards],
            localities=[w[3] + self.suffix for w in wards],
            ruc21=[w[4] for w in wards],
            rural=np.array([bool(w[4] and w[4].startswith("R")) for w in wards]),
            remote=np.array([w[5] for w in wards]),
            unclassified=np.array([w[4] is None for w in wards]),
            col=np.array([w[0] for w in wards]),
            row=np.array([w[1] for w in wards]),
        )
        self.ward_index = {w[2]: i for i, w in enumerate(wards)}
        geo = self.geo
        urban = ~geo.rural
        pop65 = np.where(
            geo.remote,
            rng.uniform(950, 1_400, n),
            np.where(geo.rural, rng.uniform(1_200, 2_300, n), rng.uniform(2_000, 3_900, n)),
        ).round()
        ratio = np.where(urban, rng.uniform(2.6, 3.6, n), rng.uniform(1.6, 2.4, n))
        self.pop65 = pop65.astype(np.int64)
        self.pop18 = (pop65 * ratio).round().astype(np.int64)
        self.pop_missing = np.array([w[2] == BLANK_POPULATION_WARD for w in wards])
        # Need for care per person aged 65+ is a little higher in rural wards (older old age).
        self.demand = pop65 * np.where(geo.rural, 1.15, 1.0)
        self.area_class = np.where(
            geo.remote, "remote", np.where(geo.rural, "rural", np.where(geo.unclassified, "unclassified", "urban"))
        )
        self._boundaries()

    def _boundaries(self) -> None:
        """Make a jittered grid of ward polygons (shared vertices, so no gaps or overlaps)."""
        rng = self.rng
        dx = (GRID_LON[1] - GRID_LON[0]) / GRID_COLS
        dy = (GRID_LAT[1] - GRID_LAT[0]) / GRID_ROWS
        nc, nr = GRID_COLS, GRID_ROWS
        # Corners (nc+1, nr+1), midpoints of horizontal edges (nc, nr+1), of vertical edges (nc+1, nr).
        cx = GRID_LON[0] + dx * (np.arange(nc + 1)[:, None] + rng.uniform(-0.2, 0.2, (nc + 1, nr + 1)))
        cy = GRID_LAT[0] + dy * (np.arange(nr + 1)[None, :] + rng.uniform(-0.2, 0.2, (nc + 1, nr + 1)))
        hx = (cx[:-1, :] + cx[1:, :]) / 2 + dx * rng.uniform(-0.08, 0.08, (nc, nr + 1))
        hy = (cy[:-1, :] + cy[1:, :]) / 2 + dy * rng.uniform(-0.15, 0.15, (nc, nr + 1))
        vx = (cx[:, :-1] + cx[:, 1:]) / 2 + dx * rng.uniform(-0.15, 0.15, (nc + 1, nr))
        vy = (cy[:, :-1] + cy[:, 1:]) / 2 + dy * rng.uniform(-0.08, 0.08, (nc + 1, nr))
        geo = self.geo
        lats, lons, features = [], [], []
        for i in range(len(geo.codes)):
            c, r = int(geo.col[i]), int(geo.row[i])
            ring = [
                (cx[c, r], cy[c, r]),
                (hx[c, r], hy[c, r]),
                (cx[c + 1, r], cy[c + 1, r]),
                (vx[c + 1, r], vy[c + 1, r]),
                (cx[c + 1, r + 1], cy[c + 1, r + 1]),
                (hx[c, r + 1], hy[c, r + 1]),
                (cx[c, r + 1], cy[c, r + 1]),
                (vx[c, r], vy[c, r]),
            ]
            ring = [(round(float(x), 5), round(float(y), 5)) for x, y in ring]
            lon_c, lat_c = _centroid(ring)
            lons.append(round(lon_c, 5))
            lats.append(round(lat_c, 5))
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "area_code": geo.codes[i],
                        "area_name": geo.names[i],
                        "locality": geo.localities[i],
                    },
                    "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in [*ring, ring[0]]]]},
                }
            )
        self.lat = np.array(lats)
        self.lon = np.array(lons)
        self.features = features

    def _areas_frame(self) -> pl.DataFrame:
        geo = self.geo
        n = len(geo.codes)
        return pl.DataFrame(
            [
                pl.Series("area_code", geo.codes, dtype=pl.String),
                pl.Series("area_name", geo.names, dtype=pl.String),
                pl.Series("locality", geo.localities, dtype=pl.String),
                pl.Series("ruc21", geo.ruc21, dtype=pl.String),
                pl.Series("ruc11", [None] * n, dtype=pl.String),
                pl.Series("population_65_plus", self.pop65).set(pl.Series(self.pop_missing), None),
                pl.Series("population_18_64", self.pop18).set(pl.Series(self.pop_missing), None),
                pl.Series("latitude", self.lat),
                pl.Series("longitude", self.lon),
            ]
        )

    # ---------------------------------------------------------------- providers

    def _providers(self) -> None:
        rng = self.rng
        geo = self.geo
        n_areas = len(geo.codes)
        wi = self.ward_index
        # Provider order: agencies, in-house, personal-assistant pools, other, microenterprises.
        names: list[str] = []
        types: list[str] = []
        contract: list[str | None] = []
        base: list[int] = []
        serve_rows: list[np.ndarray] = []
        non_remote = ~geo.remote
        centre = np.stack([geo.col, geo.row], axis=1).astype(np.float64)

        def within(b: int, radius: float) -> np.ndarray:
            return (np.hypot(*(centre - centre[b]).T) <= radius) & non_remote

        # The dominant agency: council-wide, plus two remote wards.
        names.append(DOMINANT_NAME)
        types.append("agency")
        contract.append("framework lot 1")
        base.append(wi["Castlegate"])
        s = non_remote.copy()
        for w in DOMINANT_REMOTE_WARDS:
            s[wi[w]] = True
        serve_rows.append(s)
        self.dominant = 0
        self.extra_care_providers = []
        for name, ward, ctype in EXTRA_CARE_AGENCIES:
            self.extra_care_providers.append(len(names))
            names.append(name)
            types.append("agency")
            contract.append(ctype)
            base.append(wi[ward])
            serve_rows.append(within(wi[ward], 2.3))
        self.rural_providers = []
        for name, ward, remote_wards, ctype in RURAL_AGENCIES:
            self.rural_providers.append(len(names))
            names.append(name)
            types.append("agency")
            contract.append(ctype)
            base.append(wi[ward])
            s = within(wi[ward], 1.5)
            for w in remote_wards:
                s[wi[w]] = True
            serve_rows.append(s)
        others_start = len(names)
        urban_weight = np.where(geo.rural, 0.6, 3.0) * non_remote
        ctypes = ["framework lot 1"] * 12 + ["framework lot 2"] * 9
        ctypes += ["spot"] * (len(OTHER_AGENCY_NAMES) - len(ctypes))
        ctypes = [ctypes[i] for i in rng.permutation(len(ctypes))]
        for k, name in enumerate(OTHER_AGENCY_NAMES):
            b = int(rng.choice(n_areas, p=urban_weight / urban_weight.sum()))
            names.append(name)
            types.append("agency")
            contract.append(ctypes[k])
            base.append(b)
            serve_rows.append(within(b, rng.uniform(1.0, 2.7)))
        n_agencies = len(names)
        self.n_agencies = n_agencies
        # In-house reablement and bridging (not in remote wards), two PA pools, one community organisation.
        self.inhouse = len(names)
        names.append("Northdale Council Reablement and Bridging Service")
        types.append("in_house")
        contract.append("in-house")
        base.append(wi["Market Cross"])
        serve_rows.append(non_remote.copy())
        self.pa_pools = [len(names), len(names) + 1]
        north = np.isin(np.array(geo.localities), [x + self.suffix for x in LOCALITIES[:3]])
        for label, mask in (("north", north), ("south", ~north)):
            names.append(f"Direct payment personal assistants, {label} (pooled)")
            types.append("personal_assistant")
            contract.append("direct payment")
            base.append(-1)
            serve_rows.append(mask & non_remote)
        self.other_org = len(names)
        names.append("Dales Neighbourly Care CIC")
        types.append("other")
        contract.append("block")
        base.append(wi["Garth Bridge"])
        east = np.isin(np.array(geo.localities), [x + self.suffix for x in ("Fellside", "Eastern Valleys")])
        serve_rows.append(east & non_remote)
        # Microenterprises: based in non-remote wards, leaning rural; serve their ward and a neighbour or two.
        self.me_start = len(names)
        me_names = [f"{a} {b}" for a in ME_NAME_FIRST for b in ME_NAME_SECOND]
        me_names = [me_names[i] for i in rng.permutation(len(me_names))][:MICROENTERPRISES_CREATED]
        me_weight = np.where(geo.rural, 2.5, 1.0) * non_remote
        for name in me_names:
            b = int(rng.choice(n_areas, p=me_weight / me_weight.sum()))
            names.append(name)
            types.append("microenterprise")
            contract.append("microenterprise programme")
            base.append(b)
            serve_rows.append(within(b, 1.0))
        n = len(names)
        self.n_providers = n
        self.prov_names = [x + self.suffix for x in names]
        self.prov_ids = (
            [f"{self.prefix}AG{i + 1:02d}" for i in range(n_agencies)]
            + [f"{self.prefix}IH01", f"{self.prefix}PA01", f"{self.prefix}PA02", f"{self.prefix}OT01"]
            + [f"{self.prefix}ME{i + 1:02d}" for i in range(n - self.me_start)]
        )
        self.prov_type = types
        self.contract_type = contract
        self.base = np.array(base)
        self.serve = np.stack(serve_rows, axis=1)  # (areas, providers)
        self.is_agency = np.array([t == "agency" for t in types])
        self.is_me = np.array([t == "microenterprise" for t in types])

        # Activity dates. Established providers started long before the history begins.
        active_from = self.history_start - rng.integers(200, 5_000, n)
        active_to = np.full(n, NEVER, dtype=np.int64)
        special = {self.dominant, *self.extra_care_providers, *self.rural_providers}
        candidates = np.array([i for i in range(others_start, n_agencies) if i not in special])
        chosen = rng.choice(candidates, N_EXITS + N_ENTRANTS, replace=False)
        self.exited = chosen[:N_EXITS]
        self.entrants = chosen[N_EXITS:]
        active_to[self.exited] = rng.integers(self.window_start + 90, self.as_of - 120, N_EXITS)
        active_from[self.entrants] = rng.integers(self.window_start + 90, self.as_of - 240, N_ENTRANTS)
        # Microenterprises: two pilots before the launch, then growth; four close before as_of.
        n_me = n - self.me_start
        me_from = np.empty(n_me, dtype=np.int64)
        me_from[:2] = self.launch - np.array([150, 60])
        span = self.as_of - 45 - self.launch
        me_from[2:] = self.launch + np.sort((rng.beta(1.2, 1.15, n_me - 2) * span).astype(np.int64))
        rng.shuffle(me_from)
        active_from[self.me_start :] = me_from
        old = np.flatnonzero(me_from < self.as_of - 520)
        closing = rng.choice(old, n_me - ACTIVE_MICROENTERPRISES, replace=False)
        for j in closing:
            active_to[self.me_start + j] = me_from[j] + rng.integers(300, self.as_of - 45 - me_from[j])
        self.active_from = active_from
        self.active_to = active_to

        # Size (share of referrals in the wards served) and price.
        size = rng.lognormal(0.0, 0.7, n)
        size[self.rural_providers] = rng.uniform(1.2, 2.0, len(self.rural_providers))
        size[self.extra_care_providers] = rng.uniform(1.5, 2.5, len(self.extra_care_providers))
        size[self.entrants] *= 0.8
        size = np.maximum(size, 0.3)
        self.size = size
        # £ an hour in the current financial year: framework lots are cheaper than spot purchases.
        price_band = {"framework lot 1": (23.3, 24.3), "framework lot 2": (22.5, 23.4)}
        rate = np.full(n, np.nan)
        for i in range(n_agencies):
            low, high = price_band.get(contract[i], (24.2, 26.0))
            rate[i] = rng.uniform(low, high)
        rate[self.dominant] = 23.95
        rate[self.me_start :] = np.round(rng.uniform(20.0, 25.0, n_me) * 2) / 2
        rate[self.pa_pools] = 15.75
        rate[self.other_org] = 21.50
        self.rate = rate

    def _weights(self) -> None:
        """Referral weights W[month, area, provider] for drawing a provider for a new package."""
        n_areas, n = self.serve.shape
        static = self.serve * self.size[None, :] * self.is_agency[None, :]
        static[:, self.dominant] = 0.0
        agency_total = static.sum(axis=1)
        static[:, self.dominant] = DOMINANT_WEIGHT * agency_total * self.serve[:, self.dominant]
        for p in self.pa_pools:
            static[:, p] = PA_WEIGHT * agency_total * self.serve[:, p]
        static[:, self.other_org] = OTHER_WEIGHT * agency_total * self.serve[:, self.other_org]
        static[:, self.inhouse] = FALLBACK_WEIGHT  # only when no one else can take it
        static[:, self.is_me] = 0.0
        ms = self.month_starts
        month_end = np.append(ms[1:], ms[-1] + 31) - 1
        eligible = (self.active_from[None, :] <= ms[:, None]) & (self.active_to[None, :] >= month_end[:, None])
        eligible[:, self.inhouse] = True
        weights = static[None, :, :] * eligible[:, None, :]
        recent = ms >= self.last_year
        weights[recent, :, self.dominant] *= DOMINANT_RECENT_INTAKE
        self.W = weights

    def _choose(self, day: np.ndarray, area: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Draw a provider for packages starting on ``day`` in ``area`` (never ``exclude``)."""
        n = day.size
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        m = np.clip(np.searchsorted(self.month_starts, day, side="right") - 1, 0, len(self.month_starts) - 1)
        w = self.W[m, area]
        if exclude is not None:
            w[np.arange(n), exclude] = 0.0
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1]
        u = self.rng.random(n) * total
        pick = (cum <= u[:, None]).sum(axis=1)
        return np.where(total > 0, np.minimum(pick, w.shape[1] - 1), self.inhouse).astype(np.int64)

    # ---------------------------------------------------------------- episodes

    def _episodes(self) -> dict[str, np.ndarray]:
        """Draw every care episode (one person's continuous care) of every group."""
        groups = [self._general_episodes(), self._extra_care_episodes(), self._reablement_episodes()]
        groups.append(self._me_episodes())
        return {key: np.concatenate([g[key] for g in groups]) for key in groups[0]}

    def _arrivals(self, target_active: float, survival) -> np.ndarray:
        """Return start days of a Poisson arrival process expected to leave ``target_active`` active at as_of."""
        days = np.arange(self.history_start, self.horizon + 1)
        growth = np.exp(GROWTH_PER_YEAR * (days - self.as_of) / YEAR)
        past = days <= self.as_of
        expected = float((growth[past] * survival((self.as_of - days[past]).astype(np.float64))).sum())
        lam = growth * target_active / expected
        return np.repeat(days, self.rng.poisson(lam))

    def _blank_episodes(self, n: int) -> dict[str, np.ndarray]:
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

    def _general_episodes(self) -> dict[str, np.ndarray]:
        """Agency, personal-assistant and community-organisation episodes (home care, supported living)."""
        rng = self.rng
        s, ds, dl = HOME_CARE_SHORT_SHARE, HOME_CARE_SHORT_DAYS, HOME_CARE_LONG_DAYS
        p_sl, d_sl = SUPPORTED_LIVING_SHARE, SUPPORTED_LIVING_DAYS

        def survival(x):
            home = s * np.exp(-x / ds) + (1 - s) * np.exp(-x / dl)
            return (1 - p_sl) * home + p_sl * np.exp(-x / d_sl)

        start = self._arrivals(TARGET_GENERAL_PEOPLE, survival)
        n = start.size
        ep = self._blank_episodes(n)
        ep["start"] = start
        ep["area"] = rng.choice(len(self.demand), size=n, p=self.demand / self.demand.sum())
        supported = rng.random(n) < p_sl
        short = ~supported & (rng.random(n) < s)
        mean = np.where(supported, d_sl, np.where(short, ds, dl))
        duration = np.ceil(rng.exponential(1.0, n) * mean).astype(np.int64) + 6
        ep["nat_end"] = start + duration - 1
        ep["stype"] = np.where(supported, ST["supported_living"], ST["home_care"])
        hours = _gamma_hours(rng, n, 13.3, 2.2, 1.5, 56.0, 0.25)
        ep["hours"] = np.where(supported, _gamma_hours(rng, n, 30.0, 4.0, 10.0, 84.0, 0.5), hours)
        reason_short = _categorical(
            rng, n, {"ended_as_planned": 0.5, "deceased": 0.22, "moved_to_residential": 0.12, "other": 0.16}, ER
        )
        reason_long = _categorical(
            rng, n, {"deceased": 0.40, "moved_to_residential": 0.28, "ended_as_planned": 0.18, "other": 0.14}, ER
        )
        reason_sl = _categorical(rng, n, {"other": 0.5, "ended_as_planned": 0.3, "deceased": 0.2}, ER)
        ep["nat_reason"] = np.where(supported, reason_sl, np.where(short, reason_short, reason_long))
        ep["funding"] = _categorical(
            rng,
            n,
            {"council": 0.80, "direct_payment": 0.08, "health": 0.07, "self_funded": 0.04, "other": 0.01},
            FU,
        )
        older = _categorical(
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
        sl = _categorical(rng, n, {"learning_disability": 0.7, "mental_health": 0.2, "physical_disability": 0.1}, CG)
        ep["cgroup"] = np.where(supported, sl, older)
        # Some start with in-house reablement, then hand over to long-term care.
        reab = ~supported & ~self.geo.remote[ep["area"]] & (rng.random(n) < REABLEMENT_PHASE_SHARE)
        ep["ep_hours"] = ep["hours"].copy()
        ep["ep_stype"] = ep["stype"].copy()
        ep["provider"] = np.where(reab, self.inhouse, -1)
        ep["hours"] = np.where(reab, np.round(rng.uniform(5, 14, n) * 4) / 4, ep["hours"])
        ep["stype"] = np.where(reab, ST["reablement"], ep["stype"])
        ep["forced"] = np.where(reab, start + rng.integers(14, 43, n) - 1, NEVER)
        ep["kind"] = np.where(reab, KIND_REABLEMENT, KIND_NEW)
        return ep

    def _extra_care_episodes(self) -> dict[str, np.ndarray]:
        rng = self.rng
        start = self._arrivals(TARGET_EXTRA_CARE_PEOPLE, lambda x: np.exp(-x / EXTRA_CARE_DAYS))
        n = start.size
        ep = self._blank_episodes(n)
        scheme = rng.integers(0, len(EXTRA_CARE_SCHEMES), n)
        ep["start"] = start
        ep["area"] = np.array([self.ward_index[w] for _, w in EXTRA_CARE_SCHEMES])[scheme]
        ep["provider"] = np.array(self.extra_care_providers)[scheme]
        ep["nat_end"] = start + np.ceil(rng.exponential(EXTRA_CARE_DAYS, n)).astype(np.int64) + 13
        ep["nat_reason"] = _categorical(
            rng, n, {"deceased": 0.45, "moved_to_residential": 0.35, "ended_as_planned": 0.1, "other": 0.1}, ER
        )
        ep["hours"] = ep["ep_hours"] = _gamma_hours(rng, n, 8.0, 2.5, 1.5, 30.0, 0.25)
        ep["stype"] = ep["ep_stype"] = np.full(n, ST["extra_care"], dtype=np.int64)
        ep["switchable"] = np.zeros(n, dtype=bool)
        ep["funding"] = _categorical(rng, n, {"council": 0.85, "self_funded": 0.10, "direct_payment": 0.05}, FU)
        return ep

    def _reablement_episodes(self) -> dict[str, np.ndarray]:
        rng = self.rng
        start = self._arrivals(TARGET_REABLEMENT_PEOPLE, lambda x: np.clip((42 - x) / 28, 0, 1))
        n = start.size
        ep = self._blank_episodes(n)
        weights = self.demand * ~self.geo.remote
        ep["start"] = start
        ep["area"] = rng.choice(len(weights), size=n, p=weights / weights.sum())
        ep["provider"] = np.full(n, self.inhouse, dtype=np.int64)
        ep["nat_end"] = start + rng.integers(14, 43, n) - 1
        ep["nat_reason"] = _categorical(
            rng, n, {"ended_as_planned": 0.85, "moved_to_residential": 0.07, "deceased": 0.03, "other": 0.05}, ER
        )
        ep["hours"] = ep["ep_hours"] = np.round(rng.uniform(5, 14, n) * 4) / 4
        ep["stype"] = ep["ep_stype"] = np.full(n, ST["reablement"], dtype=np.int64)
        ep["switchable"] = np.zeros(n, dtype=bool)
        ep["kind"] = np.full(n, KIND_REABLEMENT, dtype=np.int64)
        ep["funding"] = _categorical(rng, n, {"council": 0.9, "health": 0.1}, FU)
        return ep

    def _me_episodes(self) -> dict[str, np.ndarray]:
        """Microenterprise customers: each enterprise has a few slots filled one customer after another."""
        rng = self.rng
        me = np.arange(self.me_start, self.n_providers)
        n_me = me.size
        active_at = self.active_to[me] >= self.as_of
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
        af = self.active_from[owner]
        ramp = np.clip(0.8 * (self.as_of - af), 1, 240)
        opened = af + (rng.random(owner.size) * ramp).astype(np.int64)
        k = 10
        durations = np.ceil(rng.exponential(ME_PACKAGE_DAYS, (owner.size, k))).astype(np.int64) + 7
        gaps = np.ceil(rng.exponential(ME_GAP_DAYS, (owner.size, k))).astype(np.int64) + 1
        starts = opened[:, None] + np.concatenate(
            [np.zeros((owner.size, 1), dtype=np.int64), np.cumsum(durations + gaps, axis=1)[:, :-1]], axis=1
        )
        keep = (starts <= np.minimum(self.active_to[owner] - 1, self.horizon)[:, None]).ravel()
        start = starts.ravel()[keep]
        provider = np.repeat(owner, k)[keep]
        n = start.size
        ep = self._blank_episodes(n)
        ep["start"] = start
        ep["nat_end"] = start + durations.ravel()[keep] - 1
        ep["provider"] = provider
        # Customers live in the enterprise's base ward, or a neighbouring ward it serves.
        home = self.base[provider]
        other = np.array([self._random_served(p) for p in provider], dtype=np.int64)
        ep["area"] = np.where(rng.random(n) < 0.7, home, other)
        ep["hours"] = ep["ep_hours"] = _gamma_hours(rng, n, ME_HOURS_PER_CUSTOMER, 2.5, 1.0, 16.0, 0.5)
        ep["nat_reason"] = _categorical(
            rng, n, {"ended_as_planned": 0.4, "deceased": 0.25, "moved_to_residential": 0.15, "other": 0.2}, ER
        )
        ep["kind"] = np.full(n, KIND_ME, dtype=np.int64)
        ep["funding"] = _categorical(rng, n, {"council": 0.55, "direct_payment": 0.30, "self_funded": 0.15}, FU)
        ep["cgroup"] = _categorical(
            rng, n, {"older_people": 0.85, "physical_disability": 0.08, "mental_health": 0.05, "other": 0.02}, CG
        )
        return ep

    def _random_served(self, provider: int) -> int:
        wards = np.flatnonzero(self.serve[:, provider])
        return int(wards[self.rng.integers(0, wards.size)])

    # ---------------------------------------------------------------- packages (segments)

    def _segments(self, ep: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Split episodes into packages at provider exits, hand-backs, moves and reablement hand-overs."""
        rng = self.rng
        unassigned = ep["provider"] < 0
        provider = ep["provider"].copy()
        provider[unassigned] = self._choose(ep["start"][unassigned], ep["area"][unassigned])
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
        breaks = (self.last_year, self.last_half_year)
        for _ in range(50):
            n = cur["start"].size
            if n == 0:
                break
            e = cur["ep"]
            p = cur["provider"]
            area = ep["area"][e]
            rural = self.geo.rural[area]
            switchable = ep["switchable"][e]
            nat_end = ep["nat_end"][e]
            exit_day = np.where(self.active_to[p] < NEVER, self.active_to[p], NEVER)
            rates = np.zeros((n, 3))
            base_rate = np.where(self.is_agency[p], HANDBACK_RATE, 0.0)
            base_rate = np.where(p == self.other_org, HANDBACK_RATE, base_rate)
            rates[:] = (base_rate * np.where(rural, RURAL_HANDBACK_FACTOR, 1.0))[:, None]
            dom = p == self.dominant
            dom_factor = np.where(rural, DOMINANT_RURAL_HANDBACK_FACTOR, 1.0)
            for j, r in enumerate(DOMINANT_HANDBACK_RATES):
                rates[dom, j] = r * dom_factor[dom]
            rates = rates * switchable[:, None] / YEAR
            handback = _piecewise_event(rng, cur["start"] + 7, rates, breaks)
            move_rate = np.where(self.is_me[p], ME_MOVE_RATE, MOVE_RATE) * (p != self.inhouse)
            move = np.where(
                switchable & (move_rate > 0),
                cur["start"] + 30 + np.floor(rng.exponential(1.0, n) * YEAR / np.maximum(move_rate, 1e-9)),
                NEVER,
            ).astype(np.int64)
            move = np.minimum(move, NEVER)
            candidates = np.stack([exit_day, handback, move, cur["forced"]], axis=1)
            which = candidates.argmin(axis=1)
            switch_day = candidates[np.arange(n), which]
            switching = (switch_day < nat_end) & (switch_day < self.as_of)
            # Draw the next provider; a move or hand-back with no one else serving the ward
            # (only the in-house fallback) does not happen, unless the provider is leaving anyway.
            choice = np.full(n, -1, dtype=np.int64)
            choice[switching] = self._choose(switch_day[switching] + 1, area[switching], exclude=p[switching])
            stuck = (
                switching
                & (choice == self.inhouse)
                & ((which == 1) | (which == 2))
                & (exit_day >= nat_end)
                & (cur["forced"] >= nat_end)
            )
            switching &= ~stuck
            end = np.where(switching, switch_day, nat_end)
            exit_reason = np.where(self.is_me[p], ER["moved_provider"], ER["provider_handback"])
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
        funding = np.where(np.isin(seg["provider"], self.pa_pools), FU["direct_payment"], funding)
        seg["funding"] = np.where(seg["stype"] == ST["reablement"], FU["council"], funding)
        order = np.lexsort((seg["provider"], seg["ep"], seg["start"]))
        return {key: value[order] for key, value in seg.items()}

    def _use_every_provider(self, seg: dict[str, np.ndarray]) -> None:
        """Give a provider with no package in the 36 months one new single-package episode it could take."""
        live = (seg["start"] <= self.as_of) & (seg["end"] >= self.window_start)
        used = np.zeros(self.n_providers, dtype=bool)
        used[seg["provider"][live]] = True
        single = np.bincount(seg["ep"])[seg["ep"]] == 1
        for p in np.flatnonzero(~used):
            ok = (
                live
                & single
                & (seg["kind"] == KIND_NEW)
                & (seg["stype"] == ST["home_care"])
                & self.is_agency[seg["provider"]]
                & (seg["provider"] != self.dominant)
                & self.serve[seg["area"], p]
                & (seg["start"] >= max(self.active_from[p], self.window_start))
                & (seg["end"] <= self.active_to[p])
            )
            candidates = np.flatnonzero(ok)
            if candidates.size:
                seg["provider"][candidates[self.rng.integers(0, candidates.size)]] = p

    def _daily_hours(self, seg: dict[str, np.ndarray]) -> None:
        """Planned hours a week of every provider x ward on every day of the 36 months (quarter-hours)."""
        lo, hi = self.window_start, self.as_of
        n_days = hi - lo + 1
        live = (seg["start"] <= hi) & (seg["end"] >= lo)
        n_areas = len(self.geo.codes)
        pair_key = seg["provider"][live] * n_areas + seg["area"][live]
        pairs, pair_idx = np.unique(pair_key, return_inverse=True)
        s = np.maximum(seg["start"][live], lo) - lo
        e = np.minimum(seg["end"][live], hi) - lo
        q = np.round(seg["hours"][live] * 4).astype(np.int64)
        width = n_days + 1
        diff = np.bincount(pair_idx * width + s, weights=q, minlength=pairs.size * width)
        diff -= np.bincount(pair_idx * width + e + 1, weights=q, minlength=pairs.size * width)
        daily = np.cumsum(diff.reshape(pairs.size, width)[:, :n_days], axis=1)
        self.pair_provider = pairs // n_areas
        self.pair_area = pairs % n_areas
        self.pair_daily = np.round(daily).astype(np.int64)  # quarter-hours a week, per day
        prov_daily = np.zeros((self.n_providers, n_days), dtype=np.int64)
        np.add.at(prov_daily, self.pair_provider, self.pair_daily)
        self.provider_daily = prov_daily

    def _packages_frame(self, seg: dict[str, np.ndarray], ep: dict[str, np.ndarray]) -> pl.DataFrame:
        rng = self.rng
        keep = (seg["start"] <= self.as_of) & (seg["end"] >= self.window_start)
        s = {key: value[keep] for key, value in seg.items()}
        n = s["start"].size
        ongoing = s["end"] > self.as_of
        provider = s["provider"]
        # Hourly rate: the provider's current rate, at the fee level of the year the package ended;
        # agencies get a rural enhancement. In-house has no hourly price.
        reference = np.minimum(s["end"], self.as_of)
        years = _financial_year(np.array([self.as_of]))[0] - _financial_year(reference)
        rate = self.rate[provider] / FEE_UPLIFT**years
        rate = rate + np.where(self.is_agency[provider] & self.geo.rural[s["area"]], RURAL_ENHANCEMENT, 0.0)
        pa = np.isin(provider, self.pa_pools)
        rate = np.where(pa, rate + np.round(rng.uniform(-1.5, 1.75, n) * 4) / 4, rate)
        person = self.persons[s["ep"]]
        return pl.DataFrame(
            [
                _ids("package_id", f"{self.prefix}PK", np.arange(1, n + 1), 7),
                self._person_ids(person),
                _lookup("area_code", self.geo.codes, s["area"]),
                _lookup("provider_id", self.prov_ids, provider),
                _date_series("start_date", s["start"]),
                _date_series("end_date", s["end"], ongoing),
                _float_series("planned_hours_per_week", s["hours"], 2),
                _lookup("service_type", SERVICE_TYPES, s["stype"]),
                _lookup("funding", FUNDING, s["funding"]),
                _lookup("client_group", CLIENT_GROUPS, ep["cgroup"][s["ep"]]),
                _float_series("hourly_rate", rate, 2, np.isnan(rate)),
                _lookup("end_reason", END_REASONS, np.where(ongoing, -1, s["reason"])),
            ]
        )

    def _person_numbers(self, ep: dict[str, np.ndarray]) -> np.ndarray:
        """Number people in the order they first came to the council (withdrawn requests included)."""
        rng = self.rng
        self.n_withdrawn = int(round(0.06 * (self.as_of - self.window_start) * 5.2))
        self.withdrawn_day = np.sort(rng.integers(self.window_start, self.as_of + 1, self.n_withdrawn))
        first = np.concatenate([ep["start"], self.withdrawn_day])
        order = np.argsort(first, kind="stable")
        numbers = np.empty(first.size, dtype=np.int64)
        numbers[order] = 1_000 + np.arange(first.size)
        self.withdrawn_person = numbers[ep["start"].size :]
        return numbers[: ep["start"].size]

    def _person_ids(self, numbers: np.ndarray) -> pl.Series:
        return _ids("person_id", f"{self.prefix}NDP", numbers, 7)

    # ---------------------------------------------------------------- requests

    def _requests_frame(self, seg: dict[str, np.ndarray], ep: dict[str, np.ndarray]) -> pl.DataFrame:
        """The brokerage log: one request before every package, plus withdrawn requests."""
        rng = self.rng
        n = seg["start"].size
        area = seg["area"]
        median = np.array([WAIT_MEDIAN[c] for c in self.area_class])[area]
        kind_factor = np.array([1.0, 0.8, 0.12, 0.9])[seg["kind"]]
        lag = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
        sourced = seg["start"] - lag
        pressure = 1 + WAIT_PRESSURE * np.clip((sourced - self.last_year) / 365, 0, 1)
        wait = np.round(median * kind_factor * pressure * rng.lognormal(0.0, WAIT_SIGMA, n)).astype(np.int64)
        requested = sourced - wait
        keep = (requested >= self.window_start) & (requested <= self.as_of)
        waiting = sourced > self.as_of
        hours = seg["hours"]
        # Withdrawn requests: people who died, went into a care home or were supported otherwise.
        wn = self.n_withdrawn
        w_weights = self.demand
        w_area = rng.choice(len(w_weights), size=wn, p=w_weights / w_weights.sum())
        w_hours = _gamma_hours(rng, wn, 13.0, 2.2, 1.5, 56.0, 0.25)
        req_day = np.concatenate([requested[keep], self.withdrawn_day])
        src_day = np.concatenate([sourced[keep], np.zeros(wn, dtype=np.int64)])
        no_source = np.concatenate([waiting[keep], np.ones(wn, dtype=bool)])
        outcome = np.concatenate([np.where(waiting[keep], 1, 0), np.full(wn, 2)])
        provider = np.concatenate([np.where(waiting[keep], -1, seg["provider"][keep]), np.full(wn, -1)])
        person = np.concatenate([self.persons[seg["ep"][keep]], self.withdrawn_person])
        areas = np.concatenate([area[keep], w_area])
        hrs = np.concatenate([hours[keep], w_hours])
        order = np.lexsort((person, req_day))
        total = order.size
        return pl.DataFrame(
            [
                _ids("request_id", f"{self.prefix}RQ", np.arange(1, total + 1), 7),
                self._person_ids(person[order]),
                _lookup("area_code", self.geo.codes, areas[order]),
                _date_series("requested_date", req_day[order]),
                _float_series("hours_per_week", hrs[order], 2),
                _date_series("sourced_date", src_day[order], no_source[order]),
                _lookup("provider_id", self.prov_ids, provider[order]),
                _lookup("outcome", ("sourced", "waiting", "withdrawn"), outcome[order]),
            ]
        )

    # ---------------------------------------------------------------- delivery and workforce

    def _delivery_frame(self) -> pl.DataFrame:
        """Weekly commissioned and delivered hours per provider x ward (complete Monday-Sunday weeks)."""
        rng = self.rng
        first_monday = self.window_start + (7 - (_to_date(self.window_start).weekday())) % 7
        offset = first_monday - self.window_start
        n_weeks = (self.as_of - first_monday + 1) // 7
        q, d = self.pair_daily.shape
        weekly = self.pair_daily[:, offset : offset + 7 * n_weeks].reshape(q, n_weeks, 7).sum(axis=2) / 28.0
        mondays = first_monday + 7 * np.arange(n_weeks)
        n_p = self.n_providers
        # Delivery rate: each provider's usual rate, weekly wobble; the dominant agency slips in the last year.
        base = rng.uniform(0.94, 0.985, n_p)
        struggling = rng.choice(self.n_agencies - 1, 2, replace=False) + 1
        base[struggling] = rng.uniform(0.88, 0.91, 2)
        base[self.dominant] = 0.965
        base[self.is_me] = rng.uniform(0.96, 0.995, int(self.is_me.sum()))
        week_rate = base[:, None] + rng.normal(0.0, 0.012, (n_p, n_weeks))
        decline = np.clip((mondays - self.last_year) / 365, 0, 1)
        week_rate[self.dominant] -= 0.075 * decline
        rate = week_rate[self.pair_provider] + rng.normal(0.0, 0.008, (q, n_weeks))
        rate -= 0.01 * self.geo.rural[self.pair_area][:, None]
        rate = np.clip(rate, 0.5, 1.0)
        commissioned = np.round(weekly, 2)
        delivered = np.round(commissioned * rate, 2)
        mask = commissioned > 0
        pair_i, week_i = np.nonzero(mask)
        order = np.lexsort((self.pair_area[pair_i], self.pair_provider[pair_i], week_i))
        pair_i, week_i = pair_i[order], week_i[order]
        return pl.DataFrame(
            [
                _date_series("period_start", mondays[week_i]),
                _lookup("provider_id", self.prov_ids, self.pair_provider[pair_i]),
                _lookup("area_code", self.geo.codes, self.pair_area[pair_i]),
                pl.Series("package_id", [None] * pair_i.size, dtype=pl.String),
                pl.Series("commissioned_hours", commissioned[pair_i, week_i]),
                pl.Series("delivered_hours", delivered[pair_i, week_i]),
            ]
        )

    def _workforce_frame(self) -> pl.DataFrame:
        """Monthly staffing of agencies and the in-house service, from their planned hours.

        Filled posts = average planned hours a week in the month / contact hours a week per post;
        vacancies from the provider's vacancy rate (the dominant agency's rises over the last
        year); leavers in 12 months from its turnover rate.
        """
        rng = self.rng
        lo = self.window_start
        month_days = self._months()
        starts = month_days - lo
        days = np.arange(lo, self.as_of + 1)
        staffed = np.flatnonzero(self.is_agency | (np.arange(self.n_providers) == self.inhouse))
        live = (self.active_from[staffed, None] <= days) & (self.active_to[staffed, None] >= days)
        hours_sum = np.add.reduceat(self.provider_daily[staffed] * live, starts, axis=1)
        live_days = np.add.reduceat(live.astype(np.int64), starts, axis=1)
        rows, cols = np.nonzero(live_days > 0)  # provider x month while the provider was active
        provider = staffed[rows]
        hours = hours_sum[rows, cols] / live_days[rows, cols] / 4
        n = rows.size
        per_post = rng.uniform(16.0, 22.0, self.n_providers)[provider]
        posts = np.maximum(2, np.round(hours / per_post * (1 + rng.normal(0, 0.02, n)))).astype(np.int64)
        ramp = np.clip((month_days[cols] - self.last_year) / 365, 0, 1)
        vacancy = rng.uniform(0.027, 0.085, self.n_providers)
        vacancy[self.inhouse] = 0.12
        turnover = rng.uniform(0.16, 0.30, self.n_providers)[provider]
        v = vacancy[provider] + rng.normal(0, 0.008, n)
        dominant = provider == self.dominant
        v = np.where(dominant, 0.075 + 0.14 * ramp + rng.normal(0, 0.006, n), v).clip(0.0, 0.45)
        turnover = np.where(dominant, 0.26 + 0.12 * ramp, turnover)
        order = np.lexsort((cols, provider))
        return pl.DataFrame(
            [
                _lookup("provider_id", self.prov_ids, provider[order]),
                _date_series("month", month_days[cols][order]),
                pl.Series("filled_posts", posts[order], dtype=pl.Int64),
                pl.Series("vacancies", np.round(posts * v / (1 - v)).astype(np.int64)[order], dtype=pl.Int64),
                pl.Series(
                    "leavers_12m",
                    np.round(posts * turnover * (1 + rng.normal(0, 0.05, n))).astype(np.int64)[order],
                    dtype=pl.Int64,
                ),
            ]
        )

    def _months(self) -> np.ndarray:
        """Return the first day of each of the 36 months ending with as_of's month."""
        first = _to_date(self.window_start)
        return np.array([_day(_add_months(first, k)) for k in range(36)], dtype=np.int64)

    # ---------------------------------------------------------------- providers and contracts tables

    def _hours_on(self, p: int, day: int) -> float:
        day = min(max(day, self.window_start), self.as_of)
        return float(self.provider_daily[p, day - self.window_start]) / 4

    def _providers_frame(self) -> pl.DataFrame:
        rng = self.rng
        n = self.n_providers
        as_of = self.as_of
        cqc_id: list[str | None] = [None] * n
        rating: list[str | None] = [None] * n
        rating_day = np.full(n, 0, dtype=np.int64)
        no_rating_day = np.ones(n, dtype=bool)
        numbers = 1_000_000_000 + self.index * 1_000_000 + rng.choice(1_000_000, n, replace=False)
        registered = self.is_agency | (np.arange(n) == self.inhouse)
        registered[self.me_start :] = rng.random(n - self.me_start) < 0.15
        for p in np.flatnonzero(registered):
            cqc_id[p] = f"1-{numbers[p]}"
            start = max(self.active_from[p], as_of - int(7.5 * YEAR))
            if p in self.entrants or (self.is_me[p] and rng.random() < 0.5):
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
        rating[self.dominant] = "Requires improvement"
        rating_day[self.dominant] = as_of - 228
        no_rating_day[self.dominant] = False
        if len(self.exited):
            worst = int(self.exited[0])
            rating[worst] = "Inadequate"
            rating_day[worst] = self.active_to[worst] - rng.integers(40, 120)
            no_rating_day[worst] = False
        # One agency with a CQC registration but no rating recorded by the council.
        plain = [p for p in range(self.n_agencies) if rating[p] == "Good" and p not in self.rural_providers]
        blank = int(plain[rng.integers(0, len(plain))])
        rating[blank] = None
        no_rating_day[blank] = True
        rating_day = np.minimum(rating_day, np.minimum(self.active_to, as_of))
        # Capacity: what providers say they could deliver, a little above their current planned hours.
        capacity = np.full(n, np.nan)
        for p in range(n):
            day = as_of if self.active_to[p] >= as_of else self.active_to[p]
            hours = self._hours_on(p, day)
            if self.is_agency[p]:
                factor = 1.04 if p == self.dominant else rng.uniform(1.05, 1.30)
                capacity[p] = max(round(hours * factor / 10) * 10, 80)
            elif self.is_me[p]:
                capacity[p] = max(round(hours * rng.uniform(1.1, 1.5) / 5) * 5, 10)
            else:
                capacity[p] = max(round(hours * rng.uniform(1.1, 1.3) / 10) * 10, 20)
        spot = [
            p
            for p in range(self.n_agencies)
            if self.contract_type[p] == "spot" and p not in self.rural_providers and p not in self.exited
        ]
        capacity[spot[rng.integers(0, len(spot))]] = np.nan
        base = np.where(self.base >= 0, self.base, -1)
        return pl.DataFrame(
            [
                pl.Series("provider_id", self.prov_ids, dtype=pl.String),
                pl.Series("provider_name", self.prov_names, dtype=pl.String),
                pl.Series("provider_type", self.prov_type, dtype=pl.String),
                pl.Series("cqc_location_id", cqc_id, dtype=pl.String),
                pl.Series("cqc_rating", rating, dtype=pl.String),
                _date_series("cqc_rating_date", rating_day, no_rating_day),
                pl.Series("contract_type", self.contract_type, dtype=pl.String),
                _float_series("weekly_capacity_hours", capacity, 1, np.isnan(capacity)),
                _lookup("base_area_code", self.geo.codes, base),
                _date_series("active_from", self.active_from),
                _date_series("active_to", self.active_to, self.active_to >= NEVER),
            ]
        ).sort("provider_id")

    def _contracts_frame(self) -> pl.DataFrame:
        """Framework lots, block contracts and the microenterprise programme; values in £ a year."""
        rng = self.rng
        fy = int(_financial_year(np.array([self.as_of]))[0])
        rows: list[dict] = []

        def annual(p: int) -> float:
            hours = self._hours_on(p, min(self.as_of, int(self.active_to[p])))
            return float(round(hours * 52 * self.rate[p], -2))

        lot_start = {"framework lot 1": date(fy - 4, 4, 1), "framework lot 2": date(fy - 2, 4, 1)}
        lot_end = {"framework lot 1": date(fy + 1, 3, 31), "framework lot 2": date(fy + 3, 3, 31)}
        for p in range(self.n_agencies):
            ctype = self.contract_type[p]
            if ctype not in lot_start:
                continue
            start = max(lot_start[ctype], _to_date(self.active_from[p]))
            end = lot_end[ctype]
            if self.active_to[p] < NEVER:
                end = _to_date(self.active_to[p])  # terminated when the provider left
            if end < start:
                continue  # left the market before this lot began
            lot = ctype.split()[-1]
            locality = self.geo.localities[self.base[p]]
            rows.append(
                {
                    "provider": p,
                    "name": f"Care at Home Framework Lot {lot} {locality}",
                    "start": start,
                    "end": end,
                    "ext": 0 if self.active_to[p] < NEVER else int(rng.choice([0, 12, 24], p=[0.2, 0.3, 0.5])),
                    "value": annual(p),
                }
            )
        for (scheme, _ward), p in zip(EXTRA_CARE_SCHEMES, self.extra_care_providers, strict=True):
            rows.append(
                {
                    "provider": p,
                    "name": f"Extra Care at Home, {scheme} (block)",
                    "start": date(fy - 3, 7, 1),
                    "end": date(fy + 2, 6, 30),
                    "ext": 24,
                    "value": float(round(rng.uniform(260, 340) * 52 * self.rate[p], -2)),
                }
            )
        rural = self.rural_providers[2]
        rows.append(
            {
                "provider": rural,
                "name": "Rural Block Hours, Eastern Valleys",
                "start": date(fy - 1, 1, 1),
                "end": date(fy, 12, 31),
                "ext": 12,
                "value": float(round(180 * 52 * self.rate[rural], -2)),
            }
        )
        rows.append(
            {
                "provider": self.other_org,
                "name": "Community Support Grant, Dales Neighbourly Care",
                "start": date(fy - 1, 4, 1),
                "end": date(fy + 1, 3, 31),
                "ext": 0,
                "value": 85_000.0,
            }
        )
        launch = _to_date(self.launch)
        rows.append(
            {
                "provider": -1,
                "name": "Community Microenterprise Development Programme",
                "start": launch,
                "end": date(launch.year + 3, launch.month, 1) - timedelta(days=1),
                "ext": 24,
                "value": 101_000.0,
            }
        )
        n = len(rows)
        return pl.DataFrame(
            [
                pl.Series("contract_id", [f"{self.prefix}CT{i + 1:03d}" for i in range(n)], dtype=pl.String),
                _lookup("provider_id", self.prov_ids, np.array([r["provider"] for r in rows])),
                pl.Series("name", [r["name"] for r in rows], dtype=pl.String),
                pl.Series("start_date", [r["start"] for r in rows], dtype=pl.Date),
                pl.Series("end_date", [r["end"] for r in rows], dtype=pl.Date),
                pl.Series("extension_months_available", [r["ext"] for r in rows], dtype=pl.Int64),
                pl.Series("annual_value", [r["value"] for r in rows], dtype=pl.Float64),
            ]
        )


def _centroid(ring: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the area centroid (x, y) of a closed-or-open simple polygon ring."""
    x = np.array([p[0] for p in ring])
    y = np.array([p[1] for p in ring])
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    return float(((x + x1) * cross).sum() / (6 * area)), float(((y + y1) * cross).sum() / (6 * area))
