"""What the sign-in tests share: a copy of config.toml with roles filled in, and the test users.

The copy is written to a temporary folder and selected with ``MARKET_CONFIG``; the repository's
own config.toml and secrets are never touched.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ANALYST = {"sub": "ann", "email": "ann.analyst@northdale.test", "name": "Ann Analyst"}
VIEWER = {"sub": "vic", "email": "vic.viewer@northdale.test", "name": "Vic Viewer"}
PUBLIC = {"sub": "pat", "email": "pat@example.org", "name": "Pat Public", "groups": ["public-site-readers"]}
NOBODY = {"sub": "nob", "email": "nobody@elsewhere.test", "name": "No Role"}

ROLES = {
    "analyst": ('["ann.analyst@northdale.test"]', '["market-analysts"]'),
    "viewer": ('["*@northdale.test"]', "[]"),
    "public": ("[]", '["public-site-readers"]'),
}


def config_with_roles(folder: Path) -> Path:
    """Write config.toml with the test roles into ``folder`` and return its path."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    for role, (emails, groups) in ROLES.items():
        empty = f"[access.{role}]\nemails = []\ngroups = []\n"
        assert empty in text, f"config.toml no longer has an empty [access.{role}] table"
        text = text.replace(empty, f"[access.{role}]\nemails = {emails}\ngroups = {groups}\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def auth_secrets(issuer: str, redirect_uri: str) -> dict:
    """The ``[auth]`` secrets for Streamlit's OpenID Connect sign-in against ``issuer``."""
    return {
        "auth": {
            "redirect_uri": redirect_uri,
            "cookie_secret": "test-cookie-secret-long-enough-for-hs256",
            "client_id": "dashboard",
            "client_secret": "dashboard-secret",
            "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
        }
    }


def secrets_toml(secrets: dict) -> str:
    """``secrets`` as a secrets.toml text (one ``[auth]`` table of strings)."""
    lines = ["[auth]"] + [f'{k} = "{v}"' for k, v in secrets["auth"].items()]
    return "\n".join(lines) + "\n"
