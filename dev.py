#!/usr/bin/env python3
"""Set up and run the project with one command each (Python 3.11, no other prerequisites).

    python3 dev.py run     # virtualenv + dependencies, demo data store if none, then the dashboard
    python3 dev.py test    # virtualenv + test dependencies, Chromium for browser tests, lint, pytest

Extra arguments after ``test`` go to pytest; after ``run`` they go to ``streamlit run``.
``.venv/bin/python dev.py serve [streamlit options]`` starts the dashboard alone (no setup); ``run``
and the browser tests use it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
UV_VERSION = "0.13.8"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], **kwargs) -> int:
    say(" ".join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)


def check(cmd: list[str], **kwargs) -> None:
    code = run(cmd, **kwargs)
    if code != 0:
        sys.exit(f"[dev] failed ({code}): {' '.join(str(c) for c in cmd)}")


def ensure_venv(requirements: str) -> None:
    """Create .venv and install ``requirements`` (pinned, with constraints.txt) unless already done."""
    if sys.version_info[:2] != (3, 11):
        say(f"warning: this project is built for Python 3.11; you are running {sys.version.split()[0]}")
    stamp = VENV / f".installed-{requirements}"
    wanted = hashlib.sha256(
        b"".join((ROOT / f).read_bytes() for f in ("requirements.txt", requirements, "constraints.txt"))
    ).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and PY.exists():
        return
    if not PY.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    uv = VENV / "bin" / "uv"
    if not uv.exists():
        run([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={UV_VERSION}"])
    args = ["-r", requirements, "-c", "constraints.txt"]
    if not uv.exists() or run([uv, "pip", "install", "--quiet", "--python", PY, *args]) != 0:
        check([PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args])
    stamp.write_text(wanted)


def ensure_chromium() -> None:
    """Make sure Debian's Chromium is present (installed with apt-get when we are root)."""
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Debian's chromium for the browser and export tests (about a minute)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        check(["apt-get", "update", "-qq"], env=env)
        check(["apt-get", "install", "-y", "-qq", "chromium"], env=env)
        return
    message = "Chromium is not installed: `sudo apt-get install chromium` (browser and export tests need it)"
    if os.environ.get("CI"):
        sys.exit(f"[dev] {message}")
    say(f"warning: {message}; those tests will be skipped")


def ensure_demo_store() -> None:
    """Build the demo data store in the data folder if it has no live database yet."""
    code = subprocess.call(
        [
            PY,
            "-c",
            "import sys; from analytics.store.snapshots import store_paths;"
            " sys.exit(0 if store_paths().live.exists() else 3)",
        ],
        cwd=ROOT,
    )
    if code == 0:
        return
    drop = ROOT / "build" / "demo-drop"
    say("no data store yet: generating the synthetic demo council and loading it")
    shutil.rmtree(drop, ignore_errors=True)
    check([PY, "-m", "analytics", "demo", "--out", drop])
    check([PY, "-m", "analytics", "refresh", drop, "--by", "demo setup"])


def cmd_run(extra: list[str]) -> int:
    ensure_venv("requirements.txt")
    ensure_demo_store()
    return run([PY, "dev.py", "serve", *extra])


def cmd_serve(extra: list[str]) -> int:
    """Run ``streamlit run dashboard.py`` in this process (call with the project's virtualenv Python)."""
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", "dashboard.py", "--browser.gatherUsageStats", "false", *extra]
    return cli.main()


def cmd_test(extra: list[str]) -> int:
    ensure_venv("requirements-dev.txt")
    ensure_chromium()
    check([VENV / "bin" / "ruff", "check", "."])
    check([VENV / "bin" / "lint-imports"])
    code = run([PY, "-m", "pytest", *extra])
    if code == 5:
        say("pytest collected no tests: that is a failure")
        return 1
    return code


def main() -> int:
    commands = {"run": cmd_run, "test": cmd_test, "serve": cmd_serve}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 1
    os.chdir(ROOT)
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
