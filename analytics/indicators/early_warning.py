"""Provider early warning: one ranked list combining rating, hand-backs, vacancy, fee gap and market share.

For each provider with active packages on a date (each month's snapshot date for the mart), points
for each reason (thresholds in ``config.toml [early_warning]`` and ``[thresholds]``; local choices):

* **Rating**: latest CQC rating ``Inadequate`` 2 points, ``Requires improvement`` 1, plus 1 when it
  was published in the ``recent_rating_months`` (12) to the date. A rating counts only from its
  publication date (the drop holds each provider's latest rating only, so an earlier month does not
  know the rating the provider held before).
* **Hand-backs**: hours a week of packages handed back in the 3 months to the date as a share of the
  provider's active hours: 1 point at ``handback_share_amber_pct`` (1)%, 2 at ``handback_share_red_pct``
  (5)% (a share, so a large provider's routine hand-back does not flag it).
* **Vacancy**: the provider's vacancy rate that month (``workforce``): 1 point at or above
  ``[thresholds] vacancy_amber_pct`` (10), 2 at or above ``vacancy_red_pct`` (15).
* **Fee gap**: the provider's hours-weighted hourly rate ``fee_gap_amber_pct`` (5)% or more below the
  council's hours-weighted rate that month: 1 point.
* **Market share**: share of the council's active hours (of the locality's for a locality):
  1 point at ``share_amber_pct`` (10)%, 2 at ``share_red_pct`` (20)%. Share alone never lists a
  provider: it ranks those at risk by how much of the market would need re-homing.

A provider is **listed** when its points reach ``min_points`` (2) and at least one reason is not
market share. The list is ranked by points, then hours (largest first), then provider id. Each row
says every reason in words.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from analytics.config import settings
from analytics.formatting import fmt_month
from analytics.indicators.churn import HANDBACK, months_before
from analytics.indicators.common import (
    PROVIDER_MONTH_SCHEMA,
    active_at_months,
    comparable,
    filter_locality,
    mart_months,
    months_frame,
)
from analytics.ingest.staged import Staged

DEFAULTS = {
    "min_points": 2,
    "share_amber_pct": 10.0,
    "share_red_pct": 20.0,
    "handback_share_amber_pct": 1.0,
    "handback_share_red_pct": 5.0,
    "recent_rating_months": 12,
    "fee_gap_amber_pct": 5.0,
}
SCHEMA = {
    **PROVIDER_MONTH_SCHEMA,
    "hours": pl.Float64,
    "share_pct": pl.Float64,
    "rating": pl.String,
    "rating_date": pl.Date,
    "handback_hours_3m": pl.Float64,
    "vacancy_rate_pct": pl.Float64,
    "hourly_rate": pl.Float64,
    "fee_gap_pct": pl.Float64,
    "rating_points": pl.Int64,
    "handback_points": pl.Int64,
    "vacancy_points": pl.Int64,
    "fee_points": pl.Int64,
    "share_points": pl.Int64,
    "points": pl.Int64,
    "listed": pl.Boolean,
    "rank": pl.Int64,
    "reasons": pl.String,
}


def options() -> dict[str, float]:
    """Return the early-warning settings: ``[early_warning]`` with defaults, plus vacancy thresholds."""
    raw = settings().get("early_warning", {})
    out = {key: float(raw.get(key, default)) for key, default in DEFAULTS.items()}
    thresholds = settings().get("thresholds", {})
    out["vacancy_amber_pct"] = float(thresholds.get("vacancy_amber_pct", 10))
    out["vacancy_red_pct"] = float(thresholds.get("vacancy_red_pct", 15))
    return out


def _signals(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return one row per (provider, month) with active hours: the raw signals before points."""
    columns = ["provider_id", "planned_hours_per_week", "hourly_rate", "start_date", "end_date"]
    active = active_at_months(staged.packages.select(columns), months)
    rated = pl.col("hourly_rate").is_not_null()
    hours = (
        active.lazy()  # lazy: about half the CPU of an eager group_by on package-month rows
        .group_by("provider_id", "month")
        .agg(
            pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("hours"),
            (pl.col("planned_hours_per_week") * pl.col("hourly_rate")).filter(rated).sum().alias("__paid"),
            pl.col("planned_hours_per_week").filter(rated).sum().alias("__rated_hours"),
        )
        .collect()
    )
    council = hours.group_by("month").agg(
        pl.col("hours").sum().alias("__total"),
        pl.when(pl.col("__rated_hours").sum() > 0)
        .then(pl.col("__paid").sum() / pl.col("__rated_hours").sum())
        .otherwise(None)
        .alias("__council_rate"),
    )
    windows = months.with_columns(
        pl.Series("__from", [months_before(d, 3) for d in months.get_column("month")], dtype=pl.Date)
    )
    handed = (
        staged.packages.filter(pl.col("end_reason") == HANDBACK)
        .join_where(windows, pl.col("end_date") > pl.col("__from"), pl.col("end_date") <= pl.col("month"))
        .group_by("provider_id", "month")
        .agg(pl.col("planned_hours_per_week").sum().cast(pl.Float64).alias("handback_hours_3m"))
    )
    staff = (
        staged.workforce.with_columns(pl.col("month").dt.month_start().alias("month_start"))
        .group_by("provider_id", "month_start")
        .agg(pl.col("filled_posts").sum().alias("__filled"), pl.col("vacancies").sum().alias("__vacant"))
    )
    vacancy = (
        months.join(staff, on="month_start", how="inner")
        .select(
            "provider_id",
            "month",
            (pl.col("__vacant") / (pl.col("__filled") + pl.col("__vacant")) * 100).alias("vacancy_rate_pct"),
        )
        .filter(pl.col("vacancy_rate_pct").is_not_null())
    )
    ratings = staged.providers.select(
        "provider_id",
        "provider_name",
        pl.col("cqc_rating").alias("rating"),
        pl.col("cqc_rating_date").alias("rating_date"),
    )
    return (
        hours.filter(pl.col("hours") > 0)
        .join(council, on="month", how="left")
        .join(handed, on=["provider_id", "month"], how="left")
        .join(vacancy, on=["provider_id", "month"], how="left")
        .join(ratings, on="provider_id", how="left")
        .with_columns(
            (pl.col("hours") / pl.col("__total") * 100).alias("share_pct"),
            pl.col("handback_hours_3m").fill_null(0.0),
            pl.when(pl.col("__rated_hours") > 0)
            .then(pl.col("__paid") / pl.col("__rated_hours"))
            .otherwise(None)
            .alias("hourly_rate"),
        )
        .with_columns(
            ((pl.col("__council_rate") - pl.col("hourly_rate")) / pl.col("__council_rate") * 100).alias("fee_gap_pct")
        )
    )


