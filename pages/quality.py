"""Quality and market dynamics: rating mix and changes, stale ratings, entries and exits, delivery, early warning."""

import streamlit as st

from analytics.views import quality
from ui import render

filters = render.start_page("Quality and market dynamics")
if filters is not None:
    # Each part cached on what it depends on: a filter a part ignores does not rebuild it.
    view = quality.assemble(
        quality.page_notes(filters),
        render.cached(quality.area_part, filters.only("locality", "service_type")),
        render.cached(quality.ratings_part),
        render.cached(quality.council_part, filters.only()),
    )
    render.show_section(
        "Provider early-warning list",
        view.warning_sentence,
        view.warning,
        view.warning_table,
        key="early_warning_table",
    )
    st.header("Quality")
    render.show_panel(view.rating_mix)
    render.show_panel(view.rating_changes)
    render.show_table(view.rating_changes_table, key="quality_largest_table")
    render.show_panel(view.stale)
    with st.expander("Providers with unrated, out-of-date or undated ratings", icon=":material/table:"):
        render.show_table(view.stale_table, key="quality_stale_table")
    st.header("Market dynamics")
    render.show_panel(view.churn)
    render.show_panel(view.delivery)
    render.show_panel(view.red)
    for note in view.notes:
        render.show_note(note)
