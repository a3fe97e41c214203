#!/usr/bin/env python3
"""Set up and run the project with one command each (Python 3.11, no other prerequisites).

    python3 dev.py run     # virtualenv + dependencies, demo data store if none, then the dashboard
    python3 dev.py test    # virtualenv + test dependencies, Chromium for browser tests, lint, pytest

Extra arguments after ``test`` go to pytest; after ``run`` they go to ``streamlit run``.
``.venv/bin/python dev.py serve [--allow-anonymous-network] [streamlit options]`` starts the dashboard
alone (no setup); ``run`` and the browser tests use it. Without sign-in configured it serves on
127.0.0.1 only (see docs/deploy.md).
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


ALLOW_ANONYMOUS_FLAG = "--allow-anonymous-network"


def _option_values(args: list[str], name: str) -> list[str]:
    """Return every value given for the Streamlit option ``--name`` (``--name VALUE`` or ``--name=VALUE``)."""
    values = []
    for i, arg in enumerate(args):
        if arg == f"--{name}" and i + 1 < len(args):
            values.append(args[i + 1])
        elif arg.startswith(f"--{name}="):
            values.append(arg.split("=", 1)[1])
    return values


def cmd_serve(extra: list[str]) -> int:
    """Run ``streamlit run dashboard.py`` in this process (call with the project's virtualenv Python).

    Without sign-in configured (no ``[auth]`` in the secrets files) the server listens on 127.0.0.1
    only; asking for another address then refuses to start (exit 2) unless ``--allow-anonymous-network``
    is given (or ``allow_anonymous_network = true`` in config.toml ``[access]``). Everything the pages
    import is imported here, before the server accepts its first sessions.
    """
    from analytics import access
    from analytics.config import settings

    allow = ALLOW_ANONYMOUS_FLAG in extra
    extra = [a for a in extra if a != ALLOW_ANONYMOUS_FLAG]
    files = _option_values(extra, "secrets.files") or [
        Path.home() / ".streamlit" / "secrets.toml",
        ROOT / ".streamlit" / "secrets.toml",
    ]
    signed_in = access.sign_in_configured(access.read_secrets(files))
    addresses = _option_values(extra, "server.address") or [os.environ.get("STREAMLIT_SERVER_ADDRESS", "")]
    address = addresses[-1] or None
    if address is None and not signed_in:
        extra = [*extra, "--server.address", "127.0.0.1"]
        address = "127.0.0.1"
    allowed = allow or access.policy_from(settings().get("access")).allow_anonymous_network
    refusal = access.anonymous_network_refusal(address, signed_in, allowed)
    if refusal is not None:
        print(f"[dev] not starting: {refusal}", file=sys.stderr, flush=True)
        return 2
    if allow:
        os.environ[access.ALLOW_ANONYMOUS_ENV] = "1"  # dashboard.py checks again at every run
    say(f"serving on {address or 'every interface'}" + ("" if signed_in else " (local use, no sign-in)"))

    from streamlit.web import cli

    from ui import warm

    warm.preload()  # before the first sessions: they must not import pandas & co. at once in threads
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
