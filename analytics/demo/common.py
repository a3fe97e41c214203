"""What every part of the demo generator shares: the council copy (random stream, identifiers,
dates), day-number helpers, contract codes and the builders of typed Polars columns.

Dates are day numbers (days since 1970-01-01) inside the generator; ``NEVER`` means "no end".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics.contract import CLIENT_GROUPS, END_REASONS, FUNDING, SERVICE_TYPES
from analytics.demo.shape import NORTHDALE, CouncilShape

EPOCH = date(1970, 1, 1)
NEVER = 10**7  # a day number far beyond any date used: "no end"
YEAR = 365.25
HISTORY_MONTHS = 36

# Codes used inside the generator (indices into the contract's allowed values).
ST = {name: i for i, name in enumerate(SERVICE_TYPES)}
ER = {name: i for i, name in enumerate(END_REASONS)}
FU = {name: i for i, name in enumerate(FUNDING)}
CG = {name: i for i, name in enumerate(CLIENT_GROUPS)}
KIND_NEW, KIND_CONTINUATION, KIND_REABLEMENT, KIND_ME = 0, 1, 2, 3


# --------------------------------------------------------------------------------------------
# Date helpers


def day(d: date) -> int:
    """Return the day number of ``d``."""
    return (d - EPOCH).days


def to_date(day_number: int) -> date:
    """Return the date of a day number."""
    return EPOCH + timedelta(days=int(day_number))


def add_months(d: date, months: int) -> date:
    """Return the first of the month ``months`` after (or before, if negative) ``d``'s month."""
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def financial_year(days: np.ndarray) -> np.ndarray:
    """Return the starting calendar year of the English financial year of each day number."""
    d64 = days.astype("datetime64[D]")
    years = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    months = d64.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return np.where(months >= 4, years, years - 1)


# --------------------------------------------------------------------------------------------
# One council copy


@dataclass(frozen=True)
class Copy:
    """One copy of the demo council: its random stream, identifier prefix, name suffix and dates.

    ``index`` 0 is the council itself (no prefix); copy ``k`` prefixes identifiers ``C{k+1:02d}-``
    and suffixes names `` (C{k+1:02d})``. All day numbers derive from ``as_of``: ``window_start``
    is the first day of the 36 months of history, ``history_start`` ten years back (when arrivals
    begin), ``horizon`` 240 days ahead (episodes starting after ``as_of`` make the waiting list),
    ``launch`` the microenterprise programme's start 26 months back, ``month_starts`` every first
    of the month from ``history_start`` to after ``horizon``.
    """

    seed: int
    index: int
    as_of_date: date
    shape: CouncilShape = NORTHDALE
    rng: np.random.Generator = field(init=False)
    prefix: str = field(init=False)
    suffix: str = field(init=False)
    as_of: int = field(init=False)
    window_start: int = field(init=False)
    history_start: int = field(init=False)
    horizon: int = field(init=False)
    last_year: int = field(init=False)
    last_half_year: int = field(init=False)
    launch: int = field(init=False)
    month_starts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        def put(name: str, value) -> None:
            object.__setattr__(self, name, value)

        put("rng", np.random.default_rng([self.seed, self.index]))
        put("prefix", "" if self.index == 0 else f"C{self.index + 1:02d}-")
        put("suffix", "" if self.index == 0 else f" (C{self.index + 1:02d})")
        as_of = day(self.as_of_date)
        month0 = date(self.as_of_date.year, self.as_of_date.month, 1)
        history_start = as_of - int(10 * YEAR)
        horizon = as_of + 240
        put("as_of", as_of)
        put("window_start", day(add_months(month0, 1 - HISTORY_MONTHS)))
        put("history_start", history_start)
        put("horizon", horizon)
        put("last_year", as_of - 365)
        put("last_half_year", as_of - 182)
        put("launch", day(add_months(month0, -26)))
        first_month = date(to_date(history_start).year, to_date(history_start).month, 1)
        last_month = add_months(to_date(horizon), 1)
        months = []
        m = first_month
        while m <= last_month:
            months.append(day(m))
            m = add_months(m, 1)
        put("month_starts", np.array(months, dtype=np.int64))

    def months(self) -> np.ndarray:
        """Return the first day of each of the 36 months ending with as_of's month."""
        first = to_date(self.window_start)
        return np.array([day(add_months(first, k)) for k in range(HISTORY_MONTHS)], dtype=np.int64)

    def person_ids(self, numbers: np.ndarray) -> pl.Series:
        """Return person identifiers (``NDP0001234``, prefixed in copies) of person numbers."""
        return ids("person_id", f"{self.prefix}NDP", numbers, 7)


