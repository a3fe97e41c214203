"""Reading what an AppTest run of a page drew (shared by tests/test_pages*.py)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def chart_titles(at: AppTest) -> dict[str, str]:
    """Return ``{chart title: subtitle}`` of every plotly chart on the page."""
    out = {}
    for element in at.get("plotly_chart"):
        title = json.loads(element.proto.spec)["layout"]["title"]
        out[title["text"]] = title.get("subtitle", {}).get("text", "")
    return out
