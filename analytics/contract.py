"""The data drop contract (version 2) as data.

Version 2 adds the commissioning cycle, all optional so version 1 drops stay valid: contract
lots, types, commissioned hours, extension options, notice and procurement lead times and tender
weights; a ``contract_id`` or ``lot`` on packages and providers; the ``milestones`` file.

One ``FileSpec`` per file and one ``Column`` per column. Validation
(``analytics.ingest.validation``), the staged table schemas (``analytics.store.snapshots``) and the user
documentation (``docs/data-drops.md``, made by ``analytics.docs_gen``) are all generated
from ``CONTRACT``; change the rules here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CONTRACT_VERSION = 2

DType = Literal["str", "int", "float", "date"]

RUC21_CODES = ("UN1", "UF1", "RLN1", "RLF1", "RSN1", "RSF1")
RUC11_CODES = ("A1", "B1", "C1", "C2", "D1", "D2", "E1", "E2")
RUC11_RURAL = ("D1", "D2", "E1", "E2")
PROVIDER_TYPES = ("agency", "microenterprise", "in_house", "personal_assistant", "other")
CQC_RATINGS = ("Outstanding", "Good", "Requires improvement", "Inadequate", "Not rated")
SERVICE_TYPES = ("home_care", "supported_living", "extra_care", "reablement", "other")
FUNDING = ("council", "direct_payment", "self_funded", "health", "other")
CLIENT_GROUPS = ("older_people", "learning_disability", "physical_disability", "mental_health", "other")
END_REASONS = (
    "ended_as_planned",
    "provider_handback",
    "deceased",
    "moved_to_residential",
    "moved_provider",
    "other",
)
REQUEST_OUTCOMES = ("sourced", "waiting", "withdrawn", "other")
CONTRACT_TYPES = ("block", "framework", "dps", "spot", "grant", "other")


@dataclass(frozen=True)
class Column:
    """One column of a drop file and every rule it must meet.

    ``minimum``/``maximum`` bound numbers (``*_inclusive`` says whether the bound itself is
    allowed); ``allowed`` lists the only values accepted (matched case-insensitively and
    stored in the canonical spelling given here); ``references`` is ``(file, column)`` that
    each non-blank value must exist in; ``not_before`` names a date column of the same row
    this one must be on or after; ``default`` fills blanks; ``personal`` marks person
    identifiers, which are pseudonymised on load and never echoed in error messages;
    ``max_years_after_as_of`` widens the plausible window for a date column whose dates may run
    further ahead than ``[limits] max_years_after_as_of`` (contract end dates).
    """

    name: str
    required: bool
    dtype: DType
    description: str = ""
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    minimum_inclusive: bool = True
    maximum: float | None = None
    maximum_inclusive: bool = True
    unique: bool = False
    pattern: str | None = None
    pattern_hint: str = ""
    references: tuple[str, str] | None = None
    not_before: str | None = None
    default: str | None = None
    personal: bool = False
    max_years_after_as_of: int | None = None

    def rule_text(self) -> str:
        """Return the column's rules in plain English (used by the docs and error messages)."""
        parts: list[str] = []
        if self.allowed:
            parts.append("one of " + ", ".join(f"`{v}`" for v in self.allowed))
        if self.minimum is not None:
            parts.append(("≥ " if self.minimum_inclusive else "> ") + _num(self.minimum))
        if self.maximum is not None:
            parts.append(("≤ " if self.maximum_inclusive else "< ") + _num(self.maximum))
        if self.unique:
            parts.append("unique")
        if self.pattern_hint:
            parts.append(self.pattern_hint)
        if self.references:
            parts.append(f"must exist in `{self.references[0]}.{self.references[1]}`")
        if self.not_before:
            parts.append(f"on or after `{self.not_before}`")
        if self.default:
            parts.append(f"blank means `{self.default}`")
        if self.personal:
            parts.append("pseudonymised on load")
        if self.max_years_after_as_of is not None:
            parts.append(f"up to {self.max_years_after_as_of} years after `as_of`")
        return "; ".join(parts)


