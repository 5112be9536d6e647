"""Reply/Form → Block Kit stays within Slack's limits (validated with slack_sdk.models) and escapes free text."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack import render
from commands.markup import mention
from commands.reply import Button, FieldLine, Form, FormField, Reply


def validate_message(body: dict) -> None:
    blocks = Block.parse_all(body["blocks"])
    assert len(blocks) <= render.MESSAGE_BLOCKS
    for block in blocks:
        block.validate_json()


def test_a_huge_reply_is_split_and_truncated_within_slack_limits() -> None:
    reply = Reply(title="T" * 400, text="\n".join(f"KE-2026-{n:04d} · new · high" * 3 for n in range(400)),
                  fields=[FieldLine(f"label {n}", "value " * (n % 3 * 200 + 1)) for n in range(60)],
                  buttons=[Button(f"Button {n}" * 10, "case.show", "", f"case show KE-2026-{n:04d}")
                           for n in range(30)])
    body = render.message(reply, "en")
    validate_message(body)
    assert body["blocks"][-3]["type"] == "context"  # "… truncated", right before the buttons
    assert [b["type"] for b in body["blocks"][-2:]] == ["actions", "actions"]
    assert len(body["text"]) <= render.FALLBACK_TEXT


def test_short_fields_share_a_section_and_long_ones_get_their_own() -> None:
    reply = Reply(text="x", fields=[FieldLine("Severity", "high"), FieldLine("Track", "child"),
                                    FieldLine("Summary", "line one\nline two")])
    blocks = render.reply_blocks(reply, "en")
    assert len(blocks[1]["fields"]) == 2 and blocks[2]["text"]["text"].startswith("*Summary*")


def test_free_text_cannot_ping_the_channel_but_mentions_still_work() -> None:
    # Changed with issue 26: a mention is live only when the bot built it from a member id (markup.mention);
    # `<@U…>` typed into free text is literal like everything else.
    text = render.message(Reply(text=f"Owner {mention('U123')} said <!here> <@U999> & <https://evil.example|click>"),
                          "en")["text"]
    assert "<@U123>" in text and "<!here>" not in text and "&lt;!here&gt;" in text and "&amp;" in text
    assert "<@U999>" not in text and "<https" not in text


def test_slash_command_text_is_unescaped_but_mentions_survive() -> None:
    assert render.unescape("note KE-1 \"a &lt; b &amp; c\" <@U1|ann>") == 'note KE-1 "a < b & c" <@U1|ann>'


def test_buttons_carry_their_command_and_unique_action_ids() -> None:
    reply = Reply(text="x", buttons=[Button("Show", "case.show", "KE-1", "case show KE-1"),
                                     Button("Qualify", "case.qualify", "KE-1", "case qualify KE-1", style="primary"),
                                     Button("Nothing", "noop", "", "")])
    elements = render.reply_blocks(reply, "en")[-1]["elements"]
    assert [e["value"] for e in elements] == ["case show KE-1", "case qualify KE-1"]
    assert len({e["action_id"] for e in elements}) == 2 and elements[1]["style"] == "primary"


def form() -> Form:
    return Form("concern.intake", "Tilføj person til KE-2026-0001 (for langt)", (
        FormField("severity", "Severity", "select", ("critical", "high", "normal"), required=True),
        FormField("indicators", "Indicators", "multiselect", ("a", "b")),
        FormField("summary", "Summary", "multiline", required=True, hint="No names"),
        FormField("received", "Received", "datetime"),
        FormField("district", "District", "select", tuple(f"d{n}" for n in range(150))),
        FormField("identifier", "Identifier (never stored)", "text", never_stored=True),
    ), "Registrér og gem formularen nu", {"case": "KE-2026-0001"})


def test_a_form_becomes_a_valid_modal_with_its_id_and_context_in_private_metadata() -> None:
    view = render.modal(form(), "da", {"ch": "C1", "ru": "https://hooks.slack.test/x"}, "Udfyld formularen.")
    View(**view).validate_json()
    assert len(view["title"]["text"]) <= 24 and view["close"]["text"] == "Annullér"
    meta = json.loads(view["private_metadata"])
    assert meta == {"ch": "C1", "ru": "https://hooks.slack.test/x", "form": "concern.intake",
                    "ctx": {"case": "KE-2026-0001"}}
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["severity"]["element"]["type"] == "static_select" and not inputs["severity"]["optional"]
    assert inputs["indicators"]["element"]["type"] == "multi_static_select"
    assert inputs["summary"]["element"] == {"type": "plain_text_input", "action_id": "summary", "multiline": True}
    assert inputs["received"]["element"]["type"] == "plain_text_input"
    assert inputs["district"]["element"]["type"] == "plain_text_input"  # > 100 options: typed, choices in the hint
    assert inputs["identifier"]["label"]["text"] == "🔒 Identifier (never stored)"


def test_home_view_is_valid() -> None:
    home = render.home_view(Reply(title="koordinator", text="x", fields=[FieldLine("Your open cases (0)", "none")]),
                            "en")
    View(**home).validate_json()


def test_submitted_state_becomes_form_values() -> None:
    state = {
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "high"}}},
        "track": {"track": {"type": "static_select", "selected_option": None}},
        "indicators": {"indicators": {"type": "multi_static_select",
                                      "selected_options": [{"value": "a"}, {"value": "b"}]}},
        "summary": {"summary": {"type": "plain_text_input", "value": "text"}},
        "received": {"received": {"type": "plain_text_input", "value": None}},
        "owner": {"owner": {"type": "users_select", "selected_user": "U1"}},
    }
    assert render.form_values(state) == {"severity": "high", "track": "", "indicators": "a,b", "summary": "text",
                                         "received": "", "owner": "U1"}


def test_metadata_too_long_for_slack_drops_the_response_url_first() -> None:
    raw = render.encode_metadata({"ru": "x" * 3000, "form": "f"})
    assert json.loads(raw) == {"form": "f"}
