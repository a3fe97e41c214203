"""Chart builders in the house style: bar, line and stacked bar charts, and the import point for charts.

Each builder takes the data (a frame, or ``Suppressed`` from ``suppress``), the columns to plot and
a ``ChartSpec`` holding the wording, and returns the spec completed: figure styled by
``house_figure``, data attached and a one-sentence text alternative. The style, ``ChartSpec`` and
the text alternatives are in ``analytics.publish.chart_style``, the maps in
``analytics.publish.maps``; both are re-exported here, so ``from analytics.publish.charts import
ChartSpec, bar_chart, choropleth_map`` works::

    spec = ChartSpec(id="waiting-by-ward", title="Most people waiting live in two wards",
                     subtitle="People waiting for home care, by ward, Northdale, October 2026",
                     source="Council brokerage records", as_of=staged.as_of, synthetic=True)
    chart = bar_chart(suppress(frame, count_cols=["people"]), "ward", "people", spec=spec,
                      measure="the number of people waiting")
    st.plotly_chart(chart.figure, theme=None)   # theme=None, or Streamlit repaints the colours
    st.caption(chart.alt_text); st.dataframe(chart.table)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from analytics.formatting import fmt_int
from analytics.publish.chart_style import (
    AXIS_LINE,
    BLANK_MAP_STYLE,
    CATEGORICAL,
    DEFAULT_HEIGHT,
    DUO,
    FOCUS,
    FOCUS_OTHER,
    FONT,
    GRID,
    SECONDARY_TEXT,
    SEQUENTIAL,
    SEQUENTIAL_SCALE,
    TEMPLATE_NAME,
    TEXT,
    ChartSpec,
    add_line,
    category_label,
    copy_figure,
    describe_extremes,
    describe_trend,
    focus_colours,
    footnote_text,
    house_figure,
    house_template,
    merge_layout,
    new_figure,
    plain_label,
    plot_data,
    register_template,
    series_colours,
    series_parts,
    suppression_rule_text,
)
from analytics.publish.maps import bubble_map, choropleth_map, features_for, fit_view
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed, rule


def _texts(values: Sequence[float | None], value_format: Callable[[float], str]) -> list[str]:
    return ["" if v is None else value_format(v) for v in values]


def _axes(categories: list, values: list, horizontal: bool) -> dict[str, list]:
    """Return a bar trace's ``x`` and ``y``: categories along x and values up y, or the other way round."""
    return {"x": values, "y": categories} if horizontal else {"x": categories, "y": values}


def _groups(frame: pl.DataFrame, color: str) -> list[tuple[tuple, pl.DataFrame]]:
    """Return ``(key, rows)`` per ``color`` value in order of appearance, as ``group_by(color, maintain_order=True)``
    iterates them: one ``partition_by`` (iterating a ``group_by`` costs about 0.2 ms a group)."""
    return list(frame.partition_by(color, maintain_order=True, as_dict=True).items())


def _by_x(part: pl.DataFrame, x: str, y: str) -> tuple[list, list]:
    """Return the ``x`` and ``y`` values of ``part`` ordered by ``x``, as ``part.sort(x)`` orders them.

    Sorted in Python when the ``x`` values are distinct and known (a line's months): a Polars sort
    of a small frame is a query of about 0.15 ms.
    """
    xs, ys = part.get_column(x).to_list(), part.get_column(y).to_list()
    if None in xs or len(set(xs)) != len(xs) or any(v != v for v in xs):  # nulls, ties or NaN: as Polars sorts
        ordered = part.sort(x)
        return ordered.get_column(x).to_list(), ordered.get_column(y).to_list()
    order = sorted(range(len(xs)), key=xs.__getitem__)
    return [xs[i] for i in order], [ys[i] for i in order]


