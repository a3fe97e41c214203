"""Owner-only files and folders under the data directory.

The data directory holds raw drops with original person identifiers (``archive/``), staged uploads,
validation reports, the audit log and the DuckDB snapshots: nobody but the account running the
dashboard may read them. Folders are made 0700 and files 0600 (archived raw files 0400, read-only)
where they are written; ``chmod`` is used rather than the process umask, which Streamlit's session
threads share.
"""

from __future__ import annotations

from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
READ_ONLY_MODE = 0o400


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make it owner-only (0700); return it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


def private_file(path: Path, mode: int = FILE_MODE) -> Path:
    """Make the existing file ``path`` owner-only (0600 by default); return it."""
    path.chmod(mode)
    return path


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` and make it owner-only; return it."""
    path.write_text(text, encoding="utf-8")
    return private_file(path)
