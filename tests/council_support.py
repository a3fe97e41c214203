"""What the council-variety tests share (``tests/test_councils.py``): the generated councils' data
stores, reading what a page drew in AppTest (points drawn per chart, info boxes, its structure),
the AppTest walk of each council's pages shared by the AppTest and Chromium sweeps, and the
per-council table printed at the end of the run (``conftest.pytest_terminal_summary``)."""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
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


NOTICES = ("info", "warning", "error", "success", "exception")


def _points(count: int) -> str:
    """Return what the frontend has to draw for ``count`` points: none, a lone point, or a series."""
    return "none" if count == 0 else "one" if count == 1 else "many"


def structure(at: AppTest) -> list[str]:
    """Return what Streamlit's frontend draws in the page's main area, without the figures that vary.

    One entry per element, in order: its type (blocks too: columns, tabs, expanders); a chart
    adds each trace's type and whether it draws no point, one or many, and whether it has
    boundaries (``geojson``); a table adds whether it has rows; a notice (info, warning, error)
    adds its text with digits masked. Two councils whose pages give the same list are drawn by the
    browser the same way, up to the numbers. Headline and caption wording is left out: it carries
    the figures, and Chromium draws markdown the same whatever it says.
    """
    out: list[str] = []

    def walk(node) -> None:
        kind = getattr(node, "type", type(node).__name__)
        if kind == "plotly_chart":
            figure = json.loads(node.proto.spec)
            traces = [
                f"{t.get('type', 'scatter')}:{_points(trace_points(t))}{':geojson' if t.get('geojson') else ''}"
                for t in figure.get("data", [])
            ]
            geo = figure.get("layout", {}).get("map", {}).get("layers")
            out.append(f"plotly_chart[{','.join(traces)}]{'+layers' if geo else ''}")
        elif kind == "dataframe":
            out.append(f"dataframe:{'rows' if len(node.value) else 'empty'}")
        elif kind in NOTICES:
            out.append(f"{kind}:{re.sub(r'[0-9][0-9,.]*', '#', str(getattr(node, 'value', '')))}")
        else:
            out.append(str(kind))
        for key in sorted(getattr(node, "children", {}) or {}):
            walk(node.children[key])

    walk(at.main)
    return out


def walk_pages(store: Path, pages: list[str], default: str, dashboard: Path) -> dict[str, dict]:
    """Walk ``pages`` of the dashboard on ``store`` in one ``AppTest`` session, as a user moves through the menu.

    Returns ``{page: {"exceptions": [...], "messages": [...], "charts": [[title, points], ...],
    "structure": [...]}}`` (``messages``, ``charts``, ``structure`` above): what the AppTest sweep
    checks and what decides which pages the Chromium sweep walks.
    """
    saved = os.environ.get("MARKET_DATA_DIR")
    os.environ["MARKET_DATA_DIR"] = str(store)
    try:
        at = AppTest.from_file(str(dashboard), default_timeout=60).run()
        seen = {}
        for page in pages:
            if page != default:
                at.switch_page(page).run()
            seen[page] = {
                "exceptions": [e.message for e in at.exception],
                "messages": messages(at),
                "charts": [list(c) for c in charts(at)],
                "structure": structure(at),
            }
        return seen
    finally:
        if saved is None:
            os.environ.pop("MARKET_DATA_DIR", None)
        else:
            os.environ["MARKET_DATA_DIR"] = saved


def shared_walk(tmp_path_factory, council: str, store: Path, pages: list[str], default: str, dashboard: Path) -> dict:
    """Return ``walk_pages`` of ``council``, walked once per run whichever test or worker asks first."""
    from parallel_support import built_once

    def build(folder: Path) -> None:
        walked = walk_pages(store, pages, default, dashboard)
        (folder / "walk.json").write_text(json.dumps(walked), encoding="utf-8")

    return json.loads((built_once(tmp_path_factory, f"walk-{council}", build) / "walk.json").read_text("utf-8"))


# ---------------------------------------------------------------------------------------------
# The councils: one data store per shape of ``analytics.demo.SHAPES``

PEOPLE_SHARE = 0.3
"""Share of each generated council's people kept (``CouncilShape.people_share``): small and fast."""

RESULTS: dict[str, dict[str, int | None]] = {}
"""Per council: what the tests saw (printed by ``write_summary`` at the end of the run)."""


class CouncilStores(Mapping):
    """``{name: data store}`` of every shape of ``SHAPES``; a store is generated and loaded on first use.

    ``northdale`` is the demo store (already built); the others keep ``PEOPLE_SHARE`` of their people.
    Each is built once per run under a lock (``parallel_support.built_once``), so xdist workers build
    different councils at the same time and share them. ``store.parent / "drop"`` is its drop.
    Fails with the validation report if a generated drop is refused: every shape must be a valid drop.
    """

    def __init__(self, tmp_path_factory, demo_store: Path) -> None:
        from analytics.demo import SHAPES

        self._shapes = SHAPES
        self._factory = tmp_path_factory
        self._demo = demo_store

    def __getitem__(self, name: str) -> Path:
        from parallel_support import built_once

        shape = self._shapes[name]
        if name == "northdale":
            return self._demo

        def build(folder: Path) -> None:
            from analytics.demo import generate_drop
            from analytics.store.snapshots import refresh

            generate_drop(folder / "drop", shape=replace(shape, people_share=PEOPLE_SHARE))
            result = refresh(folder / "drop", folder / "store", loaded_by="tests")
            assert result.accepted, f"the {name} council's drop was refused: {result}"

        return built_once(self._factory, f"council-{name}", build) / "store"

    def __iter__(self) -> Iterator[str]:
        return iter(self._shapes)

    def __len__(self) -> int:
        return len(self._shapes)


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


def _exceptions(row: dict[str, int | None]) -> int | None:
    """Exceptions seen on a council's pages in AppTest and in Chromium (``None`` if neither ran)."""
    seen = [row[k] for k in ("apptest_exceptions", "chromium_exceptions") if row.get(k) is not None]
    return sum(seen) if seen else None


def write_summary(terminalreporter) -> None:
    """Print one row per council: pages run, exceptions, notes, charts built and headlines checked."""
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("generated councils")
    width = max(len(name) for name in RESULTS)
    write(f"{'council':<{width}}  " + "  ".join(label for _, label in COLUMNS))
    from analytics.demo import SHAPES

    order = list(SHAPES)  # workers report in any order
    for name, row in sorted(RESULTS.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
        cells = []
        for key, label in COLUMNS:
            value = _exceptions(row) if key == "exceptions" else row.get(key)
            cells.append(f"{'-' if value is None else value:>{len(label)}}")
        write(f"{name:<{width}}  " + "  ".join(cells))
    exceptions = sum(_exceptions(row) or 0 for row in RESULTS.values())
    write(
        f"{len(RESULTS)} councils, {exceptions} exceptions in all (northdale, the demo, runs in Chromium in "
        "tests/test_e2e.py; the others in Chromium on the pages their shape changes; headlines are checked when "
        "tests/headline_audit.py is there)"
    )
