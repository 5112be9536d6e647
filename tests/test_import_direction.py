"""Imports run one way (STYLE.md, docs/architecture.md): `bot/` and `scheduler/` (the two entry points) →
`commands/` → `storage/`. Every import statement counts, also those inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# room → the top-level packages it must never import
FORBIDDEN = {
    "storage": {"commands", "scheduler", "bot", "slack_bolt", "slack_sdk", "fastapi", "microsoft_teams"},
    "commands": {"scheduler", "bot", "slack_bolt", "slack_sdk", "fastapi", "uvicorn", "microsoft_teams", "aiohttp"},
    "scheduler": {"bot", "slack_bolt", "fastapi", "microsoft_teams"},
}
# `python -m scheduler` is an entry point: it hands the platforms' delivery function to the worker.
# A migration replays history; 0006 and 0011 back-fill the fact store with the reports' own derivation
# (docs/reports.md).
EXEMPT = {Path("scheduler/__main__.py"), Path("storage/migrations/versions/0006_report_facts.py"),
          Path("storage/migrations/versions/0011_report_steps.py"),
          Path("storage/migrations/versions/0013_families.py")}


def imported(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def modules(room: str) -> list[Path]:
    return sorted(p.relative_to(ROOT) for p in (ROOT / room).rglob("*.py") if p.relative_to(ROOT) not in EXEMPT)


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_never_imports_a_room_above_it(room: str) -> None:
    wrong = [f"{path}:{line} imports {top}" for path in modules(room)
             for top, line in sorted(imported(ROOT / path)) if top in FORBIDDEN[room]]
    assert wrong == [], "imports running back up:\n" + "\n".join(wrong)


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.delivery import deliver_pending\n    return deliver_pending\n")
    assert ("bot", 2) in imported(module)


def test_every_domain_is_a_package_and_scheduler_holds_only_the_worker() -> None:
    flat = sorted(p.name for p in (ROOT / "commands").glob("*.py"))
    assert {"router.py", "registry.py", "tokenizer.py", "messages.py"} <= set(flat)
    for domain in ("cases", "meetings", "followups", "reports", "retention", "profile", "unit", "time"):
        assert (ROOT / "commands" / domain / "__init__.py").is_file(), domain
    assert sorted(p.name for p in (ROOT / "scheduler").glob("*.py")) == ["__init__.py", "__main__.py", "worker.py"]
