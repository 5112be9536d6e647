"""The command table: every command's path, usage line, roles and handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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

    @property
    def form_id(self) -> str:
        return ".".join(self.path)

    @property
    def opens_bare(self) -> bool:
        """Typed with nothing but its reference, the command opens its form (when something is required)."""
        return any(f.required and f.to not in ("ref", "refopt") for f in self.fields)


FILE_PLATFORMS = ("slack", "console")
COMMANDS: dict[tuple[str, ...], Command] = {}
FORMS: dict[str, FormSpec] = {}
COMMAND_FORMS: dict[str, CommandForm] = {}  # form_id ("case.refer") → the command's form
GROUPS = ("concern", "case", "mentor", "meeting", "agenda", "minutes", "followup", "report", "unit", "subject",
          "help")


def command(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        key = tuple(path.split())
        COMMANDS[key] = Command(key, usage, roles, fn)
        return fn

    return register


def case_command(path: str, usage: str, roles: frozenset[Role] = EVERYONE) -> Callable[[CaseHandler], CaseHandler]:
    """A command whose first word is a case's KE- reference: its handler gets that case, found and checked."""
    def register(fn: CaseHandler) -> CaseHandler:
        key = tuple(path.split())
        COMMANDS[key] = Command(key, usage, roles, fn, case_arg=True)
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


def command_form(path: str, *fields: Field, title: str,
                 values_to_options: Callable[[dict[str, str]], dict[str, str]] | None = None,
                 look_up: Callable[[Ctx, dict[str, str]], None] | None = None) -> CommandForm:
    spec = CommandForm(tuple(path.split()), fields, title, values_to_options, look_up)
    COMMAND_FORMS[spec.form_id] = spec
    return spec


def form_of(cmd: Command) -> CommandForm | None:
    return COMMAND_FORMS.get(".".join(cmd.path))


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
