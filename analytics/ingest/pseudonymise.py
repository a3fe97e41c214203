"""Pseudonymisation of person identifiers with a keyed hash (HMAC-SHA256).

The key is a random 32-byte secret created on first use in the file named by
``analytics.config.key_path()`` (outside the database and outside git). The same key gives
the same pseudonym for the same person in every drop, so people can be followed over time
without their council identifier ever reaching the database. Lose the key and new drops
get new pseudonyms (history still loads, but people no longer link across old and new
snapshots); keep it backed up with the council's other secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import polars as pl

from analytics.config import key_path

PSEUDONYM_PREFIX = "p_"
PSEUDONYM_HEX_CHARS = 32  # 128 bits of the HMAC: collisions are negligible at council scale


def load_or_create_key(path: Path | None = None) -> bytes:
    """Return the pseudonymisation key from ``path`` (default: config), creating it (mode 600) if absent."""
    path = path or key_path()
    if path.exists():
        key = bytes.fromhex(path.read_text().strip())
        if len(key) < 32:
            raise ValueError(f"The pseudonymisation key in {path} is too short")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex())
    return key


def pseudonym(value: str, key: bytes) -> str:
    """Return the pseudonym of one identifier: ``p_`` + the first 32 hex digits of HMAC-SHA256."""
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]


def pseudonyms(values: list[str], key: bytes) -> list[str]:
    """Return ``pseudonym(v, key)`` for each of ``values``, about four times faster than calling it.

    HMAC-SHA256 (RFC 2104) is ``H((K ^ opad) || H((K ^ ipad) || m))``: the two keyed pad blocks are
    hashed once and each value only copies those hash states, instead of ``hmac.new`` re-deriving
    them per value. The result is identical to ``pseudonym`` (a test checks it).
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    out = []
    for value in values:
        h = inner.copy()
        h.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        out.append(PSEUDONYM_PREFIX + o.hexdigest()[:PSEUDONYM_HEX_CHARS])
    return out


def pseudonym_map(columns: list[pl.Series], key: bytes) -> tuple[pl.Series, pl.Series]:
    """Return ``(originals, pseudonyms)``: every distinct identifier of ``columns`` and its pseudonym.

    Hashing the identifiers of all columns together hashes a person found in several files (the
    packages and the requests) once.
    """
    originals = (
        pl.concat([c.cast(pl.String) for c in columns]).drop_nulls().unique()
        if columns
        else pl.Series([], dtype=pl.String)
    )
    return originals, pl.Series(pseudonyms(originals.to_list(), key), dtype=pl.String)


def pseudonymise_with(frame: pl.DataFrame, column: str, mapping: tuple[pl.Series, pl.Series]) -> pl.DataFrame:
    """Return ``frame`` with ``column`` replaced through ``mapping`` (``pseudonym_map``; nulls stay null)."""
    if column not in frame.columns or frame.height == 0:
        return frame
    originals, hashed = mapping
    return frame.with_columns(pl.col(column).replace_strict(originals, hashed, default=None, return_dtype=pl.String))


def pseudonymise_column(frame: pl.DataFrame, column: str, key: bytes) -> pl.DataFrame:
    """Return ``frame`` with ``column`` replaced by pseudonyms (nulls stay null).

    Each distinct identifier is hashed once (``pseudonyms``) and mapped back in one vectorised
    ``replace_strict``.
    """
    if column not in frame.columns or frame.height == 0:
        return frame
    return pseudonymise_with(frame, column, pseudonym_map([frame.get_column(column)], key))
