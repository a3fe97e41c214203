"""Workforce and fees: provider vacancy and turnover, and the council's rates against cost benchmarks."""

import streamlit as st

from analytics.formatting import fmt_month, markdown_text
from analytics.views import workforce_fees
from ui import render, shared

shared.run_through_dashboard()

MEASURES = {"vacancy": "Vacancy rate", "turnover": "Turnover rate"}

st.title("Workforce and fees")
if shared.require_data():
    filters = shared.current_filters()
    measure = st.radio(
        "Workforce measure by provider",
        list(MEASURES),
        format_func=MEASURES.get,
        horizontal=True,
        key="wf_measure",
    )
    view = render.cached(workforce_fees.workforce_fees_page, filters, measure)
    st.caption(markdown_text(f"{filters.area_label().capitalize()}, {fmt_month(filters.month)}"))
    render.show_tiles(view.tiles, columns=3)
    for note in view.notes:
        render.show_note(note)

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