# --------------------------------------------------------------------------------------------
# Typed columns


def date_series(name: str, days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    """Return day numbers as a Date Series, null where ``missing`` (``NEVER`` is clipped before masking)."""
    series = pl.Series(name, np.asarray(days, dtype=np.int64).clip(-(10**6), 10**6).astype(np.int32)).cast(pl.Date)
    if missing is not None and missing.any():
        series = series.set(pl.Series(missing), None)
    return series


def lookup(name: str, values: list[str] | tuple[str, ...], index: np.ndarray) -> pl.Series:
    """Return ``values[index]`` as a string Series (null where ``index`` is negative)."""
    idx = pl.Series(np.asarray(index, dtype=np.int64))
    idx = idx.set(idx < 0, None) if (np.asarray(index) < 0).any() else idx
    return pl.Series(name, list(values), dtype=pl.String).gather(idx).alias(name)


def ids(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Return identifiers ``prefix`` + zero-padded ``numbers``, e.g. ``NDP0001234``."""
    digits = pl.Series(name, np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select((pl.lit(prefix) + digits).alias(name)).to_series()


def float_series(name: str, values: np.ndarray, decimals: int, missing: np.ndarray | None = None) -> pl.Series:
    """Return ``values`` rounded to ``decimals`` as a Float64 Series, null where ``missing``."""
    series = pl.Series(name, np.round(np.asarray(values, dtype=np.float64), decimals))
    if missing is not None and missing.any():
        series = series.set(pl.Series(missing), None)
    return series


# --------------------------------------------------------------------------------------------
# Random draws


def piecewise_event(
    rng: np.random.Generator, start: np.ndarray, rates: np.ndarray, breaks: tuple[int, ...]
) -> np.ndarray:
    """Return the first event day after ``start`` of Poisson processes with piecewise-constant rates.

    ``rates`` is (rows, len(breaks) + 1), events per day, one column per period split at
    ``breaks`` (day numbers). Rows with no event get ``NEVER``.
    """
    n = start.size
    lows = (-np.inf, *breaks)
    highs = (*breaks, np.inf)
    result = np.full(n, NEVER, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    t = start.astype(np.float64)
    for j, (low, high) in enumerate(zip(lows, highs, strict=True)):
        t0 = np.maximum(t, low)
        draws = rng.standard_exponential(n)
        positive = rates[:, j] > 0
        candidate = t0 + np.where(positive, draws / np.where(positive, rates[:, j], 1.0), np.inf)
        hit = ~done & (t0 < high) & (candidate < high)
        result[hit] = np.minimum(np.floor(candidate[hit]), NEVER).astype(np.int64)
        done |= hit
    return result


def categorical(rng: np.random.Generator, n: int, probs: dict[str, float], codes: dict[str, int]) -> np.ndarray:
    """Return ``n`` codes drawn with the given probabilities (keys are contract values)."""
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=np.float64)
    picks = rng.choice(len(keys), size=n, p=p / p.sum())
    return np.array([codes[k] for k in keys], dtype=np.int64)[picks]


def gamma_hours(
    rng: np.random.Generator, n: int, mean: float, shape: float, low: float, high: float, step: float
) -> np.ndarray:
    """Return ``n`` planned hours a week: gamma with this mean, rounded to ``step``, clipped to [low, high]."""
    hours = rng.gamma(shape, mean / shape, size=n)
    return np.clip(np.round(hours / step) * step, low, high)
