"""Microenterprises: count, customers and hours over time, by locality and rural class, against comparators."""

import streamlit as st

from analytics.formatting import markdown_text
from analytics.views import microenterprises
from ui import render

filters = render.start_page("Microenterprises")
if filters is not None:
    options = microenterprises.ratio_options()
    ratio = st.selectbox("Ratio", list(options), format_func=options.get, key="me_ratio")
    view = render.cached(microenterprises.microenterprises, filters, ratio)
    render.show_panel(view.count)
    render.show_panel(view.ratio)
    st.subheader("Against the comparator programmes")
    render.show_table(view.comparison, key="me_comparison")
    render.show_panel(view.by_area)
    st.subheader("Areas with demand but no microenterprise")
    st.markdown(markdown_text(view.areas_sentence))
    render.show_table(view.areas_without, key="me_areas_without")
    render.show_notes(view.notes)
