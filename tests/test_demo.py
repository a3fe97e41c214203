"""The synthetic demo council generator (``analytics.demo``): determinism, contract, calibration, stories.

Every test reads real files written to a temporary folder. Calibration targets come from
published figures (Cumberland Council micro-enterprise service 2025; ADASS, Spring Survey 2025;
Homecare Association fee rates and Minimum Price 2025-26; Skills for Care 2024/25) and hold within
15% at ``as_of`` for the default seed.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from analytics.config import settings
from analytics.contract import CONTRACT, FILES, Column
from analytics.demo import DEFAULT_AS_OF, OUTPUT_FILES, generate_drop

AS_OF = DEFAULT_AS_OF
ALL_FILES = ("manifest.toml", *(f"{name}.csv" for name in OUTPUT_FILES), "boundaries.geojson")


def _hashes(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in ALL_FILES}


def _read_strings(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{name}.csv", infer_schema=False)


def _read(folder: Path, name: str) -> pl.DataFrame:
    """Read a drop file typed as the contract says (the generator writes ISO dates)."""
    frame = _read_strings(folder, name)
    casts = []
    for col in FILES[name].columns:
        expr = pl.col(col.name)
        if col.dtype == "int":
            expr = expr.cast(pl.Int64)
        elif col.dtype == "float":
            expr = expr.cast(pl.Float64)
        elif col.dtype == "date":
            expr = expr.str.to_date("%Y-%m-%d")
        casts.append(expr)
    return frame.with_columns(casts)


def _active(packages: pl.DataFrame, day: date) -> pl.Expr:
    return (pl.col("start_date") <= day) & (pl.col("end_date").is_null() | (pl.col("end_date") >= day))


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("demo") / "drop"
    return folder, generate_drop(folder)


@pytest.fixture(scope="module")
def tables(drop) -> dict[str, pl.DataFrame]:
    folder, _ = drop
    return {name: _read(folder, name) for name in OUTPUT_FILES}


@pytest.fixture(scope="module")
def active(tables) -> pl.DataFrame:
    """Packages active at as_of, with the provider's type and name."""
    providers = tables["providers"].select("provider_id", "provider_type", "provider_name")
    return tables["packages"].filter(_active(tables["packages"], AS_OF)).join(providers, on="provider_id")


@pytest.fixture(scope="module")
def dominant_id(tables) -> str:
    providers = tables["providers"]
    return providers.filter(pl.col("provider_name") == "Fellcare Homecare Ltd").item(0, "provider_id")


def calibration(tables: dict[str, pl.DataFrame], active: pl.DataFrame) -> dict[str, float]:
    """The headline figures at as_of that the demo is calibrated to."""
    agency = active.filter(pl.col("provider_type") == "agency")
    me = active.filter(pl.col("provider_type") == "microenterprise")
    n_me = me.get_column("provider_id").n_unique()
    month = tables["workforce"].filter(pl.col("month") == date(AS_OF.year, AS_OF.month, 1))
    hours = agency.get_column("planned_hours_per_week")
    return {
        "people_in_service": active.get_column("person_id").n_unique(),
        "agency_mean_hours": hours.mean(),
        "agency_hourly_rate": (hours * agency.get_column("hourly_rate")).sum() / hours.sum(),
        "active_microenterprises": n_me,
        "customers_per_microenterprise": me.get_column("person_id").n_unique() / n_me,
        "hours_per_microenterprise": me.get_column("planned_hours_per_week").sum() / n_me,
        "vacancy_rate": month["vacancies"].sum() / (month["filled_posts"].sum() + month["vacancies"].sum()),
    }


# ------------------------------------------------------------------------------------------------
# Files, determinism, scale


def test_writes_every_file_and_a_matching_summary(drop):
    folder, summary = drop
    for name in ALL_FILES:
        assert (folder / name).is_file(), name
    demo = settings()["demo"]
    assert summary["seed"] == demo["seed"] and summary["scale"] == 1 and summary["as_of"] == AS_OF.isoformat()
    for name in OUTPUT_FILES:
        assert summary["rows"][name] == _read_strings(folder, name).height
    manifest = tomllib.loads((folder / "manifest.toml").read_text(encoding="utf-8"))
    assert manifest == {
        "as_of": AS_OF,
        "council_code": demo["council_code"],
        "council_name": demo["council_name"],
        "synthetic": True,
    }


