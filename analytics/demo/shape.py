"""What kind of council the demo generator draws: one frozen options object passed to every part.

Today there is one shape, the documented Northdale (30 wards in 5 localities with coordinates and
boundaries, every optional file, 36 months of history). Options that change the council's shape
(no coordinates, no optional files, a short history, one locality, contracts and lots...) become
fields of ``CouncilShape`` with defaults that keep today's output, and the part that draws the
file they change (``areas``, ``providers``, ``packages``, ``contracts``...) reads them from the
``Copy`` it is given; ``generate_drop`` reads the ones that decide which files it writes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CouncilShape:
    """Options for the shape of the synthetic council (none yet: the default is Northdale as documented)."""


NORTHDALE = CouncilShape()
