"""Rural gaps: every key measure split rural / urban / unclassified, the rural waiting gap and waits by RUC class."""

import streamlit as st

from analytics.formatting import fmt_month, markdown_text
from analytics.views import rural
from ui import render, shared

shared.run_through_dashboard()

st.title("Rural gaps")
if shared.require_data():
    filters = shared.current_filters()
    view = render.cached(rural.rural_page, filters)
    st.caption(
        f"{markdown_text(filters.area_label().capitalize())}, {fmt_month(filters.month)}. "
        "Rural areas are those with a 2021 "
        "Rural-Urban Classification starting R (or a rural 2011 code); areas with no code are unclassified."
    )
    render.show_tiles(view.tiles)
    for note in view.notes:
        render.show_note(note)

    st.subheader("Rural, urban and unclassified areas")
    render.show_table(view.split_display, key="rural_split_table")
    render.show_chart(
        view.share_chart,
        indicator_ids=["measures_by_rural_class", "rural_share_planned_hours_pct", "rural_share_hours_waiting_pct"],
    )

    st.subheader("Do rural areas carry more of the waiting than of the care?")
    render.show_chart(view.gap_chart, indicator_ids=["rural_gap_waiting_share_pp"])

    st.subheader("How long people wait, by area type")
    render.show_chart(view.wait_chart, indicator_ids=["rural_urban_median_wait_ratio", "median_wait_days"])
    render.show_chart(view.ruc21_chart, indicator_ids=["median_wait_days", "p90_wait_days"])
