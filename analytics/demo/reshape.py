"""Other councils from Northdale: reshape one drawn copy's frames as its ``CouncilShape`` says.

Runs after every random draw of Northdale (``council.build_copy``), so the default shape changes
nothing and the default drop stays byte for byte the same; the few draws a shape needs come
from a random stream of its own (seeded from the seed, the copy and 10). Each step keeps the
drop valid against the contract: a provider that is left out takes its packages, delivery and
workforce rows with it and is blanked where requests and contracts name it; leaving out
contracts blanks every ``contract_id`` that would point at them.

Input and output: ``frames`` is ``{file: DataFrame}`` (contract columns, dates as ``pl.Date``)
and ``features`` the boundary GeoJSON features; both come back reshaped (new objects).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from analytics.demo.common import Copy, add_months, to_date
from analytics.demo.shape import CouncilShape

RUC21_TO_RUC11 = {"UN1": "C1", "UF1": "C2", "RLN1": "D1", "RLF1": "D2", "RSN1": "E1", "RSF1": "E2"}
"""RUC 2021 class of each demo ward to the nearest RUC 2011 class (urban city and town / rural town
and fringe / rural village and dispersed; "further from a major town" as the sparse setting)."""

BRANCH_NAMES = (
    "{name} trading as {stem} Domiciliary Care and Community Support Services (Northern Region), Branch {k}",
    "{stem} Home Care and Reablement Partnership Limited, {k} Station Approach Office, formerly {name}",
    "The {stem} Care at Home and Supported Living Co-operative Society Limited, Branch {k}",
)
DATED_COLUMNS = {
    "packages": "start_date",
    "requests": "requested_date",
    "delivery": "period_start",
    "workforce": "month",
}


def reshape(copy: Copy, frames: dict[str, pl.DataFrame], features: list[dict]):
    """Return ``(frames, features)`` of the council ``copy.shape`` describes (unchanged for Northdale)."""
    shape: CouncilShape = copy.shape
    if shape == CouncilShape():
        return frames, features
    rng = np.random.default_rng([copy.seed, copy.index, 10])
    frames = dict(frames)
    features = [dict(f, properties=dict(f["properties"])) for f in features]
    if shape.people_share < 1:
        frames = _sample_people(rng, frames, shape.people_share)
    if shape.single_provider:
        keep = frames["providers"].get_column("provider_id").head(1).to_list()  # AG01, the dominant agency
        frames = _keep_providers(frames, set(keep))
    if shape.microenterprises != "some":
        providers = frames["providers"]
        me = providers.filter(pl.col("provider_type") == "microenterprise").get_column("provider_id").to_list()
        keep = set(me) if shape.microenterprises == "only" else set(providers.get_column("provider_id")) - set(me)
        frames = _keep_providers(frames, keep)
    if shape.empty_areas:
        frames = _empty_areas(frames, shape.empty_areas)
    if shape.ended_providers:
        frames = _end_providers(copy, frames, shape.ended_providers)
    if shape.providers > frames["providers"].height:
        frames = _branches(frames, shape.providers)
    if shape.service_types != "demo":
        frames = _service_types(rng, frames, shape.service_types)
    starts = (
        {name: _month_start(copy, shape.history_months) for name in DATED_COLUMNS} if shape.history_months < 36 else {}
    )
    starts.update(dict(shape.file_starts))
    for name, first in starts.items():
        frames[name] = _start_at(frames[name], name, first)
    frames["areas"], features = _areas(frames["areas"], features, shape)
    if "contracts" in shape.files():
        frames["packages"] = frames["packages"].with_columns(pl.lit(None, pl.String).alias("contract_id"))
        frames["providers"] = frames["providers"].with_columns(pl.lit(None, pl.String).alias("contract_id"))
    return frames, features


def _month_start(copy: Copy, months: int) -> date:
    """Return the first day of the first of the last ``months`` months ending with as_of's month."""
    as_of = copy.as_of_date
    return add_months(date(as_of.year, as_of.month, 1), 1 - months)


def _sample_people(rng: np.random.Generator, frames: dict[str, pl.DataFrame], share: float) -> dict[str, pl.DataFrame]:
    """Keep a random ``share`` of people (all their packages and requests); delivery rows of packages left out go."""
    people = frames["packages"].get_column("person_id").unique().sort()
    people = pl.concat([people, frames["requests"].get_column("person_id").unique().sort()]).unique(maintain_order=True)
    kept = people.filter(pl.Series(rng.random(people.len()) < share)).to_list()
    out = dict(frames)
    out["packages"] = frames["packages"].filter(pl.col("person_id").is_in(kept))
    out["requests"] = frames["requests"].filter(pl.col("person_id").is_in(kept))
    packages = out["packages"].get_column("package_id").to_list()
    out["delivery"] = frames["delivery"].filter(pl.col("package_id").is_null() | pl.col("package_id").is_in(packages))
    return out


