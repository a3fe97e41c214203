"""Streamlit glue for publication mode, presentation mode, chart downloads and "add to briefing".

Not a page. ``dashboard.py`` calls ``read_url()`` (before the filters, which rewrite the address),
``sidebar_switches()`` (after them) and ``apply_presentation()``. ``ui/render.py`` calls
``shown(spec, indicator_ids)`` before drawing a chart, ``chart_actions(spec)`` under it, and
``shown_table`` / ``shown_tile`` for tables and tiles.

* **Publication mode** (toggle ``publication_mode``): every chart, table and tile is shown as it
  may be published (``analytics.publish.publication``): small counts of people below council level read
  ``[c]``, others are rounded, and the footnote states the rule. A screenshot then shows exactly
  what an export would.
* **Presentation mode** (toggle ``presentation_mode``, or ``?present=1`` in the address): no
  sidebar, toolbars or download buttons, wider charts and larger text, and an "Exit presentation"
  button at the top.
* **Downloads**: PNG (twice the size on screen) and SVG as drawn in publication mode, CSV and
  Excel of the table; always in publication form, so nothing unprotected leaves the dashboard. The
  files are made only when a button is clicked (``st.download_button`` with a callable) and kept
  per live snapshot, chart, filters and wording; pictures are kept on disk in the data store's
  picture cache (``analytics.publish.pictures``), drawn by one Chromium kept warm for the server.
* **Briefing selection**: a list of ``analytics.briefing.pack.BriefItem`` in ``st.session_state``
  (``briefing_items``), kept across pages; the Briefing pack page builds the PDF and PowerPoint.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import polars as pl
import streamlit as st

from analytics.briefing import registry as chart_registry
from analytics.briefing.pack import BriefItem
from analytics.publish import pictures
from analytics.publish.charts import ChartSpec
from analytics.publish.exports import browser_path, chart_csv, chart_xlsx, stay_warm
from analytics.publish.publication import label_columns, publish, publish_frame
from analytics.publish.suppression import Suppressed, rule
from analytics.store import snapshots as store
from analytics.views.common import Tile
from ui import shared

PUBLICATION = "publication_mode"
PRESENTATION = "presentation_mode"
BRIEFING = "briefing_items"
PRESENT_PARAM = "present"
_URL_READ = "_presentation_url_read"
_CACHE_SIZE = 64

_cache: OrderedDict[tuple, object] = OrderedDict()
_cache_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------
# The switches
# ---------------------------------------------------------------------------------------------


def publication_on() -> bool:
    """Whether publication mode is on for this session."""
    return bool(st.session_state.get(PUBLICATION, False))


def presentation_on() -> bool:
    """Whether presentation mode is on for this session."""
    return bool(st.session_state.get(PRESENTATION, False))


def read_url() -> None:
    """Turn presentation mode on from ``?present=1`` once, at the start of a session.

    Call it before ``shared.sidebar_filters()``, which rewrites the address with the filters only.
    """
    if st.session_state.get(_URL_READ):
        return
    st.session_state[_URL_READ] = True
    if st.query_params.get(PRESENT_PARAM) in ("1", "true", "yes"):
        st.session_state[PRESENTATION] = True


def sync_url() -> None:
    """Keep ``present=1`` in the address while presenting (so the page can be bookmarked)."""
    wanted = presentation_on()
    has = st.query_params.get(PRESENT_PARAM) == "1"
    if wanted and not has:
        st.query_params[PRESENT_PARAM] = "1"
    elif not wanted and PRESENT_PARAM in st.query_params:
        del st.query_params[PRESENT_PARAM]


def _exit_presentation() -> None:
    st.session_state[PRESENTATION] = False
    if PRESENT_PARAM in st.query_params:
        del st.query_params[PRESENT_PARAM]


def sidebar_switches(lock_publication: bool = False) -> None:
    """Draw the publication and presentation toggles in the sidebar (values kept for the session).

    ``lock_publication``: publication mode is forced on for this session (public users) and cannot be
    switched off.
    """
    read_url()
    with st.sidebar:
        st.divider()
        st.toggle(
            "Publication mode",
            key=PUBLICATION,
            help="Show every chart and table as it may be published: counts of people from 1 to "
            f"{rule().threshold - 1} below council level read [c] and others are rounded to the nearest "
            f"{rule().base}, as in downloads and the briefing pack."
            + (" Always on in the public view." if lock_publication else ""),
            persist_state="session",
            disabled=lock_publication,
        )
        st.toggle(
            "Presentation mode",
            key=PRESENTATION,
            help="Hide the sidebar and buttons and enlarge text for screenshots and projectors. "
            "Add ?present=1 to the address to open a page this way.",
            persist_state="session",
        )
        n = len(briefing_items())
        if n:
            st.caption(f":material/picture_as_pdf: {n} chart{'s' if n != 1 else ''} in the briefing pack")
    sync_url()


PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stElementToolbar"], [data-testid="stMainMenu"],
[class*="st-key-chart-actions-"], .modebar-container { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 1.25rem 2.5rem 2rem 2.5rem !important; }
[data-testid="stMain"] { margin-left: 0 !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"] { font-size: 1.2rem !important; }
h1 { font-size: 2.6rem !important; }
h2, h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p { font-size: 2.6rem !important; }
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p { font-size: 1.15rem !important; }
.st-key-exit-presentation { position: fixed; top: 0.6rem; right: 1rem; left: auto; width: auto !important;
  z-index: 1000; }
</style>
"""


