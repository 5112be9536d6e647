"""help [command]."""

from __future__ import annotations

import re
from collections.abc import Callable

from commands import access, registry
from commands.context import Ctx
from commands.errors import UsageError
from commands.guide import tasks
from commands.messages import choice, has, org_name, t
from commands.parsing import LABEL_KINDS, OPTION_KINDS
from commands.reply import Reply
from commands.tokenizer import Args
from storage.enums import Org
from storage.profile import Profile

# A usage line's value that is no choice: free text, a date, a person, a number, a reference, a file.
_NOT_A_CHOICE = re.compile(r'^(?:"|…"|YYYY|@|N\b|PSEUDONYM|FILE|DATE|KE-|M-|S-|F-|[0-9])')
# Which orgs an org option takes, by command: `case checked` only those that check their registers.
_ORG_CHOICES: dict[str, Callable[[Profile], tuple[str, ...]]] = {"case checked": lambda p: p.checking_orgs}


def choices(lang: str, cmd: registry.Command, profile: Profile | None = None) -> list[str]:
    """Each coded option of the usage line with the choices it really takes, as the reader's words
    (`child (barn)`); an option whose value is free text, a date or a person lists nothing. The orgs are the
    unit profile's (its names), when the profile is given."""
    lines = []
    for option, value in dict.fromkeys(re.findall(r"\b([a-z_]+)=([^\s\]]*)", cmd.usage)):
        enum = OPTION_KINDS.get(option)
        if enum is None or _NOT_A_CHOICE.match(value):
            continue
        if enum is Org and profile is not None:
            codes = _ORG_CHOICES.get(cmd.name, lambda p: p.org_codes())(profile)
            words = ", ".join(_org_choice(lang, code, profile) for code in codes)
        else:
            words = ", ".join(choice(lang, LABEL_KINDS[enum], e.value) for e in enum)
        lines.append(t(lang, "help.choices", option=option, choices=words))
    return lines


def _org_choice(lang: str, code: str, profile: Profile) -> str:
    name = org_name(lang, code, profile)
    return code if name.lower() == code.lower() else f"{code} ({name})"


def _describe(ctx: Ctx, cmd: registry.Command) -> str:
    key = "help." + ".".join(cmd.path)
    text = f"`{cmd.usage_in(ctx.lang)}`"
    if has(key):
        text += " — " + ctx.t(key)
    if cmd.handler is None:
        text += " " + ctx.t("help.later")
    return text


USAGE = "help [command]"


def answer(ctx: Ctx, args: Args, table: registry.Table) -> Reply:
    """`help`: it reads the command table it is part of, so the table declares it (commands/router.py)."""
    words = [w.lower() for w in args.words]
    if not words:
        groups = [g for g in registry.GROUPS if g != "help"]
        lines = [f"*{g}* — {ctx.t('help.group.' + g)}" for g in groups]
        buttons = tasks.task_buttons(ctx, access.role_of(ctx.member))  # the tasks in words, each opens its form
        text = [ctx.t("help.tasks"), *tasks.task_lines(ctx, buttons), "", ctx.t("help.intro"), *lines]
        return Reply(title=ctx.t("help.title"), text="\n".join(text), buttons=buttons)
    cmd, size = table.find(words)
    whole_group = len(words) == 1 and len(table.in_group(words[0])) > 1  # `help agenda`: all agenda commands
    if cmd is not None and size == len(words) and not whole_group:
        return Reply(title=cmd.name, text="\n".join([_describe(ctx, cmd), *choices(ctx.lang, cmd, ctx.profile)]))
    if words[0] in registry.GROUPS:
        commands = table.in_group(words[0])
        return Reply(title=words[0], text="\n".join(_describe(ctx, c) for c in commands))
    raise UsageError("unknown_command", word=words[0][:40])
