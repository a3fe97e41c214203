"""One scope rule: a tile shows the same figure as ``indicators --json`` for the same filters and date.

The service type filter applies everywhere (the dashboard's default, home care, is also the
command line's); a tile whose data cannot be split that way says so in its label ("all service
types", "whole council") and is compared with the figure for that wider scope. Checked for every
tile with a headline key on the Overview, Waiting, Rural and Workforce and fees pages, and for the
largest provider's share on the Providers page, at the default filters and in one locality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import cli
from analytics.indicators import catalogue
from analytics.store import snapshots as store
from analytics.views import overview, providers, rural, waiting, workforce_fees
from analytics.views.filters import Filters

LOCALITY = "Fellside"


@pytest.fixture(scope="module")
def cur(demo_store: Path):
    return store.market_cursor(store.open_live(demo_store))


@pytest.fixture(scope="module")
def figures(demo_store: Path):
    """``indicators --json`` through the real command line, memoised by arguments."""
    seen: dict[tuple[str, ...], dict] = {}

    def run(*extra: str) -> dict:
        if extra not in seen:
            import contextlib
            import io

            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                assert cli.main(["indicators", "--json", "--data-dir", str(demo_store), *extra]) == 0
            seen[extra] = json.loads(out.getvalue())
        return seen[extra]

    return run


def _tiles(cur, filters: Filters):
    yield from (("Overview", t) for t in overview.overview(cur, filters).tiles)
    yield from (("Waiting", t) for t in waiting.waiting_page(cur, filters).tiles)
    yield from (("Rural", t) for t in rural.rural_page(cur, filters).tiles)
    yield from (("Workforce and fees", t) for t in workforce_fees.workforce_fees_page(cur, filters).tiles)


@pytest.mark.parametrize("locality", [None, LOCALITY])
def test_every_headline_tile_equals_indicators_json(cur, figures, locality):
    as_of = cur.sql("select as_of from meta_drop").fetchall()[0][0]
    filters = Filters(month=as_of, locality=locality)  # the dashboard's default: home care
    keys = catalogue.load_catalogue()
    compared, wrong = 0, []
    for page, tile in _tiles(cur, filters):
        item = keys.get(tile.indicator_id or "")
        if item is None or item.headline_key is None:
            continue
        args: list[str] = []
        if locality and "whole council" not in tile.label:
            args += ["--locality", locality]
        if "all service types" in tile.label:
            args += ["--service-type", "all"]
        expected = figures(*args)[item.headline_key]
        compared += 1
        if (tile.value is None) != (expected is None) or (
            tile.value is not None and expected not in (round(tile.value, 2), round(tile.value))  # JSON's rounding
        ):
            wrong.append(f"{page}: {tile.label} = {tile.value}, indicators --json {' '.join(args)} = {expected}")
    assert wrong == []
    assert compared >= 20
    # The figures the issue found differing, by name: one value each, whatever the page.
    default = figures(*(["--locality", locality] if locality else []))
    tiles = {t.indicator_id: t for _, t in _tiles(cur, filters)}
    assert tiles["people_in_service"].value == default["people_in_service"]
    assert tiles["providers_active"].value == default["providers_active"]
    assert tiles["median_wait_days"].text == f"{default['median_wait_days']:.1f}"
    shares = providers.providers(cur, filters).providers
    assert round(shares.item(0, "share_pct"), 2) == default["cr1_pct"]


def test_the_command_line_scope_matches_the_dashboard_default(figures):
    """Without ``--service-type`` the command line gives home care (the dashboard's default), which is
    less than every service type together; an unknown service type is refused."""
    home, every = figures(), figures("--service-type", "all")
    assert home == figures("--service-type", "home_care")
    assert home["people_in_service"] < every["people_in_service"]
    assert home["people_waiting"] == every["people_waiting"]  # requests carry no service type
    assert cli.main(["indicators", "--json", "--service-type", "nothing"]) == 2
