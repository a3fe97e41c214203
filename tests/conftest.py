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