@dataclass(frozen=True)
class FileSpec:
    """One file of a drop: its name (the file stem), whether it must be present, its columns."""

    name: str
    required: bool
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _ref(file: str, column: str) -> tuple[str, str]:
    return (file, column)


def _reference(name: str, required: bool, description: str, file: str) -> Column:
    """Return a text column each non-blank value of which must exist in the same-named column of ``file``."""
    return Column(name, required, "str", description, references=_ref(file, name))


def _weekly_hours(name: str, description: str) -> Column:
    """Return a required number of hours a week: more than 0 and at most 168 (every hour of a week)."""
    return Column(name, True, "float", description, minimum=0, minimum_inclusive=False, maximum=168)


_PERSON_ID = Column("person_id", True, "str", "The council's person identifier", personal=True)
_HOME_AREA = _reference("area_code", True, "Area where the person lives", "areas")


AREAS = FileSpec(
    "areas",
    True,
    "One row per small area the council reports on (ward or LSOA).",
    (
        Column("area_code", True, "str", "GSS code (`E05…` ward, `E01…` LSOA) or a local code", unique=True),
        Column("area_name", True, "str", "Area name"),
        Column("locality", False, "str", "The council's zone, neighbourhood or patch grouping"),
        Column("ruc21", False, "str", "ONS Rural Urban Classification 2021 code", allowed=RUC21_CODES),
        Column(
            "ruc11",
            False,
            "str",
            "ONS Rural Urban Classification 2011 code (used when `ruc21` is blank)",
            allowed=RUC11_CODES,
        ),
        Column("population_65_plus", False, "int", "Residents aged 65 years and over", minimum=0),
        Column("population_18_64", False, "int", "Residents aged 18 to 64 years", minimum=0),
        Column("latitude", False, "float", "Area centroid latitude, WGS84, within the UK", minimum=49.8, maximum=60.9),
        Column("longitude", False, "float", "Area centroid longitude, WGS84, within the UK", minimum=-8.7, maximum=1.8),
    ),
)

PROVIDERS = FileSpec(
    "providers",
    True,
    "One row per provider (location or branch) the council uses or tracks.",
    (
        Column("provider_id", True, "str", "The council's provider identifier", unique=True),
        Column("provider_name", True, "str", "Provider name"),
        Column("provider_type", True, "str", "Kind of provider", allowed=PROVIDER_TYPES),
        Column(
            "cqc_location_id",
            False,
            "str",
            "CQC location ID",
            pattern=r"^1-\d+$",
            pattern_hint="`1-` followed by digits, e.g. `1-101234567`",
        ),
        Column("cqc_rating", False, "str", "Latest overall CQC rating", allowed=CQC_RATINGS),
        Column("cqc_rating_date", False, "date", "Date the rating was published"),
        Column("contract_type", False, "str", "Free text, e.g. `framework lot 1`, `spot`, `block`"),
        Column(
            "weekly_capacity_hours",
            False,
            "float",
            "Hours a week the provider says it can deliver in total",
            minimum=0,
        ),
        Column("base_area_code", False, "str", "Area of the provider's base", references=_ref("areas", "area_code")),
        Column("active_from", False, "date", "First day the provider was active"),
        Column("active_to", False, "date", "Last day active; blank = still active", not_before="active_from"),
        _reference("contract_id", False, "The contract the provider works under (when it has one)", "contracts"),
        Column("lot", False, "str", "The lot or zone the provider holds, e.g. `Lot 1 North`"),
    ),
)

