"""One copy of the demo council: every table, drawn in a fixed order from the copy's random stream.

The order of the draws is part of the output: the same seed gives byte-identical files only while
each part draws the same numbers in the same order, so a new part draws after the existing ones
(or from a stream of its own). A council of another shape is Northdale reshaped after every draw
(``reshape``), so the default shape's files never change.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.demo.areas import areas_frame, draw_areas
from analytics.demo.common import Copy
from analytics.demo.contracts import commissioning
from analytics.demo.delivery import delivery_frame
from analytics.demo.episodes import draw_episodes
from analytics.demo.hours import planned_hours
from analytics.demo.packages import number_people, packages_frame, split_packages, use_every_provider
from analytics.demo.providers import draw_providers, providers_frame
from analytics.demo.requests import requests_frame
from analytics.demo.reshape import reshape
from analytics.demo.shape import CouncilShape
from analytics.demo.workforce import workforce_frame


def build_copy(seed: int, index: int, as_of: date, shape: CouncilShape) -> tuple[dict[str, pl.DataFrame], list[dict]]:
    """Return copy ``index``'s frames (one per contract file) and its boundary features."""
    copy = Copy(seed, index, as_of, shape)
    areas = draw_areas(copy)
    providers = draw_providers(copy, areas)
    episodes = draw_episodes(copy, areas, providers)
    packages = split_packages(copy, areas, providers, episodes)
    use_every_provider(copy, providers, packages)
    hours = planned_hours(copy, packages, len(areas.codes), providers.n)
    people = number_people(copy, episodes)
    frames = {
        "areas": areas_frame(areas),
        "packages": packages_frame(copy, areas, providers, people, packages, episodes),
        "requests": requests_frame(copy, areas, providers, people, packages),
        "delivery": delivery_frame(copy, areas, providers, hours),
        "workforce": workforce_frame(copy, providers, hours),
        "providers": providers_frame(copy, areas, providers, hours),
    }
    frames.update(commissioning(copy, areas, providers, frames["packages"], frames["providers"]))
    return reshape(copy, frames, areas.features)
