"""What lets the suite run on several cores (pytest-xdist, ``-n 2 --dist loadfile`` in pyproject.toml).

* ``built_once``: an expensive folder (the demo store, a generated council's store) is built by
  the first worker that needs it, under a file lock, and read by every other worker of the run.
* ``FileScheduling``: a test file goes to one worker whole, so its module fixtures (servers,
  browsers, stores) are made once; the tests named in ``SPREAD`` go one by one to any worker
  instead; the files in ``SLOW_FIRST`` are queued first so no worker is left with a long tail.
  (xdist's own ``--dist loadgroup`` ignores its groups on pytest 9.2: pytest-xdist issue 1386.)
* ``worker_tables`` / ``merge_worker_tables``: what the summary tables at the end of the run need
  (``conftest.pytest_terminal_summary``) travels from each worker to the controller.

Without xdist (``-n 0``) everything works the same in one process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SLOW_FIRST = (
    "test_councils.py",  # without SPREAD: the pages each council's shape changes, in Chromium
    "test_e2e_access.py",  # a sign-in provider and server; 12 sessions at once on a cold server
    "test_e2e.py",
    "test_store.py",
    "test_store_recovery.py",
    "test_e2e_deep_links.py",  # six fresh servers, one after another
    "test_e2e_data_page.py",
    "test_briefing.py",
    "test_exports_scan.py",
    "test_publication.py",
)
"""Test files queued before the rest, longest first (measured with ``--durations``); xdist then
queues the other files by their number of tests, and the ``SPREAD`` tests last."""

SPREAD = (
    "test_councils.py::test_shapes_are_at_least_twelve_distinct_valid_councils",
    "test_councils.py::test_generated_drops_have_the_shape_their_names_say",
    "test_councils.py::test_every_page_runs_and_says_what_it_cannot_show",
    "test_councils.py::test_every_chart_builds_and_its_headline_matches_its_data",
)
"""Tests (``file::function``, every parameter) that share no module fixture: each goes to any worker."""


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the temporary folder every worker of this run shares (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) across processes."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """Return the folder ``name`` shared by the run's workers, calling ``build(folder)`` if no worker has yet.

    ``build`` fills an empty folder; if it raises, the next caller tries again (and fails the same way).
    Callers must not change what is in the folder: other workers read it at the same time.
    """
    root = run_dir(tmp_path_factory) / "shared"
    root.mkdir(exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with locked(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


def _file_and_test(nodeid: str) -> tuple[str, str]:
    """Return ``(file name, file::function)`` of a node id such as ``tests/test_x.py::test_y[p]``."""
    path, _, rest = nodeid.partition("::")
    name = Path(path).name
    return name, f"{name}::{rest.split('[', 1)[0]}"


def make_scheduler(config: pytest.Config, log):
    """Return xdist's file scheduling with ``SPREAD`` tests on their own and ``SLOW_FIRST`` files first."""
    from xdist.scheduler import LoadFileScheduling

    class FileScheduling(LoadFileScheduling):
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            _, test = _file_and_test(nodeid)
            return nodeid if test in SPREAD else super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not self.ordered:  # the queue is complete by the first assignment

                def rank(scope: str) -> int:
                    name, test = _file_and_test(scope)
                    if test in SPREAD:
                        return len(SLOW_FIRST) + 1
                    return SLOW_FIRST.index(name) if name in SLOW_FIRST else len(SLOW_FIRST)

                queue = sorted(self.workqueue.items(), key=lambda unit: rank(unit[0]))  # stable
                self.workqueue.clear()
                self.workqueue.update(queue)
                self.ordered = True
            super()._assign_work_unit(node)

    return FileScheduling(config, log)


def worker_tables(config: pytest.Config, tables: dict[str, object]) -> None:
    """On an xdist worker, hand ``tables`` (JSON-able) to the controller; elsewhere do nothing."""
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output["summary_tables"] = json.dumps(tables)


def merge_worker_tables(node) -> dict[str, object]:
    """Return the tables a finished worker handed over (``worker_tables``), or ``{}``."""
    return json.loads(getattr(node, "workeroutput", {}).get("summary_tables", "{}"))
