"""The brokerage log of the demo council, ``requests.csv``: one request before every package,
plus withdrawn requests.

Waits (days from request to sourced) are lognormal with a median by kind of ward (remote wards
wait longest), shorter for continuations and much shorter for reablement, and rise by up to 45%
over the last 12 months. Requests not yet sourced at ``as_of`` are the waiting list.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.demo.areas import Areas
from analytics.demo.common import Copy, date_series, float_series, gamma_hours, ids, lookup
from analytics.demo.packages import People
from analytics.demo.providers import Providers

# Median waits in days (lognormal), by kind of ward; multiplied by pressure in the last year.
WAIT_MEDIAN = {"urban": 9.0, "unclassified": 10.0, "rural": 25.0, "remote": 38.0}
WAIT_SIGMA = 0.7
WAIT_PRESSURE = 0.45  # waits rise by up to 45% over the last 12 months


def requests_frame(
    copy: Copy, areas: Areas, providers: Providers, people: People, seg: dict[str, np.ndarray]
) -> pl.DataFrame:
    """The brokerage log: one request before every package, plus withdrawn requests."""
    rng = copy.rng
    n = seg["start"].size
    area = seg["area"]
    median = np.array([WAIT_MEDIAN[c] for c in areas.area_class])[area]
    kind_factor = np.array([1.0, 0.8, 0.12, 0.9])[seg["kind"]]
    lag = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    sourced = seg["start"] - lag
    pressure = 1 + WAIT_PRESSURE * np.clip((sourced - copy.last_year) / 365, 0, 1)
    wait = np.round(median * kind_factor * pressure * rng.lognormal(0.0, WAIT_SIGMA, n)).astype(np.int64)
    requested = sourced - wait
    keep = (requested >= copy.window_start) & (requested <= copy.as_of)
    waiting = sourced > copy.as_of
    hours = seg["hours"]
    # Withdrawn requests: people who died, went into a care home or were supported otherwise.
    wn = people.withdrawn_day.size
    w_weights = areas.demand
    w_area = rng.choice(len(w_weights), size=wn, p=w_weights / w_weights.sum())
    w_hours = gamma_hours(rng, wn, 13.0, 2.2, 1.5, 56.0, 0.25)
    req_day = np.concatenate([requested[keep], people.withdrawn_day])
    src_day = np.concatenate([sourced[keep], np.zeros(wn, dtype=np.int64)])
    no_source = np.concatenate([waiting[keep], np.ones(wn, dtype=bool)])
    outcome = np.concatenate([np.where(waiting[keep], 1, 0), np.full(wn, 2)])
    provider = np.concatenate([np.where(waiting[keep], -1, seg["provider"][keep]), np.full(wn, -1)])
    person = np.concatenate([people.numbers[seg["ep"][keep]], people.withdrawn_person])
    area_all = np.concatenate([area[keep], w_area])
    hrs = np.concatenate([hours[keep], w_hours])
    order = np.lexsort((person, req_day))
    total = order.size
    return pl.DataFrame(
        [
            ids("request_id", f"{copy.prefix}RQ", np.arange(1, total + 1), 7),
            copy.person_ids(person[order]),
            lookup("area_code", areas.codes, area_all[order]),
            date_series("requested_date", req_day[order]),
            float_series("hours_per_week", hrs[order], 2),
            date_series("sourced_date", src_day[order], no_source[order]),
            lookup("provider_id", providers.ids, provider[order]),
            lookup("outcome", ("sourced", "waiting", "withdrawn"), outcome[order]),
        ]
    )
