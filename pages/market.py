"""Providers and concentration: shares of hours, CR1/CR3/HHI by locality, the provider table and a drill-down."""

import streamlit as st

from analytics.views import providers
from ui import render

filters = render.start_page("Providers and concentration")
if filters is not None:
    # The client group and funding filters shape nothing here: built once for every choice of them.
    view = render.cached(providers.providers, filters.only("locality", "service_type", "provider_type"))
    render.show_panel(view.shares)
    render.show_panel(view.concentration)
    st.markdown(view.bands)
    render.show_table(view.concentration_table, key="concentration_table")

    st.subheader("Providers")
    types, ratings = providers.table_choices(view.providers)
    pick_type, pick_rating = st.columns(2)
    chosen_types = pick_type.multiselect("Provider type", types, key="providers_type")
    chosen_ratings = pick_rating.multiselect("CQC rating", ratings, key="providers_rating")
    shown = providers.filter_table(view.providers, types=chosen_types, ratings=chosen_ratings)
    render.show_table(providers.provider_table(shown), key="providers_table")
    render.show_notes(providers.page_notes(filters))

    st.subheader("One provider over time")
    options = providers.provider_options(shown if shown.height else view.providers)
    if options:
        chosen = st.selectbox("Provider", list(options), format_func=options.get, key="provider_drilldown")
        panels = render.cached(providers.provider_trend, filters.only("locality", "service_type"), chosen)
        for column, panel in zip(st.columns(2), panels[:2], strict=False):
            with column:
                render.show_panel(panel)
        for panel in panels[2:]:
            render.show_panel(panel)
    else:
        st.info("No provider matches these filters.")
