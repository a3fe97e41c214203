"""Streamlit glue for showing analytics output in the house style: charts, tiles, sentences, tables.

Not a page (``dashboard.py`` registers pages explicitly). Pages call ``analytics.views`` for
``ChartSpec``s, ``Tile``s, frames and sentences and show them with these functions, so every
chart on every page comes with the same furniture::

    spec = render.cached(coverage.coverage_map, filters, measure)   # cached per snapshot + args
    render.show_chart(spec, indicator_ids=["providers_per_area"])

``show_chart`` draws the figure (``theme=None`` keeps the house colours), a one-sentence text
alternative under it, the data table in an expander, the catalogue definitions in a popover and
then calls ``chart_actions(spec)``: the hook where export buttons and "add to briefing" go.

The data table is drawn only once its expander is opened (``on_change="rerun"`` in a fragment, so
opening it reruns only that fragment, not the page): a data grid in a closed expander still costs
a new visitor's browser its code and layout, about a sixth of a page with seven charts
(``benchmarks/browser.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from analytics.formatting import fmt_month, markdown_text
from analytics.indicators import catalogue
from analytics.publish.charts import ChartSpec
from analytics.views import gaps
from analytics.views.common import Panel, Tile
from analytics.views.filters import Filters
from ui import modes, shared

T = TypeVar("T")

# RAG marks: always the word as well as the colour (never colour alone).
RAG_BADGES = {
    "red": ":red-badge[:material/error: Red]",
    "amber": ":orange-badge[:material/warning: Amber]",
    "green": ":green-badge[:material/check_circle: Green]",
}


# ---------------------------------------------------------------------------------------------
# The start of a page
# ---------------------------------------------------------------------------------------------


def start_page(title: str) -> Filters | None:
    """Begin a page of the live data; return its sidebar filters, or ``None`` when none is loaded.

    Checks the run came through ``dashboard.py`` (``shared.run_through_dashboard``), shows
    ``title``, and with no live data shows how to load some (``shared.require_data``); then what
    the page cannot show from this drop and why (``analytics.views.gaps``).
    """
    shared.run_through_dashboard()
    st.title(title)
    if not shared.require_data():
        return None
    for note in gaps.notes_for(title, drop_gaps()):
        st.info(markdown_text(note), icon=":material/info:")
    return shared.current_filters()


def area_caption(filters: Filters, more: str | None = None) -> None:
    """Show which area and month the page is about ("Fellside locality, October 2026"), then ``more``."""
    text = f"{filters.area_label().capitalize()}, {fmt_month(filters.month)}"
    st.caption(markdown_text(f"{text}. {more}" if more else text))


# ---------------------------------------------------------------------------------------------
# Cached reads
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_call(version: tuple, module: str, name: str, args: tuple, kwargs: tuple) -> Any:
    """Run ``module.name(cursor, *args, **kwargs)`` once per live snapshot and arguments."""
    fn = getattr(importlib.import_module(module), name)
    return fn(shared.cursor(), *args, **dict(kwargs))


def cached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Return ``fn(cursor, *args, **kwargs)``, cached per live snapshot version and arguments.

    ``fn`` must be a module-level function of ``analytics`` taking a DuckDB cursor first (a view
    function or ``read_mart``); arguments must be hashable by Streamlit (``Filters``, dates,
    strings, numbers, tuples). A refresh or rollback changes the version, so nothing stale is shown.
    """
    return _cached_call(shared.live_version(), fn.__module__, fn.__qualname__, args, tuple(sorted(kwargs.items())))


def drop_gaps() -> tuple[str, ...]:
    """Return the live drop's gaps (``gaps.missing``, cached), read once a script run.

    Every chart checks them: a cached read costs most of a millisecond (Streamlit hashes the
    arguments and unpickles the value), and a page draws up to nine charts.
    """
    return shared.held_for_run("gaps", shared.live_version(), lambda: cached(gaps.missing))


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------


def chart_actions(spec: ChartSpec) -> None:
    """Under every chart: downloads (PNG, SVG, CSV, XLSX; always suppressed) and "add to briefing"."""
    modes.chart_actions(spec)


def show_definitions(indicator_ids: Iterable[str], *, key: str) -> None:
    """Show the catalogue entries of ``indicator_ids`` in a "Definition" popover (unknown ids skipped)."""
    known = catalogue.load_catalogue()
    items = [known[i] for i in indicator_ids if i in known]
    if not items:
        return
    with st.popover("Definition", icon=":material/info:", key=key):
        for n, item in enumerate(items):
            if n:
                st.divider()
            st.markdown(f"**{item.title}**")
            st.markdown(item.definition)
            st.markdown(f"**Formula:** {item.formula}")
            st.markdown(f"**Unit:** {item.unit}")
            st.markdown(f"**Source:** {item.source}")
            st.markdown(f"**Caveats:** {item.caveats}")
            if item.rag is not None:
                st.markdown(f"**Thresholds:** {item.rag.describe()}")


def show_chart(spec: ChartSpec, *, indicator_ids: Sequence[str] = (), note: str | None = None) -> None:
    """Show ``spec``: the figure, its text alternative, the data table, definitions, then ``chart_actions``.

    ``note`` is an extra caption (e.g. "This chart ignores the client group filter").
    """
    spec = modes.shown(gaps.explain(spec, drop_gaps()), indicator_ids)
    if spec.figure is None:
        st.info(markdown_text(spec.alt_text or spec.title))
        return
    st.plotly_chart(spec.figure, theme=None, key=f"chart_{spec.id}", config={"displaylogo": False})
    st.caption(markdown_text(spec.alt_text))
    if note:
        st.caption(markdown_text(note))
    chart_table(spec)
    show_definitions(indicator_ids, key=f"definition_{spec.id}")
    chart_actions(spec)