def apply_presentation() -> None:
    """In presentation mode: hide the chrome, enlarge text and show an "Exit presentation" button."""
    if not presentation_on():
        return
    st.html(PRESENTATION_CSS)
    with st.container(key="exit-presentation"):
        st.button("Exit presentation", icon=":material/close_fullscreen:", on_click=_exit_presentation)


# ---------------------------------------------------------------------------------------------
# What a chart, table or tile shows
# ---------------------------------------------------------------------------------------------


def _digest(frame: pl.DataFrame | Suppressed | None) -> str:
    if frame is None:
        return ""
    data = frame.values if isinstance(frame, Suppressed) else frame
    text = f"{data.columns}{data.shape}{int(data.hash_rows().sum()) if data.height else 0}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _key_parts(spec: ChartSpec) -> tuple:
    """The parts of ``_spec_key`` read from the session (live snapshot, filters) and the wording."""
    return (shared.live_version(), spec.id, shared.current_filters(), spec.title, spec.subtitle)


def _spec_key(spec: ChartSpec, parts: tuple | None = None) -> tuple:
    """What makes a chart's picture and table: live snapshot, id, filters, wording and data.

    ``parts``: ``_key_parts(spec)`` read earlier (in the script run, where the session is).
    """
    return (*(parts or _key_parts(spec)), _digest(spec.data))


def _memo(key: tuple, make: Callable[[], object]) -> object:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = make()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def _publishing(
    spec: ChartSpec, indicator_ids: Sequence[str] = (), parts: tuple | None = None
) -> Callable[[Callable[[], object]], ChartSpec]:
    """Return ``publish(cursor)``: ``spec`` as it may leave the dashboard, cached per snapshot, chart, filters and data.

    Reads the session now (the registry's page choices, the filters), so the returned function can
    also run later on another thread, where there is no session (a download's click). ``cursor``
    makes the DuckDB cursor it needs (``shared.cursor`` in a script run). ``parts``: ``_key_parts(spec)``
    when the caller has them already. The data is hashed for the cache key when the function runs.
    """
    found = chart_registry.resolve(spec.id, st.session_state)
    filters = shared.current_filters()
    parts = parts or _key_parts(spec)

    def make(cursor: Callable[[], object]) -> ChartSpec:
        if found is not None and filters is not None:
            return chart_registry.publish_spec(cursor(), found[0].id, spec, filters)
        return publish(spec, indicator_ids=indicator_ids)

    return lambda cursor: _memo(("published", *_spec_key(spec, parts), tuple(indicator_ids)), lambda: make(cursor))