def test_same_seed_gives_byte_identical_files(drop, tmp_path):
    folder, summary = drop
    again = generate_drop(tmp_path / "again", seed=summary["seed"])
    assert again["rows"] == summary["rows"]
    assert _hashes(tmp_path / "again") == _hashes(folder)


def test_different_seed_gives_different_files(drop, tmp_path):
    folder, summary = drop
    generate_drop(tmp_path / "other", seed=summary["seed"] + 1)
    ours, theirs = _hashes(folder), _hashes(tmp_path / "other")
    changed = [name for name in ALL_FILES if ours[name] != theirs[name]]
    assert set(changed) >= {f"{name}.csv" for name in OUTPUT_FILES} | {"boundaries.geojson"}


def test_scale_two_doubles_rows_and_keeps_identifiers_unique(drop, tmp_path):
    _, single = drop
    folder = tmp_path / "x2"
    double = generate_drop(folder, scale=2)
    for name in OUTPUT_FILES:
        ratio = double["rows"][name] / single["rows"][name]
        assert 1.8 <= ratio <= 2.2, (name, ratio)
    # The first copy is the same council as scale=1; the second has its own identifiers.
    assert double["boundary_features"] == 2 * single["boundary_features"]
    for name in OUTPUT_FILES:
        spec = FILES[name]
        frame = _read_strings(folder, name)
        for col in spec.columns:
            if col.unique:
                assert frame.get_column(col.name).is_unique().all(), (name, col.name)
    packages = _read_strings(folder, "packages")
    requests = _read_strings(folder, "requests")
    second = packages.filter(pl.col("package_id").str.starts_with("C02-"))
    assert 0.4 < second.height / packages.height < 0.6
    assert second.select(
        pl.col("person_id").str.starts_with("C02-NDP").all(),
        pl.col("area_code").str.starts_with("C02-ND-W").all(),
        pl.col("provider_id").str.starts_with("C02-").all(),
    ).row(0) == (True, True, True)
    first_people = set(packages.filter(~pl.col("package_id").str.starts_with("C02-"))["person_id"])
    assert not first_people & set(second["person_id"])
    assert requests.filter(pl.col("request_id").str.starts_with("C02-"))["person_id"].str.starts_with("C02-").all()
    areas = _read_strings(folder, "areas")
    assert areas.get_column("area_code").is_unique().all() and areas.height == 60


# ------------------------------------------------------------------------------------------------
# The contract


def _rule_failures(folder: Path, name: str, frame: pl.DataFrame, col: Column) -> list[str]:
    """Return the rules of ``col`` broken in ``frame`` (values as written, strings)."""
    s = frame.get_column(col.name)
    failures = []
    if col.required and s.null_count():
        failures.append("required")
    values = s.drop_nulls()
    if col.dtype == "int":
        typed = values.cast(pl.Int64, strict=False)
    elif col.dtype == "float":
        typed = values.cast(pl.Float64, strict=False)
    elif col.dtype == "date":
        typed = values.str.to_date("%Y-%m-%d", strict=False)
    else:
        typed = values
    if typed.null_count():
        failures.append(f"type {col.dtype}")
    if col.allowed is not None and not values.is_in(pl.Series(col.allowed)).all():
        failures.append(f"allowed {sorted(set(values) - set(col.allowed))}")
    if col.minimum is not None:
        ok = typed >= col.minimum if col.minimum_inclusive else typed > col.minimum
        failures += [] if ok.all() else ["minimum"]
    if col.maximum is not None:
        ok = typed <= col.maximum if col.maximum_inclusive else typed < col.maximum
        failures += [] if ok.all() else ["maximum"]
    if col.unique and not s.is_unique().all():
        failures.append("unique")
    if col.pattern and not values.str.contains(col.pattern).all():
        failures.append("pattern")
    if col.references:
        ref_file, ref_col = col.references
        known = _read_strings(folder, ref_file).get_column(ref_col)
        if not values.is_in(known.implode()).all():
            failures.append(f"references {ref_file}.{ref_col}")
    if col.not_before:
        pair = frame.select(
            pl.col(col.name).str.to_date("%Y-%m-%d"), pl.col(col.not_before).str.to_date("%Y-%m-%d")
        ).drop_nulls()
        if not (pair[col.name] >= pair[col.not_before]).all():
            failures.append(f"not before {col.not_before}")
    return failures


