"""Data: what is loaded — as-of date, the drop's files, history and data-quality warnings."""

import streamlit as st

from analytics import queries
from pages import shared

st.title("Data")
if shared.require_data():
    cur = shared.cursor()
    drop = queries.drop_summary(cur)
    st.markdown(
        f"**{drop.council_name or 'Council'}**{' (synthetic demo data)' if drop.synthetic else ''} · "
        f"data as at **{drop.as_of:%d %B %Y}** · drop `{drop.drop_id}` loaded {drop.loaded_at} by {drop.loaded_by}"
    )
    st.subheader("Files in the live drop")
    st.dataframe(queries.file_summary(cur), hide_index=True, key="files_table")
    st.subheader("Drops loaded")
    st.dataframe(queries.drop_history(cur), hide_index=True, key="history_table")
    st.subheader("Data-quality warnings")
    warnings = queries.data_warnings(cur)
    if warnings.height:
        st.dataframe(warnings, hide_index=True, key="warnings_table")
    else:
        st.success("No warnings for this drop.")
