"""The house chart style: one template, one styling function, one chart description, text alternatives.

Every chart on a page, in an export and in the briefing pack goes through ``house_figure`` (the
builders call it): headline title stating the finding, statistical subtitle (measure, area,
period) under it, and a footnote with source, "data as at" date, the suppression rule and
"Synthetic demo data" when it is. Colours are the Government Analysis Function palettes
(Data visualisation: colours in charts); the layout follows the AF checklist "Accessible charts:
a checklist of the basics" (May 2023).

``ChartSpec`` is the one description of a chart that pages, exports and the briefing pack share:
id, wording, the figure, the data table and a one-sentence text alternative. Builders take a spec
holding the wording and return it completed (example in ``analytics.publish.charts``).

The builders are in ``analytics.publish.charts`` (bars, lines, stacked bars) and
``analytics.publish.maps`` (choropleth and bubble maps); import everything from ``charts``, which
re-exports this module and the maps. Maps use the blank white style named here (no tiles, no
glyphs), so they draw without a network.

Figures are built without Plotly's per-property validation, which was most of a page's server
time: start from ``new_figure()`` (a ``HouseFigure`` in the house template), add traces with
``_validate=False`` and values in the form Plotly stores (nested dicts such as
``marker={"color": ...}``, titles as ``{"text": ...}``), and set the layout with ``merge_layout``.
``copy_figure`` copies one to change. ``tests/test_publication.py`` holds every registered chart
equal to a validated copy of itself.
"""

from __future__ import annotations

import copy
import functools
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from _plotly_utils.basevalidators import is_homogeneous_array
from _plotly_utils.utils import convert_to_base64, to_typed_array_spec

from analytics.formatting import fmt_date, fmt_int, fmt_month
from analytics.publish.suppression import IS_TOTAL, SUPPRESSED_SUFFIX, Suppressed, rule, suppression_rule_text

# Government Analysis Function palettes (Data visualisation: colours in charts), in order of use.
CATEGORICAL = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")
DUO = ("#12436D", "#F46A25")
SEQUENTIAL = ("#12436D", "#2073BC", "#6BACE6")
FOCUS = "#12436D"
FOCUS_OTHER = "#BFBFBF"
# Continuous scale for maps and heatmaps: light (low) to dark (high) along the sequential palette.
SEQUENTIAL_SCALE = ((0.0, "#6BACE6"), (0.5, "#2073BC"), (1.0, "#12436D"))

TEXT = "#0B0C0C"
SECONDARY_TEXT = "#505A5F"
GRID = "#E1E1E1"
AXIS_LINE = "#BFBFBF"
FONT = "Arial, Helvetica, Liberation Sans, sans-serif"
TEMPLATE_NAME = "house"
DEFAULT_HEIGHT = 520
# Plotly's built-in white style: no tiles. It names a glyphs server, fetched only to draw map
# text, which no chart here does, so maps draw offline. (A hand-written style dict drew too, but
# Streamlit's plotly.js raised "Map error." on it in the browser.)
BLANK_MAP_STYLE = "white-bg"

_LEFT = 72  # left margin (px); the title and footnote are pulled back to the figure edge by this
_PAD = 8
_TITLE_PX, _LINE_PX, _FOOT_LINE_PX, _LEGEND_PX = 30, 20, 16, 40
_SUBTITLE_WRAP, _FOOTNOTE_WRAP = 80, 105  # characters: fits Streamlit's 704 px centred column
_TITLE_WRAP, _TITLE_LINE_PX = 64, 26  # a headline longer than this goes on two lines, never cut off


