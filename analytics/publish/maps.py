"""Maps in the house style: a choropleth of areas and bubbles at points, on a blank white map.

``choropleth_map`` colours each area of a GeoJSON by a value (suppressed areas grey, labelled
``[c]``); ``bubble_map`` draws a circle per point sized by a value over the area outlines;
``fit_view`` centres and zooms on the features. Both take and return a ``ChartSpec`` like the
builders in ``analytics.publish.charts`` (which re-exports them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import polars as pl

from analytics.formatting import fmt_int
from analytics.publish.chart_style import (
    AXIS_LINE,
    BLANK_MAP_STYLE,
    FOCUS,
    FOCUS_OTHER,
    SEQUENTIAL_SCALE,
    ChartSpec,
    describe_extremes,
    merge_layout,
    new_figure,
    plot_data,
    series_colours,
)
from analytics.publish.suppression import SUPPRESSED_SUFFIX, Suppressed, rule


def _coordinates(obj: object) -> Iterable[tuple[float, float]]:
    """Yield every (lon, lat) pair in a GeoJSON object."""
    if isinstance(obj, dict):
        if "coordinates" in obj:
            yield from _coordinates(obj["coordinates"])
        for key in ("features", "geometries", "geometry"):
            if key in obj and obj[key] is not None:
                yield from _coordinates(obj[key])
    elif isinstance(obj, list | tuple):
        if len(obj) >= 2 and all(isinstance(v, int | float) for v in obj[:2]):
            yield float(obj[0]), float(obj[1])
        else:
            for item in obj:
                yield from _coordinates(item)


def _corners(geojson: dict) -> list[tuple[float, float]]:
    """Return the south-west and north-east corners of every feature (its ``bbox`` when it has one).

    A display copy of the boundaries (``analytics.ingest.geometry``) gives each feature its box, so a
    map of 1,500 wards fits its view from 3,000 points instead of walking every vertex.
    """
    features = geojson.get("features")
    if not isinstance(features, list):
        return list(_coordinates(geojson))
    out: list[tuple[float, float]] = []
    for feature in features:
        box = feature.get("bbox")
        if isinstance(box, list | tuple) and len(box) == 4:
            out += [(float(box[0]), float(box[1])), (float(box[2]), float(box[3]))]
        else:
            points = list(_coordinates(feature))
            if points:
                lons, lats = [p[0] for p in points], [p[1] for p in points]
                out += [(min(lons), min(lats)), (max(lons), max(lats))]
    return out


def features_for(geojson: dict, codes: Iterable[object], featureidkey: str = "properties.code") -> dict:
    """Return ``geojson`` with only the features whose ``featureidkey`` value is one of ``codes``.

    Every map trace carries its own copy of the geometry to the browser (and into exports), so each
    trace gets only the areas it draws: a trace of the few suppressed areas no longer repeats all.
    """
    wanted = {str(c) for c in codes}
    path = featureidkey.split(".")

    def key(feature: dict) -> object:
        value: object = feature
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return {**geojson, "features": [f for f in geojson.get("features") or [] if str(key(f)) in wanted]}


def fit_view(lons: Sequence[float], lats: Sequence[float], width: int = 800, height: int = 380) -> dict:
    """Return ``{"center": {...}, "zoom": z}`` fitting the points in a ``width`` x ``height`` map.

    Points with a blank longitude or latitude (``None``) are left out; with none left the view is
    England's (zoom 5), so a drop without coordinates never breaks a map.
    """
    pairs = [(x, y) for x, y in zip(lons, lats, strict=True) if x is not None and y is not None]
    if not pairs:
        return {"center": {"lon": -1.5, "lat": 52.8}, "zoom": 5}
    lons, lats = [p[0] for p in pairs], [p[1] for p in pairs]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(east - west, 1e-4)
    lat_span = max(merc(north) - merc(south), 1e-6)
    zoom = min(math.log2(width * 360 / (512 * lon_span)), math.log2(height * 2 * math.pi / (512 * lat_span)))
    return {"center": {"lon": (west + east) / 2, "lat": (south + north) / 2}, "zoom": max(zoom - 0.15, 0)}


def choropleth_map(
    geojson: dict,
    data: pl.DataFrame | Suppressed,
    locations: str,
    value: str,
    *,
    spec: ChartSpec,
    measure: str,
    featureidkey: str = "properties.code",
    name: str | None = None,
    value_format: Callable[[float], str] = fmt_int,
    value_label: str | None = None,
    noun: str = "areas",
) -> ChartSpec:
    """Return ``spec`` completed with areas shaded by ``value`` on a blank white map (no tiles).

    ``locations`` holds the feature ids (matched on ``featureidkey``); ``name`` a column of area
    names for hover and the text alternative. Areas with no value shown (suppressed or missing) are
    drawn light grey and read ``[c]``/``[x]`` on hover, never as 0.
    """
    frame, flags = plot_data(data, value)
    name = name or locations
    shown = frame.filter(pl.col(value).is_not_null())
    blank = frame.filter(pl.col(value).is_null())
    fig = new_figure()
    fig.add_choroplethmap(
        _validate=False,
        featureidkey=featureidkey,
        locations=shown[locations].to_list(),
        z=shown[value].to_list(),
        colorscale=[list(s) for s in SEQUENTIAL_SCALE],
        marker={"line": {"color": "white", "width": 1}},
        colorbar={"title": {"text": value_label or ""}, "tickformat": ",~f", "outlinewidth": 0, "thickness": 14},
        hovertext=[f"{n}: {value_format(v)}" for n, v in zip(shown[name], shown[value], strict=True)],
        hoverinfo="text",
        name=measure,
        showlegend=False,
    )
    # Outlines go in after the trace, by reference: adding a trace deep-copies what it is given
    # (1,500 wards' coordinates on the exit map at 50x), and nothing changes them once drawn.
    fig.data[-1].geojson = features_for(geojson, shown[locations].to_list(), featureidkey)
    n_suppressed = 0
    if blank.height:
        blank_flags = blank[f"{value}{SUPPRESSED_SUFFIX}"].to_list() if flags is not None else [False] * blank.height
        n_suppressed = sum(blank_flags)
        symbol = rule().symbol
        fig.add_choroplethmap(
            _validate=False,
            featureidkey=featureidkey,
            locations=blank[locations].to_list(),
            z=[0] * blank.height,  # colour index only; the value is never shown
            colorscale=[[0, FOCUS_OTHER], [1, FOCUS_OTHER]],
            showscale=False,
            marker={"line": {"color": "white", "width": 1}},
            hovertext=[
                f"{n}: {symbol if f else '[x]'}" for n, f in zip(blank[name].to_list(), blank_flags, strict=True)
            ],
            hoverinfo="text",
            name=f"Not shown ({symbol} or [x])",
            showlegend=True,
        )
        fig.data[-1].geojson = features_for(geojson, blank[locations].to_list(), featureidkey)
    points = _corners(geojson)
    view = fit_view([p[0] for p in points], [p[1] for p in points]) if points else {"zoom": 5}
    merge_layout(fig, map={"style": BLANK_MAP_STYLE, **view}, showlegend=bool(blank.height))
    alt = describe_extremes(
        frame, name, value, measure=measure, value_format=value_format, noun=noun, suppressed=n_suppressed
    )
    return spec.complete(fig, data, alt)


def bubble_map(
    data: pl.DataFrame | Suppressed,
    lat: str,
    lon: str,
    size: str,
    *,
    spec: ChartSpec,
    measure: str,
    name: str,
    color: str | None = None,
    outline: dict | None = None,
    value_format: Callable[[float], str] = fmt_int,
    max_size: int = 40,
    noun: str = "locations",
) -> ChartSpec:
    """Return ``spec`` completed with circles sized (by area) by ``size`` at ``lat``/``lon``.

    ``name`` labels each point in hover and the text alternative; ``color`` splits points into
    palette-coloured groups; ``outline`` is optional GeoJSON drawn as grey boundaries underneath.
    Points with no value shown (suppressed or missing) are left off the map and counted in the
    text alternative; points with no coordinates are left off too (callers say so when it matters).
    """
    frame, flags = plot_data(data, size)
    shown = frame.filter(pl.col(size).is_not_null() & pl.col(lat).is_not_null() & pl.col(lon).is_not_null())
    n_suppressed = int(flags.sum()) if flags is not None else 0
    biggest = shown[size].max() or 1
    groups = [(None, shown)] if color is None else list(shown.group_by(color, maintain_order=True))
    fig = new_figure()
    for (key, part), colour in zip(groups, series_colours(len(groups)) if color else [FOCUS], strict=True):
        fig.add_scattermap(
            _validate=False,
            lat=part[lat].to_list(),
            lon=part[lon].to_list(),
            mode="markers",
            marker={
                "size": part[size].to_list(),
                "sizemode": "area",
                "sizeref": 2.0 * biggest / max_size**2,
                "sizemin": 3,
                "color": colour,
                "opacity": 0.8,
            },
            name=measure if key is None else str(key[0]),
            hovertext=[f"{n}: {value_format(v)}" for n, v in zip(part[name], part[size], strict=True)],
            hoverinfo="text",
        )
    layers = []
    points = list(zip(frame[lon].to_list(), frame[lat].to_list(), strict=True))
    if outline is not None:
        layers = [{"source": outline, "type": "line", "color": AXIS_LINE, "line": {"width": 1}, "below": "traces"}]
        points += list(_coordinates(outline))
    view = fit_view([p[0] for p in points], [p[1] for p in points]) if points else {"zoom": 5}
    merge_layout(fig, map={"style": BLANK_MAP_STYLE, "layers": layers, **view}, showlegend=color is not None)
    alt = describe_extremes(
        frame, name, size, measure=measure, value_format=value_format, noun=noun, suppressed=n_suppressed
    )
    return spec.complete(fig, data, alt)


__all__ = ["bubble_map", "choropleth_map", "features_for", "fit_view"]
