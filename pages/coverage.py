"""Map and coverage: a ward map of a chosen measure with thin-market areas marked, and the area table."""

import streamlit as st

from analytics.formatting import markdown_text
from analytics.views import coverage
from ui import render

filters = render.start_page("Map and coverage")
if filters is not None:
    options = coverage.measure_options()
    measure = st.selectbox("Measure on the map", list(options), format_func=options.get, key="coverage_measure")
    view = render.cached(coverage.coverage, filters, measure)
    st.markdown(markdown_text(view.summary))
    map_column, table_column = st.columns([3, 2])
    with map_column:
        render.show_panel(view.map)
    with table_column:
        st.subheader("Areas")
        render.show_table(view.table, key="coverage_table", height=560)
    render.show_notes(view.notes)
