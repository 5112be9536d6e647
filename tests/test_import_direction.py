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
# Migrations are storage: they replay history with frozen copies of what they need, never today's `commands`.
EXEMPT = {Path("scheduler/__main__.py")}


def imported(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def test_migrations_are_checked_too() -> None:
    migrations = [p for p in modules("storage") if "migrations" in p.parts]
    assert Path("storage/migrations/versions/0006_report_facts.py") in migrations
    assert Path("storage/migrations/frozen/report_facts_0011.py") in migrations


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


def test_the_top_of_commands_is_the_command_language_only() -> None:
    """Everything a user would name lives in its domain folder; the top holds the language (at most a dozen)."""
    flat = sorted(p.name for p in (ROOT / "commands").glob("*.py") if p.name != "__init__.py")
    assert len(flat) <= 12, flat
    assert {p.name for p in (ROOT / "commands").iterdir() if p.is_dir() and p.name != "__pycache__"} - {
        "cases", "meetings", "followups", "reports", "retention", "profile", "unit", "time", "members", "guide",
        "documents"} == LANGUAGE_PACKAGES
    assert set(flat) <= {"router.py", "registry.py", "tokenizer.py", "parsing.py", "reply.py", "context.py",
                         "messages.py", "errors.py", "services.py", "markup.py", "access.py", "confirm.py"}, flat


def test_every_domain_is_a_package_and_scheduler_holds_only_the_worker() -> None:
    flat = sorted(p.name for p in (ROOT / "commands").glob("*.py"))
    assert {"router.py", "registry.py", "tokenizer.py", "messages.py"} <= set(flat)
    for domain in ("cases", "meetings", "followups", "reports", "retention", "profile", "unit", "time"):
        assert (ROOT / "commands" / domain / "__init__.py").is_file(), domain
    assert sorted(p.name for p in (ROOT / "scheduler").glob("*.py")) == ["__init__.py", "__main__.py", "worker.py"]


# --- circles -------------------------------------------------------------------------------------------------
# Module circles still to untangle: none left, and the list may only stay empty.
KNOWN_MODULE_CIRCLES: set[frozenset[str]] = set()


def _module_names() -> dict[str, Path]:
    names = {}
    for room in ("bot", "commands", "scheduler", "storage"):
        for path in (ROOT / room).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            names[name.removesuffix(".__init__")] = path
    return names


def _imports_of(name: str, path: Path, names: dict[str, Path]) -> dict[str, set[str]]:
    """Module imported → the names taken from it (an empty set for `import x`), every statement counted."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, set[str]] = {}

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in names:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (target := resolve(alias.name)) is not None:
                    found.setdefault(target, set())
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                submodule = resolve(f"{base}.{alias.name}")
                if submodule == f"{base}.{alias.name}":
                    found.setdefault(submodule, set())
                elif (target := resolve(base)) is not None:
                    found.setdefault(target, set()).add(alias.name)
    found.pop(name, None)
    return found


def _graph() -> dict[str, dict[str, set[str]]]:
    names = _module_names()
    return {name: _imports_of(name, path, names) for name, path in names.items()}


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# Packages of the command language itself (like router.py, they may read every domain): not domains.
LANGUAGE_PACKAGES = {"forms", "locale"}


def domain(module: str) -> str | None:
    """`commands.cases.views` → `commands.cases`: the domain package a module belongs to, if any."""
    parts = module.split(".")
    if parts[0] == "commands" and len(parts) > 1 and (ROOT / "commands" / parts[1]).is_dir() \
            and parts[1] not in LANGUAGE_PACKAGES:
        return ".".join(parts[:2])
    return None


def test_no_circle_between_modules() -> None:
    assert KNOWN_MODULE_CIRCLES == set()
    graph = {name: set(targets) for name, targets in _graph().items()}
    circles = [sorted(c) for c in _circles(graph)]
    assert circles == [], "modules importing each other:\n" + "\n".join(map(str, circles))


def test_no_circle_between_domain_packages() -> None:
    packages: dict[str, set[str]] = {}
    for name, targets in _graph().items():
        if (mine := domain(name)) is not None:
            packages.setdefault(mine, set()).update(d for t in targets if (d := domain(t)) not in (None, mine))
    assert _circles(packages) == []  # type: ignore[arg-type]


def test_no_domain_takes_a_private_name_from_another() -> None:
    wrong = [f"{name} takes {sorted(private)} from {target}"
             for name, targets in _graph().items() for target, taken in targets.items()
             if (private := {n for n in taken if n.startswith("_") and not n.startswith("__")})
             and (domain(name) or name.rpartition(".")[0]) != (domain(target) or target.rpartition(".")[0])]
    assert wrong == []


def test_the_circle_check_sees_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
