"""A small, valid, hand-made drop for tests: 3 areas, 3 providers, 5 packages, 4 requests, and 2 rows
each of delivery, workforce, contracts and milestones.

``write_small_drop(folder, **changes)`` writes it as CSV files; ``changes`` maps a file name to
a function that edits its rows (a list of dicts) before writing, or to None to leave it out.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

AREAS = [
    {
        "area_code": "W01",
        "area_name": "Abbey",
        "locality": "North",
        "ruc21": "UN1",
        "ruc11": "",
        "population_65_plus": "1200",
        "population_18_64": "5000",
        "latitude": "54.5",
        "longitude": "-3.1",
    },
    {
        "area_code": "W02",
        "area_name": "Brook",
        "locality": "North",
        "ruc21": "RSF1",
        "ruc11": "",
        "population_65_plus": "800",
        "population_18_64": "2000",
        "latitude": "54.6",
        "longitude": "-3.2",
    },
    {
        "area_code": "W03",
        "area_name": "Castle",
        "locality": "South",
        "ruc21": "",
        "ruc11": "C1",
        "population_65_plus": "1500",
        "population_18_64": "6000",
        "latitude": "54.4",
        "longitude": "-3.0",
    },
]
PROVIDERS = [
    {
        "provider_id": "P1",
        "provider_name": "Alpha Care",
        "provider_type": "agency",
        "cqc_location_id": "1-101",
        "cqc_rating": "Good",
        "cqc_rating_date": "2024-05-01",
        "contract_type": "framework lot 1",
        "weekly_capacity_hours": "100",
        "base_area_code": "W01",
        "active_from": "2020-01-01",
        "active_to": "",
    },
    {
        "provider_id": "P2",
        "provider_name": "Beta Homecare",
        "provider_type": "agency",
        "cqc_location_id": "1-102",
        "cqc_rating": "Requires improvement",
        "cqc_rating_date": "2021-02-01",
        "contract_type": "spot",
        "weekly_capacity_hours": "60",
        "base_area_code": "W03",
        "active_from": "",
        "active_to": "",
    },
    {
        "provider_id": "M1",
        "provider_name": "Fell Micro",
        "provider_type": "microenterprise",
        "cqc_location_id": "",
        "cqc_rating": "",
        "cqc_rating_date": "",
        "contract_type": "",
        "weekly_capacity_hours": "30",
        "base_area_code": "W02",
        "active_from": "2024-08-01",
        "active_to": "",
    },
]
PACKAGES = [
    {
        "package_id": "K1",
        "person_id": "PERSON-0001",
        "area_code": "W01",
        "provider_id": "P1",
        "start_date": "2025-01-06",
        "end_date": "",
        "planned_hours_per_week": "14",
        "service_type": "home_care",
        "funding": "council",
        "client_group": "older_people",
        "hourly_rate": "24.50",
        "end_reason": "",
    },
    {
        "package_id": "K2",
        "person_id": "PERSON-0002",
        "area_code": "W01",
        "provider_id": "P2",
        "start_date": "2025-03-01",
        "end_date": "",
        "planned_hours_per_week": "10",
        "service_type": "",
        "funding": "direct_payment",
        "client_group": "older_people",
        "hourly_rate": "23",
        "end_reason": "",
    },
    {
        "package_id": "K3",
        "person_id": "PERSON-0003",
        "area_code": "W02",
        "provider_id": "M1",
        "start_date": "2025-09-01",
        "end_date": "",
        "planned_hours_per_week": "5",
        "service_type": "home_care",
        "funding": "self_funded",
        "client_group": "older_people",
        "hourly_rate": "",
        "end_reason": "",
    },
    {
        "package_id": "K4",
        "person_id": "PERSON-0004",
        "area_code": "W03",
        "provider_id": "P2",
        "start_date": "2024-06-01",
        "end_date": "2025-06-30",
        "planned_hours_per_week": "21",
        "service_type": "home_care",
        "funding": "council",
        "client_group": "physical_disability",
        "hourly_rate": "22",
        "end_reason": "provider_handback",
    },
    {
        "package_id": "K5",
        "person_id": "PERSON-0004",
        "area_code": "W03",
        "provider_id": "P1",
        "start_date": "2025-07-01",
        "end_date": "",
        "planned_hours_per_week": "21",
        "service_type": "home_care",
        "funding": "council",
        "client_group": "physical_disability",
        "hourly_rate": "24.5",
        "end_reason": "",
    },
]
REQUESTS = [
    {
        "request_id": "R1",
        "person_id": "PERSON-0005",
        "area_code": "W02",
        "requested_date": "2025-09-01",
        "hours_per_week": "7",
        "sourced_date": "",
        "provider_id": "",
        "outcome": "waiting",
    },
    {
        "request_id": "R2",
        "person_id": "PERSON-0003",
        "area_code": "W02",
        "requested_date": "2025-08-01",
        "hours_per_week": "5",
        "sourced_date": "2025-09-01",
        "provider_id": "M1",
        "outcome": "sourced",
    },
    {
        "request_id": "R3",
        "person_id": "PERSON-0006",
        "area_code": "W01",
        "requested_date": "2025-09-20",
        "hours_per_week": "12",
        "sourced_date": "",
        "provider_id": "",
        "outcome": "waiting",
    },
    {
        "request_id": "R4",
        "person_id": "PERSON-0007",
        "area_code": "W03",
        "requested_date": "2025-05-01",
        "hours_per_week": "3",
        "sourced_date": "",
        "provider_id": "",
        "outcome": "withdrawn",
    },
]
DELIVERY = [
    {
        "period_start": "2025-09-01",
        "provider_id": "P1",
        "area_code": "W01",
        "package_id": "K1",
        "commissioned_hours": "14",
        "delivered_hours": "13.5",
    },
    {
        "period_start": "2025-09-08",
        "provider_id": "P2",
        "area_code": "W01",
        "package_id": "K2",
        "commissioned_hours": "10",
        "delivered_hours": "10",
    },
]
WORKFORCE = [
    {"provider_id": "P1", "month": "2025-09-15", "filled_posts": "40", "vacancies": "5", "leavers_12m": "10"},
    {"provider_id": "P2", "month": "2025-09-01", "filled_posts": "20", "vacancies": "2", "leavers_12m": "6"},
]
CONTRACTS = [
    {
        "contract_id": "C1",
        "provider_id": "P1",
        "name": "Care at Home Lot 1 North",
        "start_date": "2023-04-01",
        "end_date": "2026-03-31",
        "extension_months_available": "12",
        "annual_value": "1200000",
    },
    {
        "contract_id": "C2",
        "provider_id": "P2",
        "name": "Care at Home Lot 2",
        "start_date": "2023-04-01",
        "end_date": "2026-03-31",
        "extension_months_available": "0",
        "annual_value": "400000",
    },
]
MILESTONES = [
    {"contract_id": "C1", "milestone": "consultation", "planned_date": "2025-06-30", "actual_date": "2025-07-04"},
    {"contract_id": "C1", "milestone": "award", "planned_date": "2025-12-31", "actual_date": ""},
]
FILES = {
    "areas": AREAS,
    "providers": PROVIDERS,
    "packages": PACKAGES,
    "requests": REQUESTS,
    "delivery": DELIVERY,
    "workforce": WORKFORCE,
    "contracts": CONTRACTS,
    "milestones": MILESTONES,
}
PERSON_IDS = sorted({r["person_id"] for rows in (PACKAGES, REQUESTS) for r in rows})
MANIFEST = 'as_of = 2025-09-30\ncouncil_code = "X99000002"\ncouncil_name = "Small Test Council"\n'

Change = Callable[[list[dict]], list[dict] | None] | None


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    """Write ``rows`` (all dicts with the same keys) as a CSV file."""
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_small_drop(folder: Path, manifest: str | None = MANIFEST, **changes: Change) -> Path:
    """Write the small drop into ``folder`` (created); apply ``changes`` per file; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in FILES.items():
        rows = [dict(r) for r in rows]
        if name in changes:
            change = changes[name]
            if change is None:
                continue
            rows = change(rows) or rows
        write_csv(folder / f"{name}.csv", rows)
    if manifest is not None:
        (folder / "manifest.toml").write_text(manifest, encoding="utf-8")
    return folder


def loaded_small_store(folder: Path) -> Path:
    """Return ``folder / "store"``: a real data store with the small drop (written to ``folder / "first"``) loaded."""
    from analytics.store.snapshots import refresh

    data_dir = folder / "store"
    assert refresh(write_small_drop(folder / "first"), data_dir, loaded_by="setup").accepted
    return data_dir
