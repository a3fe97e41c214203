"""Planned hours a week of every provider and ward on every day of the 36 months, from the
packages: what delivery, workforce, capacity and contract values are derived from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.demo.common import Copy


@dataclass(frozen=True)
class PlannedHours:
    """Planned hours of one copy, in quarter-hours a week, on each day from ``window_start`` to ``as_of``.

    ``pair_provider``/``pair_area`` name the provider x ward pairs with any package in the window;
    ``pair_daily`` is (pairs, days) and ``provider_daily`` (providers, days).
    """

    pair_provider: np.ndarray
    pair_area: np.ndarray
    pair_daily: np.ndarray
    provider_daily: np.ndarray

    def on(self, copy: Copy, provider: int, day: int) -> float:
        """Return ``provider``'s planned hours a week on ``day`` (clamped into the 36 months)."""
        day = min(max(day, copy.window_start), copy.as_of)
        return float(self.provider_daily[provider, day - copy.window_start]) / 4


def planned_hours(copy: Copy, seg: dict[str, np.ndarray], n_areas: int, n_providers: int) -> PlannedHours:
    """Sum the packages ``seg`` (start, end, provider, area, hours) into daily planned hours (quarter-hours)."""
    lo, hi = copy.window_start, copy.as_of
    n_days = hi - lo + 1
    live = (seg["start"] <= hi) & (seg["end"] >= lo)
    pair_key = seg["provider"][live] * n_areas + seg["area"][live]
    pairs, pair_idx = np.unique(pair_key, return_inverse=True)
    s = np.maximum(seg["start"][live], lo) - lo
    e = np.minimum(seg["end"][live], hi) - lo
    q = np.round(seg["hours"][live] * 4).astype(np.int64)
    width = n_days + 1
    diff = np.bincount(pair_idx * width + s, weights=q, minlength=pairs.size * width)
    diff -= np.bincount(pair_idx * width + e + 1, weights=q, minlength=pairs.size * width)
    daily = np.cumsum(diff.reshape(pairs.size, width)[:, :n_days], axis=1)
    pair_provider = pairs // n_areas
    pair_daily = np.round(daily).astype(np.int64)  # quarter-hours a week, per day
    provider_daily = np.zeros((n_providers, n_days), dtype=np.int64)
    np.add.at(provider_daily, pair_provider, pair_daily)
    return PlannedHours(pair_provider, pairs % n_areas, pair_daily, provider_daily)
