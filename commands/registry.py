"""The command language's declarations: a command's path, usage line, roles and handler; a form's fields; and
the `Table` that gathers them. A decorator only describes its function; nothing is registered by importing a
module — the one table is built from an explicit list in commands/router.py (`TABLE`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType, ModuleType

from commands.access import EVERYONE
from commands.context import Ctx
from commands.messages import t
from commands.reply import FormResult, Reply
from commands.tokenizer import Args
from storage.enums import Role
from storage.models import Case

Handler = Callable[[Ctx, Args], Reply]  # a command about no case in particular
CaseHandler = Callable[[Ctx, Args, Case], Reply]  # a case command: the router hands it the case its KE- names
FormHandler = Callable[[Ctx, dict[str, str], dict[str, str]], FormResult]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    usage: str
    roles: frozenset[Role]
    handler: Handler | CaseHandler | None  # None: arrives in a later release ("not available yet")
    case_arg: bool = False  # a CaseHandler: the first word is a KE- reference, resolved and access-checked by
    # the router, and the handler gets the case

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def usage_in(self, lang: str) -> str:
        return usage_in(lang, self.usage)


# A usage line's placeholders, in the reader's words (`reason=ÅRSAG`); option keys, command words, references
# (KE-…) and examples stay as they are typed.
PLACEHOLDERS = {"REASON": "usage.ph.reason", "ORG": "usage.ph.org", "KIND": "usage.ph.kind",
                "TRACK": "usage.ph.track", "ROLE": "usage.ph.role", "BASIS": "usage.ph.basis",
                "CATEGORIES": "usage.ph.categories", "FILE": "usage.ph.file", "PSEUDONYM": "usage.ph.pseudonym",
                "YYYY-MM-DD": "usage.ph.date", "YYYY": "usage.ph.year", '"text"': "usage.ph.text",
                '"note"': "usage.ph.note", '"title"': "usage.ph.title", '"decision"': "usage.ph.decision",
                '"advice given"': "usage.ph.advice", "@user": "usage.ph.user"}
_PLACEHOLDER = re.compile(r'(?<![\w-])(?:YYYY-MM-DD|[A-Z]{2,})(?![\w-])|"(?:text|note|title|decision|advice given)"'
                          r"|@user\b")


def usage_in(lang: str, usage: str) -> str:
    """The usage line as the reader reads it: its placeholders in the reader's language."""
    return _PLACEHOLDER.sub(lambda m: t(lang, PLACEHOLDERS[m.group(0)]) if m.group(0) in PLACEHOLDERS
                            else m.group(0), usage)


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    roles: frozenset[Role]
    handler: FormHandler
    identifier_fields: frozenset[str] = frozenset()  # never stored, never guarded as free text


@dataclass(frozen=True)
class Field:
    """One field of a command's form: what is asked, and where the answer goes in the command's Args."""

    name: str  # the option's name (`reason`), or the field's own name for a word, a text or a mention
    kind: str = "text"  # a FormField kind; "datetime" is asked as a date picker and a time picker
    required: bool = False
    choices: str = ""  # where a select's choices come from (commands.forms.submission.CHOICES)
    to: str = "option"  # "option" (name=value), "text" ("…"), "word" (a bare word), "mention" (@user),
    # "ref" (a reference word such as M-…: filled from what was typed, asked only when it was not),
    # "refopt" (the same, handed to the command as the option of that name: `minutes KE-… M-…` → meeting=M-…)
    label: str = ""  # the catalog key of its label; "" → `form.field.<name>`
    hint: str = ""  # the catalog key of a hint under it
    default: str = ""  # the value it opens with
    file_types: tuple[str, ...] = ()  # kind "file": the extensions it takes (a binary one arrives as `base64:…`)
    identifier: bool = False  # may carry identifiers (a spreadsheet of cases): never guarded, never shown back


@dataclass(frozen=True)
class CommandForm:
    """A command's form, declared once: every renderer (Slack modal, Teams card, console prompts) reads it, and
    its submission builds the command's Args and runs the command's own handler (same checks, same audit)."""

    path: tuple[str, ...]
    fields: tuple[Field, ...]
    title: str  # the catalog key of its title ({ref} is the case or meeting)
    values_to_options: Callable[[dict[str, str]], dict[str, str]] | None = None  # e.g. the rhythm → rrule
    look_up: Callable[[Ctx, dict[str, str]], None] | None = None  # checks the references typed, before it opens

    @property
    def identifier_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.identifier)

    def opens_on(self, platform: str) -> bool:
        """A form with a file in it opens only where a form can carry a file (Slack's upload, the console's
        path); elsewhere (Teams) the command says how to hand the file over."""
        return platform in FILE_PLATFORMS or not any(f.kind == "file" for f in self.fields)

    case_arg: bool = False  # its command is a case command (filled in by the Table, which knows the command)

    @property
    def form_id(self) -> str:
        return ".".join(self.path)

    @property
    def opens_bare(self) -> bool:
        """Typed with nothing but its reference, the command opens its form (when something is required)."""
        return any(f.required and f.to not in ("ref", "refopt") for f in self.fields)


