"""The forms of the commands, declared once: each field, where its choices come from, and where its value goes
in the command. Every renderer reads these (bot/slack, bot/teams, bot/console); a submission builds the
command's Args and runs the command's own handler (commands/router.py `submit_form`).

A command with a required argument beyond its reference opens its form when typed bare (`case close KE-…`);
tests/commands/test_command_forms.py fails when such a command has none. The forms that ask for an identifier
(intake, look-up, a case's person, the subject's rights) have their own handlers (commands/cases/…)."""

from __future__ import annotations

from commands.cases import advice
from commands.meetings import rhythm
from commands.registry import CommandForm, command_form
from commands.registry import Field as F

SUBJECT = F("subject", "select", True, "subject", label="field.subject")


def _series_options(values: dict[str, str]) -> dict[str, str]:
    """The series form's weekday(s) and «every N weeks» → the rule the command reads."""
    out = {k: v for k, v in values.items() if k not in ("weekdays", "interval")}
    out["rrule"] = rhythm.from_form(values.get("weekdays", ""), values.get("interval", "1"))
    return out


TRACK = F("track", "select", True, "track", to="ref", label="field.track")

# Every command form, in one tuple: commands/router.py puts it in the command table.
FORMS: tuple[CommandForm, ...] = (
    command_form("case refer", F("to", "select", True, "org", label="field.responsible"),
                 F("owner", "member", False, "member", label="field.owner"), title="form.case.refer"),
    command_form("case close", F("reason", "select", True, "close_reason", label="field.close_reason"),
                 title="form.case.close"),
    command_form("case checked", F("org", "select", True, "checking_org"), F("found", "select", False, "yes_no"),
                 title="form.case.checked"),
    command_form("case qualify", F("level", "select", False, "level", label="field.level"), title="form.case.qualify"),
    command_form("case offer", SUBJECT, F("kind", "select", True, "offer_kind"), title="form.case.offer"),
    command_form("case respond", SUBJECT, F("kind", "select", True, "offer_kind"),
                 F("answer", "select", True, "answer", to="word"), F("consent", "checkbox"), title="form.case.respond"),
    command_form("case assign", SUBJECT, F("kind", "select", True, "offer_kind"), F("mentor", "member", True, "member"),
                 title="form.case.assign"),
    command_form("case track", F("track", "select", True, "track", label="field.track"),
                 F("switch", "select", False, "yes_no"), title="form.case.track"),
    command_form("case hold", F("reason", "multiline", True, label="form.field.hold_reason"), title="form.case.hold"),
    command_form("case note", F("text", "multiline", True, to="text", label="form.field.note"), title="form.case.note"),
    command_form("case step", F("n", "text", True, to="word"), F("what", "select", True, "step_done", to="word"),
                 F("reason", "text", label="form.field.step_reason"), title="form.case.step"),
    command_form("case step add", F("title", "text", True, to="text"), F("due", "date", True),
                 title="form.case.step_add"),
    command_form("mentor log", SUBJECT, F("text", "multiline", True, to="text", label="form.field.log"),
                 F("date", "date"), F("kind", "select", False, "offer_kind"), title="form.mentor.log"),
    command_form("mentor end", SUBJECT, F("result", "select", True, "course_result", label="field.result"),
                 F("kind", "select", False, "offer_kind"), title="form.mentor.end"),
    command_form("followup add", F("text", "multiline", True, to="text", label="form.field.followup"),
                 F("due", "date", True), title="form.followup.add"),
    command_form("minutes", F("meeting", "text", False, to="refopt"),
                 F("text", "multiline", True, to="text", label="form.field.decision"),
                 F("owner", "member", False, "member", label="form.field.owner"), F("due", "date"),
                 F("followup", "checkbox", default="yes", label="form.field.followup_box"), title="form.minutes"),
    command_form("meeting attendance", F("meeting", "text", True, to="ref"),
                 F("present", "multiselect", True, "invited"), title="form.meeting.attendance"),
    command_form("meeting series add", F("name", "text", True), F("weekdays", "multiselect", True, "weekday"),
                 F("interval", "select", True, "interval", default="1"), F("time", "time", True, default="09:00"),
                 F("duration", "text", True, default="90m", hint="form.hint.duration"),
                 F("holidays", "select", True, "holidays", default="skip"), F("start", "date"),
                 title="form.meeting.series_add", values_to_options=_series_options),
    command_form("meeting adhoc", F("topic", "text", True), F("when", "datetime", True),
                 F("duration", "text", True, default="60m", hint="form.hint.duration"),
                 F("cases", "text", hint="form.hint.cases"), title="form.meeting.adhoc"),
    command_form("meeting move", F("meeting", "text", True, to="ref"), F("when", "datetime", True),
                 title="form.meeting.move"),
    command_form("meeting invite", F("meeting", "text", True, to="ref"),
                 F("user", "member", True, "member", to="mention"),
                 title="form.meeting.invite"),
    command_form("agenda move", F("meeting", "text", True, to="ref"), F("item", "text", True, to="ref"),
                 F("position", "text", True), F("section", "text"), title="form.agenda.move"),
    command_form("report annual", F("year", "select", True, "year"),
                 F("format", "select", False, "format", default="md"),
                 title="form.report.annual"),
    command_form("unit add", F("user", "member", True, to="mention", label="form.field.new_member"),
                 F("role", "select", True, "role"), F("org", "select", True, "org"), F("name", "text"),
                 title="form.unit.add"),
    command_form("unit remove", F("user", "member", True, "member", to="mention"), title="form.unit.remove"),
    command_form("case severity", F("severity", "select", True, "severity", to="word", label="field.severity"),
                 F("reason", "multiline", True, label="form.field.hold_reason"), title="form.case.severity"),
    command_form("case release-date", F("date", "date", True, to="word", label="field.release"),
                 title="form.case.release_date"),
    command_form("case subject set", SUBJECT, F("track", "select", False, "track", label="field.track"),
                 F("relation", "select", False, "relation", label="field.relation"), title="form.case.subject_set"),
    command_form("case disclose", F("to", "select", True, "open_org", label="form.field.disclose_to"),
                 F("basis", "select", True, "basis", label="field.basis"),
                 F("what", "multiselect", True, "disclosure", label="form.field.disclosed"),
                 F("subject", "select", False, "subject", label="field.subject"),
                 F("note", "multiline", to="text", label="form.field.disclose_note"), title="form.case.disclose"),
    command_form("concern advice", F("source", "select", True, "source", label="field.source"),
                 F("district", "select", False, "district", label="field.district"),
                 F("topic", "select", True, "advice_topic", label="advice.field.topic"),
                 F("advice", "multiline", True, label="advice.field.text", hint="advice.hint.text"),
                 title="advice.form"),
    command_form("concern promote", F("contact", "text", True, to="ref", label="form.field.contact"),
                 F("severity", "select", True, "severity", label="field.severity"),
                 F("track", "select", True, "track", label="field.track"),
                 F("basis", "select", True, "basis", label="field.basis"),
                 F("age", "select", True, "age", label="field.age"), title="advice.promote_form",
                 look_up=advice.look_up),
    command_form("unit import cases", F("file", "file", True, label="takeover.field.file", hint="takeover.hint.file",
                                        file_types=("csv", "xlsx", "txt"), identifier=True),
                 F("check", "select", True, "import_check", default="yes", label="takeover.field.check"),
                 title="takeover.form"),
    command_form("unit procedure show", F("track", "select", True, "track", to="word", label="field.track"),
                 title="form.unit.procedure_show"),
    command_form("unit procedure add", TRACK, F("title", "text", True, to="text", label="procedure.field.title"),
                 F("title_en", "text", label="procedure.field.title_en"),
                 F("responsible", "select", True, "responsible", label="procedure.field.responsible"),
                 F("anchor", "select", True, "anchor", label="procedure.field.anchor"),
                 F("due", "text", True, label="procedure.field.due", hint="procedure.hint.due"),
                 F("required", "checkbox", label="procedure.field.required"),
                 F("agenda", "checkbox", label="procedure.field.agenda"),
                 F("at", "text", label="procedure.field.at", hint="procedure.hint.at"),
                 title="form.unit.procedure_add"),
    command_form("unit procedure remove", TRACK, F("n", "select", True, "step", to="word", label="form.field.n"),
                 title="form.unit.procedure_remove"),
    command_form("unit procedure move", TRACK, F("n", "select", True, "step", to="word", label="form.field.n"),
                 F("place", "select", True, "step", label="form.field.place"), title="form.unit.procedure_move"),
)
