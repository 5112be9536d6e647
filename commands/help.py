"""help [command]."""

from __future__ import annotations

import re

from commands import access, registry, tasks
from commands.context import Ctx
from commands.errors import UsageError
from commands.messages import choice, has, t
from commands.parsing import LABEL_KINDS, OPTION_KINDS
from commands.registry import command
from commands.reply import Reply
from commands.tokenizer import Args
from storage.models import Case


def choices(lang: str, cmd: registry.Command) -> list[str]:
    """Each coded option of the usage line with its choices as the reader's words: `child (barn)`."""
    lines = []
    for option in dict.fromkeys(re.findall(r"\b([a-z_]+)=", cmd.usage)):
        enum = OPTION_KINDS.get(option)
        if enum is not None:
            kind = LABEL_KINDS[enum]
            words = ", ".join(choice(lang, kind, e.value) for e in enum)
            lines.append(t(lang, "help.choices", option=option, choices=words))
    return lines


def _describe(ctx: Ctx, cmd: registry.Command) -> str:
    key = "help." + ".".join(cmd.path)
    text = f"`{cmd.usage}`"
    if has(key):
        text += " — " + ctx.t(key)
    if cmd.handler is None:
        text += " " + ctx.t("help.later")
    return text


@command("help", "help [command]", access.EVERYONE)
def help_cmd(ctx: Ctx, args: Args, _case: Case | None) -> Reply:
    words = [w.lower() for w in args.words]
    if not words:
        groups = [g for g in registry.GROUPS if g != "help"]
        lines = [f"*{g}* — {ctx.t('help.group.' + g)}" for g in groups]
        assert ctx.actor is not None
        buttons = tasks.task_buttons(ctx, access.role_of(ctx.actor))  # the tasks in words, each opens its form
        text = [ctx.t("help.tasks"), *tasks.task_lines(ctx, buttons), "", ctx.t("help.intro"), *lines]
        return Reply(title=ctx.t("help.title"), text="\n".join(text), buttons=buttons)
    cmd, size = registry.find(words)
    whole_group = len(words) == 1 and len(registry.in_group(words[0])) > 1  # `help agenda`: all agenda commands
    if cmd is not None and size == len(words) and not whole_group:
        return Reply(title=cmd.name, text="\n".join([_describe(ctx, cmd), *choices(ctx.lang, cmd)]))
    if words[0] in registry.GROUPS:
        commands = registry.in_group(words[0])
        return Reply(title=words[0], text="\n".join(_describe(ctx, c) for c in commands))
    raise UsageError("unknown_command", word=words[0][:40])
