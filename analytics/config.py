"""The project's one configuration file (``config.toml``), loaded once.

``settings()`` returns the parsed TOML as a plain dict; helpers below turn the few
values that need interpretation (paths, financial years) into Python values.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = PROJECT_ROOT / "config.toml"
CONFIG_ENV = "MARKET_CONFIG"  # another config file (a copy of config.toml kept outside git, or in tests)


def config_path() -> Path:
    """Return the configuration file in use: ``MARKET_CONFIG`` if set, else the project's ``config.toml``."""
    return Path(os.environ[CONFIG_ENV]).expanduser() if os.environ.get(CONFIG_ENV) else CONFIG_PATH


@cache
def settings() -> dict:
    """Return the parsed configuration file (``config_path()``; cached for the life of the process)."""
    with config_path().open("rb") as fh:
        return tomllib.load(fh)


def resolve_path(value: str | os.PathLike) -> Path:
    """Return ``value`` as an absolute path: ``~`` expanded, relative paths from the project root."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def default_data_dir() -> Path:
    """Return the data store folder: ``MARKET_DATA_DIR`` if set, else ``[store] data_dir``."""
    return resolve_path(os.environ.get("MARKET_DATA_DIR") or settings()["store"]["data_dir"])


def key_path() -> Path:
    """Return the pseudonymisation key file: ``MARKET_KEY_FILE`` if set, else the config value."""
    return resolve_path(os.environ.get("MARKET_KEY_FILE") or settings()["pseudonymisation"]["key_path"])


def financial_year(day: date) -> str:
    """Return the English financial year containing ``day``, e.g. ``date(2025, 4, 1)`` -> ``"2025/26"``."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{str(start + 1)[-2:]}"


def reference_for_year(table: str, day: date) -> tuple[str, float] | None:
    """Return ``(year, value)`` from ``[reference.<table>]`` for the financial year of ``day``.

    Falls back to the latest year on or before it; ``None`` if the table has no such year.
    """
    values = settings()["reference"][table]
    wanted = financial_year(day)
    candidates = sorted(year for year in values if year <= wanted)
    if not candidates:
        return None
    return candidates[-1], float(values[candidates[-1]])
