"""The command table is one explicit list (commands/router.py `TABLE`): importing a module registers nothing, the
table holds exactly the commands docs/commands.md lists, and a case command's handler is handed a `Case`."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys
import typing
from pathlib import Path

import commands
from commands import registry
from commands.router import TABLE
from storage.models import Case

DOCS = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def _declaring_modules() -> list[str]:
    return sorted({c.handler.__module__ for c in TABLE.commands.values() if c.handler is not None}
                  | {f.handler.__module__ for f in TABLE.forms.values()} | {"commands.forms.table"})


def _import_afresh(name: str) -> None:
    """A second copy of the module, imported under another name: every decorator in it runs once more."""
    copy = f"{name}_afresh"
    spec = importlib.util.spec_from_file_location(copy, importlib.util.find_spec(name).origin)  # type: ignore[union-attr]
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[copy] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[copy]


def _registry_state() -> dict[str, object]:
    return {k: v.copy() if isinstance(v, dict | list | set) else id(v) for k, v in vars(registry).items()}


def test_importing_a_use_case_module_leaves_the_table_and_the_registry_as_they_were() -> None:
    table = (dict(TABLE.commands), dict(TABLE.forms), dict(TABLE.command_forms))
    state = _registry_state()
    for module in _declaring_modules():
        _import_afresh(module)
    assert (dict(TABLE.commands), dict(TABLE.forms), dict(TABLE.command_forms)) == table
    assert _registry_state() == state


def test_every_command_declared_anywhere_in_commands_is_in_the_table() -> None:
    """A module left out of the list would lose its commands silently; this names it."""
    missing = []
    for info in pkgutil.walk_packages(commands.__path__, "commands."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if getattr(value, "__module__", None) != info.name:
                continue
            cmd = registry.described(value)
            if cmd is not None and TABLE.commands.get(cmd.path) != cmd:
                missing.append(f"{info.name}: {cmd.name}")
    assert missing == []


def test_the_table_holds_exactly_the_commands_the_reference_lists() -> None:
    english = DOCS.read_text(encoding="utf-8").split("## Commands (en)")[1]
    listed = [line[len("- `"):].split("`")[0] for line in english.splitlines() if line.startswith("- `")]
    assert sorted(listed) == sorted(c.usage.split(" | ")[0].strip() for c in TABLE.commands.values())
    assert len(listed) == len(TABLE.commands) > 70


def test_a_case_command_is_handed_a_case_and_a_plain_command_only_ctx_and_args() -> None:
    for cmd in TABLE.commands.values():
        if cmd.handler is None:
            continue
        params = list(inspect.signature(cmd.handler).parameters)
        hints = typing.get_type_hints(cmd.handler)
        if cmd.case_arg:
            assert len(params) == 3 and hints[params[2]] is Case, cmd.name
        else:
            assert len(params) == 2, cmd.name


def test_a_command_form_knows_whether_its_command_takes_a_case() -> None:
    assert {f.form_id for f in TABLE.command_forms.values() if f.case_arg} == {
        ".".join(c.path) for c in TABLE.commands.values() if c.case_arg and TABLE.form_of(c) is not None}
    assert TABLE.command_forms["case.refer"].case_arg and not TABLE.command_forms["meeting.adhoc"].case_arg


def test_every_task_of_the_guide_runs_a_command_of_the_table() -> None:
    from commands.guide import tasks

    for _key, text, handler in tasks.TASKS:
        cmd, _size = TABLE.find(text.split())
        assert cmd is not None and cmd == registry.described(handler), text
