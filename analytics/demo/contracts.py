"""Contracts of the demo council: ``contracts.csv``, ``milestones.csv`` and the ``contract_id``/``lot``
columns of ``packages.csv`` and ``providers.csv`` (values £ a year).

The commissioning cycle Northdale is in (dates relative to the financial year ``fy`` of ``as_of``;
for the default as_of, 31 October 2026, ``fy`` is 2026/27):

* **Care at Home framework, one lot per locality** (``Lot 1 North Coast`` ... ``Lot 5 Eastern
  Valleys``): 3 years from 1 April ``fy-3`` plus two 12-month options (``12+12``), one used, so the
  current term ends 31 March ``fy+1``; 6 months' notice. Agency home care packages in a locality are
  bought under its lot. A re-tender is under way for lots 1, 3, 4 and 5 with its milestones (the
  award is late); Lot 2 has no milestone, so its decision is overdue.
* **Extra care blocks** (two schemes, 5 + 2 years) and a **rural block** in Eastern Valleys; a
  **community grant**.
* **Microenterprise development service**, 1+1+1: 12 months from six months after the programme's
  launch, two 12-month options, one used; the extension decision rests on the programme's evidence.

Milestone slippage (days late or early) comes from a random stream of its own (seeded from the
seed and the copy), so adding these files changed no other file of the drop.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from analytics.demo.areas import Areas
from analytics.demo.common import Copy, add_months, financial_year, to_date
from analytics.demo.providers import EXTRA_CARE_SCHEMES, Providers

CONTRACT_COLUMNS = {
    "contract_id": pl.String,
    "provider_id": pl.String,
    "name": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "extension_months_available": pl.Int64,
    "annual_value": pl.Float64,
    "lot": pl.String,
    "contract_type": pl.String,
    "commissioned_hours_per_week": pl.Float64,
    "extension_options": pl.String,
    "extensions_used": pl.Int64,
    "notice_months": pl.Int64,
    "procurement_lead_months": pl.Int64,
    "weight_quality": pl.Float64,
    "weight_price": pl.Float64,
    "weight_social_value": pl.Float64,
}
#: The re-tender's steps, months before the framework's current end (planned), and days late (actual).
RETENDER = (
    ("consultation", 18, 10),
    ("specification co-produced", 15, 20),
    ("cabinet approval to tender", 13, 9),
    ("tender published", 11, 14),
    ("award", 6, None),  # not done by as_of: late
    ("mobilisation", 1, None),
)
NO_RETENDER_LOT = 1  # index of the lot whose decision has no milestone (Lot 2)


def lot_names(areas: Areas) -> dict[str, str]:
    """Return ``{locality: lot name}``: one lot per locality in file order (``Lot 1 North Coast``...)."""
    return {loc: f"Lot {i + 1} {loc}" for i, loc in enumerate(dict.fromkeys(areas.localities))}


def _row(contract_id: str, **values) -> dict:
    row = dict.fromkeys(CONTRACT_COLUMNS)
    row.update(contract_id=contract_id, **values)
    return row


def _active_hours(packages: pl.DataFrame, day: date) -> pl.DataFrame:
    return packages.filter((pl.col("start_date") <= day) & (pl.col("end_date").is_null() | (pl.col("end_date") >= day)))


def commissioning(
    copy: Copy, areas: Areas, providers: Providers, packages: pl.DataFrame, providers_table: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Return ``contracts``, ``milestones`` and ``packages``/``providers`` with ``contract_id`` and ``lot``."""
    as_of = to_date(copy.as_of)
    fy = int(financial_year(np.array([copy.as_of]))[0])
    ids = providers.ids
    lots = lot_names(areas)
    area_lot = pl.DataFrame(
        {"area_code": areas.codes, "__lot": [lots[loc] for loc in areas.localities]},
        schema={"area_code": pl.String, "__lot": pl.String},
    )
    rows: list[dict] = []
    n = 0

    def next_id() -> str:
        nonlocal n
        n += 1
        return f"{copy.prefix}CT{n:03d}"

    # Framework lots, one per locality.
    agency_ids = [ids[p] for p in range(providers.n_agencies)]
    block_ids = {ids[p] for p in providers.extra_care} | {ids[providers.rural[2]], ids[providers.other_org]}
    lot_packages = packages.filter(pl.col("provider_id").is_in(agency_ids) & ~pl.col("provider_id").is_in(block_ids))
    lot_packages = lot_packages.join(area_lot, on="area_code", how="left")
    today = _active_hours(lot_packages, as_of).with_columns(
        (pl.col("planned_hours_per_week") * pl.col("hourly_rate").fill_null(0.0) * 52).alias("__value")
    )
    by_lot = {
        r["__lot"]: r
        for r in today.group_by("__lot").agg(pl.col("planned_hours_per_week").sum(), pl.col("__value").sum()).to_dicts()
    }
    lot_start, lot_end = date(fy - 3, 4, 1), date(fy + 1, 3, 31)
    lot_contract: dict[str, str] = {}
    for lot in lots.values():
        cid = next_id()
        lot_contract[lot] = cid
        figures = by_lot.get(lot, {"planned_hours_per_week": 0.0, "__value": 0.0})
        rows.append(
            _row(
                cid,
                name=f"Care at Home Framework, {lot}",
                start_date=lot_start,
                end_date=lot_end,
                extension_months_available=12,
                annual_value=float(round(figures["__value"], -3)),
                lot=lot,
                contract_type="framework",
                commissioned_hours_per_week=float(round(figures["planned_hours_per_week"], -1)),
                extension_options="12+12",
                extensions_used=1,
                notice_months=6,
                weight_quality=60.0,
                weight_price=30.0,
                weight_social_value=10.0,
            )
        )
    provider_contract: dict[str, str] = {}
    for (scheme, _ward), p in zip(EXTRA_CARE_SCHEMES, providers.extra_care, strict=True):
        cid = next_id()
        provider_contract[ids[p]] = cid
        rows.append(
            _row(
                cid,
                provider_id=ids[p],
                name=f"Extra Care at Home, {scheme} (block)",
                start_date=date(fy - 3, 7, 1),
                end_date=date(fy + 2, 6, 30),
                extension_months_available=24,
                annual_value=float(round(300 * 52 * providers.rate[p], -2)),
                contract_type="block",
                commissioned_hours_per_week=300.0,
                extension_options="24",
                extensions_used=0,
                notice_months=6,
                procurement_lead_months=12,
            )
        )
    rural = providers.rural[2]
    rural_id = next_id()
    provider_contract[ids[rural]] = rural_id
    rows.append(
        _row(
            rural_id,
            provider_id=ids[rural],
            name="Rural Block Hours, Eastern Valleys",
            start_date=date(fy - 1, 1, 1),
            end_date=date(fy, 12, 31),
            extension_months_available=12,
            annual_value=float(round(180 * 52 * providers.rate[rural], -2)),
            contract_type="block",
            commissioned_hours_per_week=180.0,
            extension_options="12",
            extensions_used=0,
            notice_months=3,
            procurement_lead_months=6,
        )
    )
    grant_id = next_id()
    provider_contract[ids[providers.other_org]] = grant_id
    rows.append(
        _row(
            grant_id,
            provider_id=ids[providers.other_org],
            name="Community Support Grant, Dales Neighbourly Care",
            start_date=date(fy - 1, 4, 1),
            end_date=date(fy + 1, 3, 31),
            extension_months_available=0,
            annual_value=85_000.0,
            contract_type="grant",
            notice_months=3,
            procurement_lead_months=6,
        )
    )
    me_start = add_months(to_date(copy.launch), 6)
    me_id = next_id()
    rows.append(
        _row(
            me_id,
            name="Community Microenterprise Development Service",
            start_date=me_start,
            end_date=add_months(me_start, 24) - timedelta(days=1),
            extension_months_available=12,
            annual_value=101_000.0,
            contract_type="other",
            extension_options="12+12",
            extensions_used=1,
            notice_months=3,
            procurement_lead_months=3,
            weight_quality=70.0,
            weight_price=20.0,
            weight_social_value=10.0,
        )
    )
    contracts = pl.DataFrame(rows, schema=CONTRACT_COLUMNS, orient="row")

    # Milestones: the framework re-tender (every lot but Lot 2), the rural block's and the grant's
    # decisions, and the microenterprise service's extension evidence.
    milestones: list[dict] = []

    def add(cid: str, name: str, planned: date, late_days: int | None) -> None:
        actual = None if late_days is None else planned + timedelta(days=late_days)
        milestones.append(
            {
                "contract_id": cid,
                "milestone": name,
                "planned_date": planned,
                "actual_date": actual if actual is not None and actual <= as_of else None,
            }
        )

    slip = np.random.default_rng([copy.seed, copy.index, 13])  # a stream of its own: other files unchanged
    for i, cid in enumerate(lot_contract.values()):
        if i == NO_RETENDER_LOT:
            continue
        for name, months_before, late in RETENDER:
            days = None if late is None else int(slip.integers(0, 2 * late + 1))
            add(cid, name, add_months(lot_end + timedelta(days=1), -months_before) - timedelta(days=1), days)
    add(rural_id, "extension decision", date(fy, 3, 31), -int(slip.integers(1, 21)))
    add(grant_id, "grant review", date(fy, 6, 30), int(slip.integers(1, 28)))
    add(
        me_id,
        "impact evidence to senior leadership",
        add_months(me_start, 18) - timedelta(days=1),
        -int(slip.integers(1, 10)),
    )
    milestones_frame = pl.DataFrame(
        milestones,
        schema={"contract_id": pl.String, "milestone": pl.String, "planned_date": pl.Date, "actual_date": pl.Date},
        orient="row",
    )

    # Packages: the provider's block or grant, else the lot of the package's locality (agencies only).
    by_provider = pl.DataFrame(
        {"provider_id": list(provider_contract), "__block": list(provider_contract.values())},
        schema={"provider_id": pl.String, "__block": pl.String},
    )
    lot_ids = pl.DataFrame(
        {"__lot": list(lot_contract), "__lot_contract": list(lot_contract.values())},
        schema={"__lot": pl.String, "__lot_contract": pl.String},
    )
    in_lot = pl.col("provider_id").is_in(agency_ids) & pl.col("__block").is_null()
    after_start = pl.col("end_date").is_null() | (pl.col("end_date") >= lot_start)
    packages = (
        packages.join(by_provider, on="provider_id", how="left", maintain_order="left")
        .join(area_lot, on="area_code", how="left", maintain_order="left")
        .join(lot_ids, on="__lot", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__block").is_not_null())
            .then(pl.col("__block"))
            .when(in_lot & after_start)
            .then(pl.col("__lot_contract"))
            .otherwise(None)
            .alias("contract_id"),
            pl.when(in_lot & after_start).then(pl.col("__lot")).otherwise(None).alias("lot"),
        )
        .drop("__block", "__lot", "__lot_contract")
    )
    framework = [ids[p] for p in range(providers.n_agencies) if providers.contract_type[p].startswith("framework")]
    base_lot = {ids[p]: lots[areas.localities[providers.base[p]]] for p in range(providers.n_agencies)}
    providers_table = providers_table.with_columns(
        pl.col("provider_id")
        .replace_strict(provider_contract, default=None, return_dtype=pl.String)
        .alias("contract_id"),
        pl.when(pl.col("provider_id").is_in(framework))
        .then(pl.col("provider_id").replace_strict(base_lot, default=None, return_dtype=pl.String))
        .otherwise(None)
        .alias("lot"),
    )
    return {"contracts": contracts, "milestones": milestones_frame, "packages": packages, "providers": providers_table}
