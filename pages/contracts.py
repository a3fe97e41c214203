"""Contracts and decisions: contract timeline and decisions due, lots and their cover, the microenterprise programme."""

import streamlit as st

from analytics.views import contracts
from ui import render

filters = render.start_page("Contracts and decisions")
if filters is not None:
    primary = st.slider(
        "Primary providers per lot (lot cover check)", min_value=1, max_value=8, value=2, key="lots_primary"
    )
    # Each part cached on what it depends on: a filter the contracts ignore rebuilds only the notes.
    view = contracts.assemble(
        render.cached(contracts.page_notes, filters),
        render.cached(contracts.contracts_part, filters.locality),
        render.cached(contracts.lots_part, primary),
        render.cached(contracts.programme_part),
    )
    for note in view.notes:
        render.show_note(note)
    st.header("Contracts and the decisions they need")
    if not view.has_contracts:
        st.info(view.empty_message)
    else:
        render.show_sentences(view.sentences)
        render.show_panel(view.timeline)
        st.subheader("Decisions due in the next 18 months")
        render.show_table(view.decisions, key="contracts_decisions")
        render.show_panel(view.share)
        with st.expander("Every contract", icon=":material/table:"):
            render.show_table(view.contracts, key="contracts_all")
        st.subheader("Procurement milestones")
        render.show_table(view.milestones, key="contracts_milestones")
    render.show_section("Lots", view.lots_sentence, view.lots, view.lots_table, key="lots_table")
    st.header("Microenterprise programme: evidence for the extension decision")
    render.show_sentences(view.programme_sentences)
    if view.programme is not None:
        render.show_panel(view.programme)
        render.show_panel(view.programme_trend)
        render.show_table(view.programme_table, key="me_programme_table")
