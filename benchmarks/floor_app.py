"""The floor page of ``bench_browser.py``: a bare Streamlit page with a dashboard page's Plotly charts.

Not part of the dashboard. ``bench_browser.py`` serves it with ``streamlit run`` (same Streamlit,
same flags as the dashboard) and opens ``/?page=<url path>``. ``FLOOR_SPEC`` names a JSON file
``{page: [chart, ...]}`` written by the benchmark from what the dashboard page drew (AppTest), one
entry per chart: its height, width (``null``: the container's) and traces (``type``, ``points``,
``mode``). This script draws, for that page, a title and the same number of charts of the same
size with traces of the same types and number of points, from synthetic data, with Streamlit's
``st.plotly_chart`` and no other furniture: what any Streamlit page with those charts costs a
browser. A map's areas are squares on a grid (as many as the dashboard's areas), on the same
blank white map style.
"""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")


def _grid(n: int) -> dict:
    """Return ``n`` square areas on a grid near Northdale as GeoJSON (5 points a polygon)."""
    side = max(math.ceil(math.sqrt(n)), 1)
    features = []
    for i in range(n):
        x, y = -2.5 + (i % side) * 0.05, 54.0 + (i // side) * 0.05
        ring = [[x, y], [x + 0.05, y], [x + 0.05, y + 0.05], [x, y + 0.05], [x, y]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "properties": {"code": f"A{i}"}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def _trace(trace: dict, rng: random.Random) -> go.BaseTraceType:
    kind, n = trace["type"], max(int(trace["points"]), 1)
    values = [rng.uniform(0, 100) for _ in range(n)]
    if kind == "bar":
        return go.Bar(x=[f"Item {i}" for i in range(n)], y=values, orientation=trace.get("orientation") or "v")
    if kind == "choroplethmap":
        codes = [f"A{i}" for i in range(n)]
        return go.Choroplethmap(geojson=_grid(n), featureidkey="properties.code", locations=codes, z=values)
    if kind == "scattermap":
        lons = [-2.5 + rng.uniform(0, 0.3) for _ in range(n)]
        return go.Scattermap(lon=lons, lat=[54 + rng.uniform(0, 0.3) for _ in range(n)], mode="markers")
    return go.Scatter(x=list(range(n)), y=values, mode=trace.get("mode") or "lines+markers")


def floor_figure(chart: dict, seed: int) -> go.Figure:
    """Return a synthetic figure shaped like ``chart`` (same traces, points and size)."""
    rng = random.Random(seed)
    fig = go.Figure([_trace(t, rng) for t in chart["traces"]])
    fig.update_layout(height=chart["height"], width=chart.get("width"), title=f"Chart {seed}")
    if any(t["type"].endswith("map") for t in chart["traces"]):
        fig.update_layout(map={"style": "white-bg", "center": {"lon": -2.3, "lat": 54.2}, "zoom": 8})
    return fig


charts = json.loads(Path(os.environ["FLOOR_SPEC"]).read_text(encoding="utf-8")).get(st.query_params.get("page", ""), [])
st.title("Floor")
for n, chart in enumerate(charts):
    st.plotly_chart(floor_figure(chart, n), theme=None, key=f"floor_{n}")
