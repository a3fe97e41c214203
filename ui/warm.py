"""Import everything the pages need once, in one thread, before the first sessions run.

Streamlit runs each browser session's script in its own thread. On a freshly started server the
first visitors' scripts would import pandas, pyarrow, polars, Plotly and our own modules at the
same moment in several threads; cyclic imports across threads give ``AttributeError: partially
initialized module 'pandas'`` to some of them. ``preload()`` imports them all under one lock:
``dev.py serve`` calls it before the server starts, and ``dashboard.py`` calls it first thing (for a
plain ``streamlit run dashboard.py``), so the other sessions wait for it instead of racing it.
``tests/test_e2e_access.py`` opens 12 sessions at once on a cold server and checks none fails.
What it loaded is then frozen out of the garbage collector's full passes (``gc.freeze``).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import pkgutil
import threading

_lock = threading.Lock()
_done = False

# Third-party modules first (in the order their own imports need), then ours.
MODULES = (
    "numpy",
    "pyarrow",
    "pandas",
    "polars",
    "duckdb",
    "narwhals",
    "plotly.graph_objects",
    "plotly.io",
    "plotly.express",
    "streamlit.dataframe_util",
    "streamlit.elements.plotly_chart",
    "analytics.config",
    "analytics.access",
    "analytics.publish.charts",
    "analytics.publish.exports",
    "analytics.publish.publication",
    "analytics.store.queries",
    "analytics.store.drop_diff",
    "analytics.store.snapshots",
    "analytics.ingest.upload",
    "analytics.ingest.report",
    "analytics.briefing.registry",
    "analytics.briefing.pack",
    "ui.shared",
    "ui.modes",
    "ui.render",
    "ui.access",
)


def _touch_plotly() -> None:
    """Plotly imports trace and layout classes lazily, on first use: build and serialise one figure."""
    import plotly.graph_objects as go

    figure = go.Figure([go.Bar(x=[1], y=[1]), go.Scatter(x=[1], y=[1]), go.Choroplethmap()])
    figure.update_layout(title="warm", xaxis_title="x", yaxis_title="y", legend_title="l")
    figure.to_json()


def preload() -> None:
    """Import every module the dashboard's pages use (once per process; later calls return at once)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        for name in MODULES:
            importlib.import_module(name)
        views = importlib.import_module("analytics.views")
        for info in pkgutil.iter_modules(views.__path__):
            importlib.import_module(f"analytics.views.{info.name}")
        _touch_plotly()
        # What is loaded now stays for the life of the process: frozen, it is left out of the
        # garbage collector's full passes. Plotly's validators, Streamlit and the rest are about
        # 160,000 objects, and a full pass over them took 90 to 130 ms, landing on whichever
        # script run allocated past the threshold (after: under 2 ms).
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)  # collected as usual at exit (DuckDB's bindings report what is left)
        _done = True
