"""Publication mode: a chart as it may leave the council, with small numbers protected.

``publish(spec)`` takes a completed ``ChartSpec`` (built from raw counts) and returns one whose
table, figure, headline and text alternative show only what may be published:

* **Which columns count people.** A column named for an indicator whose catalogue entry has
  ``counts_people = true`` (when the caller passes ``indicator_ids``), or named by the house
  convention: ``people*``, ``*customers*``, ``requests*``, ``packages*``. Names holding ``_per_``,
  ``pct``, ``share``, ``rate`` or ``ratio`` are never counts. Counts of providers, areas and other
  organisations are public facts and left alone.
* **Derived columns**: hours, medians, means, percentiles, days and ``*_per_*`` figures worked out
  from those people. They are hidden wherever the count they come from is (the count sharing a word
  of the name, e.g. ``hours_waiting`` with ``people_waiting``; with no clear match, wherever any
  count in the row is hidden).
* **The rule** is ``analytics.publish.suppression.suppress``: 1 to 7 shown as ``[c]``, others rounded to
  the nearest 5, secondary suppression across the rows of each group (the rows that share the other
  label columns and the month: together they add up to the area's published total).
* **Council level needs none** (as national figures in the NHS Digital HES/ECDS rule): a chart of the
  whole council with no split by area, provider or class is returned unchanged. ``council_level``
  forces the decision either way.

The figure is patched, not rebuilt, so any builder's chart keeps its look: every plotted point is
matched back to its table row (by category, series name and value); counts are replaced by their
rounded value and suppressed points are removed (a bar is missing and labelled ``[c]``, a line has
a gap, a map area turns grey, a circle goes), never drawn as 0. Labels and hover texts follow. A
headline quoting a figure that is no longer shown falls back to the subtitle's measure; the text
alternative is rewritten from the published values. A figure whose points cannot all be matched
(a chart type this module does not know) is replaced by a notice pointing at the table, so nothing
unprotected is drawn. The footnote states the rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import plotly.graph_objects as go
import polars as pl

from analytics.formatting import fmt_int, fmt_month, fmt_number
from analytics.indicators import catalogue
from analytics.publish.charts import FOCUS_OTHER, SECONDARY_TEXT, ChartSpec, describe_extremes, describe_trend
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed, rule, suppress, suppression_rule_text

# House naming convention for person counts.
_COUNT_NAME = re.compile(r"^(people|requests|packages)|customers")
# Rates, shares and ratios are complex statistics, not counts (NHS Digital HES/ECDS rule, September 2018).
_NOT_COUNT = re.compile(r"_per_|^per_|pct|percent|share|rate|ratio|_pp$|index")
# Figures worked out from a number of people: hidden where that number is.
_DERIVED_NAME = re.compile(r"hours|median|mean|average|avg|^p\d\d|_p\d\d|percentile|days|_per_|^per_|size")
_RATIO_NAME = re.compile(r"pct|percent|share|rate|ratio|_pp$")
# Not about people (or public facts): never hidden as derived figures.
_PUBLIC_NAME = re.compile(r"provider|microenterprise|area|location|population|resident|fee|price|gbp|cost|^month|year")
# Label columns that do not split the council into smaller areas or providers.
NON_GEOGRAPHIC_LABELS = frozenset(
    {
        "statistic",
        "measure",
        "series",
        "metric",
        "indicator",
        "service_type",
        "service",
        "client_group",
        "funding",
        "provider_type",
        "age_band",
        "age_group",
        "sex",
        "gender",
        "scenario",
        "period",
        "year",
        "quarter",
        "financial_year",
    }
)
COUNCIL_WORDS = ("whole council",)
_MARKER_SUFFIX = " [c] marker"
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_LAST_NUMBER = re.compile(r"[-+]?£?\d[\d,]*(?:\.\d+)?(?!.*\d)")


# ---------------------------------------------------------------------------------------------
# Which columns
# ---------------------------------------------------------------------------------------------


def _numeric(frame: pl.DataFrame, name: str) -> bool:
    return frame.schema[name].is_numeric()


def _temporal(frame: pl.DataFrame, name: str) -> bool:
    return frame.schema[name].is_temporal()


def label_columns(frame: pl.DataFrame) -> list[str]:
    """Return the columns naming a category (text, categorical, boolean): not numbers, not dates."""
    return [c for c in frame.columns if not _numeric(frame, c) and not _temporal(frame, c)]


def _people_indicators(indicator_ids: Iterable[str]) -> tuple[set[str], bool]:
    """Return (ids that count people, whether every known id given counts people)."""
    known = catalogue.load_catalogue()
    items = [known[i] for i in indicator_ids if i in known]
    people = {i.id for i in items if i.counts_people}
    return people, bool(items) and all(i.counts_people for i in items)


def person_count_columns(frame: pl.DataFrame, indicator_ids: Sequence[str] = ()) -> list[str]:
    """Return the numeric columns of ``frame`` that hold counts of people (see the module docstring)."""
    people, all_people = _people_indicators(indicator_ids)
    out = []
    for c in frame.columns:
        if not _numeric(frame, c) or c.endswith(SUPPRESSED_SUFFIX):
            continue
        name = c.lower()
        if c in people or (_COUNT_NAME.search(name) and not _NOT_COUNT.search(name)):
            out.append(c)
    if not out and all_people:
        # The chart names only people-counting indicators but its value column has a generic name.
        out = [
            c
            for c in frame.columns
            if _numeric(frame, c) and not _NOT_COUNT.search(c.lower()) and not _DERIVED_NAME.search(c.lower())
        ]
    return out


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t}


def _related(a: str, b: str) -> bool:
    """Whether two names share a word (or one word starts the other: ``wait`` / ``waiting``)."""
    generic = {"people", "per", "hours", "days", "median", "mean", "p90", "week", "a", "of", "the", "total"}
    ta, tb = _tokens(a) - generic, _tokens(b) - generic
    return any(x == y or (len(x) >= 4 and y.startswith(x)) or (len(y) >= 4 and x.startswith(y)) for x in ta for y in tb)


def derived_columns(frame: pl.DataFrame, counts: Sequence[str]) -> dict[str, str | None]:
    """Return derived column -> the count it comes from (``None``: any count of the row).

    Only when ``frame`` has a count to base them on. Derived: hours, days, medians, means,
    percentiles, ``*_per_*`` figures, and percentages, shares and ratios over those people
    (local choice: no percentage over a hidden count). Never derived: counts of providers,
    microenterprises, areas or locations, populations, fees and prices (public or not about people).
    """
    if not counts:
        return {}
    out: dict[str, str | None] = {}
    for c in frame.columns:
        name = c.lower()
        if c in counts or not _numeric(frame, c) or c.endswith(SUPPRESSED_SUFFIX):
            continue
        if _PUBLIC_NAME.search(name) and not _COUNT_NAME.search(name):
            continue
        if not (_DERIVED_NAME.search(name) or _RATIO_NAME.search(name)):
            continue
        matches = [k for k in counts if _related(c, k)]
        out[c] = counts[0] if len(counts) == 1 else (matches[0] if len(matches) == 1 else None)
    return out


def is_council_level(spec: ChartSpec) -> bool:
    """Whether ``spec`` shows the whole council only (no split by area, provider or class).

    The subtitle must say "whole council" (``Filters.area_label``) and every label column of the
    table must be one that does not name a smaller area or a provider (``NON_GEOGRAPHIC_LABELS``).
    When unsure, the answer is no: the chart is then protected.
    """
    frame = spec.data.values if isinstance(spec.data, Suppressed) else spec.data
    if frame is None or not any(w in spec.subtitle.lower() for w in COUNCIL_WORDS):
        return False
    return all(c.lower() in NON_GEOGRAPHIC_LABELS for c in label_columns(frame))


def group_columns(frame: pl.DataFrame) -> list[str]:
    """Return the columns whose rows add up to one published total: every label column but the first, and dates."""
    labels = label_columns(frame)
    dates = [c for c in frame.columns if _temporal(frame, c)]
    return [*labels[1:], *dates]


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def publish_frame(
    frame: pl.DataFrame, *, indicator_ids: Sequence[str] = (), council_level: bool = False
) -> pl.DataFrame | Suppressed:
    """Return ``frame`` ready to publish: ``suppress``-ed when it holds counts of people below council level.

    For tables shown beside charts or on their own (the page decides ``council_level``).
    """
    if council_level:
        return frame
    counts = person_count_columns(frame, indicator_ids)
    if not counts:
        return frame
    derived = derived_columns(frame, counts)
    # Secondary suppression only where a group has more than one row: a lone row's total is itself.
    result = suppress(
        frame,
        count_cols=counts,
        derived={d: (base or counts[0]) for d, base in derived.items()},
        group_by=group_columns(frame),
    )
    ambiguous = [d for d, base in derived.items() if base is None]
    return _hide_with_any_count(result, ambiguous) if ambiguous else result


def _hide_with_any_count(result: Suppressed, columns: Sequence[str]) -> Suppressed:
    """Hide ``columns`` wherever any count of the row is hidden (their base count is unclear)."""
    any_hidden = pl.any_horizontal([pl.col(f"{c}{SUPPRESSED_SUFFIX}") for c in result.count_cols])
    values = result.values.with_columns(
        *(pl.when(any_hidden).then(None).otherwise(pl.col(d)).alias(d) for d in columns),
        *((pl.col(f"{d}{SUPPRESSED_SUFFIX}") | any_hidden).alias(f"{d}{SUPPRESSED_SUFFIX}") for d in columns),
    )
    flags = values.select(any_hidden.alias("h"))["h"]
    display = result.display.with_columns(
        pl.when(flags).then(pl.lit(result.symbol)).otherwise(pl.col(d)).alias(d) for d in columns
    )
    return replace(result, values=values, display=display)


@dataclass
class _Changes:
    """Cells whose published value differs from the raw one: (column, row) -> (raw, published, hidden)."""

    cells: dict[tuple[str, int], tuple[float, float | None, bool]] = field(default_factory=dict)

    @property
    def leaked(self) -> list[float]:
        """Raw values that must not appear anywhere any more."""
        return [raw for raw, _, _ in self.cells.values() if raw is not None]

    def __bool__(self) -> bool:
        return bool(self.cells)


def _changes(raw: pl.DataFrame, published: Suppressed) -> _Changes:
    out = _Changes()
    values = published.values
    for c in [*published.count_cols, *published.derived_cols]:
        flags = values[f"{c}{SUPPRESSED_SUFFIX}"].to_list()
        for i, (before, after, hidden) in enumerate(zip(raw[c].to_list(), values[c].to_list(), flags, strict=True)):
            if before is None:
                continue
            if hidden or after is None or not math.isclose(float(before), float(after), abs_tol=1e-9):
                out.cells[(c, i)] = (float(before), None if hidden else after, bool(hidden))
    return out


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _key(value: object) -> object:
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
class _Point:
    """A plotted point matched to a table cell."""

    category: object
    series: str | None
    column: str
    row: int
    value: float | None
    hidden: bool


class _Matcher:
    """Match plotted points to table cells by category, series name and value."""

    def __init__(self, raw: pl.DataFrame, published: Suppressed, changes: _Changes):
        self.raw = raw
        self.published = published
        self.changes = changes
        self.labels = [c for c in raw.columns if not _numeric(raw, c)]
        self.numbers = [c for c in raw.columns if _numeric(raw, c)]
        self.keys = [{_key(v) for v in row} for row in raw.select(self.labels).iter_rows()] if self.labels else []
        self.columns = {c: raw[c].to_list() for c in self.numbers}
        self.watched = {*published.count_cols, *published.derived_cols}
        named = [c for c in self.labels if "name" in c.lower()]
        self.names = raw[named[0]].to_list() if named else None

    def name_of(self, row: int, default: object) -> object:
        """Return the row's name (``area_name``, ``provider_name``) for text, else ``default``."""
        return self.names[row] if self.names is not None and self.names[row] is not None else default

    def rows_named(self, name: object) -> list[int] | None:
        """Rows whose labels include the series ``name`` (``None``: the name is not a label)."""
        if name is None or not self.keys:
            return None
        k = _key(name)
        rows = [i for i, keys in enumerate(self.keys) if k in keys]
        return rows or None

    def match(self, category: object, value: object, rows: list[int] | None) -> tuple[str, int] | None:
        """Return the (column, row) plotted at ``category`` with ``value``; a changed cell wins."""
        candidates = range(self.raw.height) if rows is None else rows
        if category is not None and self.keys:
            k = _key(category)
            candidates = [i for i in candidates if k in self.keys[i]]
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


