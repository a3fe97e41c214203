"""Provider exit and demand: what if a provider left tomorrow, and will today's capacity meet future demand?"""

import streamlit as st

from analytics.formatting import markdown_text
from analytics.views import exit_demand
from ui import modes, render

filters = render.start_page("Provider exit and demand")
if filters is not None:
    # The stress test and the projection read the month and locality only: other filters rebuild nothing.
    area = filters.only("locality")
    ranking = render.cached(exit_demand.ranking_view, area)
    render.area_caption(filters)

    st.header("If a provider left tomorrow")
    if not ranking.options:
        st.info("No provider has active packages here on this date.")
    else:
        labels = dict(ranking.options)
        if st.session_state.get("exit_provider") not in labels:  # filters changed the provider list
            st.session_state["exit_provider"] = ranking.default_provider
        provider = st.selectbox(
            "Provider leaving (listed by the hours its exit would leave uncovered)",
            list(labels),
            format_func=labels.get,
            key="exit_provider",
        )
        view = render.cached(exit_demand.exit_view, area, provider, modes.publication_on())
        st.subheader(markdown_text(view.title))
        render.show_tiles(view.tiles, columns=5)
        render.show_notes(exit_demand.page_notes(filters, modes.publication_on()))
        render.show_chart(view.map_chart, indicator_ids=["exit_uncovered_hours_by_provider"])
        render.show_chart(view.outcome_chart, indicator_ids=["exit_uncovered_hours_by_provider"])
        with st.expander("Displaced people and hours by area and locality", icon=":material/table:"):
            render.show_table(view.by_area, key="exit_by_area_table")
            render.show_table(view.by_locality, key="exit_by_locality_table")
        render.show_sentences(view.assumptions, heading="Assumptions")

    st.header("Which providers would be difficult to replace?")
    st.markdown(markdown_text(ranking.sentence))
    render.show_table(ranking.display, key="exit_ranking_table", height=420)
    render.show_definitions(
        ["providers_difficult_to_replace", "providers_market_oversight"], key="definition_exit_ranking"
    )

    st.header("Demand over the next five years")
    growth = st.slider(
        "Growth of the population aged 65 years and over (% a year)",
        min_value=0.0,
        max_value=5.0,
        value=exit_demand.default_growth(),
        step=0.1,
        format="%.1f%%",
        key="growth_rate",
    )
    projection = render.cached(exit_demand.projection_view, area, float(growth))
    render.show_tiles(projection.tiles, columns=3)
    render.show_chart(
        projection.chart,
        indicator_ids=[
            "projection_hours_needed_final_year",
            "projection_capacity_hours",
            "projection_shortfall_hours_final_year",
        ],
    )
    render.show_sentences(projection.assumptions, heading="Projection assumptions")
