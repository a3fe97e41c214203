"""Keyed interaction tests for the second half of the pages (rural gaps, waiting, workforce and fees,
provider exit and demand), run with AppTest on the demo store.

Pages are reached from ``dashboard.py`` with ``switch_page`` (a rerun on the default page does not
re-execute the script under ``st.navigation``). ``steady_navigation`` keeps Streamlit's v1
pages-directory mode off, as ``tests/test_pages.py`` explains: ``pages/waiting.py`` has the url path
``waiting``, which would otherwise run the page file alone, without the sidebar.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest_support import chart_titles
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboard.py"
TIMEOUT = 60
PAGES = {
    "pages/rural.py": "Rural gaps",
    "pages/waiting.py": "Waiting and sourcing",
    "pages/fees.py": "Workforce and fees",
    "pages/exit.py": "Provider exit and demand",
}


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", list(PAGES))
def test_page_runs_with_title_tiles_and_charts(app: AppTest, page: str) -> None:
    at = open_page(app, page)
    assert at.title[0].value == PAGES[page]
    assert at.metric, "headline tiles"
    titles = chart_titles(at)
    assert len(titles) >= 2
    assert all("October 2026" in s or "2026/27" in s for s in titles.values()), titles
    assert at.selectbox(key="f_locality").value == "All", "dashboard.py ran: the sidebar is there"


@pytest.mark.parametrize("page", list(PAGES))
def test_page_runs_under_a_locality_filter(app: AppTest, page: str) -> None:
    at = open_page(app, page)
    before = chart_titles(at)
    at.selectbox(key="f_locality").select("Fellside").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == PAGES[page]
    after = chart_titles(at)
    assert any("Fellside" in s for s in after.values()), after
    assert before != after


def test_rural_page_shows_the_split_table(app: AppTest) -> None:
    at = open_page(app, "pages/rural.py")
    split = next(f.value for f in at.dataframe if "Unclassified" in f.value.columns)
    assert list(split.columns) == ["Measure", "Rural", "Urban", "Unclassified", "Total"]
    assert "People waiting" in split["Measure"].tolist()
    assert any(t.startswith("Rural waits so far are") for t in chart_titles(at))


def test_choosing_a_provider_changes_displaced_hours(app: AppTest) -> None:
    at = open_page(app, "pages/exit.py")
    box = at.selectbox(key="exit_provider")
    assert box.value == "AG01", "default: the provider whose exit leaves most hours uncovered"
    assert box.options[0].startswith("Fellcare Homecare Ltd (AG01)")
    before = metrics(at)
    first_title = [s.value for s in at.subheader]
    box.select("AG17").run()
    assert not at.exception
    after = metrics(at)
    assert at.selectbox(key="exit_provider").value == "AG17"
    assert before["Hours displaced"] == "6,083"
    assert after["Hours displaced"] == "1,892"
    assert after["Hours uncovered"] == "0"
    assert any("Greystone Homecare" in s.value for s in at.subheader)
    assert first_title != [s.value for s in at.subheader]


def test_moving_the_growth_slider_changes_projected_hours(app: AppTest) -> None:
    at = open_page(app, "pages/exit.py")
    slider = at.slider(key="growth_rate")
    assert slider.value == pytest.approx(1.8)
    label = next(k for k in metrics(at) if k.startswith("Hours a week needed in"))
    before = metrics(at)[label]
    slider.set_value(4.0).run()
    assert not at.exception
    after = metrics(at)[label]
    assert before == "28,443 hours"
    assert after == "31,652 hours"
    assert any("4.0% growth" in t for t in chart_titles(at))


def test_workforce_measure_switches_the_provider_chart(app: AppTest) -> None:
    at = open_page(app, "pages/fees.py")
    assert any("vacancy rates above the national" in t for t in chart_titles(at))
    at.radio(key="wf_measure").set_value("turnover").run()
    assert not at.exception
    assert any("turnover rate" in t and "24.7%" in t for t in chart_titles(at))


def test_exit_provider_resets_when_the_locality_drops_it(app: AppTest) -> None:
    at = open_page(app, "pages/exit.py")
    at.selectbox(key="exit_provider").select("AG02").run()  # Heronsgate Care Services: no packages in Fellside
    assert metrics(at)["Hours displaced"] == "1,367"
    at.selectbox(key="f_locality").select("Fellside").run()
    assert not at.exception
    box = at.selectbox(key="exit_provider")
    assert box.value == "AG04", "back to the default: the Fellside provider whose exit leaves most uncovered"
    assert box.options[0].startswith("Fellside Community Care (AG04)")
    assert metrics(at)["Hours displaced"] == "1,144"