def published(spec: ChartSpec, indicator_ids: Sequence[str] = ()) -> ChartSpec:
    """Return ``spec`` as it may leave the dashboard (cached per snapshot, chart, filters and data).

    A registered chart is published as its registry entry says (council level, counts added);
    any other through ``publication.publish`` deciding council level from the subtitle and table.
    """
    if spec.data is None:
        return spec
    return _publishing(spec, indicator_ids)(shared.cursor)


def _own_cursor():
    """Return a cursor on its own connection to the live snapshot (for work outside a script run)."""
    return store.market_cursor(store.open_live(shared.data_dir()))


def shown(spec: ChartSpec, indicator_ids: Sequence[str] = ()) -> ChartSpec:
    """Return ``spec`` as the page should draw it: ``published`` when publication mode is on."""
    return published(spec, indicator_ids) if publication_on() else spec


def shown_table(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    """Return a page table as it should be shown: counts of people protected in publication mode.

    Tables already made safe (text cells) pass through. A table with label columns splits the area
    (suppressed); one without is the area's own figures (suppressed in a locality only).
    """
    if frame is None or not publication_on():
        return frame
    filters = shared.current_filters()
    council = not label_columns(frame) and (filters is None or filters.locality is None)
    out = publish_frame(frame, council_level=council)
    return out.display if isinstance(out, Suppressed) else out


# The rural split table's rows (``analytics.views.rural.MEASURES``) for ``publish_split``.
RURAL_SPLIT_KINDS = {
    "people_in_service": "count",
    "planned_hours_per_week": "derived:people_in_service",
    "hours_per_1000_65_plus": "derived:people_in_service",
    "people_waiting": "count",
    "hours_waiting": "derived:people_waiting",
    "median_wait_days": "median:people_waiting",
    "p90_wait_days": "median:people_waiting",
    "microenterprise_customers": "count",
}


def shown_rural_split(split: pl.DataFrame, display: pl.DataFrame) -> pl.DataFrame:
    """Return the Rural gaps split table (``display``, text) as it should be shown.

    In publication mode it is rebuilt from the numeric ``split``: counts of people rounded or
    ``[c]`` (with a further class hidden where the total would reveal one), hours and rates hidden
    with their people, medians hidden for fewer than ``min_group_size`` people waiting.
    """
    if not publication_on():
        return display
    from analytics.publish.publication import publish_split
    from analytics.views import rural

    classes = list(rural.CLASSES)
    published = publish_split(split, RURAL_SPLIT_KINDS, key="measure_id", columns=classes, total="total")
    out = rural.split_display(published)
    symbol = rule().symbol
    labels = [rural.CLASS_LABELS[c] for c in (*classes, "total")]
    flags = published.select([f"{c}_suppressed" for c in (*classes, "total")])
    return out.with_columns(
        pl.when(flags[f"{c}_suppressed"]).then(pl.lit(symbol)).otherwise(pl.col(label)).alias(label)
        for c, label in zip((*classes, "total"), labels, strict=True)
    )


def shown_tiles(tiles: Sequence[Tile]) -> list[Tile]:
    """Return headline tiles as they should be shown, judged together.

    Each tile goes through ``shown_tile``; in publication mode, a tile resting on a count of people
    that reads ``[c]`` (hours waiting and the waits of hidden people waiting, planned hours of hidden
    people in service) reads ``[c]`` too, so no tile sits beside a hidden count it would reveal.
    Medians of a group too small to show (``min_group_size``) read ``[c]``.
    """
    from analytics.publish.publication import HEADLINE_DERIVED, HEADLINE_MEDIANS

    shown_list = [shown_tile(t) for t in tiles]
    filters = shared.current_filters()
    if not publication_on() or filters is None or filters.locality is None:
        return shown_list
    r = rule()
    by_id = {t.indicator_id: (raw, t) for raw, t in zip(tiles, shown_list, strict=True)}
    hidden_counts = {i for i, (_, t) in by_id.items() if t.value is None and t.text == r.symbol}
    raw_values = {i: raw.value for i, (raw, _) in by_id.items()}
    out = []
    for tile in shown_list:
        base = HEADLINE_DERIVED.get(tile.indicator_id or "")
        median_base = HEADLINE_MEDIANS.get(tile.indicator_id or "")
        hide = base in hidden_counts
        if median_base is not None and median_base in raw_values:
            from analytics.publish.suppression import is_primary

            hide = raw_values.get(median_base) is None or is_primary(raw_values[median_base], r.min_group)
        if hide:
            tile = replace(tile, value=None, text=r.symbol, delta_month=None, delta_year=None, rag=None)
        out.append(tile)
    return out


def shown_tile(tile: Tile) -> Tile:
    """Return a headline tile as it should be shown: a locality's count of people rounded or ``[c]``."""
    from analytics.formatting import fmt_int
    from analytics.indicators.catalogue import load_catalogue
    from analytics.publish.suppression import is_primary, round_count

    filters = shared.current_filters()
    if not publication_on() or tile.value is None or filters is None or filters.locality is None:
        return tile
    item = load_catalogue().get(tile.indicator_id or "")
    if item is None or not item.counts_people:
        return tile
    r = rule()
    if is_primary(tile.value, r.threshold):
        return replace(tile, value=None, text=r.symbol, delta_month=None, delta_year=None, rag=None)
    rounded = round_count(tile.value, r.base)
    return replace(tile, value=rounded, text=fmt_int(rounded), delta_month=None, delta_year=None)


# ---------------------------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------------------------


def _file_stem(spec: ChartSpec) -> str:
    filters = shared.current_filters()
    parts = [spec.id]
    if filters is not None:
        parts += [filters.locality or "council", filters.month.isoformat()[:7]]
    return re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts)).strip("-").lower()


