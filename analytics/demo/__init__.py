"""Synthetic demo council: a seeded, deterministic generator of a complete monthly data drop.

"Northdale (synthetic demo council)" is made up. Its wards, providers, people and figures are
random draws calibrated to published figures (ADASS, Homecare Association, Skills for Care, CQC,
Community Catalysts, Cumberland Council; sources in ``analytics/indicators/sources.toml``); none of it
describes a real place, business or person. Area codes are local (``ND-W01``), never GSS codes.

``generate_drop(out_dir)`` writes one drop folder in the format of ``analytics.contract``:

* ``manifest.toml`` (``as_of``, council code and name from ``config.toml`` ``[demo]``, ``synthetic = true``);
* ``areas.csv``, ``providers.csv``, ``packages.csv``, ``requests.csv``, ``delivery.csv``,
  ``workforce.csv``, ``contracts.csv``, ``milestones.csv`` (UTF-8, ISO dates, every contract column in contract order);
* ``boundaries.geojson`` (made-up ward polygons: a jittered grid in northern England).

Calibration at ``as_of`` (seed from ``config.toml``; see ``tests/test_demo.py``): about 2,000 people
in service; agency packages average about 14 planned hours a week at about £24 an hour; 46 active
microenterprises with about 6.3 customers and 28.4 hours a week each; homecare vacancy rate about
10%; 60 to 120 people waiting, rural waits clearly longer than urban ones.

Stories a commissioner should find: one dominant agency (Fellcare Homecare Ltd, about a quarter of
planned hours) rated down to Requires improvement in the last year, handing packages back more and
more and losing staff; remote rural wards served by one or two providers with longer waits; a
microenterprise programme launched 27 months before ``as_of`` growing to 46 enterprises.

Method, in brief: people arrive as a Poisson process over ten years before ``as_of`` (a little
growth a year) and have a care episode of random length; each episode is split into packages
whenever the provider leaves the market, hands the package back, the person moves provider, or
in-house reablement hands over to long-term care; a new provider is drawn from those active and
serving the ward that month. Microenterprise customers fill each enterprise's "slots" one after
another. Delivery and workforce rows are derived from the packages (weekly commissioned hours per
provider and ward, monthly staffing from those hours). All randomness comes from one NumPy
``default_rng`` per council copy, seeded from ``(seed, copy)``; nothing reads the clock.

The package is split by what it generates: ``areas`` (wards, localities, RUC, populations,
boundaries), ``providers`` (who, where, when, size, price; ``providers.csv``), ``episodes`` (care
episodes), ``packages`` (episodes split into packages, people), ``hours`` (planned hours a day),
``requests``, ``delivery``, ``workforce``, ``contracts``; ``council`` draws one copy in a fixed
order; ``shape`` holds ``CouncilShape``, the frozen options every part is given, and ``SHAPES``,
the named councils of other shapes (no delivery file, no coordinates, one month of history...),
which ``reshape`` makes from Northdale after every draw; ``common`` the shared helpers. This
module writes the drop.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from analytics.config import settings
from analytics.contract import FILES
from analytics.demo.shape import NORTHDALE, SHAPES, CouncilShape

__all__ = ["DEFAULT_AS_OF", "NORTHDALE", "OUTPUT_FILES", "SHAPES", "CouncilShape", "generate_drop"]

DEFAULT_AS_OF = date(2026, 10, 31)
OUTPUT_FILES = ("areas", "providers", "packages", "requests", "delivery", "workforce", "contracts", "milestones")


def generate_drop(
    out_dir: Path,
    *,
    seed: int | None = None,
    scale: int = 1,
    as_of: date = DEFAULT_AS_OF,
    shape: CouncilShape = NORTHDALE,
) -> dict:
    """Write a complete synthetic drop folder to ``out_dir``; return a summary.

    Inputs: ``out_dir`` (created if missing; files of the same names are overwritten), ``seed``
    (default ``config.toml`` ``[demo] seed``; the same seed gives byte-identical files), ``scale``
    (number of council copies in one drop, each with its own area, provider, package, request,
    contract and person identifiers prefixed ``C02-``, ``C03-``...; for performance work) and
    ``as_of`` (the date the drop describes; 36 months of history end on it) and ``shape`` (the
    kind of council: ``CouncilShape``, e.g. ``SHAPES["no-delivery"]``; the default is Northdale
    as documented; files the shape leaves out are not written).

    Output: the summary ``{"out_dir", "as_of" (ISO date), "seed", "scale", "council_code",
    "council_name", "synthetic": True, "rows": {file: data rows of each file written}, "boundary_features"}``.
    Units in the files: hours are hours a week (``delivery``: hours in the week), rates and
    values are £, populations are people, dates are ISO ``YYYY-MM-DD``.
    """
    from analytics.demo.council import build_copy  # NumPy and the generators: only when a drop is made

    demo = settings()["demo"]
    seed = int(demo["seed"]) if seed is None else int(seed)
    if scale < 1:
        raise ValueError("scale must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in OUTPUT_FILES}
    features: list[dict] = []
    for index in range(scale):
        frames, copy_features = build_copy(seed, index, as_of, shape)
        for name in OUTPUT_FILES:
            parts[name].append(frames[name])
        features.extend(copy_features)

    rows: dict[str, int] = {}
    left_out = shape.files()
    for name in OUTPUT_FILES:
        frame = pl.concat(parts[name], how="vertical") if len(parts[name]) > 1 else parts[name][0]
        if name in left_out or (frame.is_empty() and not FILES[name].required):
            continue  # left out, or nothing to say (no workforce of a council of microenterprises)
        missing = [c for c in FILES[name].column_names if c not in frame.columns]  # optional, never drawn: blank
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
        frame = frame.select(FILES[name].column_names)
        frame.write_csv(out / f"{name}.csv", date_format="%Y-%m-%d")
        rows[name] = frame.height

    geojson = {
        "type": "FeatureCollection",
        "name": "Northdale wards (synthetic)",
        "features": features,
    }
    if "boundaries" not in left_out:
        (out / "boundaries.geojson").write_text(json.dumps(geojson, separators=(",", ":")) + "\n", encoding="utf-8")

    manifest = (
        "# Synthetic demo drop made by analytics.demo: Northdale is a made-up council, not real data.\n"
        f"# seed {seed}, scale {scale}\n"
        f"as_of = {as_of.isoformat()}\n"
        f"council_code = {json.dumps(str(demo['council_code']))}\n"
        f"council_name = {json.dumps(str(demo['council_name']))}\n"
        "synthetic = true\n"
    )
    (out / "manifest.toml").write_text(manifest, encoding="utf-8")

    return {
        "out_dir": str(out),
        "as_of": as_of.isoformat(),
        "seed": seed,
        "scale": scale,
        "council_code": str(demo["council_code"]),
        "council_name": str(demo["council_name"]),
        "synthetic": True,
        "rows": rows,
        "boundary_features": 0 if "boundaries" in left_out else len(features),
    }
