"""Page views: what each dashboard page shows, as frames, numbers, sentences and ``ChartSpec``s.

One module per page (``overview``, ``coverage``, ``providers``, ``microenterprises``, ...). Every
function takes a DuckDB cursor on the live snapshot (or frames already read) plus an
``analytics.views.filters.Filters`` and plain parameters, and returns plain data. Nothing here imports
Streamlit: ``pages/*.py`` read widgets, call these functions and render with ``ui/render.py``.
``common`` holds the pieces every view shares (headline tiles, chart wording, change sentences).
"""
