"""Platform-neutral values crossing the boundary: an Invocation in, a Reply out.

Adapters (bot/slack, bot/teams, bot/console) render these; use cases never know the platform.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Invocation:
    """Who typed what, where. `text` is the command without the slash, e.g. "case show KE-2026-0001"."""

    user_id: str
    text: str
    platform: str = "console"
    channel_id: str | None = None
    display_name: str = ""
    request_id: str | None = None  # a platform's delivery id: the same id is acted on once


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str  # e.g. "case.show"; the adapter routes a click back as `command`
    value: str = ""  # e.g. "KE-2026-0001"
    command: str = ""  # the command text a click runs, e.g. "case show KE-2026-0001"
    style: Literal["primary", "danger"] | None = None


@dataclass(frozen=True)
class FieldLine:
    label: str
    value: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    command: str = ""  # gives this file again, privately: for a channel that cannot carry files (Teams)


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    # file: Slack only. date/time: pickers (ISO values: YYYY-MM-DD, HH:MM); checkbox: "yes" or ""; member: a
    # person of the unit (options = their platform user ids, option_labels their names; no options: anyone).
    kind: Literal["select", "multiselect", "text", "multiline", "datetime", "file", "date", "time", "checkbox",
                  "member"] = "text"
    options: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""
    never_stored: bool = False  # identifier fields: used once for a token, never stored or logged
    option_labels: tuple[str, ...] = ()  # the words shown for `options` (same order); empty: the codes
    file_types: tuple[str, ...] = ()  # kind "file": the extensions accepted (empty: text files); a binary
    # type (xlsx) reaches the use case as `base64:…`
    value: str = ""  # filled in when the form opens (a default, or what was typed before)

    def option_label(self, index: int) -> str:
        return self.option_labels[index] if index < len(self.option_labels) else self.options[index]


@dataclass(frozen=True)
class Form:
    """A form an adapter shows (Slack modal, Teams card, console prompts); submitted via commands/forms."""

    form_id: str  # "concern.intake" | "concern.lookup" | "case.subject" | a command's form: "case.refer", …
    title: str
    fields: tuple[FormField, ...]
    submit_label: str
    context: dict[str, str] = field(default_factory=dict)  # e.g. {"case": "KE-2026-0001"}


@dataclass
class Reply:
    text: str
    private: bool = True
    title: str | None = None
    fields: list[FieldLine] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    form: Form | None = None
    ok: bool = True  # False for refusals and usage errors
    details: bool = False  # carries decrypted free text or person data: Teams keeps it out of the chat (a dialog)
    # For metrics only, set by the router: the command's registry name (never its text) and how it ended
    # ("ok", "usage_error", "refused", "crashed"). Not part of what a platform renders.
    command: str = ""
    outcome: str = ""

    def to_json(self) -> str:
        data = {
            "text": self.text, "private": self.private, "title": self.title,
            "fields": [{"label": f.label, "value": f.value} for f in self.fields],
            "buttons": [{"label": b.label, "action_id": b.action_id, "value": b.value, "command": b.command,
                         "style": b.style} for b in self.buttons],
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "data": a.data.hex(),
                             "command": a.command} for a in self.attachments],
            "form": None if self.form is None else asdict(self.form),  # rare: the reminders carry none
            "ok": self.ok,
            "details": self.details,  # a queued DM with details: Teams stubs it after TEAMS_DETAILS_TTL
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Reply:
        data: dict[str, Any] = json.loads(raw)
        form = data.pop("form", None)
        return cls(
            text=data["text"],
            private=data.get("private", True),
            title=data.get("title"),
            fields=[FieldLine(**f) for f in data.get("fields", [])],
            buttons=[Button(**b) for b in data.get("buttons", [])],
            attachments=[
                Attachment(a["filename"], a["content_type"], bytes.fromhex(a["data"]), a.get("command", ""))
                for a in data.get("attachments", [])
            ],
            form=None
            if form is None
            else Form(
                form_id=form["form_id"],
                title=form["title"],
                fields=tuple(
                    FormField(**{**f, "options": tuple(f.get("options", ())),
                                 "option_labels": tuple(f.get("option_labels", ())),
                                 "file_types": tuple(f.get("file_types", ()))}) for f in form["fields"]
                ),
                submit_label=form["submit_label"],
                context=form.get("context", {}),
            ),
            ok=data.get("ok", True),
            details=data.get("details", False),
        )


@dataclass
class FormResult:
    """The answer to a form submission: either a Reply, or errors per field (nothing stored)."""

    reply: Reply | None = None
    errors: dict[str, str] = field(default_factory=dict)
    discard: frozenset[str] = frozenset()  # fields whose text must not be shown back (the PII guard found some)
