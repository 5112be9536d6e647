"""Reply/Form → Adaptive Card (schema 1.5, the newest Teams renders), and submitted card data → form values.

Pure functions (no I/O), beside bot/slack/render.py and fed by the same Reply values, so every surface — a
private answer in the 1:1 chat, a channel notice, a reminder, a form — is rendered one way and can be checked
against Teams' limits in tests. Buttons and forms use Action.Execute: a click arrives as an
`adaptiveCard/action` invoke carrying the verb and our data, run as the clicking user.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot import escaping
from bot.text import chunks
from commands import markup
from commands.messages import Orgs, t
from commands.reply import Attachment, Button, FieldLine, Form, FormField, Reply
from commands.router import TABLE
from storage.enums import Org

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FILE_CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
RUN, FORM, FILE = "koord.run", "koord.form", "koord.file"  # Action.Execute verbs
META = "koord"  # our routing data inside Action.Execute data; the card's inputs arrive beside it
OPEN, HOME = "koord.open", "koord.home"  # open a command's answer or form in a dialog; the home card's refresh
# Commands whose answers carry decrypted free text or person data: a dialog on Teams, never a chat message.
DETAILS = frozenset({"case show", "case steps", "minutes show", "meeting close", "subject export", "subject erase",
                     "unit audit"})
MEMBER_CHOICES = 15  # more members than this: the people picker also filters as you type (Data.Query)
MEMBERS_DATASET = "members"
ORG_DATASET = "graph.microsoft.com/users"  # Teams' own people picker: anyone in the organisation, searched by Teams

MAX_CARD_CHARS = 24_000  # Teams refuses a message over ~28 KB; leave room for the activity around the card
TEXT_CHUNK = 4_000
SHORT_FIELD = 80
MAX_ACTIONS = 6  # more are moved into an action set in the body
INLINE_ATTACHMENT = 8_000
TEXT_ATTACHMENTS = (".md", ".csv", ".txt")  # shown inline too, to read at once

_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mentioned_ids(reply: Reply) -> set[str]:
    """Who a reply names, so the caller can look up display names for real Teams mentions."""
    texts = [reply.title or "", reply.text, *(f.label + " " + f.value for f in reply.fields)]
    return {uid for text in texts for uid in markup.mentioned_ids(text)}


class _Mentions:
    """The text escaped for a card (bot/escaping.py), the bot's mentions made `<at>name</at>` plus the mention
    entity Teams needs to make them real mentions."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.entities: list[dict[str, Any]] = []
        self._text_of: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        return escaping.teams(text, self._one)

    def _one(self, user_id: str) -> str:
        if not _GUID.fullmatch(user_id):
            return "@" + user_id
        if user_id not in self._text_of:
            name = escaping.teams_literal(self.names.get(user_id) or user_id).replace("<", "").replace(">", "")
            if any(t_ == f"<at>{name}</at>" for t_ in self._text_of.values()):
                name = f"{name} ({user_id[:8]})"
            self._text_of[user_id] = f"<at>{name}</at>"
            self.entities.append({"type": "mention", "text": self._text_of[user_id],
                                  "mentioned": {"id": user_id, "name": name}})
        return self._text_of[user_id]


def markdown(text: str) -> str:
    """The catalog writes *bold* (Slack); an Adaptive Card would show that in italics."""
    return _SLACK_BOLD.sub(r"**\1**", text)


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text or " ", "wrap": True, **style}


def _field_elements(fields: list[FieldLine], mention: _Mentions) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    facts: list[dict[str, str]] = []

    def flush() -> None:
        if facts:
            out.append({"type": "FactSet", "facts": list(facts)})
            facts.clear()

    for f in fields:
        value = f.value or "—"
        if "\n" not in value and len(f.label) + len(value) <= SHORT_FIELD and not markup.mentioned_ids(value):
            facts.append({"title": escaping.teams(f.label), "value": escaping.teams(value)})
            continue
        flush()
        out.append(_text(mention(f.label), weight="Bolder", spacing="Medium"))
        out += [_text(markdown(mention(chunk)), spacing="None") for chunk in chunks(value, TEXT_CHUNK)]
    flush()
    return out


