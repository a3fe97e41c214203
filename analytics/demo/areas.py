"""Wards of the demo council: names, localities, RUC 2021 classes, populations, coordinates and
made-up boundary polygons (a jittered grid in northern England).

Area codes are local (``ND-W01``), never GSS codes. One ward (``BLANK_POPULATION_WARD``) is new
and has no published population yet, so its population cells are blank.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from analytics.demo.common import Copy

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


@dataclass(frozen=True)
class Areas:
    """The wards of one copy, in file order (by locality, then north to south, west to east).

    Arrays have one entry a ward: ``rural``/``remote``/``unclassified`` (bool), grid ``col``/``row``,
    populations aged 65+ and 18 to 64 (people; ``pop_missing`` marks the blank ward), ``demand``
    (relative need for care), ``area_class`` (urban, unclassified, rural or remote: sets waits),
    centroid ``lat``/``lon`` (degrees) and the GeoJSON ``features`` of the boundaries.
    """

    codes: list[str]
    names: list[str]
    localities: list[str]
    ruc21: list[str | None]
    rural: np.ndarray
    remote: np.ndarray
    unclassified: np.ndarray
    col: np.ndarray
    row: np.ndarray
    ward_index: dict[str, int]  # ward name without the copy's suffix -> position
    pop65: np.ndarray
    pop18: np.ndarray
    pop_missing: np.ndarray
    demand: np.ndarray
    area_class: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    features: list[dict]


def draw_areas(copy: Copy) -> Areas:
    """Draw the wards' populations and boundaries from the copy's random stream."""
    rng = copy.rng
    order = sorted(range(len(WARDS)), key=lambda i: (LOCALITIES.index(WARDS[i][3]), -WARDS[i][1], WARDS[i][0]))
    wards = [WARDS[i] for i in order]
    n = len(wards)
    codes = [f"{copy.prefix}ND-W{i + 1:02d}" for i in range(n)]
    names = [w[2] + copy.suffix for w in wards]
    localities = [w[3] + copy.suffix for w in wards]
    rural = np.array([bool(w[4] and w[4].startswith("R")) for w in wards])
    remote = np.array([w[5] for w in wards])
    unclassified = np.array([w[4] is None for w in wards])
    col = np.array([w[0] for w in wards])
    row = np.array([w[1] for w in wards])
    urban = ~rural
    pop65 = np.where(
        remote,
        rng.uniform(950, 1_400, n),
        np.where(rural, rng.uniform(1_200, 2_300, n), rng.uniform(2_000, 3_900, n)),
    ).round()
    ratio = np.where(urban, rng.uniform(2.6, 3.6, n), rng.uniform(1.6, 2.4, n))
    lat, lon, features = _boundaries(rng, codes, names, localities, col, row)
    return Areas(
        codes=codes,
        names=names,
        localities=localities,
        ruc21=[w[4] for w in wards],
        rural=rural,
        remote=remote,
        unclassified=unclassified,
        col=col,
        row=row,
        ward_index={w[2]: i for i, w in enumerate(wards)},
        pop65=pop65.astype(np.int64),
        pop18=(pop65 * ratio).round().astype(np.int64),
        pop_missing=np.array([w[2] == BLANK_POPULATION_WARD for w in wards]),
        # Need for care per person aged 65+ is a little higher in rural wards (older old age).
        demand=pop65 * np.where(rural, 1.15, 1.0),
        area_class=np.where(
            remote, "remote", np.where(rural, "rural", np.where(unclassified, "unclassified", "urban"))
        ),
        lat=lat,
        lon=lon,
        features=features,
    )


def _boundaries(
    rng: np.random.Generator,
    codes: list[str],
    names: list[str],
    localities: list[str],
    col: np.ndarray,
    row: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Make a jittered grid of ward polygons (shared vertices, so no gaps or overlaps).

    Returns centroid latitudes and longitudes (degrees, 5 decimals) and one GeoJSON feature a ward.
    """
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
    lats, lons, features = [], [], []
    for i in range(len(codes)):
        c, r = int(col[i]), int(row[i])
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
                "properties": {"area_code": codes[i], "area_name": names[i], "locality": localities[i]},
                "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in [*ring, ring[0]]]]},
            }
        )
    return np.array(lats), np.array(lons), features


def _centroid(ring: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the area centroid (x, y) of a closed-or-open simple polygon ring."""
    x = np.array([p[0] for p in ring])
    y = np.array([p[1] for p in ring])
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    return float(((x + x1) * cross).sum() / (6 * area)), float(((y + y1) * cross).sum() / (6 * area))


def areas_frame(areas: Areas) -> pl.DataFrame:
    """Return ``areas.csv`` of one copy (contract columns; ``ruc11`` blank)."""
    n = len(areas.codes)
    return pl.DataFrame(
        [
            pl.Series("area_code", areas.codes, dtype=pl.String),
            pl.Series("area_name", areas.names, dtype=pl.String),
            pl.Series("locality", areas.localities, dtype=pl.String),
            pl.Series("ruc21", areas.ruc21, dtype=pl.String),
            pl.Series("ruc11", [None] * n, dtype=pl.String),
            pl.Series("population_65_plus", areas.pop65).set(pl.Series(areas.pop_missing), None),
            pl.Series("population_18_64", areas.pop18).set(pl.Series(areas.pop_missing), None),
            pl.Series("latitude", areas.lat),
            pl.Series("longitude", areas.lon),
        ]
    )
