"""Boundaries as the maps draw them: keyed by area code, simplified and rounded once at load, one copy per trace.

A real council's ward file has thousands of vertices a ward under a ``WD24CD``-style code; each map
trace sends its own copy to the browser. These tests check the display copy keeps every area's shape
to within the tolerance, finds the code whatever its property is called, and that maps draw the same
areas with only the geometry each trace needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from analytics.ingest.geometry import DIGITS, TOLERANCE_DEG, display_boundaries
from analytics.publish.maps import features_for


def _circle(lon: float, lat: float, radius: float, n: int) -> list[list[float]]:
    ring = [
        [lon + radius * math.cos(2 * math.pi * i / n), lat + radius * math.sin(2 * math.pi * i / n)] for i in range(n)
    ]
    return [*ring, ring[0]]


def _ward(code: str, ring: list[list[float]]) -> dict:
    props = {"WD24CD": code, "WD24NM": f"Ward {code}", "LAD24CD": "E06000001", "BNG_E": 400000, "GlobalID": "x" * 36}
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Return each point's distance to the nearest segment of ``line``."""
    a, b = line[:-1], line[1:]
    d = b - a
    lengths = np.maximum((d * d).sum(axis=1), 1e-30)
    t = np.clip(((points[:, None, :] - a[None]) * d[None]).sum(axis=2) / lengths[None], 0, 1)
    nearest = a[None] + t[..., None] * d[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


def test_a_dense_ward_file_is_keyed_by_area_code_simplified_and_rounded():
    dense = _circle(-2.5, 54.6, 0.02, 4000)  # 4,000 vertices about 3 m apart
    tiny = _circle(-2.4, 54.6, 0.00005, 40)  # a ward smaller than the tolerance keeps its own shape
    multi = {
        "type": "Feature",
        "properties": {"area_code": "E05000003", "colour": "red"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[_circle(-2.3, 54.6, 0.01, 500)], [_circle(-2.2, 54.6, 0.01, 500)]],
        },
    }
    source = {"type": "FeatureCollection", "features": [_ward("E05000001", dense), _ward("E05000002", tiny), multi]}
    shown = display_boundaries(source)

    assert [f["properties"] for f in shown["features"]] == [{"area_code": f"E0500000{i}"} for i in (1, 2, 3)]
    ring = np.asarray(shown["features"][0]["geometry"]["coordinates"][0])
    assert len(ring) < len(dense) / 10 and ring[0].tolist() == ring[-1].tolist()
    # Every original vertex stays within the tolerance (plus rounding) of the simplified outline.
    assert _distance_to_polyline(np.asarray(dense), ring).max() <= TOLERANCE_DEG + 10**-DIGITS
    assert all(round(v, DIGITS) == v for point in ring.tolist() for v in point)
    kept = shown["features"][1]["geometry"]["coordinates"][0]
    assert len(kept) >= 4 and kept[0] == kept[-1]
    parts = shown["features"][2]["geometry"]["coordinates"]
    assert shown["features"][2]["geometry"]["type"] == "MultiPolygon" and len(parts) == 2
    assert all(4 <= len(p[0]) < 500 for p in parts)
    assert len(json.dumps(shown)) < len(json.dumps(source)) / 10
    # Each feature carries its box, from which a map fits its view without walking every vertex.
    assert shown["features"][0]["bbox"] == [ring[:, 0].min(), ring[:, 1].min(), ring[:, 0].max(), ring[:, 1].max()]
    from analytics.publish.maps import _corners

    boxes = _corners(shown)
    stripped = {**shown, "features": [{k: v for k, v in f.items() if k != "bbox"} for f in shown["features"]]}
    assert len(boxes) == 6 and boxes == _corners(stripped)  # the same corners as from the vertices


def test_projected_coordinates_and_uncoded_features_are_left_alone():
    metres = [
        [400000.0, 500000.0],
        [400100.0, 500000.0],
        [400100.0, 500100.0],
        [400000.0, 500100.0],
        [400000.0, 500000.0],
    ]
    source = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"area_code": "A"},
                "geometry": {"type": "Polygon", "coordinates": [metres]},
            },
            {
                "type": "Feature",
                "properties": {"name": "no code"},
                "geometry": {"type": "Polygon", "coordinates": [metres]},
            },
        ],
    }
    shown = display_boundaries(source)
    assert shown["features"] == [
        {"type": "Feature", "properties": {"area_code": "A"}, "geometry": {"type": "Polygon", "coordinates": [metres]}}
    ]


def test_each_map_trace_carries_only_the_areas_it_draws():
    source = {
        "type": "FeatureCollection",
        "features": [_ward(f"E0500000{i}", _circle(-2 - i / 10, 54, 0.01, 8)) for i in range(4)],
    }
    shown = display_boundaries(source)
    picked = features_for(shown, ["E05000001", "E05000003"], "properties.area_code")
    assert [f["properties"]["area_code"] for f in picked["features"]] == ["E05000001", "E05000003"]
    assert features_for(shown, [], "properties.area_code")["features"] == []


def test_the_live_store_keeps_the_display_copy_of_the_drop_boundaries(demo_drop: Path, demo_store: Path):
    from analytics.store import snapshots as store
    from analytics.store.queries import boundaries

    raw = json.loads((demo_drop / "boundaries.geojson").read_text(encoding="utf-8"))
    cur = store.market_cursor(store.open_live(demo_store))
    assert boundaries(cur) == display_boundaries(raw)
    # The demo's wards are simple polygons: the display copy draws exactly the same outlines.
    assert [f["geometry"] for f in boundaries(cur)["features"]] == [f["geometry"] for f in raw["features"]]
