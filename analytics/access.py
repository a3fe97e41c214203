"""Who may do what: roles from the identity provider's claims, and what each role may see and do.

Pure (no Streamlit): ``ui/access.py`` is the Streamlit glue that reads ``st.user`` and
``st.secrets`` and calls these functions; ``dev.py serve`` uses ``sign_in_configured`` and
``is_loopback`` before it starts the server.

Roles, lowest to highest (``config.toml`` ``[access]`` maps e-mails and groups to them):

* ``public``: publication mode is forced (small numbers suppressed everywhere); no page or
  download that names a provider (``PUBLIC_PAGES`` lists the pages a public user may open).
* ``viewer``: every page, every download; no data changes and no briefing packs.
* ``analyst``: upload, confirm and roll back drops, and make briefing packs.

Without sign-in configured the dashboard is for local use only (bound to 127.0.0.1) and everyone
using it is an analyst (``LOCAL_ROLE``).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

PUBLIC, VIEWER, ANALYST = "public", "viewer", "analyst"
ROLES = (PUBLIC, VIEWER, ANALYST)  # lowest to highest: the highest matching role wins
LOCAL_ROLE = ANALYST
LOCAL_LABEL = "local use, no sign-in"

# The url paths (as dashboard.py registers them; "" is the default page) a public user may open:
# none of them names a provider. Any page not listed is refused with ``page_refusal``.
PUBLIC_PAGES = frozenset({"", "coverage", "waiting", "rural", "microenterprises"})
_PROVIDER_PAGES = frozenset({"market", "exit", "fees", "quality", "contracts"})

# Claims read for the e-mail address (Entra ID puts it in preferred_username or upn when the
# account has no mail attribute) and for groups (Entra ID: "groups" object ids; app roles: "roles").
DEFAULT_EMAIL_CLAIMS = ("email", "preferred_username", "upn")
DEFAULT_GROUP_CLAIMS = ("groups", "roles")

# The environment variable ``dev.py serve --allow-anonymous-network`` sets for the dashboard.
ALLOW_ANONYMOUS_ENV = "MARKET_ALLOW_ANONYMOUS_NETWORK"


@dataclass(frozen=True)
class RoleRule:
    """The e-mail patterns and group names that give one role (patterns as in ``fnmatch``)."""

    emails: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessPolicy:
    """The ``[access]`` section of config.toml, parsed."""

    rules: Mapping[str, RoleRule] = field(default_factory=dict)
    email_claims: tuple[str, ...] = DEFAULT_EMAIL_CLAIMS
    group_claims: tuple[str, ...] = DEFAULT_GROUP_CLAIMS
    allow_anonymous_network: bool = False


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"config.toml [{where}] must be a list of strings, got {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def policy_from(section: Mapping | None) -> AccessPolicy:
    """Return the ``AccessPolicy`` for a parsed ``[access]`` section (``None``: nobody has a role).

    Input: ``{"analyst": {"emails": [...], "groups": [...]}, "viewer": {...}, "public": {...},
    "email_claims": [...], "group_claims": [...], "allow_anonymous_network": bool}``; every key optional.
    Raises ``ValueError`` naming the key when a value has the wrong type.
    """
    section = dict(section or {})
    unknown = set(section) - {*ROLES, "email_claims", "group_claims", "allow_anonymous_network"}
    if unknown:
        raise ValueError(f"config.toml [access] has unknown keys: {', '.join(sorted(unknown))}")
    rules = {}
    for role in ROLES:
        entry = section.get(role) or {}
        if not isinstance(entry, Mapping):
            raise ValueError(f"config.toml [access.{role}] must be a table with emails and groups")
        rules[role] = RoleRule(
            emails=tuple(e.lower() for e in _strings(entry.get("emails"), f"access.{role}.emails")),
            groups=_strings(entry.get("groups"), f"access.{role}.groups"),
        )
    allow = section.get("allow_anonymous_network", False)
    if not isinstance(allow, bool):
        raise ValueError("config.toml [access] allow_anonymous_network must be true or false")
    return AccessPolicy(
        rules=rules,
        email_claims=_strings(section.get("email_claims"), "access.email_claims") or DEFAULT_EMAIL_CLAIMS,
        group_claims=_strings(section.get("group_claims"), "access.group_claims") or DEFAULT_GROUP_CLAIMS,
        allow_anonymous_network=allow,
    )


def claim_emails(claims: Mapping, policy: AccessPolicy) -> list[str]:
    """Return the signed-in user's e-mail addresses from ``claims`` (lower case, claims in policy order)."""
    found = []
    for name in policy.email_claims:
        value = claims.get(name)
        if isinstance(value, str) and "@" in value and value.strip().lower() not in found:
            found.append(value.strip().lower())
    return found


def claim_groups(claims: Mapping, policy: AccessPolicy) -> set[str]:
    """Return the group names or ids in ``claims`` (a list or a single string per group claim)."""
    groups: set[str] = set()
    for name in policy.group_claims:
        value = claims.get(name)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            groups.update(str(v).strip() for v in value if str(v).strip())
    return groups


def role_for(claims: Mapping, policy: AccessPolicy) -> str | None:
    """Return the highest role whose e-mail patterns or groups match ``claims``; ``None`` if none does.

    E-mail patterns are matched case-insensitively (``"*@council.gov.uk"`` matches every address
    of that domain); groups exactly (Entra ID sends group object ids, or app role values).
    """
    emails = claim_emails(claims, policy)
    groups = claim_groups(claims, policy)
    for role in reversed(ROLES):
        rule = policy.rules.get(role, RoleRule())
        if groups & set(rule.groups):
            return role
        if any(fnmatchcase(email, pattern) for email in emails for pattern in rule.emails):
            return role
    return None


