"""Generated docs match their code (regenerate: python -m analytics docs) and cite only public sources."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from analytics.config import PROJECT_ROOT
from analytics.contract import CONTRACT
from analytics.docs_gen import DOCS, render_data_drops_markdown
from analytics.indicators.catalogue import (
    LOCAL_CHOICE,
    CatalogueError,
    load_catalogue,
    load_sources,
    render_indicators_markdown,
)


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


# -- Self-contained documentation: every source is a public publication -------------------------

# Built from pieces so this file does not match itself.
PRIVATE_REFERENCES = tuple(
    name.encode()
    for name in ("DOMAIN" + ".md", "DATA_CONTRACT" + ".md", "TECH_NOTES" + ".md", "STYLE" + ".md", "../" + "shared")
)


def _tracked_files() -> list[Path]:
    """Every file git tracks in this checkout (falls back to a walk when git is not available)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True, timeout=60
        ).stdout
        return [PROJECT_ROOT / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "data", "build", "node_modules", "__pycache__"}
        return [p for p in PROJECT_ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]


def test_no_file_cites_a_document_outside_the_repository():
    files = [p for p in _tracked_files() if p.is_file()]
    assert len(files) > 50
    hits = [
        f"{p.relative_to(PROJECT_ROOT)}: {ref.decode()}"
        for p in files
        for ref in PRIVATE_REFERENCES
        if ref in p.read_bytes()
    ]
    assert not hits, "cite the public publication instead of a private file:\n" + "\n".join(hits)


def test_every_catalogue_source_names_a_publisher_or_says_local_choice():
    publishers = {s.publisher for s in load_sources().values()}
    assert {
        "ONS",
        "CQC",
        "NHS England",
        "Homecare Association",
        "DHSC",
        "ADASS",
        "CMA",
        "Skills for Care",
    } <= publishers
    bad = [
        f"{item.id}: {item.source}"
        for item in load_catalogue().values()
        if LOCAL_CHOICE not in item.source and not any(name in item.source for name in publishers)
    ]
    assert not bad, f"sources naming none of {sorted(publishers)} and not '{LOCAL_CHOICE}':\n" + "\n".join(bad)


def test_every_listed_source_is_cited_and_listed_in_full_in_the_indicators_doc():
    cited = " ".join(item.source for item in load_catalogue().values())
    cited += (PROJECT_ROOT / "config.toml").read_text(encoding="utf-8")
    doc = render_indicators_markdown()
    sources = load_sources().values()
    assert len(sources) >= 15
    for source in sources:
        assert source.short in cited, f"{source.id}: {source.short!r} is cited nowhere; cite it or remove it"
        assert f"- **{source.short}**: {source.title}" in doc
        assert not source.url or source.url.startswith("https://"), source.id


def test_a_source_whose_short_form_does_not_name_its_publisher_is_refused(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nid = "x"\nshort = "Minimum Price 2025-26"\npublisher = "Homecare Association"\n'
        'title = "t"\nyear = "2025"\nurl = ""\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="short must start with the publisher"):
        load_sources(path)
