"""Rural gaps: every key measure split rural / urban / unclassified, the rural waiting gap and waits by RUC class."""

import streamlit as st

from analytics.views import rural
from ui import modes, render

filters = render.start_page("Rural gaps")
if filters is not None:
    view = render.cached(rural.rural_page, filters)
    render.area_caption(
        filters,
        "Rural areas are those with a 2021 Rural-Urban Classification starting R (or a rural 2011 code); "
        "areas with no code are unclassified.",
    )
    render.show_tiles(view.tiles)
    render.show_notes(view.notes)

    st.subheader("Rural, urban and unclassified areas")
    render.show_table(modes.shown_rural_split(view.split, view.split_display), key="rural_split_table")
    render.show_chart(
        view.share_chart,
        indicator_ids=["measures_by_rural_class", "rural_share_planned_hours_pct", "rural_share_hours_waiting_pct"],
    )

    st.subheader("Do rural areas carry more of the waiting than of the care?")
    render.show_chart(view.gap_chart, indicator_ids=["rural_gap_waiting_share_pp"])

    st.subheader("How long people wait, by area type")
    render.show_chart(view.wait_chart, indicator_ids=["rural_urban_median_wait_ratio", "median_wait_days"])
    render.show_chart(view.ruc21_chart, indicator_ids=["median_wait_days", "p90_wait_days"])
