"""The pinned environment: requirements.lock still resolves requirements.txt, and this interpreter
runs exactly the locked versions (what the committed results were made with)."""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def top_level_requirements() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


def locked() -> dict[str, tuple[Version, list[str]]]:
    """{canonical name: (version, [hashes])} from requirements.lock."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    name = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = PIN.match(line)
        if m:
            name = canonicalize_name(m.group(1))
            assert name not in pins, f"{name} is pinned twice in requirements.lock"
            pins[name] = (Version(m.group(2)), [])
        elif name and line.strip().startswith("--hash=sha256:"):
            pins[name][1].append(line.strip().split(":", 1)[1].rstrip(" \\"))
    return pins


def test_lock_pins_every_requirement_within_its_bounds():
    pins = locked()
    for req in top_level_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in requirements.txt but not in requirements.lock: run `make lock`"
        version = pins[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {req.name}=={version}, outside requirements.txt's '{req}': run `make lock`")


def test_every_locked_package_has_hashes():
    missing = [name for name, (_, hashes) in locked().items() if not hashes]
    assert not missing, f"pinned without a hash (pip --require-hashes would refuse the lock): {missing}"
    assert all(len(h) == 64 for _, hashes in locked().values() for h in hashes)


def test_lock_holds_nothing_that_no_requirement_pulls_in():
    # uv writes "# via -r requirements.txt" under each top-level pin; a pin whose requirement was
    # deleted from requirements.txt would still say so
    text = (ROOT / "requirements.lock").read_text()
    top = {canonicalize_name(r.name) for r in top_level_requirements()}
    via_file = set()
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = PIN.match(block)
        if m and "-r requirements.txt" in block:
            via_file.add(canonicalize_name(m.group(1)))
    assert via_file == top, f"lock and requirements.txt disagree on the top level: {sorted(via_file ^ top)}: run `make lock`"


def test_this_environment_runs_the_locked_versions():
    """What `make env` installs; a different torch changes every trained number (issue 9)."""
    wrong = {}
    for name, (version, _) in locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed == "not installed" or Version(installed) != version:
            wrong[name] = f"{installed} (locked {version})"
    assert not wrong, f"this environment is not requirements.lock: {wrong}: run `make clean-env env`"