def _attachments(attachments: list[Attachment], lang: str, files: list[str] | None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Files: in a 1:1 chat (`files`: their offer tokens) a *Save* button each, which asks the user's consent
    to put the file in their OneDrive (the only way a bot can hand over a file); in a channel a button that
    gives the file privately (its command, run as the clicking user), or a note when there is none. Small text
    files are shown inline as well."""
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for n, a in enumerate(attachments):
        body.append(_text(t(lang, "teams.attachment", filename=a.filename, size=len(a.data)),
                          weight="Bolder", spacing="Medium"))
        if a.filename.lower().endswith(TEXT_ATTACHMENTS) and len(a.data) <= INLINE_ATTACHMENT:
            body.append(_text(escaping.teams_literal(a.data.decode("utf-8", "replace")), fontType="Monospace",
                              size="Small"))
        if files is not None and n < len(files):
            actions.append({"type": "Action.Execute", "title": cut(t(lang, "teams.save_file", filename=a.filename), 60),
                            "verb": FILE, "data": {META: {"file": files[n]}}})
        elif files is None and a.command:
            actions.append({"type": "Action.Execute", "verb": RUN, "data": {META: {"cmd": a.command}},
                            "title": cut(t(lang, "teams.get_file", filename=a.filename), 60)})
        else:
            body.append(_text(t(lang, "teams.attachment_unavailable", filename=a.filename), isSubtle=True))
    return body, actions


def file_consent(filename: str, size: int, token: str, lang: str) -> dict[str, Any]:
    """The attachment that asks the user to allow the file into their OneDrive; the token comes back."""
    context = {META: {"file": token}}
    return {"contentType": FILE_CONSENT_TYPE, "name": filename,
            "content": {"description": t(lang, "teams.file_consent", filename=filename), "sizeInBytes": size,
                        "acceptContext": context, "declineContext": context}}


def file_info(content_url: str, name: str, unique_id: str, file_type: str) -> dict[str, Any]:
    """The card of a file now in the user's OneDrive: open, preview or download it from the chat."""
    return {"contentType": FILE_INFO_TYPE, "contentUrl": content_url, "name": name,
            "content": {"uniqueId": unique_id, "fileType": file_type}}


def open_action(title: str, command: str, token: str = "", **meta: str) -> dict[str, Any]:
    """A button that opens `command`'s answer in a dialog (an Action.Submit with `msteams.type = task/fetch`);
    `token`: the answer already computed, kept in memory (bot/teams/dialogs.py)."""
    data: dict[str, Any] = {"verb": OPEN, "cmd": command, **meta}
    if token:
        data["token"] = token
    return {"type": "Action.Submit", "title": cut(title, 60), "data": {"msteams": {"type": "task/fetch"}, META: data}}


def opens_dialog(button: Button) -> bool:
    """Buttons whose answer is a form or carries details open a dialog; the others run in place."""
    command = button.command.strip().lower()
    return (button.action_id.endswith(".form") or opens_form(command)
            or any(command == d or command.startswith(d + " ") for d in DETAILS))


REFERENCE = re.compile(r"^(KE|M|H|S|F)-[\w-]+$", re.IGNORECASE)


def opens_form(command: str) -> bool:
    """A command that, clicked as it is (nothing but references after it), opens its registered form
    (`case refer KE-…`, `case close KE-…`): the click opens the dialog at once."""
    words = command.split()
    cmd, size = TABLE.find(words)
    spec = TABLE.form_of(cmd) if cmd is not None else None
    return spec is not None and spec.opens_bare and all(REFERENCE.match(w) for w in words[size:])


def _action(button: Button, lang: str, orgs: Orgs) -> dict[str, Any]:
    """A button runs its command as the clicking user; a command that needs more opens its form."""
    if opens_dialog(button):
        return open_action(button.label, button.command)
    action: dict[str, Any] = {"type": "Action.Execute", "title": cut(button.label, 60), "verb": RUN,
                              "data": {META: {"cmd": button.command}}}
    if button.style:
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def member_picker(field: FormField, lang: str, value: str | None = None) -> dict[str, Any]:
    """A person by name. Among the unit's members: static choices from the member list (the field's options are
    user ids, its labels the names), filtered as you type through Teams' typeahead (`application/search` on the
    `members` dataset) when the list is long. Anyone (a field without options: the person `unit add` adds is
    not a member yet): Teams' own people picker over the organisation's directory. Either way the submitted
    value is the person's Entra object id, which is their user id here."""
    element = _choice_set(field, lang, value)
    element["isMultiSelect"] = False
    element["placeholder"] = t(lang, "teams.pick_member")
    if not field.options:
        element["style"] = "filtered"
        element["choices.data"] = {"type": "Data.Query", "dataset": ORG_DATASET}
    elif len(field.options) > MEMBER_CHOICES:
        element["style"] = "filtered"
        element["choices.data"] = {"type": "Data.Query", "dataset": MEMBERS_DATASET}
    return element


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]], entities: list[dict[str, Any]]
          ) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if len(actions) > MAX_ACTIONS:
        body.append({"type": "ActionSet", "actions": actions[MAX_ACTIONS:]})
        actions = actions[:MAX_ACTIONS]
    if actions:
        card["actions"] = actions
    if entities:
        card["msteams"] = {"entities": entities}
    return card