def house_template() -> go.layout.Template:
    """Return the house plotly template (white, light grey value gridlines, legend on top, sans-serif)."""
    axis = {
        "automargin": True,
        "tickangle": 0,
        "title": {"font": {"size": 14, "color": SECONDARY_TEXT}, "standoff": 10},
        "tickfont": {"size": 13, "color": TEXT},
    }
    return go.layout.Template(
        layout={
            "font": {"family": FONT, "size": 14, "color": TEXT},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "colorway": list(CATEGORICAL),
            "colorscale": {"sequential": [list(s) for s in SEQUENTIAL_SCALE]},
            "separators": ".,",
            "xaxis": {
                **axis,
                "showgrid": False,
                "zeroline": False,
                "showline": True,
                "linecolor": AXIS_LINE,
                "ticks": "outside",
                "tickcolor": AXIS_LINE,
            },
            "yaxis": {
                **axis,
                "tickformat": ",~f",  # thousands separators on the value axis; x may hold dates
                "showgrid": True,
                "gridcolor": GRID,
                "gridwidth": 1,
                "zeroline": True,
                "zerolinecolor": AXIS_LINE,
                "showline": False,
                "ticks": "",
                "nticks": 8,
            },
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 1,
                "yanchor": "bottom",
                "title": {"text": ""},
                "bgcolor": "rgba(0,0,0,0)",
                "font": {"size": 13},
            },
            "title": {"font": {"size": 20, "color": TEXT}, "subtitle": {"font": {"size": 15, "color": SECONDARY_TEXT}}},
            "hoverlabel": {"font": {"family": FONT, "size": 13}},
            "bargap": 0.3,
            "map": {"style": BLANK_MAP_STYLE},
            "coloraxis": {"colorbar": {"outlinewidth": 0, "tickformat": ",~f"}},
        },
        data={
            "bar": [go.Bar(marker={"line": {"width": 0}}, textfont={"size": 13}, cliponaxis=False)],
            "scatter": [go.Scatter(line={"width": 3})],
        },
    )


def register_template() -> str:
    """Register the house template as ``pio.templates["house"]`` (idempotent) and return its name.

    The global default template is left alone; ``house_figure`` applies the template itself.
    """
    pio.templates[TEMPLATE_NAME] = house_template()
    return TEMPLATE_NAME


register_template()


@functools.cache
def _template_json() -> dict:
    """The house template as Plotly stores it in a figure's layout (a plain dict, validated once)."""
    return pio.templates[TEMPLATE_NAME].to_plotly_json()


# Figure parts holding map outlines (a trace's ``geojson``, the map's ``layers``): thousands of
# coordinates, never changed once drawn, and skipped by Plotly's own conversion of arrays.
_OUTLINES = frozenset({"geojson", "layers"})
_NOT_TYPED = frozenset({"geojson", "layer", "layers", "range"})  # Plotly's ``is_skipped_key``


def _plain(value: object, key: str | None = None) -> object:
    """Return ``value`` copied as ``go.Figure.to_dict`` copies and converts it, outlines shared."""
    if key in _OUTLINES:
        return value
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if key is not None and key not in _NOT_TYPED and is_homogeneous_array(value):
        return to_typed_array_spec(value)  # numpy arrays go to the browser as typed arrays
    return copy.deepcopy(value)


class HouseFigure(go.Figure):
    """A ``go.Figure`` whose ``to_dict`` shares map outlines instead of copying them.

    ``st.plotly_chart``, ``pio.to_json`` and pictures call ``to_dict``, which deep-copies the whole
    figure and then walks it again to turn arrays into typed arrays: for a map of 1,500 wards (the
    exit map at 50x) the copy was most of the cost of drawing it. Here one pass copies and converts
    everything but the outlines, which are only read (by JSON), as Plotly's conversion skips them.
    """

    def to_dict(self) -> dict:
        """Return the figure as a dict, as ``go.Figure.to_dict`` does, map outlines shared, not copied."""
        res = {"data": [_plain(t) for t in self._data], "layout": _plain(self._layout)}
        frames = copy.deepcopy([frame._props for frame in self._frame_objs])
        if frames:
            res["frames"] = frames
            convert_to_base64(frames)
        return res


