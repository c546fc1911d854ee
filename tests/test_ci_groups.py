"""How conftest.py splits the suite over xdist's workers: a file with module-scoped state stays on one worker."""
from __future__ import annotations

import re
from pathlib import Path

import conftest

TESTS = Path(__file__).resolve().parent
SHARED = re.compile(r'scope="(module|session)"|lru_cache')


def test_every_file_with_module_state_is_one_scope():
    for path in sorted(set(TESTS.glob("test_*.py")) - {Path(__file__).resolve()}):  # (this file names the words)
        nodeids = [f"tests/{path.name}::test_a", f"tests/{path.name}::test_b"]
        if SHARED.search(path.read_text()):
            scopes = {conftest.group(n) for n in nodeids}
            assert len(scopes) == 1 and None not in scopes, f"{path.name} shares module state but its tests may split"
    assert all((TESTS / name).is_file() for name in conftest.SHARED_MODULE_STATE)


def test_groups():
    assert conftest.group("notebooks/diba2018/table3.ipynb::Cell 1") == "smoke_state"
    assert conftest.group("tests/test_paper_path.py::test_diba2018_stages_run_at_paper") == "paper_path"
    assert conftest.group("tests/test_site.py::test_groups") == "test_site.py"
    assert conftest.group("tests/test_summary.py::test_write_summary_and_readme_block") is None
