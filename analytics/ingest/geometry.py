"""Area boundaries as the maps draw them: one area code per feature, simplified and rounded once at load.

A council's boundary file (ONS ward boundaries, say) can hold thousands of vertices a ward at
centimetre precision, with every property its publisher adds, and under a code property named after
the year (``WD24CD``). A map draws it in a box about 700 pixels wide, and every map trace carries
its own copy of the geometry to the browser. So the live store keeps a display copy
(``display_boundaries``), made once when a drop is loaded, while the archive keeps the file as sent:

* each feature's properties are just ``{"area_code": ...}`` (``area_code`` or the first ``…CD``
  property, as validation reads it), so every map finds its areas by the same key, and it carries
  its GeoJSON ``bbox`` (west, south, east, north), from which a map fits its view without walking
  every vertex;
* each ring is simplified (Douglas-Peucker) to within ``TOLERANCE_DEG`` degrees (about 7 to 11
  metres in England, well under a pixel at ward scale) and its coordinates rounded to ``DIGITS``
  decimals (about a metre); a ring that would fall below a triangle keeps its own points;
* coordinates that are not longitude and latitude (projected metres) are left as they are.

Pure functions over GeoJSON dicts, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TOLERANCE_DEG = 0.0001
DIGITS = 5


def feature_area_code(feature: dict) -> str | None:
    """Return the area code of a GeoJSON feature (``area_code`` or a ``…CD`` style property)."""
    props = feature.get("properties") or {}
    if "area_code" in props:
        return props["area_code"]
    for key, value in props.items():
        if key.upper().endswith("CD"):
            return value
    return None


def display_boundaries(geojson: dict, *, tolerance: float = TOLERANCE_DEG, digits: int = DIGITS) -> dict:
    """Return the FeatureCollection the maps draw: features keyed by ``area_code``, simplified and rounded.

    Features without an area code or a geometry are left out (no map could place them).
    """
    features = []
    for feature in geojson.get("features") or []:
        code, geometry = feature_area_code(feature), feature.get("geometry")
        if code is None or not geometry:
            continue
        shown = _geometry(geometry, tolerance, digits)
        feature = {"type": "Feature", "properties": {"area_code": code}, "geometry": shown}
        values = np.asarray(list(_numbers(shown.get("coordinates"))), dtype=float)
        if values.size >= 2 and values.size % 2 == 0 and shown is not geometry:  # lon/lat pairs, simplified
            lons, lats = values[0::2], values[1::2]
            feature["bbox"] = [float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())]
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def _geometry(geometry: dict, tolerance: float, digits: int) -> dict:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if coordinates is None or not _is_lon_lat(coordinates):
        return geometry
    if kind == "Polygon":
        return {"type": kind, "coordinates": [_ring(r, tolerance, digits) for r in coordinates]}
    if kind == "MultiPolygon":
        return {"type": kind, "coordinates": [[_ring(r, tolerance, digits) for r in p] for p in coordinates]}
    return {"type": kind, "coordinates": _rounded(coordinates, digits)}


def _is_lon_lat(coordinates: object) -> bool:
    """Whether every number in ``coordinates`` could be a longitude or latitude (not projected metres)."""
    values = np.asarray(list(_numbers(coordinates)), dtype=float)
    return bool(values.size) and bool(np.all(np.abs(values) <= 180))


def _numbers(value: object):
    if isinstance(value, int | float):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _rounded(value: object, digits: int) -> object:
    if isinstance(value, int | float):
        return round(float(value), digits)
    return [_rounded(v, digits) for v in value]


def _ring(ring: Sequence[Sequence[float]], tolerance: float, digits: int) -> list[list[float]]:
    """Return ``ring`` simplified to within ``tolerance`` and rounded, still closed, never below 4 points."""
    points = np.asarray([p[:2] for p in ring], dtype=float)
    rounded = _dedupe(np.round(points, digits))
    if len(points) < 5:
        return rounded.tolist()
    closed = np.allclose(points[0], points[-1])
    body = points[:-1] if closed else points
    far = int(np.argmax(np.hypot(*(body - body[0]).T)))  # split a closed ring at its farthest point
    if far == 0:
        return rounded.tolist()
    keep = np.zeros(len(body), dtype=bool)
    keep[[0, far, len(body) - 1]] = True
    _douglas_peucker(body, 0, far, tolerance, keep)
    _douglas_peucker(body, far, len(body) - 1, tolerance, keep)
    kept = body[keep]
    if closed:
        kept = np.vstack([kept, kept[:1]])
    simplified = _dedupe(np.round(kept, digits))
    return (simplified if len(simplified) >= 4 or not closed else rounded).tolist()


def _douglas_peucker(points: np.ndarray, first: int, last: int, tolerance: float, keep: np.ndarray) -> None:
    """Mark in ``keep`` the points between ``first`` and ``last`` that the simplified line must pass through."""
    stack = [(first, last)]
    while stack:
        start, end = stack.pop()
        if end - start < 2:
            continue
        a, b, between = points[start], points[end], points[start + 1 : end]
        d = b - a
        length = float(np.hypot(*d))
        if length == 0:
            distances = np.hypot(*(between - a).T)
        else:
            t = np.clip(((between - a) @ d) / (length * length), 0, 1)
            distances = np.hypot(*(between - (a + t[:, None] * d)).T)
        i = int(np.argmax(distances))
        if distances[i] > tolerance:
            index = start + 1 + i
            keep[index] = True
            stack += [(start, index), (index, end)]


def _dedupe(points: np.ndarray) -> np.ndarray:
    """Drop points equal to the one before them (rounding can merge neighbours)."""
    if len(points) < 2:
        return points
    different = np.any(points[1:] != points[:-1], axis=1)
    return points[np.concatenate([[True], different])]