def _patch_xy(trace, m: _Matcher, points: list[_Point]) -> tuple[bool, list[object]]:
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
                points.append(_Point(cat, trace.name, column, row, val, False))
            continue
        _, after, hidden = m.changes.cells[hit]
        points.append(_Point(cat, trace.name, column, row, after, hidden))
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


def _patch_choropleth(trace, m: _Matcher, points: list[_Point]) -> tuple[bool, go.Choroplethmap | None]:
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
            points.append(_Point(m.name_of(hit[1], loc), trace.name, hit[0], hit[1], after, hidden))
            shown = _format_published(hit[0], None if hidden else after, m.published)
            hover = None if hover is None else _replace_last_number(str(hover), shown)
            if hidden:
                grey.append((loc, hover or f"{loc}: {shown}"))
                continue
            z = after
        else:
            points.append(_Point(m.name_of(hit[1], loc), trace.name, hit[0], hit[1], z, False))
        keep.append(loc)
        new_z.append(z)
        new_hover.append(hover)
    trace.locations, trace.z = keep, new_z
    if hovers is not None:
        trace.hovertext = new_hover
    if not grey:
        return ok, None
    return ok, go.Choroplethmap(
        geojson=trace.geojson,
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


def _patch_scattermap(trace, m: _Matcher, points: list[_Point]) -> bool:
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
            points.append(_Point(m.name_of(hit[1], hover), trace.name, hit[0], hit[1], after, hidden))
            if hidden:
                continue
            size = after
            hover = None if hover is None else _replace_last_number(str(hover), fmt_int(after))
        elif hit[0] in m.watched:
            points.append(_Point(m.name_of(hit[1], hover), trace.name, hit[0], hit[1], size, False))
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
        if a.name in ("footnote", "value_label") or not _mentions(a.text or "", m.changes.leaked):
            kept.append(a)
    fig.layout.annotations = kept


def patch_figure(fig: go.Figure, raw: pl.DataFrame, published: Suppressed) -> tuple[bool, list[_Point]]:
    """Patch ``fig`` in place to show ``published`` instead of ``raw``.

    Return (every point handled safely, the plotted points matched to table cells).
    """
    changes = _changes(raw, published)
    m = _Matcher(raw, published, changes)
    points: list[_Point] = []
    ok = True
    extra = []
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
                extra.append(grey)
        elif kind in ("scattermap", "scattermapbox"):
            ok = _patch_scattermap(trace, m, points) and ok
        elif changes:
            ok = False  # a chart type this module cannot patch: do not draw it
    for trace in extra:
        fig.add_trace(trace)
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


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


def _numbers(text: str) -> list[float]:
    return [float(t.replace(",", "")) for t in _NUMBER.findall(text)]


def _mentions(text: str, values: Iterable[float]) -> bool:
    """Whether ``text`` quotes any of ``values`` (as written to 0 or 1 decimal place)."""
    found = _numbers(text)
    for v in values:
        for n in found:
            if math.isclose(n, v, abs_tol=1e-9) or n == round(v) or n == round(v, 1) or n == math.floor(v):
                return True
    return False


def title_is_safe(title: str, changes: _Changes) -> bool:
    """Whether a headline may stay: it quotes no withdrawn figure, and no figure at all once a cell is hidden.

    A hidden cell can be worked back from a ratio or a difference quoted in the headline ("7.1 times
    as long"), so any number then goes (years and ages excepted).
    """
    if _mentions(title, changes.leaked):
        return False
    if any(hidden for _, _, hidden in changes.cells.values()):
        text = re.sub(r"\b(19|20)\d\d\b|\d+ years", "", title)
        return not re.search(r"\d", text)
    return True


def subtitle_measure(spec: ChartSpec) -> str:
    """Return the measure named at the start of the subtitle (before its first comma)."""
    return spec.subtitle.split(",")[0].strip() or spec.title


_MEASURE_PATTERNS = (
    re.compile(r"^(?P<m>.+?) is highest in "),
    re.compile(r"^(?P<m>.+?) is \S+ in each of "),
    re.compile(r"^(?:for .+?, )?(?P<m>.+?) went from ", re.IGNORECASE),
    re.compile(r"^(?:for .+?, )?(?P<m>.+?) was ", re.IGNORECASE),
    re.compile(r"^(?P<m>.+?) is \S+ in "),
    re.compile(r"^(?P<m>.+?) has no value"),
)


def _measure_phrase(spec: ChartSpec) -> str:
    for pattern in _MEASURE_PATTERNS:
        hit = pattern.match(spec.alt_text or "")
        if hit:
            phrase = hit.group("m")
            break
    else:
        phrase = subtitle_measure(spec)
    if len(phrase) > 1 and not phrase[1].isupper():
        phrase = phrase[0].lower() + phrase[1:]
    return phrase


def _plain_date(value: object) -> object:
    return value.date() if isinstance(value, datetime) else value


def published_title(spec: ChartSpec, points: list[_Point]) -> str:
    """Return a headline from published values, for a title that quoted a figure no longer shown.

    A trend: "People waiting: 20 in October 2026"; categories: "People waiting are highest in
    Fellside"; else the subtitle's measure.
    """
    measure = subtitle_measure(spec)
    shown = [p for p in points if p.value is not None]
    if not shown:
        return measure
    if all(isinstance(p.category, date | datetime) for p in shown) and len({p.series for p in shown}) == 1:
        last = max(shown, key=lambda p: _plain_date(p.category))
        return f"{measure}: {_format_value(last)} in {fmt_month(_plain_date(last.category))}"
    if len({p.series for p in shown}) == 1 and len(shown) > 1:
        top = max(shown, key=lambda p: p.value)
        return f"{measure}: highest in {top.category}"
    return measure


def _format_value(point: _Point) -> str:
    value = point.value
    return fmt_int(value) if float(value).is_integer() else fmt_number(value, 1)


def published_alt_text(spec: ChartSpec, points: list[_Point], published: Suppressed) -> str:
    """Return a text alternative stating only published values (highest and lowest, or first and last)."""
    measure = _measure_phrase(spec)
    symbol = published.symbol
    if not points:
        return (
            f"The figures for {measure} are in the data table; counts of people from small areas are "
            f"rounded or shown as {symbol} to protect privacy."
        )
    series = list(dict.fromkeys(p.series for p in points))
    column = max({p.column for p in points}, key=lambda c: sum(p.column == c for p in points))
    chosen = [p for p in points if p.column == column]
    values = [p.value for p in chosen if p.value is not None]
    decimals = [len(t.split(".")[1]) for t in _NUMBER.findall(spec.alt_text or "") if "." in t]
    dp = 0 if column in published.count_cols or all(float(v).is_integer() for v in values) else max(decimals or [0])

    def fmt(v: float | None) -> str:
        return fmt_number(v, dp)

    n_hidden = sum(p.hidden for p in chosen)
    tail = ""
    if n_hidden:
        verb = "is" if n_hidden == 1 else "are"
        tail = f" {n_hidden} {verb} shown as {symbol} to protect privacy."
    trend = all(isinstance(p.category, date | datetime) for p in chosen)
    if trend:
        frame = pl.DataFrame(
            {
                "x": [_plain_date(p.category) for p in chosen],
                "y": [p.value for p in chosen],
                "s": [str(p.series) for p in chosen],
            },
            schema={"x": pl.Date, "y": pl.Float64, "s": pl.String},
        )
        text = describe_trend(
            frame, "x", "y", measure=measure, color="s" if len(series) > 1 else None, value_format=fmt
        )
        return text + tail
    labels = [str(p.category) if len(series) == 1 else f"{p.category}, {p.series}" for p in chosen]
    frame = pl.DataFrame(
        {"label": labels, "value": [p.value for p in chosen]}, schema={"label": pl.String, "value": pl.Float64}
    )
    noun = "bars" if len(series) > 1 else "categories"
    found = re.search(r"across \d+ (\w+)", spec.alt_text or "")
    if found and len(series) == 1:
        noun = found.group(1)
    return describe_extremes(frame, "label", "value", measure=measure, value_format=fmt, noun=noun, suppressed=n_hidden)


# ---------------------------------------------------------------------------------------------
# The one entry point
# ---------------------------------------------------------------------------------------------


COUNCIL_LEVEL_NOTE = "Whole-council figures: small-number suppression applies below council level, so none is needed"
NO_COUNTS_NOTE = "No counts of people are shown, so small-number suppression is not needed"


def publish(spec: ChartSpec, *, indicator_ids: Sequence[str] = (), council_level: bool | None = None) -> ChartSpec:
    """Return ``spec`` as it may be published (module docstring): small counts of people protected.

    ``indicator_ids``: catalogue ids the chart shows (their ``counts_people`` flags name count
    columns). ``council_level``: ``True`` leaves the chart alone, ``False`` always protects it,
    ``None`` decides with ``is_council_level``. A spec whose data is already ``Suppressed`` is
    returned with the rule in its footnote.
    """
    if spec.data is None:
        return spec
    if isinstance(spec.data, Suppressed):
        if spec.suppression_note:
            return spec
        return _restyled(replace(spec, suppression_note=spec.data.rule_text))
    level = is_council_level(spec) if council_level is None else council_level
    published = publish_frame(spec.data, indicator_ids=indicator_ids, council_level=level)
    if not isinstance(published, Suppressed):
        if spec.suppression_note:
            return spec
        # Every published chart states the rule it was checked against, even when nothing was hidden.
        reason = COUNCIL_LEVEL_NOTE if level else NO_COUNTS_NOTE
        return _restyled(replace(spec, suppression_note=reason))
    raw = spec.data
    changes = _changes(raw, published)
    note = spec.suppression_note or published.rule_text
    if spec.figure is None:
        return replace(spec, data=published, suppression_note=note)
    fig = go.Figure(spec.figure)
    ok, points = patch_figure(fig, raw, published)
    title, alt = spec.title, spec.alt_text
    if changes:
        if not title_is_safe(spec.title, changes):
            title = published_title(spec, points)
        alt = published_alt_text(spec, points, published)
    if not ok:
        fig = withheld_figure(spec)
        alt = published_alt_text(spec, [], published)
    out = replace(spec, title=title, alt_text=alt, data=published, suppression_note=note, figure=fig)
    return _restyled(out)


def _restyled(spec: ChartSpec) -> ChartSpec:
    """Re-apply the house style (title and footnote) to a copy of the figure."""
    if spec.figure is None:
        return spec
    fig = go.Figure(spec.figure)
    spec.style(fig)
    return replace(spec, figure=fig)


def small_counts(frame: pl.DataFrame | Suppressed, threshold: int | None = None) -> list[tuple[str, int, object]]:
    """Return (column, row, value) of every person-count cell showing 1 to ``threshold - 1`` (should be none).

    Reads the display table of a ``Suppressed`` (so ``[c]`` passes) or a plain frame.
    """
    t = rule(threshold).threshold
    if isinstance(frame, Suppressed):
        counts, table = list(frame.count_cols), frame.display
    else:
        counts, table = person_count_columns(frame), frame
    bad = []
    for c in counts:
        for i, v in enumerate(table[c].to_list()):
            try:
                number = float(str(v).replace(",", ""))
            except ValueError:
                continue
            if 0 < number < t:
                bad.append((c, i, v))
    return bad


__all__ = [
    "NON_GEOGRAPHIC_LABELS",
    "derived_columns",
    "group_columns",
    "is_council_level",
    "label_columns",
    "patch_figure",
    "person_count_columns",
    "publish",
    "publish_frame",
    "published_alt_text",
    "small_counts",
    "subtitle_measure",
    "suppression_rule_text",
    "withheld_figure",
]
