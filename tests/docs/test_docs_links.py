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
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[3].startswith("python3 -m pip install -e . && python3 -m bot ")
    assert lines[4].startswith("python3 -m pip install -e '.[test]' && python3 -m pytest ")


def test_guides_exist_in_both_languages() -> None:
    for name in ("guide.da.md", "guide.md", "admin.md", "architecture.md"):
        assert (ROOT / "docs" / name).stat().st_size > 2000