def _points(frame: pl.DataFrame, opts: dict[str, float]) -> pl.DataFrame:
    known = pl.col("rating_date").is_null() | (pl.col("rating_date") <= pl.col("month"))
    poor = pl.col("rating").is_in(["Inadequate", "Requires improvement"]) & known
    recent_from = pl.col("month").dt.offset_by(f"-{int(opts['recent_rating_months'])}mo")
    recent = pl.col("rating_date").is_not_null() & (pl.col("rating_date") > recent_from)
    rating_points = pl.when(poor & (pl.col("rating") == "Inadequate")).then(2).when(poor).then(1).otherwise(
        0
    ) + pl.when(poor & recent).then(1).otherwise(0)
    handback_pct = comparable(pl.col("handback_hours_3m") / pl.col("hours") * 100)
    handback_points = (
        pl.when(pl.col("handback_hours_3m") <= 0)
        .then(0)
        .when(handback_pct >= opts["handback_share_red_pct"])
        .then(2)
        .when(handback_pct >= opts["handback_share_amber_pct"])
        .then(1)
        .otherwise(0)
    )
    vacancy = comparable(pl.col("vacancy_rate_pct").fill_nan(None))
    vacancy_points = (
        pl.when(vacancy >= opts["vacancy_red_pct"])
        .then(2)
        .when(vacancy >= opts["vacancy_amber_pct"])
        .then(1)
        .otherwise(0)
    )
    fee_points = (
        pl.when(comparable(pl.col("fee_gap_pct").fill_nan(None)) >= opts["fee_gap_amber_pct"]).then(1).otherwise(0)
    )
    share = comparable(pl.col("share_pct"))
    share_points = (
        pl.when(share >= opts["share_red_pct"]).then(2).when(share >= opts["share_amber_pct"]).then(1).otherwise(0)
    )
    scored = frame.with_columns(
        rating_points.cast(pl.Int64).alias("rating_points"),
        handback_points.cast(pl.Int64).alias("handback_points"),
        vacancy_points.cast(pl.Int64).alias("vacancy_points"),
        fee_points.cast(pl.Int64).alias("fee_points"),
        share_points.cast(pl.Int64).alias("share_points"),
    ).with_columns(
        pl.sum_horizontal("rating_points", "handback_points", "vacancy_points", "fee_points", "share_points").alias(
            "points"
        )
    )
    risk = pl.col("points") - pl.col("share_points")
    return scored.with_columns(((pl.col("points") >= opts["min_points"]) & (risk >= 1)).alias("listed"))


