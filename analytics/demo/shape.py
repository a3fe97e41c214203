"""What kind of council the demo generator draws: one frozen options object passed to every part.

The default, ``NORTHDALE``, is the documented council (30 wards in 5 localities with coordinates
and boundaries, RUC 2021 classes and populations, every optional file, 36 months of history,
about 96 providers of four service types); its drop is byte for byte what it was before these
options existed (``tests/test_demo.py``). Every other value of a field reshapes the drawn
council after all of Northdale's random draws (``analytics.demo.reshape``, with a random stream
of its own), so a shape changes only what its fields say.

``SHAPES`` names the structurally different councils the test suite runs every page on
(``tests/test_councils.py``) and ``python -m analytics demo --shape NAME`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

OPTIONAL_FILES = ("requests", "delivery", "workforce", "contracts", "milestones", "boundaries")
"""Files a drop may leave out (``analytics.contract`` marks the tables optional; boundaries are optional too)."""


@dataclass(frozen=True)
class CouncilShape:
    """Options for the shape of the synthetic council; the defaults are Northdale as documented.

    * ``omit``: optional files left out of the drop (names from ``OPTIONAL_FILES``; leaving out
      ``contracts`` also leaves out ``milestones`` and blanks every ``contract_id``).
    * ``coordinates``: False blanks ``areas.latitude``/``longitude``.
    * ``history_months``: the number of months of data (1 to 36) ending with ``as_of``'s month,
      as if the council's case system went live then: packages ended before are left out, the
      start of older ones is the go-live date, and requests, delivery and workforce rows start then.
    * ``file_starts``: ``((file, first date), ...)``: the same, one file at a time (``packages``,
      ``requests``, ``delivery``, ``workforce``), so files start at different dates.
    * ``localities``: ``"five"`` (Northdale's), ``"one"`` (every ward in one) or ``"none"`` (blank).
    * ``microenterprises``: ``"some"``, ``"none"`` (no microenterprise, and none of their
      packages) or ``"only"`` (only microenterprises, and only their packages).
    * ``ruc``: ``"ruc21"`` (RUC 2021 codes), ``"ruc11"`` (RUC 2011 codes only) or ``"none"`` (blank).
    * ``populations``: False blanks both population columns.
    * ``single_provider``: True keeps only the dominant agency and its packages (not with
      ``microenterprises="only"``, which leaves no agency: a ``ValueError``, as for ``providers``).
    * ``providers``: when larger than the number of providers, agencies are split into branches
      (packages shared out among them) until there are this many, each with a long trading name.
    * ``ended_providers``: this many agencies whose packages have all ended 45 days before
      ``as_of`` (handed back); they stay in ``providers.csv`` as active.
    * ``empty_areas``: this many wards (the last in file order) with no packages, requests or delivery.
    * ``people_share``: the share of people kept (each person's packages and requests, drawn at
      random), for a smaller council that loads faster (the test suite's councils).
    * ``service_types``: ``"demo"`` (home care, reablement, supported living, extra care),
      ``"home_care"`` (the column left blank: home care by default) or ``"all"`` (every
      contract service type, ``other`` included, in sizeable numbers).
    """

    omit: frozenset[str] = frozenset()
    coordinates: bool = True
    history_months: int = 36
    file_starts: tuple[tuple[str, date], ...] = ()
    localities: Literal["five", "one", "none"] = "five"
    microenterprises: Literal["some", "none", "only"] = "some"
    ruc: Literal["ruc21", "ruc11", "none"] = "ruc21"
    populations: bool = True
    single_provider: bool = False
    providers: int = 0
    ended_providers: int = 0
    empty_areas: int = 0
    service_types: Literal["demo", "home_care", "all"] = "demo"
    people_share: float = 1.0

    def __post_init__(self) -> None:
        unknown = set(self.omit) - set(OPTIONAL_FILES)
        if unknown:
            raise ValueError(f"not optional files: {', '.join(sorted(unknown))}")
        if not 0 < self.people_share <= 1:
            raise ValueError("people_share must be more than 0 and at most 1")
        if not 1 <= self.history_months <= 36:
            raise ValueError("history_months must be 1 to 36")
        if self.microenterprises == "only" and (self.single_provider or self.providers):
            # both work on agencies (keep the dominant one; split them into branches): there would be none
            raise ValueError("single_provider and providers need agencies: not with microenterprises='only'")
        bad = {name for name, _ in self.file_starts} - {"packages", "requests", "delivery", "workforce"}
        if bad:
            raise ValueError(f"file_starts takes packages, requests, delivery or workforce, not {', '.join(bad)}")

    def files(self) -> frozenset[str]:
        """Return the optional files this shape leaves out (``milestones`` goes with ``contracts``)."""
        return self.omit | ({"milestones"} if "contracts" in self.omit else set())


NORTHDALE = CouncilShape()

SHAPES: dict[str, CouncilShape] = {
    "northdale": NORTHDALE,
    "minimal": CouncilShape(
        omit=frozenset(OPTIONAL_FILES),
        coordinates=False,
        localities="none",
        ruc="none",
        populations=False,
        service_types="home_care",
    ),
    "no-requests": CouncilShape(omit=frozenset({"requests"}), localities="one"),
    "no-delivery": CouncilShape(omit=frozenset({"delivery"}), ruc="ruc11"),
    "no-workforce": CouncilShape(omit=frozenset({"workforce"}), populations=False),
    "no-contracts": CouncilShape(omit=frozenset({"contracts"}), service_types="all"),
    "no-milestones": CouncilShape(omit=frozenset({"milestones"}), ended_providers=5),
    "no-geography": CouncilShape(omit=frozenset({"boundaries"}), coordinates=False, microenterprises="none"),
    "one-month": CouncilShape(history_months=1),
    "three-months": CouncilShape(history_months=3, localities="none"),
    "staggered-starts": CouncilShape(
        file_starts=(
            ("packages", date(2024, 1, 1)),
            ("requests", date(2025, 7, 1)),
            ("delivery", date(2025, 1, 6)),
            ("workforce", date(2026, 1, 1)),
        )
    ),
    "only-microenterprises": CouncilShape(microenterprises="only"),
    "single-provider": CouncilShape(single_provider=True),
    "many-providers": CouncilShape(providers=200, empty_areas=4),
}
"""Named council shapes (``python -m analytics demo --shape NAME``); each differs from Northdale in
the ways its name says (and, to keep the test suite lean, one or two more)."""
