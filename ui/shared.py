"""Streamlit glue every page shares: the live-data connection, cached reads and the sidebar filters.

Not a page itself (``dashboard.py`` registers pages explicitly). Holds no analytics: it only
connects Streamlit's caching and widgets to functions in ``analytics``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import duckdb
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from analytics.config import default_data_dir
from analytics.store import queries
from analytics.store import snapshots as store
from analytics.views import filters as flt

FILTER_STATE = "filters"


def run_through_dashboard() -> None:
    """Make sure this script run went through ``dashboard.py`` and its ``st.navigation``; rerun if not.

    Call first in ``dashboard.py`` and in every page (``render.start_page`` does). Streamlit treats
    an app whose entry script sits beside a ``pages/`` folder as a legacy (v1) multipage app until
    ``st.navigation`` runs in the process, so the very first visitors of a fresh ``streamlit run
    dashboard.py`` would get the page file run alone (no sidebar, no filters) and a folder-style
    menu. This switches the legacy mode off for the process and, when the current run was started
    by Streamlit's legacy runner, asks for a rerun: the rerun goes through ``dashboard.py``. Every
    page's file stem equals its url path, so the legacy page and the registered page share a page
    hash and the rerun opens the page that was asked for (``tests/test_pages.py`` checks that rule).
    """
    PagesManager.uses_pages_directory = False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_mpa_v1":  # streamlit.runtime.scriptrunner.script_runner
            st.rerun()
        frame = frame.f_back


def data_dir() -> Path:
    """Return the data store folder (``MARKET_DATA_DIR`` or the config default)."""
    return default_data_dir()


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, inode: int, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    """One read-only connection per live file version (a new inode means a new snapshot)."""
    return store.open_live(Path(path).parent)


def live_version() -> tuple[str, int, int] | None:
    """Return the live snapshot's signature (changes when a refresh or rollback swaps a file in)."""
    return store.live_signature(data_dir())


_thread = threading.local()  # what a script run holds: a script run is one thread
T = TypeVar("T")


def held_for_run(name: str, version: tuple, make: Callable[[], T]) -> T:
    """Return ``make()``, made once per thread (a script run) while the snapshot ``version`` is live.

    For what a run asks for many times and that only a new snapshot changes (the cursor, the drop's
    gaps): each ask through Streamlit's cache or a new cursor costs most of a millisecond.
    """
    held = getattr(_thread, name, None)
    if held is None or held[0] != version:
        held = (version, make())
        setattr(_thread, name, held)
    return held[1]


def cursor() -> duckdb.DuckDBPyConnection:
    """Return this thread's cursor on the live snapshot: one per script run, never shared across threads.

    Kept for the thread while the snapshot stays live (``held_for_run``), so a run's cached reads
    share it (and the drop's date it has read): a cursor and its ``USE market`` cost about half a
    millisecond, and a page's first load makes up to eight cached reads.
    """
    version = live_version()
    if version is None:
        raise store.StoreError("no live data")
    return held_for_run("cursor", version, lambda: store.market_cursor(_connection(*version)))


def require_data() -> bool:
    """Show a clear message and return False when there is no live data yet."""
    if live_version() is not None:
        return True
    st.warning(
        "No data has been loaded yet. Run `python3 dev.py run` (loads the demo council) or "
        "`python -m analytics refresh DROP`, or upload a drop on the Data page."
    )
    return False


@st.cache_data(show_spinner=False, max_entries=8)
def summary(version: tuple[str, int, int]) -> queries.DropSummary:
    """The live drop's summary (cached per snapshot version)."""
    return queries.drop_summary(cursor())


@st.cache_data(show_spinner=False, max_entries=8)
def options(version: tuple[str, int, int]) -> queries.FilterOptions:
    """The sidebar filter choices in the live drop (cached per snapshot version)."""
    return queries.filter_options(cursor())


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def sidebar_filters() -> flt.Filters | None:
    """Draw the shared filters in the sidebar, keep them in the URL, and return them (None: no data)."""
    version = live_version()
    if version is None:
        return None
    opts = options(version)
    if "f_month" not in st.session_state:  # first run of this session: start from the URL
        start = flt.from_query_params(dict(st.query_params), opts)
        st.session_state.update(
            f_month=start.month,
            f_locality=start.locality or flt.ALL,
            f_service=start.service_type or flt.ALL,
            f_client=start.client_group or flt.ALL,
            f_funding=start.funding or flt.ALL,
            f_ptype=start.provider_type or flt.ALL,
        )
    if st.session_state.f_month not in opts.months:  # a new drop moved the months on
        st.session_state.f_month = opts.months[0]
    with st.sidebar:
        st.header("Filters")
        month = st.selectbox("As at month end", opts.months, key="f_month", format_func=lambda d: d.strftime("%B %Y"))
        locality = st.selectbox("Locality", [flt.ALL, *opts.localities], key="f_locality")
        service = st.selectbox("Service type", [flt.ALL, *opts.service_types], key="f_service", format_func=_label)
        client = st.selectbox("Client group", [flt.ALL, *opts.client_groups], key="f_client", format_func=_label)
        funding = st.selectbox("Funding", [flt.ALL, *opts.funding], key="f_funding", format_func=_label)
        ptype = st.selectbox("Provider type", [flt.ALL, *opts.provider_types], key="f_ptype", format_func=_label)
    chosen = flt.Filters(
        month=month,
        locality=None if locality == flt.ALL else locality,
        service_type=None if service == flt.ALL else service,
        client_group=None if client == flt.ALL else client,
        funding=None if funding == flt.ALL else funding,
        provider_type=None if ptype == flt.ALL else ptype,
    )
    wanted = flt.to_query_params(chosen)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[FILTER_STATE] = chosen
    return chosen


def current_filters() -> flt.Filters | None:
    """Return the filters chosen in the sidebar this run (set by ``dashboard.py``)."""
    chosen = st.session_state.get(FILTER_STATE)
    if chosen is not None:  # the usual case: the snapshot's signature (a stat of the live file) is not needed
        return chosen
    version = live_version()
    return None if version is None else flt.default_filters(options(version))


def with_month(filters: flt.Filters, month) -> flt.Filters:
    """Return ``filters`` for another month (for change-on-last-month comparisons)."""
    return replace(filters, month=month)