def size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False))


def reply_card(reply: Reply, lang: str, names: dict[str, str] | None = None,
               orgs: Orgs | None = None, files: list[str] | None = None) -> dict[str, Any]:
    """`files`: the offer tokens of the reply's attachments in a 1:1 chat; None for a channel."""
    mention = _Mentions(names or {})
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append(_text(mention(reply.title), size="Medium", weight="Bolder"))
    if reply.text:
        body += [_text(markdown(mention(chunk))) for chunk in chunks(reply.text, TEXT_CHUNK)]
    body += _field_elements(reply.fields, mention)
    files_body, file_actions = _attachments(reply.attachments, lang, files)
    body += files_body
    orgs = orgs or tuple(Org)  # the unit profile's, from the caller; Copenhagen's without one
    actions = [_action(b, lang, orgs) for b in reply.buttons if b.command] + file_actions
    return _fit(_card(body, actions, mention.entities), lang)


def home_card(reply: Reply, lang: str, names: dict[str, str], viewers: list[str]) -> dict[str, Any]:
    """The home overview (commands/guide/home.py) as a card that Teams refreshes whenever its member looks at it:
    Universal Actions' `refresh` sends an `adaptiveCard/action` invoke (verb HOME) and shows the card we answer.
    `viewers`: the Teams ids the card refreshes for (the member's own)."""
    card = reply_card(reply, lang, names)
    card["refresh"] = {"action": {"type": "Action.Execute", "title": t(lang, "teams.refresh"), "verb": HOME,
                                  "data": {META: {}}}}
    if viewers:
        card["refresh"]["userIds"] = viewers
    return card


def _fit(card: dict[str, Any], lang: str) -> dict[str, Any]:
    """Drop trailing content until the card fits, and say so; the buttons always stay."""
    if size(card) <= MAX_CARD_CHARS:
        return card
    overflow = [e for e in card["body"] if e.get("type") == "ActionSet"]
    content = [e for e in card["body"] if e.get("type") != "ActionSet"]
    note = _text(t(lang, "teams.truncated"), isSubtle=True)
    while content and size({**card, "body": [*content, note, *overflow]}) > MAX_CARD_CHARS:
        content.pop()
    card["body"] = [*content, note, *overflow]
    if "msteams" in card:
        shown = json.dumps(card["body"], ensure_ascii=False)
        entities = [e for e in card["msteams"]["entities"] if json.dumps(e["text"])[1:-1] in shown]
        card["msteams"] = {"entities": entities}
    return card


def fallback_text(reply: Reply) -> str:
    """The notification line beside the card: title and text only (channel notices carry no free text)."""
    text = "\n".join(x for x in (reply.title, reply.text) if x) or " "
    return cut(escaping.teams(text, lambda uid: "@" + uid[:8]).split("\n")[0], 200)


