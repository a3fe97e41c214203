"""Shared test setup: every test run uses its own pseudonymisation key and data stores in tmp."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # for the hand-made fixture modules (small_drop.py)


@pytest.fixture(scope="session", autouse=True)
def _isolated_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point MARKET_KEY_FILE at a per-session key so tests never touch a real key."""
    key_dir = tmp_path_factory.mktemp("key")
    os.environ["MARKET_KEY_FILE"] = str(key_dir / "pseudonym.key")


@pytest.fixture(scope="session")
def demo_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo council's drop (default seed), generated once per test session."""
    from analytics.demo import generate_drop

    folder = tmp_path_factory.mktemp("demo") / "drop"
    generate_drop(folder)
    return folder


@pytest.fixture(scope="session")
def demo_store(demo_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data store holding the demo drop, built once per session; MARKET_DATA_DIR points at it.

    Tests must not change it (use their own tmp store for refresh/rollback tests).
    """
    from analytics.store import refresh

    data_dir = tmp_path_factory.mktemp("demo-store")
    assert refresh(demo_drop, data_dir, loaded_by="tests").accepted
    os.environ["MARKET_DATA_DIR"] = str(data_dir)
    return data_dir
