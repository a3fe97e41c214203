"""The headline: one dict of the dashboard's key figures, JSON-ready.

``headline`` merges what every indicator module's ``headline(staged, as_of, locality)`` returns
(see ``analytics.indicators``) and adds ``as_of`` (ISO date). Values are ints, floats (rounded by the
module, usually to 2 dp), strings or ``None`` (no data: JSON null, never 0). Percentages are 0 to 100.
Each key is described by the catalogue entry whose ``headline_key`` is that key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb

from analytics.indicators import modules_with
from analytics.indicators.common import filter_service_types
from analytics.ingest.staged import Staged, load_staged


class HeadlineError(ValueError):
    """Two indicator modules returned the same headline key."""


def headline(
    staged: Staged,
    as_of: date | None = None,
    locality: str | None = None,
    service_types: Sequence[str] | None = None,
) -> dict:
    """Return the headline figures of ``staged`` on ``as_of`` (default ``staged.as_of``).

    ``locality`` restricts areas to that locality and packages/requests to those areas (``None`` =
    whole council). ``service_types`` restricts packages (``None`` = every service type in the drop,
    the default rule in ``analytics.indicators.common``), except for the figures of a module that
    declares ``IGNORES_SERVICE_TYPE`` (``True``: all its keys; or a set of keys): their data or their
    page has no service type split, so they are always for every service type, as the dashboard
    shows them and labels them (one scope rule: the same figure everywhere).
    """
    day = staged.as_of if as_of is None else as_of
    scoped = filter_service_types(staged, service_types)
    out: dict = {"as_of": day.isoformat()}
    owner: dict[str, str] = {}
    for module in modules_with("headline"):
        figures = module.headline(scoped, day, locality)
        ignores = getattr(module, "IGNORES_SERVICE_TYPE", False)
        if ignores and service_types is not None:  # its data has no service type: every type, as its page
            whole = module.headline(staged, day, locality)
            figures = {k: (whole[k] if ignores is True or k in ignores else v) for k, v in figures.items()}
        for key, value in figures.items():
            if key in out:
                raise HeadlineError(
                    f"{module.__name__}: headline key {key!r} already set by {owner.get(key, 'headline')}"
                )
            out[key] = value
            owner[key] = module.__name__
    return out


def headline_from_store(
    cur: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    locality: str | None = None,
    service_types: Sequence[str] | None = None,
) -> dict:
    """Return ``headline`` of the staged tables read through ``cur`` (as_of from ``meta_drop`` if ``None``)."""
    staged = load_staged(cur, as_of)
    return headline(staged, staged.as_of, locality, service_types)
