"""The figure of a published chart: every plotted point matched to its table row and patched.

``publication.publish`` calls ``patch_figure(fig, raw, published)`` on a copy of a chart's figure:
each point is matched back to its row of the raw table (by category, series name and value,
``category_key`` normalising dates and numbers); counts are replaced by their published (rounded)
value and suppressed points removed (a bar is missing and labelled ``[c]``, a line has a gap, a map
area turns grey, a circle goes), never drawn as 0. Labels and hover texts follow. It returns whether
every point was matched, and the matched ``Point``s (which the wording of the headline and text
alternative uses). A figure it cannot match is replaced by ``withheld_figure``. ``find_changes``
lists the cells whose published value differs from the raw one (``Changes``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import plotly.graph_objects as go
import polars as pl

from analytics.formatting import fmt_int, fmt_number
from analytics.publish.charts import FOCUS_OTHER, SECONDARY_TEXT, ChartSpec
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed

_MARKER_SUFFIX = " [c] marker"
_LAST_NUMBER = re.compile(r"[-+]?£?\d[\d,]*(?:\.\d+)?(?!.*\d)")
NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")


def _numbers(text: str) -> list[float]:
    return [float(t.replace(",", "")) for t in NUMBER.findall(text)]


def mentions(text: str, values: Iterable[float]) -> bool:
    """Whether ``text`` quotes any of ``values`` (as written to 0 or 1 decimal place)."""
    found = _numbers(text)
    for v in values:
        for n in found:
            if math.isclose(n, v, abs_tol=1e-9) or n == round(v) or n == round(v, 1) or n == math.floor(v):
                return True
    return False


@dataclass
class Changes:
    """Cells whose published value differs from the raw one: (column, row) -> (raw, published, hidden)."""

    cells: dict[tuple[str, int], tuple[float, float | None, bool]] = field(default_factory=dict)

    @property
    def leaked(self) -> list[float]:
        """Raw values that must not appear anywhere any more."""
        return [raw for raw, _, _ in self.cells.values() if raw is not None]

    def __bool__(self) -> bool:
        return bool(self.cells)


def find_changes(raw: pl.DataFrame, published: Suppressed) -> Changes:
    out = Changes()
    values = published.values
    for c in [*published.count_cols, *published.derived_cols]:
        flags = values[f"{c}{SUPPRESSED_SUFFIX}"].to_list()
        for i, (before, after, hidden) in enumerate(zip(raw[c].to_list(), values[c].to_list(), flags, strict=True)):
            if before is None:
                continue
            if hidden or after is None or not math.isclose(float(before), float(after), abs_tol=1e-9):
                out.cells[(c, i)] = (float(before), None if hidden else after, bool(hidden))
    return out


def category_key(value: object) -> object:
    """Normalise a category for matching a plotted point to a table cell."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", value):
        return value[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return False
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _as_list(values: object) -> list | None:
    if values is None or isinstance(values, str):
        return None
    try:
        return list(values)
    except TypeError:
        return None


def _replace_last_number(text: str, new: str) -> str:
    """Return ``text`` with its last number replaced by ``new`` (or ``": new"`` appended)."""
    if _LAST_NUMBER.search(text):
        return _LAST_NUMBER.sub(new.replace("\\", "\\\\"), text, count=1)
    return f"{text}: {new}"


@dataclass
class Point:
    """A plotted point matched to a table cell."""

    category: object
    series: str | None
    column: str
    row: int
    value: float | None
    hidden: bool


class _Matcher:
    """Match plotted points to table cells by category, series name and value."""

    def __init__(self, raw: pl.DataFrame, published: Suppressed, changes: Changes):
        self.raw = raw
        self.published = published
        self.changes = changes
        self.labels = [c for c in raw.columns if not raw.schema[c].is_numeric()]
        self.numbers = [c for c in raw.columns if raw.schema[c].is_numeric()]
        self.keys = (
            [{category_key(v) for v in row} for row in raw.select(self.labels).iter_rows()] if self.labels else []
        )
        self.columns = {c: raw[c].to_list() for c in self.numbers}
        self.watched = {*published.count_cols, *published.derived_cols}
        # Rows by label key, in row order: a map of 1,500 areas matched each area against every row
        # (2.25 million checks, most of publication mode's time on the Exit page at 50x).
        self.rows_by_key: dict[object, list[int]] = {}
        for i, keys in enumerate(self.keys):
            for k in keys:
                self.rows_by_key.setdefault(k, []).append(i)
        named = [c for c in self.labels if "name" in c.lower()]
        self.names = raw[named[0]].to_list() if named else None

    def name_of(self, row: int, default: object) -> object:
        """Return the row's name (``area_name``, ``provider_name``) for text, else ``default``."""
        return self.names[row] if self.names is not None and self.names[row] is not None else default

    def rows_named(self, name: object) -> list[int] | None:
        """Rows whose labels include the series ``name`` (``None``: the name is not a label)."""
        if name is None or not self.keys:
            return None
        k = category_key(name)
        rows = [i for i, keys in enumerate(self.keys) if k in keys]
        return rows or None

    def match(self, category: object, value: object, rows: list[int] | None) -> tuple[str, int] | None:
        """Return the (column, row) plotted at ``category`` with ``value``; a changed cell wins."""
        candidates = range(self.raw.height) if rows is None else rows
        if category is not None and self.keys:
            k = category_key(category)
            within = self.rows_by_key.get(k, [])
            candidates = within if rows is None else [i for i in candidates if k in self.keys[i]]
        hits = [(c, i) for i in candidates for c in self.numbers if _same(self.columns[c][i], value)]
        if not hits:
            return None
        changed = [h for h in hits if h in self.changes.cells]
        if changed:
            return max(changed, key=lambda h: self.changes.cells[h][2])  # hidden beats rounded
        watched = [h for h in hits if h[0] in self.watched]
        return (watched or hits)[0]

    def is_leak(self, value: object) -> bool:
        """Whether ``value`` equals the raw value of a cell that is no longer published as is."""
        return any(_same(value, raw) for raw in self.changes.leaked)


def _format_published(column: str, value: float | None, published: Suppressed) -> str:
    if value is None:
        return published.symbol
    if column in published.count_cols:
        return fmt_int(value)
    return fmt_number(value, 0 if float(value).is_integer() else 1)


def _patch_xy(trace, m: _Matcher, points: list[Point]) -> tuple[bool, list[object]]:
    """Patch a bar or scatter trace in place. Return (fully handled, hidden categories)."""
    horizontal = trace.type == "bar" and trace.orientation == "h"
    cats = _as_list(trace.y if horizontal else trace.x)
    vals = _as_list(trace.x if horizontal else trace.y)
    if vals is None:
        return True, []
    if cats is None:
        cats = [None] * len(vals)
    texts, hovers = _as_list(trace.text), _as_list(trace.hovertext)
    rows = m.rows_named(trace.name)
    new_vals, hidden_cats, ok = list(vals), [], True
    for i, (cat, val) in enumerate(zip(cats, vals, strict=False)):
        if val is None or (isinstance(val, float) and math.isnan(val)):
            continue
        hit = m.match(cat, val, rows)
        if hit is None:
            if m.is_leak(val):
                ok = False
            continue
        column, row = hit
        if hit not in m.changes.cells:
            if column in m.watched:
                points.append(Point(cat, trace.name, column, row, val, False))
            continue
        _, after, hidden = m.changes.cells[hit]
        points.append(Point(cat, trace.name, column, row, after, hidden))
        new_vals[i] = None if hidden else after
        shown = _format_published(column, None if hidden else after, m.published)
        if texts is not None and i < len(texts) and texts[i] not in (None, ""):
            texts[i] = "" if hidden else _replace_last_number(str(texts[i]), shown)
        if hovers is not None and i < len(hovers) and hovers[i] is not None:
            hovers[i] = _replace_last_number(str(hovers[i]), shown)
        if hidden:
            hidden_cats.append(cat)
    if horizontal:
        trace.x = new_vals
    else:
        trace.y = new_vals
    if texts is not None:
        trace.text = texts
    if hovers is not None:
        trace.hovertext = hovers
    if trace.customdata is not None and hidden_cats:
        ok = False  # hover templates could read the raw value from customdata
    return ok, hidden_cats


def _marker_trace(trace, hidden: list[object], symbol: str) -> go.Scatter:
    """A text-only trace writing ``[c]`` where a bar would be (no bar, not even one of height 0)."""
    horizontal = trace.orientation == "h"
    zeros = [0] * len(hidden)
    return go.Scatter(
        x=zeros if horizontal else hidden,
        y=hidden if horizontal else zeros,
        mode="text",
        text=[symbol] * len(hidden),
        textposition="middle right" if horizontal else "top center",
        textfont={"size": 13, "color": SECONDARY_TEXT},
        offsetgroup=trace.offsetgroup,
        name=f"{trace.name}{_MARKER_SUFFIX}",
        showlegend=False,
        hovertext=[f"{c}, {trace.name}: {symbol}" for c in hidden],
        hoverinfo="text",
        cliponaxis=False,
        xaxis=trace.xaxis,
        yaxis=trace.yaxis,
    )


def _patch_choropleth(trace, m: _Matcher, points: list[Point]) -> tuple[bool, go.Choroplethmap | None]:
    locations, zs = _as_list(trace.locations), _as_list(trace.z)
    if locations is None or zs is None:
        return True, None
    hovers = _as_list(trace.hovertext)
    keep, grey, ok = [], [], True
    new_z, new_hover = [], []
    for i, (loc, z) in enumerate(zip(locations, zs, strict=False)):
        hit = m.match(loc, z, None)
        hover = hovers[i] if hovers is not None and i < len(hovers) else None
        if hit is None:
            ok = ok and not m.is_leak(z)
        elif hit in m.changes.cells:
            _, after, hidden = m.changes.cells[hit]
            points.append(Point(m.name_of(hit[1], loc), trace.name, hit[0], hit[1], after, hidden))
            shown = _format_published(hit[0], None if hidden else after, m.published)
            hover = None if hover is None else _replace_last_number(str(hover), shown)
            if hidden:
                grey.append((loc, hover or f"{loc}: {shown}"))
                continue
            z = after
        else:
            points.append(Point(m.name_of(hit[1], loc), trace.name, hit[0], hit[1], z, False))
        keep.append(loc)
        new_z.append(z)
        new_hover.append(hover)
    trace.locations, trace.z = keep, new_z
    if hovers is not None:
        trace.hovertext = new_hover
    if not grey:
        return ok, None
    # Unvalidated and without its outline, which patch_figure attaches by reference once the
    # trace is in the figure (adding a trace deep-copies it: 1,500 wards on the exit map at 50x).
    return ok, go.Choroplethmap(
        _validate=False,
        featureidkey=trace.featureidkey,
        locations=[g[0] for g in grey],
        z=[0] * len(grey),  # colour index only; the value is never shown
        colorscale=[[0, FOCUS_OTHER], [1, FOCUS_OTHER]],
        showscale=False,
        marker={"line": {"color": "white", "width": 1}},
        hovertext=[g[1] for g in grey],
        hoverinfo="text",
        name=f"Not shown ({m.published.symbol})",
        showlegend=True,
    )


def _patch_scattermap(trace, m: _Matcher, points: list[Point]) -> bool:
    sizes = _as_list(trace.marker.size) if trace.marker is not None else None
    lats, lons = _as_list(trace.lat), _as_list(trace.lon)
    if sizes is None or lats is None or lons is None:
        return True
    hovers = _as_list(trace.hovertext)
    keep, ok = [], True
    for i, size in enumerate(sizes):
        rows = [
            r
            for r in range(m.raw.height)
            if any(_same(m.columns[c][r], lats[i]) for c in m.numbers)
            and any(_same(m.columns[c][r], lons[i]) for c in m.numbers)
        ]
        hit = m.match(None, size, rows or None) if rows else None
        hover = hovers[i] if hovers is not None else None
        if hit is None:
            ok = ok and not m.is_leak(size)
        elif hit in m.changes.cells:
            _, after, hidden = m.changes.cells[hit]
            points.append(Point(m.name_of(hit[1], hover), trace.name, hit[0], hit[1], after, hidden))
            if hidden:
                continue
            size = after
            hover = None if hover is None else _replace_last_number(str(hover), fmt_int(after))
        elif hit[0] in m.watched:
            points.append(Point(m.name_of(hit[1], hover), trace.name, hit[0], hit[1], size, False))
        keep.append((lats[i], lons[i], size, hover))
    trace.lat = [k[0] for k in keep]
    trace.lon = [k[1] for k in keep]
    trace.marker.size = [k[2] for k in keep]
    if hovers is not None:
        trace.hovertext = [k[3] for k in keep]
    return ok


def _patch_annotations(fig: go.Figure, m: _Matcher) -> None:
    """Drop annotations (other than the house footnote and value label) quoting a withdrawn figure."""
    kept = []
    for a in fig.layout.annotations:
        if a.name in ("footnote", "value_label") or not mentions(a.text or "", m.changes.leaked):
            kept.append(a)
    fig.layout.annotations = kept


def patch_figure(fig: go.Figure, raw: pl.DataFrame, published: Suppressed) -> tuple[bool, list[Point]]:
    """Patch ``fig`` in place to show ``published`` instead of ``raw``.

    Return (every point handled safely, the plotted points matched to table cells).
    """
    changes = find_changes(raw, published)
    m = _Matcher(raw, published, changes)
    points: list[Point] = []
    ok = True
    extra = []
    outlines: dict[int, object] = {}  # extra trace -> the map outline it shares with its source trace
    for trace in list(fig.data):
        kind = trace.type
        if kind in ("bar", "scatter", "scattergl"):
            if kind != "bar" and (trace.name or "").endswith((_MARKER_SUFFIX, f" {published.symbol}")):
                continue  # a [c] marker drawn by a builder or by an earlier publish
            handled, hidden = _patch_xy(trace, m, points)
            ok = ok and handled
            if hidden and kind == "bar":
                extra.append(_marker_trace(trace, hidden, published.symbol))
        elif kind in ("choroplethmap", "choropleth"):
            handled, grey = _patch_choropleth(trace, m, points)
            ok = ok and handled
            if grey is not None:
                outlines[len(extra)] = trace.geojson
                extra.append(grey)
        elif kind in ("scattermap", "scattermapbox"):
            ok = _patch_scattermap(trace, m, points) and ok
        elif changes:
            ok = False  # a chart type this module cannot patch: do not draw it
    for n, trace in enumerate(extra):
        fig.add_trace(trace)
        if n in outlines:
            fig.data[-1].geojson = outlines[n]
    if any(t.type == "scatter" for t in extra):
        fig.update_layout(scattermode="group")
    if extra and any(t.type == "choroplethmap" for t in extra):
        fig.update_layout(showlegend=True)
    _patch_annotations(fig, m)
    return ok, points


def withheld_figure(spec: ChartSpec) -> go.Figure:
    """Return a figure saying the chart is withheld and the table holds the published figures."""
    fig = go.Figure()
    fig.add_annotation(
        text="This chart type cannot hide small numbers, so it is not drawn in publication mode.<br>"
        "The data table shows the published figures.",
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 16, "color": SECONDARY_TEXT},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=spec.figure.layout.height if spec.figure is not None else None)
    return fig


__all__ = [
    "NUMBER",
    "Changes",
    "Point",
    "category_key",
    "find_changes",
    "mentions",
    "patch_figure",
    "withheld_figure",
]
