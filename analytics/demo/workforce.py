"""Monthly workforce of the demo council, ``workforce.csv``: filled posts, vacancies and leavers
of agencies and the in-house service, derived from their planned hours."""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.demo.common import Copy, date_series, lookup
from analytics.demo.hours import PlannedHours
from analytics.demo.providers import Providers


def workforce_frame(copy: Copy, providers: Providers, hours: PlannedHours) -> pl.DataFrame:
    """Monthly staffing of agencies and the in-house service, from their planned hours.

    Filled posts = average planned hours a week in the month / contact hours a week per post;
    vacancies from the provider's vacancy rate (the dominant agency's rises over the last
    year); leavers in 12 months from its turnover rate.
    """
    rng = copy.rng
    lo = copy.window_start
    month_days = copy.months()
    starts = month_days - lo
    days = np.arange(lo, copy.as_of + 1)
    staffed = np.flatnonzero(providers.is_agency | (np.arange(providers.n) == providers.inhouse))
    live = (providers.active_from[staffed, None] <= days) & (providers.active_to[staffed, None] >= days)
    hours_sum = np.add.reduceat(hours.provider_daily[staffed] * live, starts, axis=1)
    live_days = np.add.reduceat(live.astype(np.int64), starts, axis=1)
    rows, cols = np.nonzero(live_days > 0)  # provider x month while the provider was active
    provider = staffed[rows]
    weekly = hours_sum[rows, cols] / live_days[rows, cols] / 4
    n = rows.size
    per_post = rng.uniform(16.0, 22.0, providers.n)[provider]
    posts = np.maximum(2, np.round(weekly / per_post * (1 + rng.normal(0, 0.02, n)))).astype(np.int64)
    ramp = np.clip((month_days[cols] - copy.last_year) / 365, 0, 1)
    vacancy = rng.uniform(0.027, 0.085, providers.n)
    vacancy[providers.inhouse] = 0.12
    turnover = rng.uniform(0.16, 0.30, providers.n)[provider]
    v = vacancy[provider] + rng.normal(0, 0.008, n)
    dominant = provider == providers.dominant
    v = np.where(dominant, 0.075 + 0.14 * ramp + rng.normal(0, 0.006, n), v).clip(0.0, 0.45)
    turnover = np.where(dominant, 0.26 + 0.12 * ramp, turnover)
    order = np.lexsort((cols, provider))
    return pl.DataFrame(
        [
            lookup("provider_id", providers.ids, provider[order]),
            date_series("month", month_days[cols][order]),
            pl.Series("filled_posts", posts[order], dtype=pl.Int64),
            pl.Series("vacancies", np.round(posts * v / (1 - v)).astype(np.int64)[order], dtype=pl.Int64),
            pl.Series(
                "leavers_12m",
                np.round(posts * turnover * (1 + rng.normal(0, 0.05, n))).astype(np.int64)[order],
                dtype=pl.Int64,
            ),
        ]
    )