def table_key(spec: ChartSpec) -> str:
    """Return the key of the "Data table" expander under ``spec`` (``st.session_state[key]`` is True when open)."""
    return f"table-open-{spec.id}"


@st.fragment
def chart_table(spec: ChartSpec) -> None:
    """Show the "Data table" expander of ``spec``; the table itself only while it is open.

    A fragment: opening or closing the expander reruns this function alone (the table, not the page).
    """
    table = st.expander("Data table", icon=":material/table:", key=table_key(spec), on_change="rerun")
    if table.open:
        with table:
            show_table(spec.table, key=f"table_{spec.id}")


def show_panel(panel: Panel) -> None:
    """Show a ``Panel`` (a chart with its indicator ids and note) with ``show_chart``."""
    show_chart(panel.spec, indicator_ids=panel.indicator_ids, note=panel.note)


# ---------------------------------------------------------------------------------------------
# Tiles, sentences, tables
# ---------------------------------------------------------------------------------------------


def rag_badge(status: str | None) -> str:
    """Return the Markdown RAG mark (word plus colour) for ``status``; empty for none."""
    return RAG_BADGES.get(status or "", "")


# Tile labels and changes wrap instead of being cut off with an ellipsis (Streamlit's default).
TILE_CSS = """
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  height: auto !important;
}
</style>
"""


def show_tile(tile: Tile, *, month_label: str = "last month", year_label: str = "last year") -> None:
    """Show one ``Tile``: ``st.metric`` with the change on last month, then last year and the RAG mark.

    No change or no comparison: no arrow and grey. Otherwise the arrow follows the change and its
    colour the indicator's good direction (green good, red bad, grey for neither).
    """
    tile = modes.shown_tile(tile)
    delta = None
    if tile.delta_month:
        delta = tile.delta_month if tile.delta_month.startswith("no ") else f"{tile.delta_month} on {month_label}"
    st.metric(
        markdown_text(tile.shown_label),
        tile.text,
        delta=delta,
        delta_color=tile.change_colour(tile.delta_month_sign),
        delta_arrow="auto" if tile.delta_month_sign else "off",
        help=tile.help,
        border=True,
    )
    parts = []
    if tile.delta_year:
        text = tile.delta_year if tile.delta_year.startswith("no ") else f"{tile.delta_year} on {year_label}"
        colour = tile.change_colour(tile.delta_year_sign)
        parts.append(text if colour == "gray" else f":{colour}[{markdown_text(text)}]")
    if tile.rag:
        parts.append(rag_badge(tile.rag))
    if parts:
        st.caption(" · ".join(parts))


def show_tiles(
    tiles: Sequence[Tile], *, columns: int = 4, month_label: str = "last month", year_label: str = "last year"
) -> None:
    """Show headline tiles in rows of ``columns`` (change on last month/year and a RAG mark each)."""
    st.html(TILE_CSS)
    tiles = modes.shown_tiles(tiles)  # in publication mode, judged together (no tile reveals a hidden one)
    for start in range(0, len(tiles), columns):
        row = st.columns(columns)
        for col, tile in zip(row, tiles[start : start + columns], strict=False):
            with col:
                show_tile(tile, month_label=month_label, year_label=year_label)


def show_summary(summary) -> None:
    """Show a ``briefing.summary.Summary`` as one screenshot-ready 16:9 view: scope, 8 tiles, key messages."""
    st.caption(markdown_text(f"{summary.scope}. " + ("Small numbers protected." if summary.published else "")))
    show_tiles(summary.tiles, month_label=summary.month_label, year_label=summary.year_label)
    show_sentences(summary.messages, heading="Key messages")


def show_sentences(sentences: Sequence[str], *, heading: str | None = None) -> None:
    """Show plain-English sentences as a bullet list (nothing when empty)."""
    if not sentences:
        return
    if heading:
        st.subheader(heading)
    st.markdown("\n".join(f"- {markdown_text(s)}" for s in sentences))


def show_table(frame: pl.DataFrame | None, *, key: str, caption: str | None = None, height: int | None = None) -> None:
    """Show ``frame`` as a table without the index (a note when there are no rows)."""
    frame = modes.shown_table(frame)
    if frame is None or frame.is_empty():
        st.caption("No rows to show.")
        return
    st.dataframe(frame, hide_index=True, key=key, height=height or "auto")
    if caption:
        st.caption(markdown_text(caption))


def show_section(
    heading: str, sentence: str, panel: Panel | ChartSpec, table: pl.DataFrame | None, *, key: str
) -> None:
    """Show a page section: its heading, one sentence (names from the drop as plain text), a chart and its table."""
    st.header(heading)
    st.markdown(markdown_text(sentence))
    show_panel(panel)
    show_table(table, key=key)


def show_note(text: str) -> None:
    """Show an explanatory note (a filter a chart ignores, a missing input)."""
    st.caption(f":material/info: {markdown_text(text)}")


def show_notes(notes: Iterable[str]) -> None:
    """Show each of a view's notes with ``show_note``."""
    for note in notes:
        show_note(note)


__all__ = [
    "area_caption",
    "cached",
    "chart_actions",
    "chart_table",
    "drop_gaps",
    "rag_badge",
    "show_chart",
    "show_definitions",
    "show_note",
    "show_notes",
    "show_panel",
    "show_sentences",
    "show_summary",
    "show_table",
    "show_tile",
    "show_tiles",
    "start_page",
    "table_key",
]
