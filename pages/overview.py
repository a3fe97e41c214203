"""Overview: headline tiles with change on last month and last year, what changed, and small trends."""

import streamlit as st

from analytics.formatting import fmt_month, markdown_text
from analytics.views import overview
from ui import render, shared

shared.run_through_dashboard()

st.title("Overview")
if shared.require_data():
    filters = shared.current_filters()
    view = render.cached(overview.overview, filters)
    st.caption(markdown_text(f"{filters.area_label().capitalize()}, {fmt_month(filters.month)}"))
    render.show_tiles(view.tiles, month_label=view.month_label, year_label=view.year_label)
    render.show_sentences(view.sentences, heading=f"What changed since {view.month_label}")
    for note in view.notes:
        render.show_note(note)
    columns = st.columns(len(view.charts) or 1)
    for column, panel in zip(columns, view.charts, strict=False):
        with column:
            render.show_panel(panel)
