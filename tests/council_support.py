"""What the council-variety tests share: reading what a page drew in AppTest (charts with no data,
messages saying what cannot be shown) and the per-council results table printed at the end of a run."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
from streamlit.testing.v1 import AppTest

POINT_KEYS = ("x", "y", "z", "lat", "lon", "locations", "values", "labels")
DTYPES = {"f8": np.float64, "f4": np.float32, "i1": np.int8, "i2": np.int16, "i4": np.int32, "u1": np.uint8,
          "u2": np.uint16, "u4": np.uint32, "i8": np.int64}  # fmt: skip


def _values(raw) -> list:
    """Return the plain values of a plotly array (a list, or a base64 typed array of plotly 7)."""
    if isinstance(raw, dict) and "bdata" in raw:
        return np.frombuffer(base64.b64decode(raw["bdata"]), dtype=DTYPES[raw["dtype"]]).tolist()
    if isinstance(raw, list):
        return raw
    return []


def _shown(value) -> bool:
    if value is None:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def trace_points(trace: dict) -> int:
    """Return how many points a trace draws with a value (``None``/NaN values do not count)."""
    counts = []
    for key in POINT_KEYS:
        if key in trace:
            counts.append(sum(_shown(v) for v in _values(trace[key])))
    return min(counts) if counts else 0


def charts(at: AppTest) -> list[tuple[str, int]]:
    """Return ``(title, points drawn)`` for every Plotly chart on the page."""
    out = []
    for element in at.get("plotly_chart"):
        figure = json.loads(element.proto.spec)
        title = figure.get("layout", {}).get("title", {}).get("text", "")
        out.append((title, sum(trace_points(t) for t in figure.get("data", []))))
    return out


def messages(at: AppTest) -> list[str]:
    """Return the text of every info, warning and error box on the page."""
    return [m.value for m in (*at.info, *at.warning, *at.error)]
