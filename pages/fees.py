"""Workforce and fees: provider vacancy and turnover, and the council's rates against cost benchmarks."""

import streamlit as st

from analytics.views import workforce_fees
from ui import render

MEASURES = {"vacancy": "Vacancy rate", "turnover": "Turnover rate"}

filters = render.start_page("Workforce and fees")
if filters is not None:
    measure = st.radio(
        "Workforce measure by provider",
        list(MEASURES),
        format_func=MEASURES.get,
        horizontal=True,
        key="wf_measure",
    )
    # Each part cached on what it depends on: a filter or measure a part ignores does not rebuild it.
    area = filters.only("locality")
    view = workforce_fees.assemble(
        filters,
        render.cached(workforce_fees.workforce_part, area),
        render.cached(workforce_fees.provider_part, area, measure),
        render.cached(workforce_fees.fees_part, filters.only("locality", "service_type")),
        render.cached(workforce_fees.rates_part, filters.locality),
    )
    render.area_caption(filters)
    render.show_tiles(view.tiles, columns=3)
    render.show_notes(view.notes)

    st.subheader("Workforce")
    render.show_chart(view.provider_chart, indicator_ids=[f"{measure}_rate_pct", "hours_weighted_vacancy_rate"])
    render.show_chart(view.workforce_chart, indicator_ids=["vacancy_rate_pct", "turnover_rate_pct"])

    st.subheader("Fees against the cost of care")
    render.show_chart(
        view.rate_chart,
        indicator_ids=["weighted_hourly_rate", "fee_gap_to_minimum_price", "fee_gap_to_fair_cost_of_care"],
    )
    render.show_chart(view.gap_cost_chart, indicator_ids=["annual_cost_to_close_minimum_price_gap"])
    render.show_chart(view.provider_rate_chart, indicator_ids=["weighted_hourly_rate", "rate_coverage_pct"])
    with st.expander("Every provider's hourly rate", icon=":material/table:"):
        render.show_table(view.provider_rates, key="fees_provider_rates_table")
