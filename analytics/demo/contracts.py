"""Contracts of the demo council, ``contracts.csv``: framework lots by locality, extra care and
rural block contracts, a community grant and the microenterprise programme (values £ a year)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics.demo.areas import Areas
from analytics.demo.common import NEVER, Copy, financial_year, lookup, to_date
from analytics.demo.hours import PlannedHours
from analytics.demo.providers import EXTRA_CARE_SCHEMES, Providers


def contracts_frame(copy: Copy, areas: Areas, providers: Providers, hours: PlannedHours) -> pl.DataFrame:
    """Framework lots, block contracts and the microenterprise programme; values in £ a year."""
    rng = copy.rng
    fy = int(financial_year(np.array([copy.as_of]))[0])
    rows: list[dict] = []

    def annual(p: int) -> float:
        planned = hours.on(copy, p, min(copy.as_of, int(providers.active_to[p])))
        return float(round(planned * 52 * providers.rate[p], -2))

    lot_start = {"framework lot 1": date(fy - 4, 4, 1), "framework lot 2": date(fy - 2, 4, 1)}
    lot_end = {"framework lot 1": date(fy + 1, 3, 31), "framework lot 2": date(fy + 3, 3, 31)}
    for p in range(providers.n_agencies):
        ctype = providers.contract_type[p]
        if ctype not in lot_start:
            continue
        start = max(lot_start[ctype], to_date(providers.active_from[p]))
        end = lot_end[ctype]
        if providers.active_to[p] < NEVER:
            end = to_date(providers.active_to[p])  # terminated when the provider left
        if end < start:
            continue  # left the market before this lot began
        lot = ctype.split()[-1]
        locality = areas.localities[providers.base[p]]
        rows.append(
            {
                "provider": p,
                "name": f"Care at Home Framework Lot {lot} {locality}",
                "start": start,
                "end": end,
                "ext": 0 if providers.active_to[p] < NEVER else int(rng.choice([0, 12, 24], p=[0.2, 0.3, 0.5])),
                "value": annual(p),
            }
        )
    for (scheme, _ward), p in zip(EXTRA_CARE_SCHEMES, providers.extra_care, strict=True):
        rows.append(
            {
                "provider": p,
                "name": f"Extra Care at Home, {scheme} (block)",
                "start": date(fy - 3, 7, 1),
                "end": date(fy + 2, 6, 30),
                "ext": 24,
                "value": float(round(rng.uniform(260, 340) * 52 * providers.rate[p], -2)),
            }
        )
    rural = providers.rural[2]
    rows.append(
        {
            "provider": rural,
            "name": "Rural Block Hours, Eastern Valleys",
            "start": date(fy - 1, 1, 1),
            "end": date(fy, 12, 31),
            "ext": 12,
            "value": float(round(180 * 52 * providers.rate[rural], -2)),
        }
    )
    rows.append(
        {
            "provider": providers.other_org,
            "name": "Community Support Grant, Dales Neighbourly Care",
            "start": date(fy - 1, 4, 1),
            "end": date(fy + 1, 3, 31),
            "ext": 0,
            "value": 85_000.0,
        }
    )
    launch = to_date(copy.launch)
    rows.append(
        {
            "provider": -1,
            "name": "Community Microenterprise Development Programme",
            "start": launch,
            "end": date(launch.year + 3, launch.month, 1) - timedelta(days=1),
            "ext": 24,
            "value": 101_000.0,
        }
    )
    n = len(rows)
    return pl.DataFrame(
        [
            pl.Series("contract_id", [f"{copy.prefix}CT{i + 1:03d}" for i in range(n)], dtype=pl.String),
            lookup("provider_id", providers.ids, np.array([r["provider"] for r in rows])),
            pl.Series("name", [r["name"] for r in rows], dtype=pl.String),
            pl.Series("start_date", [r["start"] for r in rows], dtype=pl.Date),
            pl.Series("end_date", [r["end"] for r in rows], dtype=pl.Date),
            pl.Series("extension_months_available", [r["ext"] for r in rows], dtype=pl.Int64),
            pl.Series("annual_value", [r["value"] for r in rows], dtype=pl.Float64),
        ]
    )
