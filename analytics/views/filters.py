"""The dashboard's shared filters as plain data, and their round trip through a URL query string.

Pages receive a ``Filters`` and pass its fields to analytics functions; ``dashboard.py`` keeps
it in the sidebar and the URL so a view can be shared as a link and reopens the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

from analytics.store.queries import FilterOptions

ALL = "All"
DEFAULT_SERVICE_TYPE = "home_care"
# URL keys, in the order they appear in a shared link.
QUERY_KEYS = ("month", "locality", "service", "client", "funding", "ptype")
# The filters besides the month, as ``Filters`` names them.
FILTER_FIELDS = ("locality", "service_type", "client_group", "funding", "provider_type")


@dataclass(frozen=True)
class Filters:
    """Sidebar filter values; ``None`` means all."""

    month: date
    locality: str | None = None
    service_type: str | None = DEFAULT_SERVICE_TYPE
    client_group: str | None = None
    funding: str | None = None
    provider_type: str | None = None

    def area_label(self) -> str:
        """Return the geography for chart subtitles, e.g. ``"Fellside locality"`` or ``"whole council"``."""
        return f"{self.locality} locality" if self.locality else "whole council"

    def as_kwargs(self) -> dict:
        """Return the filters as keyword arguments for analytics functions."""
        return asdict(self)

    def only(self, *fields: str) -> Filters:
        """Return these filters with the month and ``fields`` kept and every other filter cleared (``None``).

        For caching a view on what it reads: ``render.cached(view, filters.only("locality"))`` builds
        it once for every service type, client group, funding and provider type. What the view says
        about the filters it ignores must then come from the full filters (``common.ignored_note``).
        """
        unknown = set(fields) - set(FILTER_FIELDS)
        if unknown:
            raise ValueError(f"not a filter: {', '.join(sorted(unknown))} (filters: {', '.join(FILTER_FIELDS)})")
        return replace(self, **{name: None for name in FILTER_FIELDS if name not in fields})


def default_filters(options: FilterOptions) -> Filters:
    """Return the filters a first visit gets: latest month, whole council, home care if present."""
    service = DEFAULT_SERVICE_TYPE if DEFAULT_SERVICE_TYPE in options.service_types else None
    return Filters(month=options.months[0], service_type=service)


def _pick(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def from_query_params(params: dict[str, str], options: FilterOptions) -> Filters:
    """Return filters from URL parameters, ignoring values the live drop does not have."""
    base = default_filters(options)
    month = base.month
    if params.get("month"):
        wanted = params["month"][:7]
        month = next((m for m in options.months if m.isoformat()[:7] == wanted), base.month)
    service = params.get("service")
    return replace(
        base,
        month=month,
        locality=_pick(params.get("locality"), options.localities),
        service_type=base.service_type if service is None else _pick(service, options.service_types),
        client_group=_pick(params.get("client"), options.client_groups),
        funding=_pick(params.get("funding"), options.funding),
        provider_type=_pick(params.get("ptype"), options.provider_types),
    )


def to_query_params(filters: Filters) -> dict[str, str]:
    """Return URL parameters for ``filters`` (service type ``all`` when no service filter)."""
    values = {
        "month": filters.month.isoformat()[:7],
        "locality": filters.locality,
        "service": filters.service_type or "all",
        "client": filters.client_group,
        "funding": filters.funding,
        "ptype": filters.provider_type,
    }
    return {k: v for k, v in values.items() if v}