def bar_chart(
    data: pl.DataFrame | Suppressed,
    x: str,
    y: str,
    *,
    spec: ChartSpec,
    measure: str,
    orientation: str = "v",
    color: str | None = None,
    focus: Sequence[object] | None = None,
    value_format: Callable[[float], str] = fmt_int,
    value_label: str | None = None,
    labels: bool = True,
    noun: str = "areas",
) -> ChartSpec:
    """Return ``spec`` completed with a bar chart of ``y`` by category ``x``.

    ``orientation="h"`` draws horizontal bars (categories top to bottom, long labels stay level).
    ``color`` groups bars by a series column (palette colours, side by side); ``focus`` greys every
    category but these. Suppressed cells (``data`` from ``suppress``) get no bar, only a ``[c]``
    label in the bar's place. ``labels`` writes each value on its bar; ``value_label`` names the
    value axis.
    """
    frame, _ = plot_data(data, y)
    flag = f"{y}{SUPPRESSED_SUFFIX}"
    horizontal = orientation == "h"
    symbol = rule().symbol
    traces: list[dict] = []  # the figure is built once from them (``new_figure``)
    groups = [(None, frame)] if color is None else _groups(frame, color)
    colours = series_colours(len(groups)) if color is not None else [FOCUS]
    for k, ((key, part), colour) in enumerate(zip(groups, colours, strict=True)):
        cats, vals = part[x].to_list(), part[y].to_list()
        texts = _texts(vals, value_format)
        name = measure if key is None else str(key[0])
        traces.append(
            dict(
                type="bar",
                **_axes(cats, vals, horizontal),
                orientation=orientation,
                name=name,
                offsetgroup=str(k),
                marker={"color": focus_colours(cats, focus) if focus is not None and color is None else colour},
                text=texts if labels else None,
                textposition="outside",
                hovertext=[f"{category_label(c)}, {name}: {t}" for c, t in zip(cats, texts, strict=True)],
                hoverinfo="text",
            )
        )
        hidden = [c for c, h in zip(cats, part[flag].to_list(), strict=True) if h] if flag in part.columns else []
        if hidden:
            # The [c] label sits where the bar would be (a text-only trace in the same offset
            # group, so grouped bars line up); no bar is drawn, not even one of height 0.
            zeros = [0] * len(hidden)
            traces.append(
                dict(
                    type="scatter",
                    **_axes(hidden, zeros, horizontal),
                    orientation=orientation,
                    mode="text",
                    text=[symbol] * len(hidden),
                    textposition="middle right" if horizontal else "top center",
                    textfont={"size": 13, "color": SECONDARY_TEXT},
                    offsetgroup=str(k),
                    name=f"{name} {symbol}",
                    showlegend=False,
                    hovertext=[f"{category_label(c)}, {name}: {symbol}" for c in hidden],
                    hoverinfo="text",
                    cliponaxis=False,
                )
            )
    fig = new_figure(traces)
    merge_layout(fig, barmode="group", scattermode="group")
    n_suppressed = int(frame[flag].sum()) if flag in frame.columns else 0
    described = frame
    if color is not None:
        labels = [f"{category_label(a)}, {b}" for a, b in zip(frame[x].to_list(), frame[color].to_list(), strict=True)]
        described = frame.with_columns(pl.Series(x, labels, dtype=pl.String))  # "September 2026, ...", not ISO
        noun = "bars"
    alt = describe_extremes(
        described, x, y, measure=measure, value_format=value_format, noun=noun, suppressed=n_suppressed
    )
    return spec.complete(fig, data, alt, value_label=value_label)