def identity(claims: Mapping, policy: AccessPolicy | None = None) -> str:
    """Return how the audit log names a signed-in user: ``"Name <e-mail>"``, else e-mail, else subject."""
    policy = policy or AccessPolicy()
    emails = claim_emails(claims, policy)
    name = claims.get("name")
    name = name.strip() if isinstance(name, str) else ""
    sub = claims.get("sub")
    if name and emails:
        return f"{name} <{emails[0]}>"
    if emails:
        return emails[0]
    if name:
        return f"{name} (subject {sub})" if sub else name
    return f"subject {sub}" if sub else "unknown signed-in user"


def local_identity(user: str) -> str:
    """Return how the audit log names the person at a local dashboard without sign-in."""
    return f"{user} ({LOCAL_LABEL})"


# ---------------------------------------------------------------------------------------------
# What a role may do


def can_change_data(role: str | None) -> bool:
    """Upload, check, confirm and roll back drops: analysts only."""
    return role == ANALYST


def can_make_packs(role: str | None) -> bool:
    """Make briefing packs (PDF and PowerPoint) in the browser: analysts only."""
    return role == ANALYST


def pack_audiences(role: str | None) -> tuple[str, ...]:
    """The briefing-pack audiences ``role`` may make or receive, first the default.

    Analysts: ``("public", "internal")``; anyone else only ``("public",)``: a pack naming providers
    (internal, OFFICIAL-SENSITIVE) goes to council staff who make packs, never to a public user.
    """
    return ("public", "internal") if role == ANALYST else ("public",)


def publication_forced(role: str | None) -> bool:
    """Whether publication mode is forced on (public users see only suppressed figures)."""
    return role not in (VIEWER, ANALYST)


def can_download_providers(role: str | None) -> bool:
    """Whether downloads and tables that name providers are allowed."""
    return role in (VIEWER, ANALYST)


def page_refusal(role: str | None, url_path: str) -> str | None:
    """Return the sentence shown instead of the page at ``url_path`` for ``role``; ``None`` if allowed."""
    if role in (VIEWER, ANALYST):
        return None
    if url_path in PUBLIC_PAGES:
        return None
    if url_path in _PROVIDER_PAGES:
        return (
            "This page names individual providers, so it is not available in the public view. "
            "The other pages show the market without naming providers."
        )
    if url_path == "data":
        return "The Data page is for council staff: it shows who loaded each drop and its data-quality warnings."
    if url_path == "briefing":
        return "Briefing packs are made by the council's analysts and are not available in the public view."
    return "This page is not available in the public view."


# ---------------------------------------------------------------------------------------------
# Sign-in configuration and the address the server listens on


def sign_in_configured(secrets: Mapping | None) -> bool:
    """Whether ``secrets`` (parsed secrets.toml) configure Streamlit's OpenID Connect sign-in.

    That needs ``[auth]`` with ``redirect_uri`` and ``cookie_secret``, and ``client_id``,
    ``client_secret`` and ``server_metadata_url`` either in ``[auth]`` or in one ``[auth.<name>]``.
    """
    auth = (secrets or {}).get("auth")
    if not isinstance(auth, Mapping) or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return False
    needed = ("client_id", "client_secret", "server_metadata_url")
    candidates = [auth, *(v for v in auth.values() if isinstance(v, Mapping))]
    return any(all(c.get(k) for k in needed) for c in candidates)


def provider_name(secrets: Mapping | None) -> str | None:
    """Return the name to pass to ``st.login`` (``None``: the unnamed provider in ``[auth]`` itself)."""
    auth = (secrets or {}).get("auth") or {}
    if auth.get("client_id"):
        return None
    return next((name for name, value in auth.items() if isinstance(value, Mapping)), None)


def read_secrets(files: Iterable[str | os.PathLike]) -> dict:
    """Merge the secrets TOML files that exist, later ones winning (as Streamlit does)."""
    merged: dict = {}
    for file in files:
        path = Path(file).expanduser()
        if path.is_file():
            with path.open("rb") as fh:
                merged.update(tomllib.load(fh))
    return merged


def is_loopback(address: str | None) -> bool:
    """Whether a server address is local-only (127.0.0.0/8, ::1, localhost or a unix socket).

    ``None`` or ``""`` (Streamlit's default: every interface) is not local-only.
    """
    if not address:
        return False
    if address == "localhost" or address.startswith("unix://"):
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def anonymous_network_refusal(address: str | None, signed_in: bool, allowed: bool) -> str | None:
    """Return why the server must not serve data, or ``None`` when it may.

    Without sign-in, serving on an address other than the loopback one would make anyone who can
    reach the port an analyst, so it is refused unless the operator allowed it explicitly.
    """
    if signed_in or allowed or is_loopback(address):
        return None
    where = f"address {address}" if address else "every network interface (Streamlit's default)"
    return (
        f"This dashboard is set to listen on {where}, but sign-in is not configured, so anyone who can "
        "reach it could load or roll back data. Sign-in is set up in .streamlit/secrets.toml ([auth]; "
        "see docs/deploy.md). For local use, serve on 127.0.0.1 (`python3 dev.py run` does). To serve "
        "without sign-in on a trusted network anyway, start it with `python3 dev.py serve "
        "--allow-anonymous-network` or set allow_anonymous_network = true in config.toml [access]."
    )
