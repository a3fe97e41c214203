"""Overview: headline tiles with change on last month and last year, what changed, and small trends.

In presentation mode the page is the summary a cabinet member reads first, as one 16:9 view: the
same 8 tiles and key messages as page 1 of the briefing pack. In publication mode tiles and
"What changed" are built from the published (rounded and suppressed) figures.
"""

import streamlit as st

from analytics.briefing import summary
from ui import modes, render

filters = render.start_page("Overview")
if filters is not None and modes.presentation_on():
    view = render.cached(summary.summary, filters, published=modes.publication_on())
    render.show_summary(view)
elif filters is not None:
    view = render.cached(summary.overview_view, filters, modes.publication_on())
    render.area_caption(filters)
    render.show_tiles(view.tiles, month_label=view.month_label, year_label=view.year_label)
    render.show_sentences(view.sentences, heading=f"What changed since {view.month_label}")
    render.show_notes(view.notes)
    columns = st.columns(len(view.charts) or 1)
    for column, panel in zip(columns, view.charts, strict=False):
        with column:
            render.show_panel(panel)