PACKAGES = FileSpec(
    "packages",
    True,
    "One row per package of home care (a person served by one provider).",
    (
        Column("package_id", True, "str", "Package identifier", unique=True),
        _PERSON_ID,
        _HOME_AREA,
        _reference("provider_id", True, "Provider delivering the package", "providers"),
        Column("start_date", True, "date", "First day of the package"),
        Column("end_date", False, "date", "Last day; blank = ongoing", not_before="start_date"),
        _weekly_hours("planned_hours_per_week", "Planned hours of care a week"),
        Column("service_type", False, "str", "Type of service", allowed=SERVICE_TYPES, default="home_care"),
        Column("funding", False, "str", "Who pays", allowed=FUNDING),
        Column("client_group", False, "str", "Primary client group", allowed=CLIENT_GROUPS),
        Column(
            "hourly_rate",
            False,
            "float",
            "£ per hour paid",
            minimum=0,
            minimum_inclusive=False,
            maximum=200,
            maximum_inclusive=False,
        ),
        Column("end_reason", False, "str", "Why the package ended", allowed=END_REASONS),
        _reference(
            "contract_id",
            False,
            "The contract the package is bought under (blank = spot purchase or not known)",
            "contracts",
        ),
        Column("lot", False, "str", "The lot or zone the package falls in, e.g. `Lot 1 North`"),
    ),
)

REQUESTS = FileSpec(
    "requests",
    False,
    "The waiting list or brokerage log: one row per request for home care (optional but expected).",
    (
        Column("request_id", True, "str", "Request identifier", unique=True),
        _PERSON_ID,
        _HOME_AREA,
        Column("requested_date", True, "date", "Date care was requested"),
        _weekly_hours("hours_per_week", "Hours a week requested"),
        Column(
            "sourced_date",
            False,
            "date",
            "Date a provider was found; blank = still waiting",
            not_before="requested_date",
        ),
        _reference("provider_id", False, "Provider that took it", "providers"),
        Column("outcome", False, "str", "Outcome of the request", allowed=REQUEST_OUTCOMES),
        Column(
            "closed_date",
            False,
            "date",
            "Date a withdrawn or otherwise closed request was closed: it counts as waiting up to the day "
            "before. Blank: a `withdrawn` request never counts as waiting (not even before it was withdrawn), "
            "and any other request without a `sourced_date` counts as waiting until the as-of date",
            not_before="requested_date",
        ),
    ),
)

DELIVERY = FileSpec(
    "delivery",
    False,
    "Actual hours delivered, by week or month.",
    (
        Column("period_start", True, "date", "Start of the week or month the row covers"),
        _reference("provider_id", True, "Provider", "providers"),
        _reference("area_code", False, "Area", "areas"),
        _reference("package_id", False, "Package", "packages"),
        Column("commissioned_hours", False, "float", "Hours commissioned in the period", minimum=0),
        Column("delivered_hours", True, "float", "Hours delivered in the period", minimum=0),
    ),
)

WORKFORCE = FileSpec(
    "workforce",
    False,
    "Provider staffing: one row per provider per month.",
    (
        _reference("provider_id", True, "Provider", "providers"),
        Column("month", True, "date", "Any date in the month (stored as the first of the month)"),
        Column("filled_posts", True, "int", "Filled care posts", minimum=0),
        Column("vacancies", False, "int", "Vacant care posts", minimum=0),
        Column("leavers_12m", False, "int", "Leavers in the 12 months to `month`", minimum=0),
    ),
)

