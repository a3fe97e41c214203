"""Home care market sufficiency dashboard: the entry point.

Registers every page with ``st.navigation`` in named groups and draws the shared sidebar
filters (as-of month, locality, service type, client group, funding, provider type), which
persist across pages and live in the URL. Run with ``python3 dev.py run``.
"""

import streamlit as st

from ui import modes, shared

shared.run_through_dashboard()
st.set_page_config(page_title="Home care market sufficiency", page_icon=":material/home_health:", layout="wide")

PAGES = {
    "Overview": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    ],
    "Is there enough care?": [
        st.Page("pages/coverage.py", title="Map and coverage", icon=":material/map:", url_path="coverage"),
        st.Page("pages/waiting.py", title="Waiting and sourcing", icon=":material/hourglass:", url_path="waiting"),
        st.Page("pages/rural.py", title="Rural gaps", icon=":material/landscape:", url_path="rural"),
        st.Page(
            "pages/microenterprises.py",
            title="Microenterprises",
            icon=":material/storefront:",
            url_path="microenterprises",
        ),
    ],
    "Is the market fragile?": [
        st.Page("pages/market.py", title="Providers and concentration", icon=":material/groups:", url_path="market"),
        st.Page("pages/exit.py", title="Provider exit and demand", icon=":material/warning:", url_path="exit"),
        st.Page("pages/fees.py", title="Workforce and fees", icon=":material/payments:", url_path="fees"),
        st.Page(
            "pages/quality.py", title="Quality and market dynamics", icon=":material/verified:", url_path="quality"
        ),
    ],
    "What must we decide?": [
        st.Page("pages/contracts.py", title="Contracts and decisions", icon=":material/gavel:", url_path="contracts"),
    ],
    "Data and outputs": [
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
        st.Page("pages/briefing.py", title="Briefing pack", icon=":material/picture_as_pdf:", url_path="briefing"),
    ],
}

navigation = st.navigation(PAGES)
modes.read_url()  # ?present=1, read before the filters rewrite the address
version = shared.live_version()
if version is not None:
    drop = shared.summary(version)
    st.sidebar.caption(
        f"**{drop.council_name or 'Council'}** · data as at {drop.as_of:%d %B %Y}"
        + (" · synthetic demo data" if drop.synthetic else "")
    )
    shared.sidebar_filters()
modes.sidebar_switches()
modes.apply_presentation()
navigation.run()
