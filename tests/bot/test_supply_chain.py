"""The lock file: every dependency pyproject.toml names is pinned there, exactly and with hashes, so an install
from it (CI, the README, the Procfile deployment) is the tested set and nothing floats."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _locked() -> dict[str, list[str]]:
    """name → the lines of its entry."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith((" ", "#")):
            current = _name(line)
            entries[current] = [line]
        elif current and line.strip().startswith("--hash="):
            entries[current].append(line)
    return entries


def test_every_dependency_of_the_package_and_its_tests_is_locked_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    locked = _locked()
    missing = wanted - set(locked)
    assert not missing, f"not in requirements.lock (regenerate it, README → Development): {missing}"
    for name, lines in locked.items():
        assert "==" in lines[0], f"{name} is not pinned exactly"
        assert len(lines) > 1, f"{name} has no hash"


def test_the_procfile_deployment_installs_the_lock() -> None:
    lines = [x for x in (ROOT / "requirements.txt").read_text().splitlines() if x and not x.startswith("#")]
    assert lines == ["-r requirements.lock"]
    assert "requirements.lock" in (ROOT / ".ci" / "run").read_text()