def _lazy(key: Callable[[], tuple], make: Callable[[], bytes]) -> Callable[[], bytes]:
    """Return a callable for ``st.download_button``: made on click, cached by ``key()`` (worked out then)."""

    def data() -> bytes:
        return _memo(key(), make)

    return data


def _picture(spec: ChartSpec, fmt: str, scale: float) -> bytes:
    """Return the chart's picture from the data store's picture cache, drawn on first ask.

    Kept per snapshot, chart, filters and figure (``analytics.publish.pictures``, audience
    ``download``), so it is drawn once for every session and across restarts. The first picture
    starts one kaleido browser, kept for the life of the server (``stay_warm``).
    """
    stay_warm()
    version = shared.live_version()
    cache = pictures.PictureCache(shared.data_dir(), shared.summary(version).drop_id) if version else None
    wanted = pictures.Picture(
        spec.figure,
        chart_id=spec.id,
        scope=pictures.scope_text(shared.current_filters()),
        audience="download",
        fmt=fmt,
        scale=scale,
    )
    return pictures.draw([wanted], cache)[0]


def _png(spec: ChartSpec) -> bytes:
    return _picture(spec, "png", 2)


def _svg(spec: ChartSpec) -> bytes:
    return _picture(spec, "svg", 1)


@dataclass(frozen=True)
class Download:
    """One download button of a chart: the file's extension, how to make it, and its wording."""

    ext: str
    label: str
    make: Callable[[ChartSpec], bytes]
    mime: str
    icon: str
    help: str | None = None
    picture: bool = False  # drawn by Chromium from the figure (else: the table)


DOWNLOADS = (
    Download(
        "png",
        "Chart as PNG",
        _png,
        "image/png",
        ":material/image:",
        "For Word, PowerPoint and email (1,800 pixels wide).",
        picture=True,
    ),
    Download(
        "svg",
        "Chart as SVG",
        _svg,
        "image/svg+xml",
        ":material/draw:",
        "Sharp at any size, for printed papers; the text stays text.",
        picture=True,
    ),
    Download("csv", "Table as CSV", chart_csv, "text/csv", ":material/csv:"),
    Download(
        "xlsx",
        "Table as Excel",
        chart_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ":material/table:",
    ),
)


