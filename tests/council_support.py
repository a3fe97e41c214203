"""What the council-variety tests share (``tests/test_councils.py``): the generated councils' data
stores, reading what a page drew in AppTest (points drawn per chart, info boxes) and the
per-council table printed at the end of the run (``conftest.pytest_terminal_summary``)."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import replace
from pathlib import Path

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


# ---------------------------------------------------------------------------------------------
# The councils: one data store per shape of ``analytics.demo.SHAPES``

PEOPLE_SHARE = 0.3
"""Share of each generated council's people kept (``CouncilShape.people_share``): small and fast."""

RESULTS: dict[str, dict[str, int | None]] = {}
"""Per council: what the tests saw (printed by ``write_summary`` at the end of the run)."""


def build_councils(root: Path, demo_store: Path) -> dict[str, Path]:
    """Generate and load every shape of ``SHAPES`` under ``root``; return ``{name: data store}``.

    ``northdale`` is ``demo_store`` (already built); the others keep ``PEOPLE_SHARE`` of their people.
    Fails with the validation report if a generated drop is refused: every shape must be a valid drop.
    """
    from analytics.demo import SHAPES, generate_drop
    from analytics.store.snapshots import refresh

    stores = {}
    for name, shape in SHAPES.items():
        if name == "northdale":
            stores[name] = demo_store
            continue
        drop, store = root / name / "drop", root / name / "store"
        generate_drop(drop, shape=replace(shape, people_share=PEOPLE_SHARE))
        result = refresh(drop, store, loaded_by="tests")
        assert result.accepted, f"the {name} council's drop was refused: {result}"
        stores[name] = store
    return stores


def record(council: str, **values: int | None) -> None:
    """Add what a test saw about ``council`` to the summary table."""
    RESULTS.setdefault(council, {}).update(values)


COLUMNS = (
    ("apptest_pages", "AppTest pages"),
    ("chromium_pages", "Chromium pages"),
    ("exceptions", "exceptions"),
    ("cannot_show", "'cannot show' notes"),
    ("charts", "charts built"),
    ("headlines", "headlines checked"),
)


def write_summary(terminalreporter) -> None:
    """Print one row per council: pages run, exceptions, notes, charts built and headlines checked."""
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("generated councils")
    width = max(len(name) for name in RESULTS)
    write(f"{'council':<{width}}  " + "  ".join(label for _, label in COLUMNS))
    for name, row in RESULTS.items():
        cells = []
        for key, label in COLUMNS:
            value = row.get(key)
            cells.append(f"{'-' if value is None else value:>{len(label)}}")
        write(f"{name:<{width}}  " + "  ".join(cells))
    exceptions = sum(row.get("exceptions") or 0 for row in RESULTS.values())
    write(
        f"{len(RESULTS)} councils, {exceptions} exceptions in all (northdale, the demo, runs in Chromium in "
        "tests/test_e2e.py; headlines are checked when tests/headline_audit.py is there)"
    )