CONTRACTS = FileSpec(
    "contracts",
    False,
    "Contracts with providers (and lots, frameworks, grants): one row per contract.",
    (
        Column("contract_id", True, "str", "Contract identifier", unique=True),
        _reference("provider_id", False, "Provider", "providers"),
        Column("name", True, "str", "e.g. `Care at Home Lot 1 North`"),
        Column("start_date", True, "date", "Contract start"),
        Column(
            "end_date",
            True,
            "date",
            "End of the current term (including any extension already used)",
            not_before="start_date",
            max_years_after_as_of=15,
        ),
        Column("extension_months_available", False, "int", "Months of extension still available", minimum=0),
        Column("annual_value", False, "float", "£ a year", minimum=0),
        Column("lot", False, "str", "The lot or zone the contract covers, e.g. `Lot 1 North`"),
        Column("contract_type", False, "str", "Kind of contract", allowed=CONTRACT_TYPES),
        Column("commissioned_hours_per_week", False, "float", "Hours a week the contract commissions", minimum=0),
        Column(
            "extension_options",
            False,
            "str",
            "Months of each extension option from the award, in order",
            pattern=r"^\s*\d+(\s*\+\s*\d+)*\s*$",
            pattern_hint="months joined by `+`, e.g. `12+12`",
        ),
        Column(
            "extensions_used",
            False,
            "int",
            "How many of the `extension_options` have been used (they are in `end_date`)",
            minimum=0,
        ),
        Column("notice_months", False, "int", "Months of notice to give before the end", minimum=0),
        Column(
            "procurement_lead_months",
            False,
            "int",
            "Months a re-tender takes (blank = `config.toml [contracts] procurement_lead_months`)",
            minimum=0,
        ),
        Column("weight_quality", False, "float", "Tender weighting for quality, %", minimum=0, maximum=100),
        Column("weight_price", False, "float", "Tender weighting for price, %", minimum=0, maximum=100),
        Column("weight_social_value", False, "float", "Tender weighting for social value, %", minimum=0, maximum=100),
    ),
)

MILESTONES = FileSpec(
    "milestones",
    False,
    "A procurement timeline: one row per milestone of the decision on a contract (extend, re-tender, end).",
    (
        _reference("contract_id", True, "The contract decided on", "contracts"),
        Column("milestone", True, "str", "e.g. `consultation`, `cabinet approval`, `tender`, `award`, `mobilisation`"),
        Column("planned_date", True, "date", "Date the milestone is planned for", max_years_after_as_of=5),
        Column("actual_date", False, "date", "Date it was done; blank = not done yet"),
    ),
)

CONTRACT: tuple[FileSpec, ...] = (AREAS, PROVIDERS, PACKAGES, REQUESTS, DELIVERY, WORKFORCE, CONTRACTS, MILESTONES)
FILES: dict[str, FileSpec] = {spec.name: spec for spec in CONTRACT}

MANIFEST_KEYS = {
    "as_of": "The date the extract describes (default: the latest activity date in the drop)",
    "council_code": "GSS code of the council, e.g. `E06000063`",
    "council_name": "e.g. `Cumberland`",
    "synthetic": "`true` marks made-up data (the demo council); charts then say so",
}

MANIFEST_TYPES = {"as_of": "date", "council_code": "str", "council_name": "str", "synthetic": "bool"}
"""The type each manifest key must have; ``bool`` means a real true/false, never the text "false"."""

CELL_RULES = (
    "**No control characters** in any cell (NUL, escape and the like; tabs and line breaks inside quotes are fine).",
    "**No cell longer than `[limits] max_cell_chars` characters** (config.toml, default 2,000).",
    "**Numbers** use a decimal point: `1.5` is one and a half, `1,5` is refused (never read as 15); "
    "`inf`, `Infinity` and `NaN` are refused.",
    "**Dates** fall in a plausible window: none before `[limits] earliest_date` (1990-01-01) and none "
    "more than `[limits] max_years_after_as_of` (1) years after `as_of` unless the column says otherwise; "
    "`as_of` itself is no more than that after today.",
    "**Every mandatory file has at least one data row**, and every file has a header row naming its columns.",
)
"""Rules every cell of every file meets (checked by ``analytics.ingest.validation``; listed in the docs)."""

TABLE_FORMATS = (".csv", ".xlsx", ".parquet")
MANIFEST_NAMES = ("manifest.toml", "manifest.json", "manifest.yaml", "manifest.yml")
BOUNDARIES_NAMES = ("boundaries.geojson", "boundaries.json")
