"""The indicator catalogue: valid, unique, tied to config thresholds and to every headline key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from analytics.config import settings
from analytics.indicators import catalogue
from analytics.indicators.catalogue import (
    DOMAINS,
    REQUIRED_KEYS,
    CatalogueError,
    by_headline_key,
    indicator,
    load_catalogue,
    rag_status,
    render_indicators_markdown,
)
from analytics.indicators.headline import headline
from analytics.ingest.staged import Staged

D = date(2025, 3, 31)

GOOD = """
[[indicator]]
id = "{id}"
title = "A title"
domain = "Supply"
definition = "What it is."
formula = "How it is worked out."
unit = "people"
grain = "area x month"
source = "ADASS, snapshot surveys 2021 to 2023"
caveats = "None."
counts_people = true
good_direction = "none"
{extra}
"""


def _write(folder: Path, name: str, *entries: str) -> Path:
    (folder / name).write_text("\n".join(entries), encoding="utf-8")
    return folder


def _entry(id_: str = "x_one", extra: str = "") -> str:
    return GOOD.format(id=id_, extra=extra)


def test_catalogue_loads_with_unique_snake_case_ids():
    cat = load_catalogue()
    assert len(cat) >= 30
    assert all(key == item.id for key, item in cat.items())
    assert all(item.domain in DOMAINS for item in cat.values())


def test_every_rag_key_exists_in_config():
    thresholds = settings()["thresholds"]
    rags = [item for item in load_catalogue().values() if item.rag is not None]
    assert rags, "expected some indicators with thresholds"
    for item in rags:
        for key, value in ((item.rag.amber_key, item.rag.amber), (item.rag.red_key, item.rag.red)):
            if key is not None:
                assert key in thresholds, f"{item.id}: {key}"
                assert value == float(thresholds[key])


def _fixture_staged() -> Staged:
    areas = pl.DataFrame(
        {"area_code": ["A1", "A2"], "area_name": ["a", "b"], "locality": ["N", "S"], "ruc21": ["RLN1", "UN1"]}
    )
    providers = pl.DataFrame(
        {"provider_id": ["P1", "M1"], "provider_name": ["p", "m"], "provider_type": ["agency", "microenterprise"]}
    )
    packages = pl.DataFrame(
        {
            "package_id": ["K1", "K2"],
            "person_id": ["X1", "X2"],
            "area_code": ["A1", "A2"],
            "provider_id": ["P1", "M1"],
            "start_date": [date(2024, 1, 1)] * 2,
            "planned_hours_per_week": [10.0, 3.0],
        }
    )
    requests = pl.DataFrame(
        {
            "request_id": ["R1"],
            "person_id": ["Y1"],
            "area_code": ["A1"],
            "requested_date": [date(2025, 3, 1)],
            "hours_per_week": [4.0],
        }
    )
    return Staged.from_frames(D, areas=areas, providers=providers, packages=packages, requests=requests)


@pytest.mark.parametrize("drop", ["fixture", "empty"])
def test_every_headline_key_has_a_catalogue_entry(drop):
    staged = _fixture_staged() if drop == "fixture" else Staged.from_frames(D)
    keys = set(headline(staged)) - {"as_of"}
    missing = sorted(keys - set(by_headline_key()))
    assert not missing, f"headline keys without a catalogue entry (headline_key = ...): {missing}"


def test_rag_status():
    # hhi: amber above 1,000, red above 2,000 (strictly)
    assert rag_status("hhi", 1000) == "green"
    assert rag_status("hhi", 1000.01) == "amber"
    assert rag_status("hhi", 2000) == "amber"
    assert rag_status("hhi", 2000.5) == "red"
    assert rag_status("hhi", None) is None
    # cr1: amber only, above 30
    assert rag_status("cr1_pct", 30) == "green"
    assert rag_status("cr1_pct", 100) == "amber"
    # no thresholds
    assert rag_status("people_in_service", 5) is None


def test_rag_lower_is_worse():
    rag = catalogue.Rag("lower_is_worse", "a", "r", amber=95.0, red=90.0)
    assert [rag.status(v) for v in (96, 95, 94.9, 90, 89)] == ["green", "green", "amber", "amber", "red"]


def test_indicator_lookup():
    item = indicator("customers_per_microenterprise")
    assert item.headline_key == "customers_per_microenterprise"
    assert item.unit
    with pytest.raises(KeyError):
        indicator("no_such_indicator")


def test_render_markdown_lists_every_indicator_under_its_domain():
    text = render_indicators_markdown()
    for item in load_catalogue().values():
        assert f"`{item.id}`" in text
        assert f"### {item.title}" in text
    assert "## Supply" in text and "## Concentration" in text
    assert "`thresholds.hhi_highly_concentrated`" in text


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((_entry("dup"), _entry("dup")), "already defined"),
        ((_entry("Not_Snake"),), "snake_case"),
        ((_entry(extra='headline_key = "k"'), _entry("x_two", 'headline_key = "k"')), "headline_key 'k' already used"),
        ((_entry(extra='rag = { amber = "no_such_key", direction = "higher_is_worse" }'),), "not a key of config"),
        ((_entry(extra='rag = { amber = "cr1_amber_pct", direction = "up" }'),), "direction"),
        ((_entry(extra='rag = { direction = "higher_is_worse" }'),), "amber, red or both"),
        ((_entry(extra='colour = "red"'),), "unknown keys"),
        ((_entry().replace('domain = "Supply"', 'domain = "Weather"'),), "domain"),
        ((_entry().replace("counts_people = true", 'counts_people = "yes"'),), "counts_people"),
        ((_entry().replace('good_direction = "none"', 'good_direction = "higher"'),), "good_direction must be"),
        (
            (_entry(extra='rag = { amber = "cr1_amber_pct", direction = "higher_is_worse" }'),),
            "contradicts rag.direction",
        ),
    ],
)
def test_invalid_catalogues_are_rejected(tmp_path, entries, message):
    _write(tmp_path, "a.toml", *entries)
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(tmp_path)


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_required_key_is_rejected(tmp_path, key):
    lines = [line for line in _entry().splitlines() if not line.startswith(f"{key} =")]
    _write(tmp_path, "a.toml", "\n".join(lines))
    with pytest.raises(CatalogueError, match="missing keys"):
        load_catalogue(tmp_path)


def test_ids_unique_across_files(tmp_path):
    _write(tmp_path, "a.toml", _entry("same"))
    _write(tmp_path, "b.toml", _entry("same"))
    with pytest.raises(CatalogueError, match="already defined in a.toml"):
        load_catalogue(tmp_path)


def test_every_indicator_says_which_way_is_good_and_the_docs_show_it():
    """Tiles colour a change by ``good_direction``: it agrees with any RAG direction and is in the docs."""
    cat = load_catalogue()
    assert {i.good_direction for i in cat.values()} == {"up", "down", "none"}
    assert cat["people_waiting"].good_direction == "down" and cat["sourced_within_28_days_pct"].good_direction == "up"
    for item in cat.values():
        if item.rag is not None:
            assert item.good_direction == {"higher_is_worse": "down", "lower_is_worse": "up"}[item.rag.direction]
    text = render_indicators_markdown()
    assert text.count("| Good direction |") == len(cat)