@pytest.mark.parametrize("spec", CONTRACT, ids=[spec.name for spec in CONTRACT])
def test_every_file_meets_the_contract(drop, spec):
    folder, _ = drop
    frame = _read_strings(folder, spec.name)
    assert frame.columns == spec.column_names
    assert frame.height > 0
    broken = {col.name: f for col in spec.columns if (f := _rule_failures(folder, spec.name, frame, col))}
    assert broken == {}


def test_drop_passes_the_project_validator(drop):
    validation = pytest.importorskip("analytics.ingest.validation")
    folder, _ = drop
    result = validation.validate_drop(folder)
    assert result.errors.height == 0, result.errors.head(10)
    assert result.as_of == AS_OF
    # Only the deliberate edge cases are flagged: one ward without population, one unclassified.
    assert sorted(result.warnings.get_column("rule").to_list()) == ["area unclassified", "area without population"]


def test_boundaries_are_made_up_wards_in_northern_england(drop, tables):
    folder, _ = drop
    geo = json.loads((folder / "boundaries.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection"
    areas = tables["areas"]
    codes = {f["properties"]["area_code"] for f in geo["features"]}
    assert codes == set(areas["area_code"])
    for feature in geo["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 5
        assert all(-3.5 <= lon <= -2.6 and 54.3 <= lat <= 54.9 for lon, lat in ring)
        assert feature["properties"]["area_name"]
    assert areas["latitude"].is_between(54.3, 54.9).all() and areas["longitude"].is_between(-3.5, -2.6).all()
    assert not areas["area_code"].str.contains(r"^[EWSN]\d{8}$").any()  # local codes, not GSS


def test_deliberate_edge_cases(tables):
    areas, providers = tables["areas"], tables["providers"]
    assert areas["population_65_plus"].null_count() == 1
    assert areas.filter(pl.col("ruc21").is_null() & pl.col("ruc11").is_null()).height == 1
    rural_share = areas["ruc21"].str.starts_with("R").sum() / areas.height
    assert 0.3 <= rural_share <= 0.5
    assert providers["weekly_capacity_hours"].null_count() == 1
    assert providers.filter(pl.col("cqc_rating").is_null() | (pl.col("cqc_rating") == "Not rated")).height >= 3
    stale = providers.filter(pl.col("cqc_rating_date") < AS_OF - timedelta(days=4 * 365))
    assert stale.height >= 3
    counts = dict(providers.group_by("provider_type").len().iter_rows())
    assert 38 <= counts["agency"] <= 45 and counts["microenterprise"] >= 46 and counts["in_house"] in (1, 2)


def test_people_ids_and_histories(tables):
    packages, requests = tables["packages"], tables["requests"]
    assert packages["person_id"].str.contains(r"^NDP\d{7}$").all()
    per_person = packages.group_by("person_id").len()
    assert per_person.filter(pl.col("len") > 1).height > 100  # moves, hand-backs, reablement then care
    # No one has two packages at once.
    ordered = packages.sort("person_id", "start_date").with_columns(
        previous_end=pl.col("end_date").shift().over("person_id"),
        previous_start=pl.col("start_date").shift().over("person_id"),
    )
    assert ordered.filter(pl.col("previous_start").is_not_null() & pl.col("previous_end").is_null()).height == 0
    assert ordered.filter(pl.col("start_date") <= pl.col("previous_end")).height == 0
    # Packages sit inside their provider's active dates.
    joined = packages.join(tables["providers"], on="provider_id")
    outside = joined.filter(
        (pl.col("start_date") < pl.col("active_from"))
        | (
            pl.col("active_to").is_not_null()
            & (pl.col("end_date").is_null() | (pl.col("end_date") > pl.col("active_to")))
        )
    )
    assert outside.height == 0
    # Most packages that started in the 36 months have a request before them.
    recent = packages.filter(pl.col("start_date") >= AS_OF - timedelta(days=700))
    with_request = recent.join(requests, on="person_id", how="semi")
    assert with_request.height / recent.height > 0.9
    assert packages["start_date"].max() <= AS_OF and requests["requested_date"].max() <= AS_OF


# ------------------------------------------------------------------------------------------------
# Calibration at as_of (within 15%)

TARGETS = {
    "people_in_service": 2_000,
    "agency_mean_hours": 14.0,
    "agency_hourly_rate": 24.0,
    "active_microenterprises": 46,
    "customers_per_microenterprise": 6.26,
    "hours_per_microenterprise": 28.4,
    "vacancy_rate": 0.10,
}


@pytest.mark.parametrize("measure", list(TARGETS))
def test_calibration_at_as_of(tables, active, measure):
    figures = calibration(tables, active)
    print(f"{measure}: {figures[measure]:.3f} (target {TARGETS[measure]})")
    assert figures[measure] == pytest.approx(TARGETS[measure], rel=0.15)


def test_waiting_list_and_delivery_are_plausible(tables):
    waiting = tables["requests"].filter(pl.col("outcome") == "waiting")
    assert 60 <= waiting.height <= 120
    assert (
        waiting["sourced_date"].null_count() == waiting.height and waiting["provider_id"].null_count() == waiting.height
    )
    delivery = tables["delivery"]
    assert (delivery["period_start"].dt.weekday() == 1).all()
    assert delivery["period_start"].n_unique() in (155, 156, 157)
    rate = delivery["delivered_hours"].sum() / delivery["commissioned_hours"].sum()
    assert 0.92 <= rate <= 0.99
    workforce = tables["workforce"]
    assert (workforce["month"].dt.day() == 1).all() and workforce["month"].n_unique() == 36
    month = workforce.filter(pl.col("month") == date(AS_OF.year, AS_OF.month, 1))
    assert month["leavers_12m"].sum() / month["filled_posts"].sum() == pytest.approx(0.25, rel=0.2)


# ------------------------------------------------------------------------------------------------
# Stories


def test_dominant_agency_holds_about_a_quarter_of_planned_hours(active, dominant_id):
    total = active["planned_hours_per_week"].sum()
    by_provider = (
        active.group_by("provider_id")
        .agg(pl.col("planned_hours_per_week").sum())
        .sort("planned_hours_per_week", descending=True)
    )
    assert by_provider.item(0, "provider_id") == dominant_id
    share = by_provider.item(0, "planned_hours_per_week") / total
    assert 0.20 <= share <= 0.30
    assert by_provider.item(1, "planned_hours_per_week") / total < 0.10


def test_dominant_agency_is_declining(tables, dominant_id):
    provider = tables["providers"].filter(pl.col("provider_id") == dominant_id).row(0, named=True)
    assert provider["cqc_rating"] == "Requires improvement"
    assert AS_OF - timedelta(days=365) < provider["cqc_rating_date"] <= AS_OF
    handbacks = tables["packages"].filter(
        (pl.col("provider_id") == dominant_id) & (pl.col("end_reason") == "provider_handback")
    )
    last = handbacks.filter(pl.col("end_date") > AS_OF - timedelta(days=365)).height
    before = handbacks.filter(
        pl.col("end_date").is_between(AS_OF - timedelta(days=730), AS_OF - timedelta(days=365), closed="left")
    ).height
    assert last > 2 * before > 0
    staff = tables["workforce"].filter(pl.col("provider_id") == dominant_id).sort("month")
    vacancy = staff["vacancies"] / (staff["filled_posts"] + staff["vacancies"])
    assert vacancy.tail(3).mean() > vacancy.head(12).mean() + 0.05


def test_rural_wards_have_fewer_providers_and_longer_waits(tables, active):
    areas = tables["areas"].with_columns(rural=pl.col("ruc21").str.starts_with("R"))
    providers_per_ward = active.group_by("area_code").agg(pl.col("provider_id").n_unique().alias("providers"))
    wards = areas.join(providers_per_ward, on="area_code", how="left").with_columns(pl.col("providers").fill_null(0))
    thin = wards.filter(pl.col("providers") <= 2)
    assert thin.height >= 3 and thin["rural"].all()
    requests = tables["requests"].join(areas.select("area_code", "rural"), on="area_code")
    recent = requests.filter(
        (pl.col("outcome") == "waiting") | (pl.col("sourced_date") > AS_OF - timedelta(days=365))
    ).with_columns(wait=(pl.col("sourced_date").fill_null(AS_OF) - pl.col("requested_date")).dt.total_days())
    rural = recent.filter(pl.col("rural") == True)["wait"].median()  # noqa: E712
    urban = recent.filter(pl.col("rural") == False)["wait"].median()  # noqa: E712
    print(f"median wait: rural {rural} days, urban {urban} days")
    assert rural > urban
    assert 5 <= urban <= 12 and 18 <= rural <= 35


def test_microenterprises_grow_after_launch(tables, active):
    me = tables["providers"].filter(pl.col("provider_type") == "microenterprise")

    def active_on(day: date) -> int:
        return me.filter(
            (pl.col("active_from") <= day) & (pl.col("active_to").is_null() | (pl.col("active_to") >= day))
        ).height

    launch = date(2024, 8, 1)
    counts = [active_on(d) for d in (launch - timedelta(days=1), date(2025, 3, 31), date(2025, 10, 31), AS_OF)]
    assert counts[0] <= 3 and counts == sorted(counts) and counts[-1] == 46
    me_packages = tables["packages"].join(me.select("provider_id"), on="provider_id")
    assert me_packages["start_date"].min() < launch
    assert me_packages.filter(pl.col("start_date") < launch).height < 20
    hourly = me_packages["hourly_rate"]
    assert hourly.min() >= 17 and hourly.max() <= 25.5


def test_other_as_of_dates_work(tmp_path):
    as_of = date(2025, 3, 31)
    summary = generate_drop(tmp_path / "early", as_of=as_of)
    assert summary["as_of"] == "2025-03-31"
    packages = _read(tmp_path / "early", "packages")
    assert packages["start_date"].max() <= as_of
    assert packages.filter(pl.col("end_date").is_null()).height > 1_500
    delivery = _read(tmp_path / "early", "delivery")
    assert delivery["period_start"].max() + timedelta(days=6) <= as_of


# --------------------------------------------------------------------------------------------
# Council shapes (analytics.demo.SHAPES; tests/test_councils.py runs every page on each)


def test_named_northdale_shape_is_the_default_drop_byte_for_byte(drop, tmp_path):
    from analytics.demo import NORTHDALE, SHAPES, CouncilShape

    folder, _ = drop
    assert SHAPES["northdale"] == NORTHDALE == CouncilShape()
    generate_drop(tmp_path / "named", shape=SHAPES["northdale"])
    assert _hashes(tmp_path / "named") == _hashes(folder)


def test_demo_command_writes_a_named_shape(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "no-delivery"
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "demo", "--shape", "no-delivery", "--out", str(out)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "packages.csv").is_file() and not (out / "delivery.csv").exists()
    assert _read_strings(out, "areas")["ruc11"].null_count() < 30  # RUC 2011 codes only in that shape
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "demo", "--shape", "atlantis", "--out", str(tmp_path / "x")],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "northdale" in bad.stderr  # argparse lists the shapes there are


def test_shapes_refuse_impossible_options():
    from analytics.demo import CouncilShape

    with pytest.raises(ValueError, match="not optional"):
        CouncilShape(omit=frozenset({"packages"}))
    with pytest.raises(ValueError, match="history_months"):
        CouncilShape(history_months=0)
    # found by tests/fuzz_councils.py: an empty drop (single provider) and a ZeroDivisionError (branches)
    for agencies in ({"single_provider": True}, {"providers": 120}):
        with pytest.raises(ValueError, match="need agencies"):
            CouncilShape(microenterprises="only", **agencies)
