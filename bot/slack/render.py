"""Reply/Form → Block Kit, and submitted modal state → form values.

Pure functions (no I/O), so every surface — ephemeral replies, channel posts, DMs, modals, App Home — is
rendered the same way and can be validated against Slack's limits in tests.
"""

from __future__ import annotations

import json
from typing import Any

from bot import escaping
from bot.text import chunks
from commands.messages import t
from commands.reply import Button, FieldLine, Form, FormField, Reply

ACTION_PREFIX = "koord."
FORM_CALLBACK = "koord.form"

# Slack's limits (Block Kit reference): characters per element, elements per container.
MESSAGE_BLOCKS, SURFACE_BLOCKS = 50, 100
SECTION_TEXT, FIELD_TEXT, HEADER_TEXT, BUTTON_TEXT = 3000, 2000, 150, 75
MODAL_TITLE, LABEL_TEXT, OPTION_TEXT, OPTION_VALUE, OPTIONS = 24, 2000, 75, 150, 100
FIELDS_PER_SECTION, BUTTONS_PER_BLOCK, METADATA = 10, 25, 3000
FALLBACK_TEXT = 3000
SHORT_FIELD = 80

def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Slack mrkdwn from a reply's text: all of it literal, except the bot's own mentions and links
    (bot/escaping.py): free text can never ping @here, mention a member or carry a link."""
    return escaping.slack(text)


def plain(text: str) -> str:
    """For plain_text objects (headers, buttons, labels): no mrkdwn there, so a mention reads `@id`."""
    return escaping.plain(text)


def unescape(text: str) -> str:
    """Slash-command text arrives with &, <, > escaped; mentions stay as <@U…|name>."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(plain(text) or " ", limit), "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    """verbatim: Slack turns no bare URL or channel name into a link; our own `<…>` still work."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _field_blocks(fields: list[FieldLine]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []

    def flush() -> None:
        if group:
            blocks.append({"type": "section", "fields": list(group)})
            group.clear()

    for f in fields:
        label, value = escape(f.label), escape(f.value or "—")
        if "\n" not in value and len(f.label) + len(f.value) <= SHORT_FIELD:
            group.append(_mrkdwn(cut(f"*{label}*\n{value}", FIELD_TEXT)))
            if len(group) == FIELDS_PER_SECTION:
                flush()
            continue
        flush()
        for n, chunk in enumerate(chunks(value, SECTION_TEXT - len(label) - 4)):
            blocks.append({"type": "section", "text": _mrkdwn(f"*{label}*\n{chunk}" if n == 0 else chunk)})
    flush()
    return blocks


def action_id(index: int, button: Button) -> str:
    return f"{ACTION_PREFIX}{button.action_id}.{index}"[:255]


def _button_blocks(buttons: list[Button]) -> list[dict[str, Any]]:
    elements = []
    for i, b in enumerate(x for x in buttons if x.command):
        element: dict[str, Any] = {"type": "button", "text": _plain(b.label, BUTTON_TEXT),
                                   "action_id": action_id(i, b), "value": cut(b.command, 2000)}
        if b.style:
            element["style"] = b.style
        elements.append(element)
    return [{"type": "actions", "elements": elements[i:i + BUTTONS_PER_BLOCK]}
            for i in range(0, len(elements), BUTTONS_PER_BLOCK)]


def reply_blocks(reply: Reply, lang: str, max_blocks: int = MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.title:
        blocks.append({"type": "header", "text": _plain(reply.title, HEADER_TEXT)})
    if reply.text:
        blocks += [{"type": "section", "text": _mrkdwn(chunk)} for chunk in chunks(escape(reply.text), SECTION_TEXT)]
    blocks += _field_blocks(reply.fields)
    buttons = _button_blocks(reply.buttons)
    room = max_blocks - len(buttons)
    if len(blocks) > room:
        blocks = blocks[: room - 1] + [{"type": "context", "elements": [_mrkdwn(t(lang, "slack.truncated"))]}]
    return blocks + buttons


def fallback_text(reply: Reply) -> str:
    """The notification text beside the blocks: title and text only (channel notices carry no free text)."""
    return cut("\n".join(x for x in (reply.title, reply.text) if x) or " ", FALLBACK_TEXT)


def message(reply: Reply, lang: str) -> dict[str, Any]:
    return {"text": caption(reply), "blocks": reply_blocks(reply, lang)}


def caption(reply: Reply) -> str:
    """The notification text, and a file share's comment: escaped like every other mrkdwn."""
    return cut(escape(fallback_text(reply)), FALLBACK_TEXT)


def home_view(reply: Reply, lang: str) -> dict[str, Any]:
    return {"type": "home", "blocks": reply_blocks(reply, lang, SURFACE_BLOCKS)}