def copy_figure(fig: go.Figure) -> go.Figure:
    """Return a copy of ``fig`` to change, as ``go.Figure(fig)`` but unvalidated, map outlines shared.

    Publication mode copies a figure before hiding small counts and restyling it: ``go.Figure(fig)``
    validated every property again and copied every map outline three times (a second and a half
    of the Exit page's publication switch at 50x). Everything but the outlines is still copied.
    """
    data = [{k: v for k, v in trace.items() if k != "geojson"} for trace in fig._data]
    outlines = [trace.get("geojson") for trace in fig._data]
    copied = HouseFigure({"data": data, "layout": fig._layout}, _validate=False)
    for trace, outline in zip(copied.data, outlines, strict=True):
        if outline is not None:
            trace.geojson = outline
    return copied


def new_figure(data: Iterable[dict] = ()) -> go.Figure:
    """Return a figure in the house template holding the traces ``data``, built without Plotly's validation.

    Plotly checks and copies every property it is given (a tenth of a second for a page of seven
    charts, most of a filter change): the builders pass it values already in the form it would
    store (lists, numbers, strings, dicts, ``title`` as ``{"text": ...}``), so the figure's JSON is
    what a validated figure gives (``tests/test_charts.py`` compares the two). Adding traces and
    updating the layout work as on any figure; they are just not checked. The house template goes
    in as the dict a validated ``template="house"`` stores, so ``house_figure`` need not set it.

    ``data`` are trace dicts with their ``type`` (``{"type": "bar", "x": [...], ...}``), as
    ``fig.add_bar(**trace)`` would take them: given here, the figure is built once instead of copied
    again for each ``add_trace`` (a third of a line chart's time).
    """
    # Given at construction, so Plotly does not first copy in its own default template.
    return HouseFigure({"data": list(data), "layout": {"template": copy.deepcopy(_template_json())}}, _validate=False)


def focus_colours(categories: Iterable[object], focus: Iterable[object]) -> list[str]:
    """Return the focus palette for ``categories``: dark blue for those in ``focus``, grey for the rest."""
    wanted = set(focus)
    return [FOCUS if c in wanted else FOCUS_OTHER for c in categories]


def series_colours(n: int, *, ordered: bool = False) -> list[str]:
    """Return ``n`` colours: the duo palette for two series, sequential if ``ordered``, else categorical."""
    if ordered and n <= len(SEQUENTIAL):
        return list(SEQUENTIAL[:n])
    if n == 2:
        return list(DUO)
    if n > len(CATEGORICAL):
        raise ValueError(f"{n} series is more than the {len(CATEGORICAL)} palette colours: group some together")
    return list(CATEGORICAL[:n])


def footnote_text(*, source: str, as_of: date, synthetic: bool, suppression_note: str | None = None) -> str:
    """Return the footnote: ``"Source: ...; data as at 31 October 2026; <rule>; Synthetic demo data"``."""
    parts = [f"Source: {source.rstrip('.')}", f"data as at {fmt_date(as_of)}"]
    if suppression_note:
        note = suppression_note.rstrip(".")
        if note[:1].isupper() and note[1:2].islower():  # "Counts of ..." reads on after a semicolon
            note = note[0].lower() + note[1:]
        parts.append(note)
    if synthetic:
        parts.append("Synthetic demo data")
    return "; ".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=width, break_long_words=False) or [""]


def plain_label(value: object) -> object:
    """Return ``value`` with ``<`` and ``>`` as HTML entities, so Plotly shows text and never markup.

    Plotly renders a small HTML subset (``<a href>``, ``<b>``, ``<br>``) in titles, axis and tick
    labels, legends, hover and text labels. Names from a drop pass through here (``house_figure``
    applies it to every trace's labels and to the title, subtitle and footnote), so a provider
    called ``<a href=...>`` reads as exactly that. Non-text values are returned unchanged.
    """
    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;")
    return value


_TRACE_TEXT = ("x", "y", "text", "hovertext", "labels", "name", "customdata", "ids", "parents")


