"""The tasks of the guide, in words, each a button that opens its form (or runs its look-up): for `help`, the
Slack App Home and the Teams home card. One list, filtered by what the member's role may do."""

from __future__ import annotations

from commands import registry
from commands.context import Ctx
from commands.reply import Button
from storage.enums import Role

# (task, the command its button runs): the command typed bare opens its form.
TASKS: tuple[tuple[str, str], ...] = (
    ("concern", "concern"), ("advice", "concern advice"), ("lookup", "concern lookup"), ("my_cases", "case list mine"),
    ("note", "case note"), ("followup", "followup add"), ("mentor_log", "mentor log"), ("close", "case close"),
    ("agenda", "agenda next"), ("series", "meeting series add"), ("adhoc", "meeting adhoc"),
    ("member", "unit add"), ("annual", "report annual"),
)


def task_buttons(ctx: Ctx, role: Role | str) -> list[Button]:
    """The tasks this role may do, as buttons (label in the reader's words; a click opens the form)."""
    role = Role(role)
    out = []
    for key, text in TASKS:
        cmd, size = registry.find(text.split())
        if cmd is None or cmd.handler is None or role not in cmd.roles:
            continue
        out.append(Button(ctx.t(f"task.{key}"), f"task.{key}", "", text,
                          style="primary" if key == "concern" else None))
    return out


def task_lines(ctx: Ctx, buttons: list[Button]) -> list[str]:
    """The same tasks as text (the console shows no buttons): "Registrér en bekymring — `concern`"."""
    return [f"• {b.label} — `{b.command}`" for b in buttons]
