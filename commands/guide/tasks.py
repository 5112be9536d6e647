"""The tasks of the guide, in words, each a button that opens its form (or runs its look-up): for `help`, the
Slack App Home and the Teams home card. One list, filtered by what the member's role may do."""

from __future__ import annotations

from collections.abc import Callable

from commands import registry
from commands.cases import advice, concerns, followups, lifecycle, mentors, views
from commands.context import Ctx
from commands.meetings import agenda, schedule
from commands.reply import Button
from commands.reports import handlers as reports
from commands.unit import members
from storage.enums import Role

# (task, the command its button runs, that command's handler — whose declaration gives the task's roles): the
# command typed bare opens its form.
TASKS: tuple[tuple[str, str, Callable[..., object]], ...] = (
    ("concern", "concern", concerns.concern_form), ("advice", "concern advice", advice.advice),
    ("lookup", "concern lookup", concerns.lookup_form), ("my_cases", "case list mine", views.case_list),
    ("note", "case note", views.case_note), ("followup", "followup add", followups.followup_add),
    ("mentor_log", "mentor log", mentors.log_session), ("close", "case close", lifecycle.close),
    ("agenda", "agenda next", agenda.agenda_show), ("series", "meeting series add", schedule.series_add),
    ("adhoc", "meeting adhoc", schedule.meeting_adhoc), ("member", "unit add", members.add),
    ("annual", "report annual", reports.report_annual),
)


def task_buttons(ctx: Ctx, role: Role | str) -> list[Button]:
    """The tasks this role may do, as buttons (label in the reader's words; a click opens the form)."""
    role = Role(role)
    out = []
    for key, text, handler in TASKS:
        cmd = registry.described(handler)
        if cmd is None or cmd.handler is None or role not in cmd.roles:
            continue
        out.append(Button(ctx.t(f"task.{key}"), f"task.{key}", "", text,
                          style="primary" if key == "concern" else None))
    return out


def task_lines(ctx: Ctx, buttons: list[Button]) -> list[str]:
    """The same tasks as text (the console shows no buttons): "Registrér en bekymring — `concern`"."""
    return [f"• {b.label} — `{b.command}`" for b in buttons]
