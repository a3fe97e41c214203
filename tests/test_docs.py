"""Generated docs must match the code they are generated from (regenerate: python -m analytics docs)."""

from __future__ import annotations

from analytics.contract import CONTRACT
from analytics.docs_gen import DOCS, render_data_drops_markdown
from analytics.indicators.catalogue import render_indicators_markdown


def test_data_drops_doc_is_current():
    assert (DOCS / "data-drops.md").read_text(encoding="utf-8") == render_data_drops_markdown(), (
        "docs/data-drops.md is out of date: run python -m analytics docs"
    )


def test_indicators_doc_is_current():
    assert (DOCS / "indicators.md").read_text(encoding="utf-8") == render_indicators_markdown(), (
        "docs/indicators.md is out of date: run python -m analytics docs"
    )


def test_every_contract_column_is_documented():
    text = render_data_drops_markdown()
    for spec in CONTRACT:
        assert f"### `{spec.name}`" in text
        for column in spec.columns:
            assert f"| `{column.name}` |" in text
