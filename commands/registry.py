"""The command table: every command's path, usage line, roles and handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands.access import EVERYONE
from commands.context import Ctx
from commands.reply import FormResult, Reply
from commands.tokenizer import Args
from storage.enums import Role
from storage.models import Case

Handler = Callable[[Ctx, Args, Case | None], Reply]
FormHandler = Callable[[Ctx, dict[str, str], dict[str, str]], FormResult]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    usage: str
    roles: frozenset[Role]
    handler: Handler | None  # None: arrives in a later release ("not available yet")
    case_arg: bool = False  # the first word is a KE- reference, resolved and access-checked by the router

    @property
    def name(self) -> str:
        return " ".join(self.path)


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    roles: frozenset[Role]
    handler: FormHandler
    identifier_fields: frozenset[str] = frozenset()  # never stored, never guarded as free text


COMMANDS: dict[tuple[str, ...], Command] = {}
FORMS: dict[str, FormSpec] = {}
GROUPS = ("concern", "case", "mentor", "meeting", "agenda", "minutes", "followup", "report", "unit", "subject",
          "help")


def command(path: str, usage: str, roles: frozenset[Role] = EVERYONE, *, case_arg: bool = False
            ) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        key = tuple(path.split())
        COMMANDS[key] = Command(key, usage, roles, fn, case_arg)
        return fn

    return register


def later(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> None:
    key = tuple(path.split())
    COMMANDS.setdefault(key, Command(key, usage, roles, None))


def form(form_id: str, roles: frozenset[Role], identifier_fields: frozenset[str] = frozenset()
         ) -> Callable[[FormHandler], FormHandler]:
    def register(fn: FormHandler) -> FormHandler:
        FORMS[form_id] = FormSpec(form_id, roles, fn, identifier_fields)
        return fn

    return register


def find(words: list[str]) -> tuple[Command | None, int]:
    """Longest registered path that prefixes `words` (case-insensitive)."""
    lowered = [w.lower() for w in words]
    for size in range(min(3, len(lowered)), 0, -1):
        cmd = COMMANDS.get(tuple(lowered[:size]))
        if cmd is not None:
            return cmd, size
    return None, 0


def in_group(group: str) -> list[Command]:
    return sorted((c for c in COMMANDS.values() if c.path[0] == group), key=lambda c: c.path)
