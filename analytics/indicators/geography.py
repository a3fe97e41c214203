"""Area classification shared by every indicator: rural, urban or unclassified.

Rule (``analytics.contract``, docs/data-drops.md; ONS Rural Urban Classification 2021 and 2011):
rural = ``ruc21`` starting with ``R``, or, when ``ruc21`` is blank,
``ruc11`` in D1, D2, E1, E2. An area with neither code is ``unclassified``, never urban.
"""

from __future__ import annotations

import polars as pl

from analytics.contract import RUC11_RURAL

RURAL, URBAN, UNCLASSIFIED = "rural", "urban", "unclassified"
RURAL_CLASSES = (RURAL, URBAN, UNCLASSIFIED)


def rural_class_expr() -> pl.Expr:
    """Return an expression giving ``rural``/``urban``/``unclassified`` from ``ruc21`` and ``ruc11``."""
    ruc21 = pl.col("ruc21")
    ruc11 = pl.col("ruc11")
    return (
        pl.when(ruc21.is_not_null())
        .then(pl.when(ruc21.str.starts_with("R")).then(pl.lit(RURAL)).otherwise(pl.lit(URBAN)))
        .when(ruc11.is_not_null())
        .then(pl.when(ruc11.is_in(list(RUC11_RURAL))).then(pl.lit(RURAL)).otherwise(pl.lit(URBAN)))
        .otherwise(pl.lit(UNCLASSIFIED))
        .alias("rural_class")
    )


def with_rural_class(areas: pl.DataFrame) -> pl.DataFrame:
    """Return ``areas`` with a ``rural_class`` column and ``locality`` blanks shown as ``Unassigned``."""
    return areas.with_columns(rural_class_expr(), pl.col("locality").fill_null("Unassigned"))
