"""Indicator modules: one per domain, each a set of pure functions over ``Staged`` frames.

Plug-in contract (how ``analytics.indicators.marts`` and ``analytics.indicators.headline`` find a module):

* Every module in this package (other than ``common``) may define either or both of

  ``build_marts(staged: Staged) -> dict[str, pl.DataFrame]``
      Frames to materialise as DuckDB tables at refresh. Every name must match
      ``mart_[a-z0-9_]+`` and be unique across modules. Grain: area (or geography) x month,
      ``month`` being the snapshot dates of ``common.month_ends(staged.as_of)``.

  ``headline(staged: Staged, as_of: date, locality: str | None) -> dict``
      Headline figures for the locality (``None`` = whole council). The module is given the
      whole drop and applies ``common.filter_locality`` itself (so a module that needs council-wide
      context, e.g. spare capacity elsewhere, can have it). A measure with no data is ``None``,
      never ``0`` and never an exception. Percentages are 0 to 100.

* A module whose figures have no service type split (its data or its page covers every type) sets
  ``IGNORES_SERVICE_TYPE = True`` (or a frozenset of its keys): ``headline`` then gives those keys for
  every service type whatever ``service_types`` asks, as the pages show and label them.
* Modules are discovered with ``pkgutil`` in alphabetical order; a headline key returned by two
  modules is an error (``analytics.indicators.headline`` raises), so keys stay owned by one module.
* Every headline key must have a catalogue entry (``analytics/indicators/catalogue/*.toml``) whose
  ``headline_key`` is that key.

Shared helpers (date rules, month grid, locality filter, one-pass geography grouping, the
service-type rule) are in ``analytics.indicators.common``.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

NOT_INDICATORS = frozenset({"common", "catalogue", "geography", "headline", "marts", "periods"})


def indicator_modules() -> list[ModuleType]:
    """Return every indicator module of this package (imported), sorted by module name."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if info.name not in NOT_INDICATORS and not info.name.startswith("_")
    )
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def modules_with(function: str) -> list[ModuleType]:
    """Return the indicator modules that define a callable called ``function``."""
    return [m for m in indicator_modules() if callable(getattr(m, function, None))]
