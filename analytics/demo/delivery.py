"""Weekly delivery of the demo council, ``delivery.csv``: commissioned hours from the planned
hours of the packages, delivered hours at each provider's usual rate with a weekly wobble (two
agencies struggle; the dominant agency slips over the last year)."""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.demo.areas import Areas
from analytics.demo.common import Copy, date_series, lookup, to_date
from analytics.demo.hours import PlannedHours
from analytics.demo.providers import Providers


def delivery_frame(copy: Copy, areas: Areas, providers: Providers, hours: PlannedHours) -> pl.DataFrame:
    """Weekly commissioned and delivered hours per provider x ward (complete Monday-Sunday weeks)."""
    rng = copy.rng
    first_monday = copy.window_start + (7 - (to_date(copy.window_start).weekday())) % 7
    offset = first_monday - copy.window_start
    n_weeks = (copy.as_of - first_monday + 1) // 7
    q, d = hours.pair_daily.shape
    weekly = hours.pair_daily[:, offset : offset + 7 * n_weeks].reshape(q, n_weeks, 7).sum(axis=2) / 28.0
    mondays = first_monday + 7 * np.arange(n_weeks)
    n_p = providers.n
    # Delivery rate: each provider's usual rate, weekly wobble; the dominant agency slips in the last year.
    base = rng.uniform(0.94, 0.985, n_p)
    struggling = rng.choice(providers.n_agencies - 1, 2, replace=False) + 1
    base[struggling] = rng.uniform(0.88, 0.91, 2)
    base[providers.dominant] = 0.965
    base[providers.is_me] = rng.uniform(0.96, 0.995, int(providers.is_me.sum()))
    week_rate = base[:, None] + rng.normal(0.0, 0.012, (n_p, n_weeks))
    decline = np.clip((mondays - copy.last_year) / 365, 0, 1)
    week_rate[providers.dominant] -= 0.075 * decline
    rate = week_rate[hours.pair_provider] + rng.normal(0.0, 0.008, (q, n_weeks))
    rate -= 0.01 * areas.rural[hours.pair_area][:, None]
    rate = np.clip(rate, 0.5, 1.0)
    commissioned = np.round(weekly, 2)
    delivered = np.round(commissioned * rate, 2)
    mask = commissioned > 0
    pair_i, week_i = np.nonzero(mask)
    order = np.lexsort((hours.pair_area[pair_i], hours.pair_provider[pair_i], week_i))
    pair_i, week_i = pair_i[order], week_i[order]
    return pl.DataFrame(
        [
            date_series("period_start", mondays[week_i]),
            lookup("provider_id", providers.ids, hours.pair_provider[pair_i]),
            lookup("area_code", areas.codes, hours.pair_area[pair_i]),
            pl.Series("package_id", [None] * pair_i.size, dtype=pl.String),
            pl.Series("commissioned_hours", commissioned[pair_i, week_i]),
            pl.Series("delivered_hours", delivered[pair_i, week_i]),
        ]
    )
