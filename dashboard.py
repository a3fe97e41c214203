"""Home care market sufficiency dashboard: the entry point.

Registers every page with ``st.navigation`` in named groups and draws the shared sidebar
filters (as-of month, locality, service type, client group, funding, provider type), which
persist across pages and live in the URL. Run with ``python3 dev.py run``.
"""

import streamlit as st

from pages import shared

st.set_page_config(page_title="Home care market sufficiency", page_icon=":material/home_health:", layout="wide")

PAGES = {
    "Data": [
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    ],
}

navigation = st.navigation(PAGES)
version = shared.live_version()
if version is not None:
    drop = shared.summary(version)
    st.sidebar.caption(
        f"**{drop.council_name or 'Council'}** · data as at {drop.as_of:%d %B %Y}"
        + (" · synthetic demo data" if drop.synthetic else "")
    )
    shared.sidebar_filters()
navigation.run()