FILE_PLATFORMS = ("slack", "console")
GROUPS = ("concern", "case", "mentor", "meeting", "agenda", "minutes", "followup", "report", "unit", "subject",
          "help")
_COMMAND = "command"  # the attribute a decorator gives its function: the Command it describes
_FORM = "form"  # … or the FormSpec


def command(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> Callable[[Handler], Handler]:
    def describe(fn: Handler) -> Handler:
        setattr(fn, _COMMAND, Command(tuple(path.split()), usage, roles, fn))
        return fn

    return describe


def case_command(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> Callable[[CaseHandler], CaseHandler]:
    """A command whose first word is a case's KE- reference: its handler gets that case, found and checked."""
    def describe(fn: CaseHandler) -> CaseHandler:
        setattr(fn, _COMMAND, Command(tuple(path.split()), usage, roles, fn, case_arg=True))
        return fn

    return describe


def later(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> Command:
    """A command announced before it arrives: the table lists it, and it answers "not available yet"."""
    return Command(tuple(path.split()), usage, roles, None)


def form(form_id: str, roles: frozenset[Role], identifier_fields: frozenset[str] = frozenset()
         ) -> Callable[[FormHandler], FormHandler]:
    def describe(fn: FormHandler) -> FormHandler:
        setattr(fn, _FORM, FormSpec(form_id, roles, fn, identifier_fields))
        return fn

    return describe


def command_form(path: str, *fields: Field, title: str,
                 values_to_options: Callable[[dict[str, str]], dict[str, str]] | None = None,
                 look_up: Callable[[Ctx, dict[str, str]], None] | None = None) -> CommandForm:
    return CommandForm(tuple(path.split()), fields, title, values_to_options, look_up)


def described(fn: object) -> Command | None:
    """The Command a @command or @case_command function describes (None for any other function)."""
    found = getattr(fn, _COMMAND, None)
    return found if isinstance(found, Command) else None


def _form_described(fn: object) -> FormSpec | None:
    found = getattr(fn, _FORM, None)
    return found if isinstance(found, FormSpec) else None


def _declared_in(module: ModuleType) -> list[object]:
    """The functions a module defines itself (not those it imports), in the order it defines them."""
    return [v for v in vars(module).values() if callable(v) and getattr(v, "__module__", None) == module.__name__]


@dataclass(frozen=True)
class Table:
    """Every command, form and command form, by path or id. Built once, from an explicit list; read-only."""

    commands: Mapping[tuple[str, ...], Command]
    forms: Mapping[str, FormSpec]
    command_forms: Mapping[str, CommandForm]  # form_id ("case.refer") → the command's form

    @classmethod
    def of(cls, entries: Iterable[ModuleType | Handler | CaseHandler | Command],
           command_forms: Iterable[CommandForm] = ()) -> Table:
        """A module stands for the commands and forms its own functions declare; a function for its command;
        a Command (`later`) for itself. A path or form id named twice is a mistake, said at once."""
        commands: dict[tuple[str, ...], Command] = {}
        forms: dict[str, FormSpec] = {}
        for entry in entries:
            for item in _declared_in(entry) if isinstance(entry, ModuleType) else [entry]:
                cmd = item if isinstance(item, Command) else described(item)
                spec = _form_described(item)
                if cmd is None and spec is None and not isinstance(entry, ModuleType):
                    raise ValueError(f"{entry!r} declares no command")
                if cmd is not None:
                    if cmd.path in commands:
                        raise ValueError(f"command {cmd.name!r} named twice")
                    commands[cmd.path] = cmd
                if spec is not None:
                    if spec.form_id in forms:
                        raise ValueError(f"form {spec.form_id!r} named twice")
                    forms[spec.form_id] = spec
        by_id: dict[str, CommandForm] = {}
        for cf in command_forms:
            if cf.path not in commands or cf.form_id in by_id:
                raise ValueError(f"form of {' '.join(cf.path)!r}: no such command, or named twice")
            by_id[cf.form_id] = replace(cf, case_arg=commands[cf.path].case_arg)
        return cls(MappingProxyType(commands), MappingProxyType(forms), MappingProxyType(by_id))

    def form_of(self, cmd: Command) -> CommandForm | None:
        return self.command_forms.get(".".join(cmd.path))

    def find(self, words: list[str]) -> tuple[Command | None, int]:
        """Longest path in the table that prefixes `words` (case-insensitive)."""
        lowered = [w.lower() for w in words]
        for size in range(min(3, len(lowered)), 0, -1):
            cmd = self.commands.get(tuple(lowered[:size]))
            if cmd is not None:
                return cmd, size
        return None, 0

    def in_group(self, group: str) -> list[Command]:
        return sorted((c for c in self.commands.values() if c.path[0] == group), key=lambda c: c.path)
