"""Overview: headline tiles with change on last month and last year, what changed, and small trends."""

import streamlit as st

from analytics.views import overview
from ui import render

filters = render.start_page("Overview")
if filters is not None:
    view = render.cached(overview.overview, filters)
    render.area_caption(filters)
    render.show_tiles(view.tiles, month_label=view.month_label, year_label=view.year_label)
    render.show_sentences(view.sentences, heading=f"What changed since {view.month_label}")
    render.show_notes(view.notes)
    columns = st.columns(len(view.charts) or 1)
    for column, panel in zip(columns, view.charts, strict=False):
        with column:
            render.show_panel(panel)