def _plain_trace(trace) -> None:  # noqa: ANN001 - any Plotly trace
    """Escape every text label of ``trace`` in place (categories, text, hover text, names, custom data)."""
    props = trace._props or {}  # read the stored values: Plotly's getters copy every array they return
    for attr in _TRACE_TEXT:
        value = props.get(attr)
        if value is None:
            continue
        # Written back only when escaping changed something (and the trace has that property):
        # Plotly compares and copies every value it is given, and most labels hold no ``<`` or
        # ``>`` (a restyled chart's none do).
        if isinstance(value, str):
            if plain_label(value) != value and attr in trace:
                trace[attr] = plain_label(value)
        elif _is_sequence(value):
            items = list(value)
            if any(isinstance(v, str) or _is_sequence(v) for v in items):
                escaped = [[plain_label(x) for x in v] if _is_sequence(v) else plain_label(v) for v in items]
                if any(_changed(old, new) for old, new in zip(items, escaped, strict=True)) and attr in trace:
                    trace[attr] = escaped


def _changed(old: object, new: object) -> bool:
    """Whether escaping turned ``old`` into something else (``new`` is a label or a list of them)."""
    if isinstance(new, list):
        return any(_changed(a, b) for a, b in zip(old, new, strict=True))
    return old != new if isinstance(new, str) else old is not new


def _is_sequence(value: object) -> bool:
    return isinstance(value, (tuple, list)) or getattr(value, "ndim", 0) > 0


def _left_note(name: str, text: str, *, y: float, yanchor: str, yshift: float, size: int, **extra) -> dict:
    """Return grey paper-anchored text at the figure's left edge (the value label above, the footnote below)."""
    return {
        "name": name,
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 0,
        "y": y,
        "xanchor": "left",
        "yanchor": yanchor,
        "xshift": -_LEFT + _PAD * 2,
        "yshift": yshift,
        "showarrow": False,
        "font": {"size": size, "color": SECONDARY_TEXT},
        **extra,
    }


def _merged(base: dict, update: dict) -> dict:
    """Return ``base`` with ``update`` merged in, nested dicts key by key (``base`` is changed)."""
    for key, value in update.items():
        old = base.get(key)
        base[key] = _merged(old, value) if isinstance(value, dict) and isinstance(old, dict) else value
    return base


def merge_layout(fig: go.Figure, **updates: object) -> go.Figure:
    """Update ``fig``'s layout as ``fig.update_layout(**updates)`` would, in one assignment per key; return it.

    Nested dicts are merged into what the layout holds (``xaxis={"tickformat": ...}`` keeps the axis'
    title); other values replace. Give nested dicts, not ``title_text``-style names. ``update_layout``
    runs Plotly's change machinery for every leaf (path parsing, batching, relayout callbacks) even
    on a figure from ``new_figure``, which skips validation: several milliseconds a chart, where
    setting each top-level key once costs a few tens of microseconds.
    """
    for key, value in updates.items():
        if isinstance(value, dict):
            # A copy of what the layout holds (what ``fig.layout[key].to_plotly_json()`` returns,
            # without building the Plotly object first).
            current = fig._layout.get(key)
            value = _merged(copy.deepcopy(current) if isinstance(current, dict) else {}, value)
        fig.layout[key] = value
    return fig


