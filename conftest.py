"""How the test suite splits over pytest-xdist's workers (``-n auto``, pyproject.toml).

CI has two cores and used about 1.2 of them: much of a test's time is spent starting processes (DVC stages,
notebook kernels, each importing torch) and reading files. Two workers overlap that, on these terms:

- Everything that trains, reads or writes the repository's own ``smoke`` state (``runs/smoke``,
  ``results/*/smoke``, the smoke stand-ins' flow: the notebooks, and the unit tests that train smoke runs)
  is one group, run in order by one worker: notebooks share runs (diba2018 reads diba2017's, two papers share
  the ResNet-50 image net), and nothing in ``replicate.runs`` locks a run against a second writer.
- The paper-path tests (``tests/test_paper_path.py``) are another: they share one scratch project (a module
  fixture), in which each test's DVC stages build on the last's.
- Everything else is free to run on either worker.

A group is a scope of xdist's LoadScopeScheduling (:class:`GroupScheduling`), read from the test's path: xdist's own
``--dist loadgroup`` marks cannot be used, since it renames node ids, which pytest 9 no longer reads.

The smoke stand-ins are generated once here, before the workers start, so no two processes write them.
Each worker gets its share of the cores for torch (``OMP_NUM_THREADS``, inherited by the DVC stages and
kernels it starts), so two workers do not oversubscribe the CPU.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
#: unit tests that train or read runs in the repository's smoke state (the notebooks' runs)
SMOKE_STATE_TESTS = {"test_composite.py", "test_diba2018_models.py", "test_diba2018_tables.py", "test_idt.py",
                     "test_mansimov2015.py", "test_pretrain.py", "test_runs.py", "test_tran2018.py"}


def group(nodeid: str) -> str | None:
    """The group of the test ``nodeid`` (relative to this folder), or None if it may run anywhere."""
    path = Path(nodeid.split("::")[0])
    top = path.parts[0] if path.parts else ""
    if top == "notebooks" or (top == "tests" and path.name in SMOKE_STATE_TESTS):
        return "smoke_state"
    if top == "tests" and path.name == "test_paper_path.py":
        return "paper_path"
    return None


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own choice; optional: also runs without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """Each group's tests in collection order on one worker; every other test a scope of its own."""

        def _split_scope(self, nodeid: str) -> str:
            return group(nodeid) or nodeid

    return GroupScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        threads = str(max(1, (os.cpu_count() or 1) // int(worker["workercount"])))
        os.environ["OMP_NUM_THREADS"] = threads
        import torch  # after the variable, so that this process's pool has the same size as its children's

        torch.set_num_threads(int(threads))


def pytest_sessionstart(session: pytest.Session) -> None:
    # the controller (or a run without workers) generates the smoke stand-ins before any test needs them
    if getattr(session.config, "workerinput", None) is None and not session.config.option.collectonly:
        from replicate import config

        config.ensure_data("smoke")
