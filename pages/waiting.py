"""Waiting and sourcing: people and hours waiting, how long they have waited, how fast care is found, where."""

import streamlit as st

from analytics.formatting import fmt_month, markdown_text
from analytics.views import waiting
from ui import render, shared

shared.run_through_dashboard()

st.title("Waiting and sourcing")
if shared.require_data():
    filters = shared.current_filters()
    view = render.cached(waiting.waiting_page, filters)
    st.caption(markdown_text(f"{filters.area_label().capitalize()}, {fmt_month(filters.month)}"))
    render.show_tiles(view.tiles, columns=3)
    render.show_sentences(view.sentences)
    for note in view.notes:
        render.show_note(note)

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