def add_line(fig: go.Figure, *, line: dict, x: object = None, y: object = None) -> go.Figure:
    """Draw a reference line across the plot at ``x`` (vertical) or ``y`` (horizontal); return ``fig``.

    The shape ``fig.add_vline(x=...)`` or ``fig.add_hline(y=...)`` adds to a one-plot figure, added in
    one assignment: those run Plotly's subplot and change machinery, about 2 ms a line.
    """
    if (x is None) == (y is None):
        raise ValueError("give x (a vertical line) or y (a horizontal one)")
    if x is not None:
        shape = {"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line, "xref": "x", "yref": "y domain"}
    else:
        shape = {"type": "line", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": line, "xref": "x domain", "yref": "y"}
    return merge_layout(fig, shapes=[*(fig._layout.get("shapes") or ()), shape])


def _has_house_template(fig: go.Figure) -> bool:
    """Whether ``fig`` already carries the house template (a figure styled before, e.g. re-published)."""
    # The stored dict where there is one: ``fig.layout.template`` builds the template's objects on each read.
    stored = fig._layout.get("template")
    if isinstance(stored, dict) and isinstance(stored.get("layout"), dict):
        template = stored["layout"]
        return template.get("separators") == ".," and tuple(template.get("colorway") or ()) == tuple(CATEGORICAL)
    template = fig.layout.template.layout
    return template.separators == ".," and tuple(template.colorway or ()) == tuple(CATEGORICAL)


def house_figure(
    fig: go.Figure,
    *,
    title: str,
    subtitle: str,
    source: str,
    as_of: date,
    synthetic: bool,
    suppression_note: str | None = None,
    bar_from_zero: bool = True,
    value_label: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Apply the house style to ``fig`` (in place) and return it.

    ``title``: the headline stating the finding (over ``_TITLE_WRAP`` characters it wraps onto two
    lines, so a long headline is never cut off). ``subtitle``: measure, area and period.
    ``source``, ``as_of``, ``suppression_note`` (e.g. ``suppression_rule_text()``) and ``synthetic``
    make the footnote. ``bar_from_zero``: bar value axes start at zero. ``value_label`` names the
    value axis in level text: above the plot for vertical charts (never rotated), as the x-axis
    title for horizontal bars. Height defaults to the figure's own, else 520 px; margins are fixed
    so the footnote sits under the axis.
    """
    # Read from the figure's stored dicts: Plotly's getters build an object for every value read
    # (most of this function's time when they were used).
    layout, traces = fig._layout, fig._data
    notes_now = list(layout.get("annotations") or ())
    height = height or layout.get("height") or DEFAULT_HEIGHT
    if value_label is None:  # restyling keeps a value label placed earlier
        value_label = next((a.get("text") for a in notes_now if a.get("name") == "value_label"), None)
    title_lines = [plain_label(line) for line in _wrap(title, _TITLE_WRAP)] if len(title) > _TITLE_WRAP else None
    title, value_label = plain_label(title), plain_label(value_label)
    if title_lines:
        title = "<br>".join(title_lines)
    for trace in fig.data:
        _plain_trace(trace)
    subtitle_lines = [plain_label(line) for line in _wrap(subtitle, _SUBTITLE_WRAP)]
    foot_lines = [
        plain_label(line)
        for line in _wrap(
            footnote_text(source=source, as_of=as_of, synthetic=synthetic, suppression_note=suppression_note),
            _FOOTNOTE_WRAP,
        )
    ]
    in_legend = [t for t in traces if t.get("showlegend") is not False]
    showlegend = layout.get("showlegend")
    has_legend = bool(in_legend) and (showlegend is True or (showlegend is None and len(in_legend) > 1))
    is_map = any(t.get("type") in {"choroplethmap", "scattermap", "densitymap"} for t in traces)
    horizontal = any(t.get("type") == "bar" and t.get("orientation") == "h" for t in traces)
    if horizontal:
        # The template caps y ticks at 8 (for gridlines); a category axis must label every bar.
        x_title = {"title": {"text": value_label}} if value_label else {}
        category_axis = {"nticks": 0, "gridcolor": "rgba(0,0,0,0)", "tickformat": ""}
        merge_layout(fig, xaxis={**x_title, "tickformat": ",~f"}, yaxis=category_axis)
    label_above = bool(value_label) and not horizontal and not is_map
    x_axis_title = (fig._layout.get("xaxis") or {}).get("title")
    has_x_title = bool(x_axis_title.get("text") if isinstance(x_axis_title, dict) else fig.layout.xaxis.title.text)
    axis_px = 0 if is_map else (64 if has_x_title else 40)
    label_px = _LINE_PX + _PAD if label_above else 0
    extra_title_px = _TITLE_LINE_PX * (len(title_lines) - 1) if title_lines else 0
    legend_px = _LEGEND_PX if has_legend else _PAD
    top = _PAD * 2 + _TITLE_PX + extra_title_px + _LINE_PX * len(subtitle_lines) + legend_px + label_px
    bottom = axis_px + _FOOT_LINE_PX * len(foot_lines) + _PAD * 2
    plot_px = max(height - top - bottom, 50)

    # Plotly validates every property it is given, and re-checks the whole layout when the template
    # changes after titles, margins and legends are set (about 10 ms a chart): so the template goes
    # first, once (figures from ``new_figure`` carry it already), and the rest in one merge.
    if not _has_house_template(fig):
        fig.update_layout(template=TEMPLATE_NAME)
    notes = [_left_note("value_label", value_label, y=1, yanchor="bottom", yshift=_PAD, size=14)] if label_above else []
    notes.append(
        _left_note("footnote", "<br>".join(foot_lines), y=0, yanchor="top", yshift=-axis_px, size=12, align="left")
    )
    # Replaced, not updated (an update would merge into the annotations by position); styling twice
    # must not stack a second footnote.
    fig.layout.annotations = [a for a in notes_now if a.get("name") not in ("footnote", "value_label")] + notes
    axes: dict[str, dict] = {"xaxis": {}, "yaxis": {}}
    if bar_from_zero and any(trace.get("type") == "bar" for trace in traces):
        for trace in traces:
            if trace.get("type") == "bar":
                axes["xaxis" if trace.get("orientation") == "h" else "yaxis"]["rangemode"] = "tozero"
    if horizontal:
        # Horizontal bars: the value axis is x, so the gridlines go there.
        axes["xaxis"].update(showgrid=True, gridcolor=GRID, showline=False, ticks="", zeroline=True)
        axes["yaxis"].update(showgrid=False, showline=True, linecolor=AXIS_LINE, autorange="reversed")
    merge_layout(
        fig,
        height=height,
        margin={"l": _LEFT, "r": 24, "t": top, "b": bottom, "autoexpand": True},
        showlegend=has_legend,
        title={
            "text": title,
            "x": 0,
            "xref": "container",
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "pad": {"l": _PAD * 2, "t": _PAD * 2},
            "subtitle": {"text": "<br>".join(subtitle_lines)},
        },
        legend={"y": 1 + label_px / plot_px, "traceorder": "normal"},
        **{axis: values for axis, values in axes.items() if values},
    )
    return fig


@dataclass(frozen=True, eq=False)
class ChartSpec:
    """One chart described once, for pages, exports and the briefing pack.

    Fill the wording (``id`` to ``suppression_note``) and pass the spec to a builder, which returns
    it with ``figure``, ``data`` and (if empty) ``alt_text`` filled. ``table`` is what to show or
    export beside the chart: the display frame when ``data`` came from ``suppress``.
    """

    id: str
    title: str
    subtitle: str
    source: str
    as_of: date
    synthetic: bool
    suppression_note: str | None = None
    alt_text: str = ""
    data: pl.DataFrame | Suppressed | None = None
    figure: go.Figure | None = None

    def __reduce__(self) -> tuple:
        """Pickle (and copy) the figure as its dict and rebuild it without Plotly's validation.

        The figure was validated when it was built; ``st.cache_data`` unpickles every cached view
        on every read, and re-validating the figures was half the server time of a page rerun.
        """
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.figure is not None:
            # The figure's own property dicts, not a copy: pickle only reads them, and copy.deepcopy
            # copies a reduced object's arguments itself.
            state["figure"] = {"data": list(self.figure._data), "layout": self.figure._layout}
        return (_chart_spec, (state,))

    @property
    def table(self) -> pl.DataFrame | None:
        """The data table for people: ``data.display`` if suppressed, else ``data``."""
        return self.data.display if isinstance(self.data, Suppressed) else self.data

    @property
    def footnote(self) -> str:
        """The footnote line (source, as-of, suppression rule, synthetic)."""
        return footnote_text(
            source=self.source, as_of=self.as_of, synthetic=self.synthetic, suppression_note=self.suppression_note
        )

    def style(self, fig: go.Figure, **kwargs) -> go.Figure:
        """Apply ``house_figure`` to ``fig`` with this spec's wording."""
        return house_figure(
            fig,
            title=self.title,
            subtitle=self.subtitle,
            source=self.source,
            as_of=self.as_of,
            synthetic=self.synthetic,
            suppression_note=self.suppression_note,
            **kwargs,
        )

    def complete(self, fig: go.Figure, data: pl.DataFrame | Suppressed, alt_text: str, **style_kwargs) -> ChartSpec:
        """Return a copy with ``fig`` styled, ``data`` attached and ``alt_text`` set unless already given.

        When ``data`` is suppressed and the spec has no suppression note, the rule text becomes it.
        """
        spec = self
        if isinstance(data, Suppressed) and not spec.suppression_note:
            spec = replace(spec, suppression_note=data.rule_text)
        spec.style(fig, **style_kwargs)
        return replace(spec, figure=fig, data=data, alt_text=spec.alt_text or alt_text)


def _chart_spec(state: dict) -> ChartSpec:
    """Rebuild a pickled ``ChartSpec`` (see ``ChartSpec.__reduce__``)."""
    figure = state.get("figure")
    if figure is not None:
        # Rebuilt as Plotly loads its templates (no validation). Map outlines are taken out first and
        # put back by reference: the constructor deep-copies every trace twice, and this dict is
        # the unpickled copy already (a cached exit map at 50x carries 1,500 wards).
        outlines = [trace.pop("geojson", None) for trace in figure.get("data") or []]
        fig = HouseFigure(figure, _validate=False)
        for trace, outline in zip(fig.data, outlines, strict=True):
            if outline is not None:
                trace.geojson = outline
        state = {**state, "figure": fig}
    return ChartSpec(**state)


# ---------------------------------------------------------------------------------------------
# Text alternatives
# ---------------------------------------------------------------------------------------------


def _symbol() -> str:
    return rule().symbol


def category_label(value: object) -> str:
    if isinstance(value, datetime | date):
        return fmt_month(value)
    return str(value)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def describe_extremes(
    frame: pl.DataFrame,
    label: str,
    value: str,
    *,
    measure: str,
    value_format: Callable[[float], str] = fmt_int,
    noun: str = "areas",
    suppressed: int = 0,
) -> str:
    """Return one sentence naming the highest and lowest values (nulls skipped).

    E.g. "The number of people waiting is highest in Ward E (120) and lowest in Ward C (10) across
    5 areas; 1 is shown as [c] to protect privacy."
    """
    shown = frame.select(label, value).drop_nulls(value)
    n = frame.height
    tail = ""
    if suppressed:
        verb = "is" if suppressed == 1 else "are"
        tail = f"; {suppressed} {verb} shown as {_symbol()} to protect privacy"
    across = f" across {n} {noun}" if n > 1 else ""
    if shown.is_empty():
        return _sentence(f"{measure} has no value to show{across}{tail}.")
    hi = shown.row(shown[value].arg_max())
    lo = shown.row(shown[value].arg_min())
    if shown.height == 1:
        body = f"{measure} is {value_format(hi[1])} in {category_label(hi[0])}"
    elif hi[1] == lo[1]:
        body = f"{measure} is {value_format(hi[1])} in each of the {shown.height} {noun} shown"
    else:
        body = (
            f"{measure} is highest in {category_label(hi[0])} ({value_format(hi[1])}) and lowest in "
            f"{category_label(lo[0])} ({value_format(lo[1])}){across}"
        )
    return _sentence(body + tail + ".")


def sorted_points(frame: pl.DataFrame, x: str, y: str) -> list[tuple]:
    """Return the ``(x, y)`` rows of ``frame`` with neither null, by ``x``: ``select(x, y).drop_nulls().sort(x)``.

    Sorted in Python when the ``x`` values are distinct (a line's months): each Polars step on a
    small frame is a query of about 0.15 ms, and a page's text alternatives and headlines take dozens.
    """
    points = [(a, b) for a, b in zip(frame.get_column(x).to_list(), frame.get_column(y).to_list(), strict=True)]
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if len({p[0] for p in points}) == len(points) and all(p[0] == p[0] for p in points):  # distinct, no NaN
        return sorted(points, key=lambda p: p[0])
    return frame.select(x, y).drop_nulls().sort(x).rows()  # ties in x: as Polars orders them


def series_parts(frame: pl.DataFrame, color: str) -> list[tuple[tuple, pl.DataFrame]]:
    """Return ``(key, rows)`` of each ``color`` value, in value order, as ``group_by(color)`` iterates them.

    One ``partition_by`` of the sorted frame: iterating a ``group_by`` costs about 0.2 ms a group.
    """
    return list(frame.sort(color).partition_by(color, maintain_order=True, as_dict=True).items())


def describe_trend(
    frame: pl.DataFrame,
    x: str,
    y: str,
    *,
    measure: str,
    color: str | None = None,
    value_format: Callable[[float], str] = fmt_int,
    parts: list[tuple[tuple | None, pl.DataFrame]] | None = None,
) -> str:
    """Return one sentence on how ``y`` moved from its first to its last point (per series, up to 4).

    E.g. "The delivery rate went from 91.0% in March 2025 to 95.5% in October 2026."; a series whose
    ends print the same "was 30,154 in both 2026/27 and 2031/32" (it may have moved between). ``parts``:
    the series already split (``series_parts``; a line chart has them).
    """
    series = parts
    if series is None:
        series = [(None, frame)] if color is None else series_parts(frame, color)
    clauses = []
    for key, part in series[:4]:
        points = sorted_points(part, x, y)
        if not points:
            continue
        (x0, y0), (x1, y1) = points[0], points[-1]
        who = "" if key is None else f"for {key[0]}, "
        if len(points) == 1:
            clauses.append(f"{who}{measure} was {value_format(y0)} in {category_label(x0)}")
        elif value_format(y0) == value_format(y1):  # never "went from 30,154 to 30,154"
            clauses.append(
                f"{who}{measure} was {value_format(y0)} in both {category_label(x0)} and {category_label(x1)}"
            )
        else:
            clauses.append(
                f"{who}{measure} went from {value_format(y0)} in {category_label(x0)} "
                f"to {value_format(y1)} in {category_label(x1)}"
            )
    if not clauses:
        return _sentence(f"{measure} has no value to show.")
    extra = f" ({len(series) - 4} more series in the table)" if len(series) > 4 else ""
    return _sentence("; ".join(clauses) + extra + ".")


def plot_data(data: pl.DataFrame | Suppressed, value: str) -> tuple[pl.DataFrame, pl.Series | None]:
    """Return the frame to plot and the suppression flags for ``value`` (if any)."""
    if isinstance(data, Suppressed):
        frame = data.values
        if IS_TOTAL in frame.columns:  # a total row is for the table, not the chart
            frame = frame.filter(~pl.col(IS_TOTAL))
        flag = f"{value}{SUPPRESSED_SUFFIX}"
        return frame, frame[flag] if flag in frame.columns else None
    return data, None


__all__ = [
    "BLANK_MAP_STYLE",
    "CATEGORICAL",
    "DUO",
    "FOCUS",
    "FOCUS_OTHER",
    "SEQUENTIAL",
    "ChartSpec",
    "HouseFigure",
    "add_line",
    "copy_figure",
    "category_label",
    "describe_extremes",
    "describe_trend",
    "focus_colours",
    "footnote_text",
    "house_figure",
    "house_template",
    "merge_layout",
    "new_figure",
    "plot_data",
    "register_template",
    "series_colours",
    "series_parts",
    "sorted_points",
    "suppression_rule_text",
]
