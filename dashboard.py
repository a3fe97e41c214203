"""Home care market sufficiency dashboard: the entry point.

Registers every page with ``st.navigation`` in named groups and draws the shared sidebar
filters (as-of month, locality, service type, client group, funding, provider type), which
persist across pages and live in the URL. Run with ``python3 dev.py run``.

Sign-in and roles (``ui.access``): the run stops at a clear page when the server must not serve
data (a non-local address without sign-in), when nobody is signed in, or when the account has no
role; public users get publication mode and no provider-identifying page.
"""

import streamlit as st

from ui import warm

warm.preload()  # a fresh server's first sessions import in one thread, not racing each other

from ui import access, modes, shared  # noqa: E402 - after the preload above

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

access.gate(PAGES)  # stops here with a clear page: not serving data, signed out, or no role
navigation = st.navigation(access.navigation_pages(PAGES))
modes.read_url()  # ?present=1, read before the filters rewrite the address
version = shared.live_version()
if version is not None:
    drop = shared.summary(version)
    st.sidebar.caption(
        f"**{drop.council_name or 'Council'}** · data as at {drop.as_of:%d %B %Y}"
        + (" · synthetic demo data" if drop.synthetic else "")
    )
    shared.sidebar_filters()
modes.sidebar_switches(lock_publication=access.force_publication(modes.PUBLICATION))
access.sidebar()
modes.apply_presentation()
navigation.run()