def encode_metadata(data: dict[str, Any]) -> str:
    """private_metadata travels through Slack and back; the response_url is dropped first if too long."""
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(raw) > METADATA and "ru" in data:
        return encode_metadata({k: v for k, v in data.items() if k != "ru"})
    if len(raw) > METADATA:
        raise ValueError("private_metadata too long")
    return raw


def decode_metadata(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


FILE_TYPES = ("yaml", "yml", "txt")


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": _plain(text or value, OPTION_TEXT), "value": value[:OPTION_VALUE]}


def _element(field: FormField) -> dict[str, Any]:
    options = [_option(o, field.option_label(i)) for i, o in enumerate(field.options)]
    value = field.value if not field.never_stored else ""
    element: dict[str, Any]
    if field.kind in ("select", "member") and 0 < len(options) <= OPTIONS:
        element = {"type": "static_select", "action_id": field.name, "options": options}
        if value in field.options:
            element["initial_option"] = options[field.options.index(value)]
        return element
    if field.kind == "member":  # anyone in the workspace (a member to be), or more members than a select holds
        return {"type": "users_select", "action_id": field.name, **({"initial_user": value} if value else {})}
    if field.kind == "multiselect" and 0 < len(options) <= OPTIONS:
        element = {"type": "multi_static_select", "action_id": field.name, "options": options}
        chosen = [options[field.options.index(v)] for v in value.split(",") if v in field.options]
        if chosen:
            element["initial_options"] = chosen
        return element
    if field.kind == "date":
        return {"type": "datepicker", "action_id": field.name, **({"initial_date": value} if value else {})}
    if field.kind == "time":
        return {"type": "timepicker", "action_id": field.name, **({"initial_time": value} if value else {})}
    if field.kind == "checkbox":
        box = {"text": _plain(field.label, OPTION_TEXT), "value": "yes"}
        return {"type": "checkboxes", "action_id": field.name, "options": [box],
                **({"initial_options": [box]} if value == "yes" else {})}
    if field.kind == "file":  # the upload's text is fetched on submission (bot/slack/uploads.py)
        return {"type": "file_input", "action_id": field.name, "filetypes": list(field.file_types or FILE_TYPES),
                "max_files": 1}
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": field.name}
    if field.kind == "multiline":
        element["multiline"] = True
    if value:
        element["initial_value"] = value
    return element


def input_block(field: FormField) -> dict[str, Any]:
    label = ("🔒 " if field.never_stored else "") + field.label
    block: dict[str, Any] = {"type": "input", "block_id": field.name, "label": _plain(label, LABEL_TEXT),
                             "optional": not field.required, "element": _element(field)}
    hint = field.hint
    if field.options and block["element"]["type"] == "plain_text_input":
        hint = (hint + " " if hint else "") + "(" + ", ".join(field.option_labels or field.options) + ")"
    if hint:
        block["hint"] = _plain(hint, LABEL_TEXT)
    return block


def modal(form: Form, lang: str, metadata: dict[str, Any], intro: str = "") -> dict[str, Any]:
    """form_id and form.context ride in private_metadata, so the submission needs no server-side session."""
    blocks: list[dict[str, Any]] = []
    if intro:
        blocks.append({"type": "context", "elements": [_mrkdwn(cut(escape(intro), SECTION_TEXT))]})
    blocks += [input_block(f) for f in form.fields]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain(form.title, MODAL_TITLE),
        "submit": _plain(form.submit_label, MODAL_TITLE),
        "close": _plain(t(lang, "slack.cancel"), MODAL_TITLE),
        "private_metadata": encode_metadata({**metadata, "form": form.form_id, "ctx": form.context}),
        "blocks": blocks[:SURFACE_BLOCKS],
    }


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """view.state.values → {field name: text}; block ids are the field names, multiselects join with commas."""
    values: dict[str, str] = {}
    for block_id, actions in (state or {}).items():
        for element in actions.values():
            kind = element.get("type")
            if kind == "static_select":
                selected = element.get("selected_option") or {}
                values[block_id] = selected.get("value") or ""
            elif kind == "multi_static_select":
                values[block_id] = ",".join(o.get("value", "") for o in element.get("selected_options") or [])
            elif kind == "users_select":
                values[block_id] = element.get("selected_user") or ""
            elif kind == "datepicker":
                values[block_id] = element.get("selected_date") or ""
            elif kind == "timepicker":
                values[block_id] = element.get("selected_time") or ""
            elif kind == "checkboxes":
                values[block_id] = "yes" if element.get("selected_options") else ""
            elif kind == "file_input":
                continue  # the file is fetched before the form is submitted (bot/slack/uploads.py)
            else:
                values[block_id] = element.get("value") or ""
    return values
