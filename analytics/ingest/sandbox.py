"""Check a drop in a separate process with bounded memory and time, so no input can harm the caller.

The dashboard checks every browser upload with ``check_isolated(folder)``: a child Python process
(``python -m analytics.ingest.sandbox``) limits its own address space with
``resource.setrlimit(RLIMIT_AS)`` to ``[limits] check_memory_mb`` before importing anything
heavy, reads and validates the drop, and writes the report as JSON. The parent waits at most
``[limits] check_timeout_s`` seconds. A child that runs out of memory or time is killed by the
kernel or the parent, and the upload is refused with one line naming the limit: the server's
own memory never holds more than the upload itself.

Inputs: a drop folder (or zip). Output: ``(ok, report)`` where ``report`` is
``analytics.ingest.report.report_dict``'s dict. Raises ``DropRefused`` when the drop cannot be
checked at all (unreadable zip, a limit hit, the child killed).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from analytics.config import PROJECT_ROOT
from analytics.ingest.limits import DropRefused, limits, named


def check_isolated(folder: Path | str, source: str | None = None, *, memory_mb: int | None = None) -> tuple[bool, dict]:
    """Validate the drop at ``folder`` in a memory- and time-limited child process; return (ok, report).

    ``memory_mb`` overrides ``[limits] check_memory_mb`` (tests use a tiny value to see the refusal).
    """
    lim = limits()
    if memory_mb is not None:
        lim = replace(lim, check_memory_mb=memory_mb)
    with tempfile.TemporaryDirectory(prefix="check-") as tmp:
        out = Path(tmp) / "report.json"
        env = {**os.environ, "POLARS_MAX_THREADS": os.environ.get("POLARS_MAX_THREADS", "2")}
        command = [sys.executable, "-m", "analytics.ingest.sandbox", str(folder), str(out), str(lim.check_memory_mb)]
        try:
            proc = subprocess.run(  # noqa: S603 - our own module, fixed arguments
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=lim.check_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DropRefused(
                f"Checking the drop took longer than {lim.check_timeout_s:,.0f} s {named('check_timeout_s')}."
            ) from exc
        result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    if result is None or proc.returncode not in (0, 2):
        raise DropRefused(
            f"Checking the drop needed more than {lim.check_memory_mb:,} MB of memory "
            f"{named('check_memory_mb')}; split the drop or ask for the limit to be raised."
        )
    if "refused" in result:
        raise DropRefused(result["refused"])
    report = result["report"]
    if source is not None:
        report["source"] = source
    return bool(result["ok"]), report


def _child(folder: str, out: str, memory_mb: int) -> int:
    """Run in the child: limit memory, validate, write ``{"ok", "report"}`` or ``{"refused"}`` to ``out``."""
    cap = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from analytics.ingest.drop_reader import open_drop
    from analytics.ingest.report import report_dict
    from analytics.ingest.validation import validate

    try:
        with open_drop(folder) as raw:
            result = validate(raw)
        status = "valid" if result.ok else "rejected"
        payload = {"ok": result.ok, "report": report_dict(result, Path(folder).name, status)}
    except DropRefused as exc:
        payload = {"refused": str(exc)}
    except MemoryError:
        return 3
    Path(out).write_text(json.dumps(payload, default=str), encoding="utf-8")
    return 0 if payload.get("ok") else 2


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], sys.argv[2], int(sys.argv[3])))