def _choice_set(field: FormField, lang: str, value: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet", "id": field.name, "label": field.label, "style": "compact",
        "choices": [{"title": field.option_label(i), "value": o}
                    for i, o in enumerate(field.options)], "isRequired": field.required,
        "isMultiSelect": field.kind == "multiselect",
    }
    if field.required:
        element["errorMessage"] = t(lang, "form.required")
    if value:
        element["value"] = value
    return element


def _input(field: FormField, lang: str, value: str | None) -> dict[str, Any]:
    if field.kind == "member":
        return member_picker(field, lang, value)
    if field.kind in ("select", "multiselect") and field.options:
        return _choice_set(field, lang, value)
    label = ("🔒 " if field.never_stored else "") + field.label
    element: dict[str, Any]
    if field.kind == "date":
        element = {"type": "Input.Date", "id": field.name, "label": label}
    elif field.kind == "time":
        element = {"type": "Input.Time", "id": field.name, "label": label}
    elif field.kind == "checkbox":
        element = {"type": "Input.Toggle", "id": field.name, "title": field.label, "valueOn": "yes", "valueOff": ""}
        if value:
            element["value"] = value
        return element
    else:
        element = {"type": "Input.Text", "id": field.name, "label": label}
    element["isRequired"] = field.required
    if field.required:
        element["errorMessage"] = t(lang, "form.required")
    if field.kind == "multiline":
        element["isMultiline"] = True
    if field.never_stored:
        element["style"] = "Password"  # an identifier is typed once, never shown back
    if field.options:
        element["placeholder"] = cut(", ".join(field.option_labels or field.options), 200)
    elif field.kind == "member":
        element["placeholder"] = t(lang, "teams.owner_hint")
    if value:
        element["value"] = value
    return element


def form_card(form: Form, lang: str, intro: str = "", values: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, discard: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The form as a card — the one place Teams forms are drawn; on a refused submission the same card again,
    with what was typed and each error under its field.

    A value is filled back in unless it must not travel back to Teams: an identifier field's, or one the PII
    guard found an identifier in (`discard`).
    """
    values, errors = values or {}, errors or {}
    names = {f.name for f in form.fields}
    body: list[dict[str, Any]] = [_text(form.title, size="Medium", weight="Bolder")]
    if intro:
        body.append(_text(escaping.teams(intro), isSubtle=True))
    if errors:
        body.append(_text(t(lang, "teams.form_not_saved"), color="Attention", weight="Bolder"))
        stray = [text for name, text in errors.items() if name not in names]
        body += [_text(escaping.teams(text), color="Attention") for text in stray]
    for field in form.fields:
        typed = values.get(field.name, field.value)
        keep = typed if not field.never_stored and field.name not in discard else None
        body.append(_input(field, lang, keep))
        if field.name in errors:
            body.append(_text(escaping.teams(errors[field.name]), color="Attention", spacing="None", size="Small"))
        elif field.hint:
            body.append(_text(field.hint, isSubtle=True, spacing="None", size="Small"))
    # The form travels with its submit button, so a refused submission can show the same card again.
    spec = json.loads(Reply(text="", form=form).to_json())["form"]
    submit = {"type": "Action.Execute", "title": form.submit_label, "verb": FORM, "style": "positive",
              "data": {META: {"form": form.form_id, "ctx": dict(form.context), "spec": spec, "intro": intro}}}
    return _card(body, [submit], [])


def form_from(data_meta: dict[str, Any]) -> Form | None:
    """The form a submitted card was built from (see form_card); None when the data does not hold one."""
    spec = data_meta.get("spec")
    if not isinstance(spec, dict):
        return None
    try:
        return Reply.from_json(json.dumps({"text": "", "form": spec})).form
    except (KeyError, TypeError, ValueError):
        return None


def meta(data: dict[str, Any] | None) -> dict[str, Any]:
    value = (data or {}).get(META)
    return value if isinstance(value, dict) else {}


def form_values(data: dict[str, Any] | None) -> dict[str, str]:
    """Action.Execute data → {input id: text}; a multi-select arrives comma-separated already."""
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        if key == META or value is None or isinstance(value, dict | list):
            continue
        out[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out