def _reasons(row: dict) -> str:
    parts = []
    if row["rating_points"]:
        when = f" (published {fmt_month(row['rating_date'])})" if row["rating_date"] is not None else ""
        parts.append(f"rated {row['rating']}{when}")
    if row["handback_points"]:
        pct = row["handback_hours_3m"] / row["hours"] * 100
        parts.append(f"handed back {row['handback_hours_3m']:,.0f} hours a week in 3 months ({pct:.0f}% of its hours)")
    if row["vacancy_points"]:
        parts.append(f"vacancy rate {row['vacancy_rate_pct']:.0f}%")
    if row["fee_points"]:
        parts.append(f"paid {row['fee_gap_pct']:.0f}% below the council's average hourly rate")
    if row["share_points"]:
        parts.append(f"holds {row['share_pct']:.0f}% of the hours")
    return "; ".join(parts)


POINT_COLUMNS = ("rating_points", "handback_points", "vacancy_points", "fee_points", "share_points")


def _reason_texts(scored: pl.DataFrame) -> pl.Series:
    """Return ``reasons`` for each row of ``scored``: ``_reasons`` of the rows with a point, "" elsewhere.

    Only rows with a point are written out in Python (a few per month, not every provider-month).
    """
    with_points = scored.select(pl.any_horizontal([pl.col(c).fill_null(0) != 0 for c in POINT_COLUMNS])).to_series()
    rows = with_points.arg_true()
    texts = pl.Series("reasons", [_reasons(row) for row in scored[rows].iter_rows(named=True)], dtype=pl.String)
    return pl.Series("reasons", [""] * scored.height, dtype=pl.String).scatter(rows, texts)


def early_warning(staged: Staged, months: pl.DataFrame) -> pl.DataFrame:
    """Return every (provider, month) with active hours scored (``SCHEMA``); ``rank`` among those listed.

    ``months`` is a ``common.months_frame``. Hours are hours a week; shares and rates are %.
    """
    if staged.packages.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    scored = _points(_signals(staged, months), options())
    ranked = scored.sort(
        ["month", "listed", "points", "hours", "provider_id"], descending=[False, True, True, True, False]
    ).with_columns(
        pl.when(pl.col("listed"))
        .then(pl.int_range(1, pl.len() + 1).over("month"))
        .otherwise(None)
        .cast(pl.Int64)
        .alias("rank")
    )
    return ranked.with_columns(_reason_texts(ranked)).select([pl.col(c).cast(t) for c, t in SCHEMA.items()])


def warning_list(staged: Staged, d: date, locality: str | None = None) -> pl.DataFrame:
    """Return the providers listed on ``d`` (ranked), for ``locality`` (``None`` = council)."""
    scoped = filter_locality(staged, locality)
    return early_warning(scoped, months_frame(d, 1)).filter(pl.col("listed")).sort("rank")


def build_marts(staged: Staged) -> dict[str, pl.DataFrame]:
    """Return ``mart_early_warning_month``: ``early_warning`` over the 36 months to ``as_of`` (council)."""
    return {"mart_early_warning_month": early_warning(staged, mart_months(staged))}


# One scope rule (analytics.indicators.headline): the early-warning list weighs each provider's whole business.
IGNORES_SERVICE_TYPE = True


def headline(staged: Staged, as_of: date, locality: str | None) -> dict[str, list[str] | None]:
    """Return ``early_warning_top``: ids of the first three listed providers on ``as_of`` (fewer when
    fewer are listed, an empty list when none is; ``None`` when the drop or locality has no package)."""
    scoped = filter_locality(staged, locality)
    if scoped.packages.is_empty():
        return {"early_warning_top": None}
    listed = warning_list(staged, as_of, locality)
    return {"early_warning_top": listed.head(3).get_column("provider_id").to_list()}