def _keep_providers(frames: dict[str, pl.DataFrame], keep: set[str]) -> dict[str, pl.DataFrame]:
    """Keep only providers ``keep``: their packages, delivery and workforce rows; blank other references."""
    kept = pl.col("provider_id").is_in(sorted(keep))
    out = dict(frames)
    for name in ("providers", "packages", "delivery", "workforce"):
        out[name] = frames[name].filter(kept)
    packages = set(out["packages"].get_column("package_id"))
    out["delivery"] = out["delivery"].filter(
        pl.col("package_id").is_null() | pl.col("package_id").is_in(sorted(packages))
    )
    blank = pl.when(kept).then(pl.col("provider_id")).otherwise(None).alias("provider_id")
    out["requests"] = frames["requests"].with_columns(blank)
    out["contracts"] = frames["contracts"].with_columns(blank)
    return out


def _empty_areas(frames: dict[str, pl.DataFrame], n: int) -> dict[str, pl.DataFrame]:
    """Take every package, request and delivery row out of the last ``n`` wards (no demand there)."""
    empty = frames["areas"].get_column("area_code").tail(n).to_list()
    out = dict(frames)
    for name in ("packages", "requests", "delivery"):
        out[name] = frames[name].filter(~pl.col("area_code").is_in(empty) | pl.col("area_code").is_null())
    gone = frames["packages"].filter(pl.col("area_code").is_in(empty)).get_column("package_id")
    out["delivery"] = out["delivery"].filter(
        ~pl.col("package_id").is_in(gone.to_list()) | pl.col("package_id").is_null()
    )
    return out


def _end_providers(copy: Copy, frames: dict[str, pl.DataFrame], n: int) -> dict[str, pl.DataFrame]:
    """End every package of the ``n`` smallest active agencies 45 days before as_of (handed back).

    Packages they would have started after that day are left out; their delivery stops then. They
    stay in ``providers.csv`` with no ``active_to``: listed, active, with nobody in their care.
    """
    end = to_date(copy.as_of - 45)
    packages = frames["packages"]
    providers = frames["providers"]
    open_now = packages.filter(pl.col("end_date").is_null())
    agencies = providers.filter((pl.col("provider_type") == "agency") & pl.col("active_to").is_null())
    sizes = (
        open_now.group_by("provider_id")
        .agg(pl.len().alias("n"))
        .join(agencies.select("provider_id"), on="provider_id")
        .sort("n", "provider_id")
    )
    ended = sizes.get_column("provider_id").head(n).to_list()
    mine = pl.col("provider_id").is_in(ended)
    still_open = pl.col("end_date").is_null() | (pl.col("end_date") > end)
    out = dict(frames)
    out["packages"] = packages.filter(~(mine & (pl.col("start_date") > end))).with_columns(
        pl.when(mine & still_open).then(pl.lit(end)).otherwise(pl.col("end_date")).alias("end_date"),
        pl.when(mine & still_open)
        .then(pl.lit("provider_handback"))
        .otherwise(pl.col("end_reason"))
        .alias("end_reason"),
    )
    kept = set(out["packages"].get_column("package_id"))
    out["delivery"] = frames["delivery"].filter(
        ~(mine & (pl.col("period_start") > end))
        & (pl.col("package_id").is_null() | pl.col("package_id").is_in(sorted(kept)))
    )
    out["workforce"] = frames["workforce"].filter(~(mine & (pl.col("month") > end)))
    return out