def line_chart(
    data: pl.DataFrame | Suppressed,
    x: str,
    y: str,
    *,
    spec: ChartSpec,
    measure: str,
    color: str | None = None,
    value_format: Callable[[float], str] = fmt_int,
    value_label: str | None = None,
    markers: bool = False,
    from_zero: bool = False,
) -> ChartSpec:
    """Return ``spec`` completed with a line chart of ``y`` over ``x`` (one line per ``color`` value).

    Missing and suppressed points leave a gap (never a 0). Date axes read "Mar 2025".
    ``from_zero`` starts the value axis at zero (worth it for counts; rates may not need it).
    """
    frame, _ = plot_data(data, y)
    groups = [(None, frame)] if color is None else series_parts(frame, color)
    traces: list[dict] = []  # the figure is built once from them (``new_figure``)
    for (key, part), colour in zip(groups, series_colours(len(groups)), strict=True):
        xs, ys = _by_x(part, x, y)
        name = measure if key is None else str(key[0])
        traces.append(
            dict(
                type="scatter",
                x=xs,
                y=ys,
                mode="lines+markers" if markers else "lines",
                name=name,
                line={"color": colour},
                connectgaps=False,
                hovertext=[
                    f"{name}, {category_label(a)}: {t}" for a, t in zip(xs, _texts(ys, value_format), strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig = new_figure(traces)
    # merge_layout, not update_xaxes/update_yaxes: a figure with one pair of axes gets the same
    # layout, without Plotly's change machinery (about half a millisecond a call).
    if frame[x].dtype in (pl.Date, pl.Datetime):
        merge_layout(fig, xaxis={"tickformat": "%b %Y"})
    if from_zero:
        merge_layout(fig, yaxis={"rangemode": "tozero"})
    alt = describe_trend(frame, x, y, measure=measure, color=color, value_format=value_format, parts=groups)
    return spec.complete(fig, data, alt, bar_from_zero=False, value_label=value_label)


def stacked_bar(
    data: pl.DataFrame | Suppressed,
    x: str,
    y: str,
    color: str,
    *,
    spec: ChartSpec,
    measure: str,
    orientation: str = "v",
    ordered: bool = False,
    value_format: Callable[[float], str] = fmt_int,
    value_label: str | None = None,
    noun: str = "areas",
) -> ChartSpec:
    """Return ``spec`` completed with bars of ``y`` by ``x``, stacked by ``color`` (at most 6 parts).

    ``ordered`` uses the sequential palette (for ordered parts, at most 3). Suppressed parts are
    not drawn; the footnote explains. The text alternative names the highest and lowest totals.
    """
    frame, _ = plot_data(data, y)
    horizontal = orientation == "h"
    parts = _groups(frame, color)
    traces: list[dict] = []  # the figure is built once from them (``new_figure``)
    for (key, part), colour in zip(parts, series_colours(len(parts), ordered=ordered), strict=True):
        cats, vals = part[x].to_list(), part[y].to_list()
        traces.append(
            dict(
                type="bar",
                **_axes(cats, vals, horizontal),
                orientation=orientation,
                name=str(key[0]),
                marker={"color": colour},
                hovertext=[
                    f"{key[0]}, {category_label(c)}: {t}" for c, t in zip(cats, _texts(vals, value_format), strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig = new_figure(traces)
    merge_layout(fig, barmode="stack", showlegend=True)
    totals = frame.group_by(x, maintain_order=True).agg(pl.col(y).sum())
    alt = describe_extremes(totals, x, y, measure=f"the total of {measure}", value_format=value_format, noun=noun)
    return spec.complete(fig, data, alt, value_label=value_label)


__all__ = [
    "AXIS_LINE",
    "BLANK_MAP_STYLE",
    "CATEGORICAL",
    "DEFAULT_HEIGHT",
    "DUO",
    "FONT",
    "FOCUS",
    "FOCUS_OTHER",
    "GRID",
    "SECONDARY_TEXT",
    "SEQUENTIAL",
    "SEQUENTIAL_SCALE",
    "TEMPLATE_NAME",
    "TEXT",
    "ChartSpec",
    "add_line",
    "bar_chart",
    "bubble_map",
    "category_label",
    "choropleth_map",
    "copy_figure",
    "describe_extremes",
    "describe_trend",
    "features_for",
    "fit_view",
    "focus_colours",
    "footnote_text",
    "house_figure",
    "house_template",
    "line_chart",
    "merge_layout",
    "new_figure",
    "plain_label",
    "plot_data",
    "register_template",
    "series_colours",
    "series_parts",
    "stacked_bar",
    "suppression_rule_text",
]
