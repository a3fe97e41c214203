"""Streamlit glue for sign-in and roles: ``st.login`` / ``st.user`` / ``st.logout`` and ``analytics.access``.

``dashboard.py`` calls ``gate()`` first (it stops the run with a clear page when the server must not
serve data, when nobody is signed in, or when the signed-in account has no role), then
``navigation_pages(PAGES)`` (public users get a sentence instead of a provider-identifying page),
``force_publication()`` before the sidebar switches, and ``sidebar()``. Pages ask ``can_change_data()``,
``can_make_packs()`` and ``identity_label()`` (who the audit log names).

Sign-in is configured as Streamlit documents it: ``.streamlit/secrets.toml`` ``[auth]`` with
``redirect_uri``, ``cookie_secret``, ``client_id``, ``client_secret`` and ``server_metadata_url`` (or one
named provider ``[auth.<name>]``); roles come from ``config.toml`` ``[access]``. Without sign-in the
dashboard is for local use: it refuses to serve data on a non-loopback address unless allowed.
"""

from __future__ import annotations

import functools
import getpass
import os

import streamlit as st

from analytics import access
from analytics.config import default_data_dir, settings
from analytics.store import snapshots as store

ROLE_KEY = "access_role"


def _secrets() -> dict:
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - an unreadable secrets file means no sign-in, never a crash
        return {}


def policy() -> access.AccessPolicy:
    """The ``[access]`` section of the configuration file."""
    return access.policy_from(settings().get("access"))


def sign_in_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` configures OpenID Connect sign-in."""
    return access.sign_in_configured(_secrets())


def _claims() -> dict:
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no user info (no sign-in configured)
        return {}


def role() -> str | None:
    """This session's role: the local role without sign-in, else the signed-in user's (``None``: no role)."""
    if not sign_in_configured():
        return access.LOCAL_ROLE
    claims = _claims()
    if not claims.get("is_logged_in"):
        return None
    return access.role_for(claims, policy())


def identity_label() -> str:
    """Who the audit log names for an action taken in this session (the signed-in identity, never typed)."""
    if not sign_in_configured():
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some containers
            user = "unknown"
        return access.local_identity(user)
    return access.identity(_claims(), policy())


def audit(event: str, **fields) -> dict:
    """Record an action taken in this session in the store's audit log, naming the signed-in identity."""
    return store.record(default_data_dir(), event, by=identity_label(), **fields)


def can_change_data() -> bool:
    """Whether this session may upload, confirm and roll back drops."""
    return access.can_change_data(role())


def pack_audiences() -> tuple[str, ...]:
    """The briefing-pack audiences this session may choose (public first)."""
    return access.pack_audiences(role())


def can_make_packs() -> bool:
    """Whether this session may make briefing packs."""
    return access.can_make_packs(role())


def _serving_refusal() -> str | None:
    allowed = policy().allow_anonymous_network or os.environ.get(access.ALLOW_ANONYMOUS_ENV) == "1"
    return access.anonymous_network_refusal(st.get_option("server.address"), sign_in_configured(), allowed)


def _sign_in_page() -> None:
    st.title("Home care market sufficiency")
    st.markdown("Sign in with your council account to see the dashboard.")
    provider = access.provider_name(_secrets())
    if st.button("Sign in", type="primary", icon=":material/login:", key="sign_in"):
        st.login(provider)


def _only(pages: dict[str, list], draw) -> None:
    """Show ``draw`` instead of every page (keeping each address, no menu), then stop the run."""
    entries = []
    for page in (p for group in pages.values() for p in group):
        show = functools.partial(draw)
        show.__name__ = f"stopped_{page.url_path or 'home'}"  # st.Page names a callable page after it
        entries.append(
            st.Page(show, title=page.title, icon=page.icon, url_path=page.url_path or None, default=not page.url_path)
        )
    st.navigation(entries, position="hidden").run()
    st.stop()


def gate(pages: dict[str, list]) -> str:
    """Stop this run with a clear page unless the session may see data; return the session's role.

    ``pages`` are dashboard.py's pages: every address shows the same stop page, with no menu.
    """
    refusal = _serving_refusal()
    if refusal is not None:

        def refused() -> None:
            st.title("This dashboard is not serving data")
            st.error(refusal)

        _only(pages, refused)
    current = role()
    if current is None and not _claims().get("is_logged_in"):
        _only(pages, _sign_in_page)
    if current is None:

        def no_role() -> None:
            st.title("Home care market sufficiency")
            st.error(
                f"You are signed in as {plain(access.identity(_claims(), policy()))}, but this account has no role "
                "in this dashboard. Ask the dashboard's administrator to add you (config.toml [access])."
            )
            st.button("Sign out", key="sign_out", on_click=st.logout)

        _only(pages, no_role)
    st.session_state[ROLE_KEY] = current
    return current


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped (names come from the identity provider)."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]()<>#+-.!|~$:" else c for c in str(text))


def _refused(sentence: str) -> None:
    st.title("Not available")
    st.info(sentence)


def navigation_pages(pages: dict[str, list]) -> dict[str, list]:
    """Return ``pages`` for this session's role: a refused page keeps its address but shows a sentence.

    A refused page is hidden from the menu, so a public user reaches it only by its address.
    """
    current = role()
    shown: dict[str, list] = {}
    for group, entries in pages.items():
        kept = []
        for page in entries:
            sentence = access.page_refusal(current, page.url_path)
            if sentence is None:
                kept.append(page)
            else:
                refuse = functools.partial(_refused, sentence)
                refuse.__name__ = f"refused_{page.url_path}"  # st.Page names a callable page after it
                kept.append(
                    st.Page(refuse, title=page.title, icon=page.icon, url_path=page.url_path, visibility="hidden")
                )
        shown[group] = kept
    return shown


def force_publication(publication_key: str) -> bool:
    """Turn publication mode on for roles that must only see suppressed figures; return whether forced."""
    forced = access.publication_forced(role())
    if forced:
        st.session_state[publication_key] = True
    return forced


def sidebar() -> None:
    """Say who is signed in (with a sign-out button), or that this is local use without sign-in."""
    with st.sidebar:
        if not sign_in_configured():
            st.caption(f":material/lock_open: {access.LOCAL_LABEL[0].upper()}{access.LOCAL_LABEL[1:]}")
            return
        claims = _claims()
        who = claims.get("name") or access.identity(claims, policy())
        st.caption(f":material/account_circle: Signed in as **{plain(who)}** ({role()})")
        st.button("Sign out", key="sidebar_sign_out", on_click=st.logout, icon=":material/logout:")