def _branches(frames: dict[str, pl.DataFrame], total: int) -> dict[str, pl.DataFrame]:
    """Split agencies into branches until there are ``total`` providers, each with a long name.

    The agencies with most packages get most branches; packages go to branches in turn, delivery
    rows by area, workforce posts are shared out (at least one post a branch).
    """
    providers = frames["providers"]
    packages = frames["packages"]
    counts = (
        packages.group_by("provider_id")
        .agg(pl.len().alias("n"))
        .join(providers.filter(pl.col("provider_type") == "agency").select("provider_id"), on="provider_id")
        .sort("n", "provider_id", descending=[True, False])
    )
    agency_ids = counts.get_column("provider_id").to_list()
    branches = dict.fromkeys(agency_ids, 1)
    extra = total - providers.height
    for k in range(extra):
        branches[agency_ids[k % len(agency_ids)]] += 1
    rows, split = [], []
    for row in providers.iter_rows(named=True):
        pid, n = row["provider_id"], branches.get(row["provider_id"], 1)
        stem = row["provider_name"].split()[0]
        for k in range(n):
            new = dict(row)
            if k:
                new["provider_id"] = f"{pid}-B{k + 1:02d}"
            if pid in branches:
                new["provider_name"] = BRANCH_NAMES[k % len(BRANCH_NAMES)].format(
                    name=row["provider_name"], stem=stem, k=k + 1
                )
                if new["weekly_capacity_hours"] is not None:
                    new["weekly_capacity_hours"] = round(new["weekly_capacity_hours"] / n, 1)
            rows.append(new)
        split.append({"provider_id": pid, "branches": n})
    out = dict(frames)
    out["providers"] = pl.DataFrame(rows, schema=providers.schema)
    ways = pl.DataFrame(split, schema={"provider_id": pl.String, "branches": pl.Int64})

    def branch_id(k: pl.Expr) -> pl.Expr:
        return (
            pl.when(k == 0)
            .then(pl.col("provider_id"))
            .otherwise(pl.col("provider_id") + pl.lit("-B") + (k + 1).cast(pl.String).str.zfill(2))
        )

    def spread(frame: pl.DataFrame, key: pl.Expr) -> pl.DataFrame:
        joined = frame.with_row_index("_row").join(ways, on="provider_id", how="left")
        k = key % pl.col("branches").fill_null(1)
        return joined.with_columns(branch_id(k).alias("provider_id")).sort("_row").select(frame.columns)

    out["packages"] = spread(packages, pl.int_range(pl.len()).over("provider_id"))
    out["delivery"] = spread(frames["delivery"], pl.col("area_code").rank("dense").cast(pl.Int64))
    workforce = (
        frames["workforce"].join(ways, on="provider_id", how="left").with_columns(pl.col("branches").fill_null(1))
    )
    workforce = workforce.with_columns(pl.int_ranges(0, pl.col("branches")).alias("_k")).explode("_k")
    posts = ["filled_posts", "vacancies", "leavers_12m"]
    out["workforce"] = (
        workforce.with_columns(
            branch_id(pl.col("_k")).alias("provider_id"),
            *[(pl.col(c) // pl.col("branches")).alias(c) for c in posts],
        )
        .with_columns(pl.col("filled_posts").clip(lower_bound=1))
        .select(frames["workforce"].columns)
    )
    return out  # requests keep the first branch's id: still a provider of the drop


def _service_types(rng: np.random.Generator, frames: dict[str, pl.DataFrame], kind: str) -> dict[str, pl.DataFrame]:
    """Blank every service type (home care by default) or spread home care over every contract type."""
    packages = frames["packages"]
    if kind == "home_care":
        column = pl.lit(None, pl.String)
    else:
        picks = rng.choice(
            ["home_care", "supported_living", "extra_care", "other"], packages.height, p=[0.55, 0.15, 0.1, 0.2]
        )
        column = pl.when(pl.col("service_type") == "home_care").then(pl.Series(picks)).otherwise(pl.col("service_type"))
    return {**frames, "packages": packages.with_columns(column.alias("service_type"))}


def _start_at(frame: pl.DataFrame, name: str, first: date) -> pl.DataFrame:
    """Return ``name``'s rows from ``first`` on; packages ended before go, older ones start on ``first``."""
    if name != "packages":
        return frame.filter(pl.col(DATED_COLUMNS[name]) >= first)
    return frame.filter(pl.col("end_date").is_null() | (pl.col("end_date") >= first)).with_columns(
        pl.max_horizontal(pl.col("start_date"), pl.lit(first)).alias("start_date")
    )


def _areas(areas: pl.DataFrame, features: list[dict], shape: CouncilShape) -> tuple[pl.DataFrame, list[dict]]:
    """Blank coordinates, populations, RUC or localities, or move every ward into one locality."""
    blank = []
    if not shape.coordinates:
        blank += ["latitude", "longitude"]
    if not shape.populations:
        blank += ["population_65_plus", "population_18_64"]
    if shape.ruc != "ruc21":
        if shape.ruc == "ruc11":
            areas = areas.with_columns(pl.col("ruc21").replace_strict(RUC21_TO_RUC11, default=None).alias("ruc11"))
        blank += ["ruc21"]
    if shape.localities == "none":
        blank += ["locality"]
    areas = areas.with_columns([pl.lit(None, areas.schema[c]).alias(c) for c in blank])
    if shape.localities == "one":
        areas = areas.with_columns(pl.lit("Northdale").alias("locality"))
    if shape.localities != "five":
        for f in features:
            f["properties"]["locality"] = None if shape.localities == "none" else "Northdale"
    return areas, features