def export_buttons(spec: ChartSpec) -> None:
    """Draw the download buttons of a chart (PNG, SVG, CSV, Excel).

    Downloads always leave in publication form (``published``), whatever the switch says: with
    publication mode on they are exactly what the screen shows. Nothing is published or rendered
    until a button is clicked.
    """
    # Publishing (counts by area, suppression, restyling) happens on a click, in each file's maker
    # (on Streamlit's download thread): done here it was 40% of a page's run on a filter change.
    # The session's part of the cache key is read now; the chart's data is hashed on a click (it was
    # hashed for every chart on every run, to name files nobody had asked for yet).
    parts = _key_parts(spec)
    publishing = _publishing(spec, parts=parts) if spec.data is not None else None

    def publish_now() -> ChartSpec:
        return publishing(_own_cursor) if publishing is not None else spec

    @functools.cache
    def key() -> tuple:
        return ("published", *_spec_key(spec, parts))

    stem = _file_stem(spec)
    pictures = spec.figure is not None
    no_browser = browser_path() is None
    picture_help = "Needs the Chromium browser on the server (apt-get install chromium)." if no_browser else None
    has_table = spec.data is not None
    with st.popover("Download", icon=":material/download:", key=f"download_{spec.id}"):
        for fmt in DOWNLOADS:
            st.download_button(
                fmt.label,
                data=_lazy(lambda ext=fmt.ext: (ext, *key()), lambda make=fmt.make: make(publish_now())),
                file_name=f"{stem}.{fmt.ext}",
                mime=fmt.mime,
                key=f"dl_{fmt.ext}_{spec.id}",
                icon=fmt.icon,
                disabled=(not pictures or no_browser) if fmt.picture else not has_table,
                help=(picture_help or fmt.help) if fmt.picture else fmt.help,
                on_click="ignore",
            )
        st.caption(
            "Downloads show the chart as it is on screen" + (", in publication mode." if publication_on() else ".")
        )


# ---------------------------------------------------------------------------------------------
# The briefing selection
# ---------------------------------------------------------------------------------------------


def briefing_items() -> list[BriefItem]:
    """Return the charts chosen for the briefing pack (kept in session state across pages)."""
    return st.session_state.setdefault(BRIEFING, [])


def _item_for(spec: ChartSpec) -> BriefItem | None:
    """Return the briefing item for a chart on the page (its registry id, filters and page choices)."""
    found = chart_registry.resolve(spec.id, st.session_state)
    filters = shared.current_filters()
    if found is None or filters is None:
        return None
    entry, params = found
    return BriefItem(entry.id, filters, tuple(sorted(params.items())))


def _toggle_item(item: BriefItem) -> None:
    items = briefing_items()
    if item in items:
        items.remove(item)
    else:
        items.append(item)


def add_to_briefing_button(spec: ChartSpec) -> None:
    """Draw "Add to briefing" (or "Remove from briefing") for a chart the registry knows."""
    item = _item_for(spec)
    if item is None:
        st.button(
            "Add to briefing",
            key=f"brief_{spec.id}",
            icon=":material/playlist_add:",
            disabled=True,
            help="This chart is not in the chart registry, so it cannot go in a briefing pack.",
        )
        return
    chosen = item in briefing_items()
    st.button(
        "Remove from briefing" if chosen else "Add to briefing",
        key=f"brief_{spec.id}",
        icon=":material/playlist_remove:" if chosen else ":material/playlist_add:",
        on_click=_toggle_item,
        args=(item,),
        help=f"{len(briefing_items())} chart(s) in the pack; build it on the Briefing pack page.",
    )


def chart_actions(spec: ChartSpec) -> None:
    """Draw the buttons under a chart (downloads, add to briefing); none in presentation mode."""
    if presentation_on():
        return
    with st.container(horizontal=True, key=f"chart-actions-{spec.id}", gap="small"):
        export_buttons(spec)
        add_to_briefing_button(spec)


__all__ = [
    "BRIEFING",
    "PRESENTATION",
    "PUBLICATION",
    "add_to_briefing_button",
    "apply_presentation",
    "briefing_items",
    "chart_actions",
    "export_buttons",
    "presentation_on",
    "read_url",
    "publication_on",
    "published",
    "shown",
    "shown_table",
    "shown_rural_split",
    "shown_tile",
    "shown_tiles",
    "sidebar_switches",
    "sync_url",
]
