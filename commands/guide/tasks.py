"""The tasks of the guide, in words, each a button that opens its form (or runs its look-up): for `help`, the
Slack App Home and the Teams home card. One list, filtered by what the member's role may do."""

from __future__ import annotations

from commands import registry
from commands.cases import advice, concerns, followups, lifecycle, mentors, views
from commands.context import Ctx
from commands.meetings import agenda, schedule
from commands.reply import Button
from commands.reports import handlers as reports
from commands.unit import members
from storage.enums import Role

# (task, the command its button runs): the command typed bare opens its form.
TASKS: tuple[tuple[str, str], ...] = (
    ("concern", "concern"), ("advice", "concern advice"), ("lookup", "concern lookup"), ("my_cases", "case list mine"),
    ("note", "case note"), ("followup", "followup add"), ("mentor_log", "mentor log"), ("close", "case close"),
    ("agenda", "agenda next"), ("series", "meeting series add"), ("adhoc", "meeting adhoc"),
    ("member", "unit add"), ("annual", "report annual"),
)
# The commands those buttons run, named here so a task's roles are its command's own (read from its declaration).
_RUN = registry.Table.of((concerns.concern_form, advice.advice, concerns.lookup_form, views.case_list, views.case_note,
                          followups.followup_add, mentors.log_session, lifecycle.close, agenda.agenda_show,
                          schedule.series_add, schedule.meeting_adhoc, members.add, reports.report_annual))


def task_buttons(ctx: Ctx, role: Role | str) -> list[Button]:
    """The tasks this role may do, as buttons (label in the reader's words; a click opens the form)."""
    role = Role(role)
    out = []
    for key, text in TASKS:
        cmd, size = _RUN.find(text.split())
        if cmd is None or cmd.handler is None or role not in cmd.roles:
            continue
        out.append(Button(ctx.t(f"task.{key}"), f"task.{key}", "", text,
                          style="primary" if key == "concern" else None))
    return out


def task_lines(ctx: Ctx, buttons: list[Button]) -> list[str]:
    """The same tasks as text (the console shows no buttons): "Registrér en bekymring — `concern`"."""
    return [f"• {b.label} — `{b.command}`" for b in buttons]
