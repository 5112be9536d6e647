"""The repository documents itself: every relative link in README.md and docs/ names a file inside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _markdown() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", _markdown(), ids=lambda p: p.name)
def test_relative_links_stay_inside_the_repository(doc: Path) -> None:
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links a missing file: {target}"


def test_readme_keeps_its_two_commands() -> None:
    """Install (the locked set, then the package) and run the console; install and test. .ci/run runs the second."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    locked = "python3 -m pip install -r requirements.lock && "
    assert lines[3].startswith(locked + "python3 -m pip install --no-deps -e . && python3 -m bot ")
    assert lines[4].startswith(locked + "python3 -m pip install --no-deps -e '.[test]' && python3 -m pytest ")
    assert locked + "python3 -m pip install -q --no-deps -e '.[test]' && python3 -m pytest" in \
        (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("-q -r", "-r")


def test_guides_exist_in_both_languages() -> None:
    for name in ("guide.da.md", "guide.md", "admin.md", "architecture.md"):
        assert (ROOT / "docs" / name).stat().st_size > 2000
