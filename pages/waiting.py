"""Waiting and sourcing: people and hours waiting, how long they have waited, how fast care is found, where."""

import streamlit as st

from analytics.views import waiting
from ui import render

filters = render.start_page("Waiting and sourcing")
if filters is not None:
    # Requests carry only an area: the figures are built once per month and locality, whatever else is chosen.
    view = render.cached(waiting.waiting_page, filters.only("locality"))
    render.area_caption(filters)
    render.show_tiles(view.tiles, columns=3)
    render.show_sentences(view.sentences)
    render.show_notes(waiting.page_notes(filters))

    st.subheader("Is the backlog rising?")
    render.show_chart(view.people_chart, indicator_ids=["people_waiting"])
    render.show_chart(view.hours_chart, indicator_ids=["hours_waiting"])

    st.subheader("How long have people waited?")
    render.show_chart(view.wait_days_chart, indicator_ids=["median_wait_days", "p90_wait_days"])
    render.show_chart(view.histogram_chart, indicator_ids=["requests_waiting"])

    st.subheader("How fast is care found?")
    render.show_chart(
        view.sourcing_chart,
        indicator_ids=["sourced_within_7_days_pct", "sourced_within_14_days_pct", "sourced_within_28_days_pct"],
    )

    st.subheader("Where are people waiting?")
    render.show_chart(view.locality_chart, indicator_ids=["hours_waiting"])
    if filters.locality:
        render.show_note("The locality chart shows every locality so the chosen one can be compared.")
    render.show_chart(view.area_chart, indicator_ids=["hours_waiting", "people_waiting"])
