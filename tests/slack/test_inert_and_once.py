"""Issue 26 over real HTTP against the fake Slack Web API: user text is inert in every message, block, file
caption and App Home; every write request (slash command, button, view_submission) runs once."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from fake_slack import FakeSlack
from slack_http import UNIT_CHANNEL, AppServer, block_action, view_submission, wait_until
from sqlmodel import Session, func, select
from test_modals import GOOD, open_form
from test_slash_commands import CONCERN, reply_to

from storage.models import Case, FollowUp, OutboxMessage

HOSTILE = "<!channel> <@UVICTIM> *APPROVED* http://evil.example <https://evil.example|klik> &amp; \u202eFDP"
# What Slack would make live: a mention, a channel/here ping, a channel link, a disguised or bare link.
LIVE = re.compile(r"<[@!#]|<https?:|https?://|www\.|\u202e|evil\.example")


def live_parts(text: str) -> list[str]:
    return LIVE.findall(text)


def _mrkdwn(node: Any) -> list[str]:
    """The mrkdwn text objects of blocks or a view (plain_text objects are never parsed for mentions, links or
    formatting by Slack, so `<!channel>` there is shown as typed)."""
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "mrkdwn":
        return [str(node.get("text", ""))]
    if node.get("type") == "plain_text":
        return [LIVE_PLAIN.sub("", str(node.get("text", "")))]  # there only a bare link would be live
    return [t for value in node.values() for t in _mrkdwn(value)]


LIVE_PLAIN = re.compile(r"[<>@!#|]")


def everything_sent(fake: FakeSlack) -> list[str]:
    """Every mrkdwn text Slack was asked to show: messages (text and blocks), updates, ephemeral replies, file
    captions, App Home views."""
    out = []
    for call in fake.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish"):
            view = call.data.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            out += [str(call.data.get("text") or ""), *_mrkdwn(call.data.get("blocks")), *_mrkdwn(view)]
        elif call.method == "files.completeUploadExternal":
            out.append(str(call.data.get("initial_comment") or ""))
    for _, body in fake.responses:
        out += [str(body.get("text") or ""), *_mrkdwn(body.get("blocks"))]
    return out


def _strip_own(text: str) -> str:
    """Our own mentions are live on purpose (the bot built them from member ids)."""
    return re.sub(r"<@U(ADMIN|ANN|OWNER|MENTOR|SEC)>", "", text)


async def test_a_hostile_series_name_pings_nobody_in_notices_invitations_or_file_captions(
        server: AppServer, fake_slack: FakeSlack) -> None:
    """The issue's example: the series name pinged the channel through file-upload captions and the named
    user through the channel notice."""
    await server.slash("/unit", "add <@UANN> role=member org=SSP", response_key="add")
    await reply_to(fake_slack, "add")
    name = HOSTILE.replace('"', "")
    await server.slash("/meeting", f'series add name="{name}" rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TH" '
                                   "time=09:00 duration=90m holidays=skip", response_key="series")
    assert "M-2026-001" in str(await reply_to(fake_slack, "series"))
    await server.slash("/concern", CONCERN, response_key="concern")
    await reply_to(fake_slack, "concern")
    await server.slash("/agenda", "publish M-2026-001", response_key="publish")
    await reply_to(fake_slack, "publish")
    await wait_until(lambda: [c for c in fake_slack.calls_to("files.completeUploadExternal")
                              if c.data.get("channel_id") == UNIT_CHANNEL], what="agenda file share")
    await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="series notice")
    texts = everything_sent(fake_slack)
    assert any("APPROVED" in t for t in texts)  # the name is there, as text
    assert any("APPROVED" in str(c.data.get("initial_comment")) for c in fake_slack.calls_to(
        "files.completeUploadExternal"))  # … in a file caption too
    for text in texts:
        assert live_parts(_strip_own(text)) == [], text[:300]


async def test_a_replayed_intake_submission_makes_one_case(server: AppServer, fake_slack: FakeSlack) -> None:
    """The issue's example: the same signed view_submission sent twice made two cases and two notices."""
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    payload = view_submission(view, GOOD)
    body = urlencode({"payload": json.dumps(payload)})
    for _ in range(2):
        response = await server.post_signed(body, "application/x-www-form-urlencoded")
        assert response.status_code == 200
    await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="the notice")
    with Session(server.svc.engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1
        notices = session.exec(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.target == "unit")).one()
    assert notices == 1


async def test_a_corrected_submission_after_errors_still_runs(server: AppServer, fake_slack: FakeSlack) -> None:
    """view.id and view.hash stay the same while the modal shows errors: errors store no key."""
    view = await open_form(server, fake_slack, "/concern", "", "intake")
    payload = view_submission(view, {**GOOD, "summary": {"type": "plain_text_input", "value": ""}})
    answer = await server.interaction(payload)
    assert answer.json()["response_action"] == "errors"
    payload["view"]["state"]["values"]["summary"]["summary"]["value"] = "Bekymring fra skolen"
    assert (await server.interaction(payload)).status_code == 200
    await wait_until(lambda: fake_slack.posted(UNIT_CHANNEL), what="the notice")
    with Session(server.svc.engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1


async def test_a_replayed_slash_command_and_button_run_once(server: AppServer, fake_slack: FakeSlack) -> None:
    form = {"token": "x", "team_id": "T0FAKE", "team_domain": "fake", "channel_id": UNIT_CHANNEL,
            "channel_name": "unit", "user_id": "UADMIN", "user_name": "uadmin", "command": "/concern",
            "text": CONCERN, "api_app_id": "A0APP", "is_enterprise_install": "false",
            "response_url": fake_slack.response_url("once"), "trigger_id": "trigger.replayed"}
    body = urlencode(form)
    for _ in range(2):
        assert (await server.post_signed(body, "application/x-www-form-urlencoded")).status_code == 200
    await wait_until(lambda: len(fake_slack.responses_to("once")) >= 2, what="both answers")
    await server.slash("/followup", 'add KE-2026-0001 due="2026-12-01 10:00" "Ring til skolen"', response_key="f")
    await reply_to(fake_slack, "f")
    click = block_action("followup snooze F-2 1w", "koord.followup.snooze_week.1",
                         response_url=fake_slack.response_url("click"))
    for _ in range(2):
        await server.interaction(click)
    await wait_until(lambda: len(fake_slack.responses_to("click")) >= 2, what="both clicks answered")
    with Session(server.svc.engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1
        followup = session.get(FollowUp, 2)
    assert followup is not None and followup.state == "snoozed"
    answers: list[Any] = fake_slack.responses_to("click")
    assert sum("already been handled" in json.dumps(a) for a in answers) == 1


async def test_a_step_of_a_case_the_mentor_may_not_see_reaches_them_nowhere(server: AppServer,
                                                                            fake_slack: FakeSlack) -> None:
    """The issue's example over Slack: a member assigns a step on KE-…-0001 to a mentor who only mentors
    KE-…-0002. The assignment is refused; and a step given to them anyway (before this release) shows in no App
    Home, is DMed to the secretariat instead, and the mentor's *Done* on it is refused."""
    from datetime import UTC, datetime

    from scheduler.jobs.followups import sweep
    from storage.models import Member
    from storage.profile.tables import CaseStep

    for user, role, org in (("UMENTOR", "mentor", "EKP"), ("USEC", "secretariat", "BIF")):
        await server.slash("/unit", f"add <@{user}> role={role} org={org}", response_key=f"add-{user}")
        await reply_to(fake_slack, f"add-{user}")
    await server.slash("/concern", CONCERN, response_key="c")
    await reply_to(fake_slack, "c")
    title = "Hemmeligt hjemmebesøg"
    await server.slash("/case", f'step add KE-2026-0001 "{title}" due="2026-11-24 09:00"', response_key="s")
    await reply_to(fake_slack, "s")
    await server.slash("/case", "step KE-2026-0001 1 assign=<@UMENTOR>", response_key="a")
    assert "no access" in str(await reply_to(fake_slack, "a"))

    with Session(server.svc.engine) as session:  # the old side door, straight in the tables
        mentor = session.exec(select(Member).where(Member.user_id == "UMENTOR")).one()
        step = session.exec(select(CaseStep)).one()
        followup = session.get(FollowUp, step.followup_id)
        assert followup is not None
        step.assignee_id = followup.assignee_id = mentor.id
        session.add(step)
        session.add(followup)
        session.commit()
        fid = followup.id
    await server.event({"type": "app_home_opened", "user": "UMENTOR", "channel": "DUMENTOR", "tab": "home"})
    home = (await wait_until(lambda: fake_slack.calls_to("views.publish"), what="views.publish"))[0]
    assert title not in json.dumps(home.data, ensure_ascii=False)

    assert sweep(server.svc, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)).reminded == 1
    await wait_until(lambda: any(title in json.dumps(m, ensure_ascii=False) for m in fake_slack.posted("DUSEC")),
                     what="the reminder, to the secretariat")
    assert not any(title in json.dumps(m, ensure_ascii=False) for m in fake_slack.posted("DUMENTOR"))
    await server.interaction(block_action(f"followup done F-{fid}", "koord.followup.done.0", user="UMENTOR",
                                          channel="DUMENTOR", response_url=fake_slack.response_url("done")))
    answer = json.dumps(await reply_to(fake_slack, "done"), ensure_ascii=False)
    assert "not yours" in answer and title not in answer
    with Session(server.svc.engine) as session:
        assert session.exec(select(CaseStep)).one().state == "open"


async def test_notes_and_follow_up_texts_stay_text_in_reminder_dms(server: AppServer, fake_slack: FakeSlack) -> None:
    """The issue's example: follow-up texts in reminder DMs kept working mentions and links."""
    from datetime import UTC, datetime

    from scheduler.jobs.followups import sweep

    await server.slash("/unit", "add <@UOWNER> role=member org=SOF", response_key="add")
    await reply_to(fake_slack, "add")
    await server.slash("/concern", CONCERN, response_key="c")
    await reply_to(fake_slack, "c")
    hostile = HOSTILE.replace('"', "")
    await server.slash("/followup", f'add KE-2026-0001 due="2026-11-24 09:00" "{hostile}"', user="UOWNER",
                       response_key="f")
    await reply_to(fake_slack, "f")
    await server.slash("/case", f'note KE-2026-0001 "{hostile}"', user="UOWNER", response_key="n")
    await reply_to(fake_slack, "n")
    await server.slash("/case", "show KE-2026-0001", user="UOWNER", response_key="show")
    assert "APPROVED" in json.dumps(await reply_to(fake_slack, "show"))
    sweep(server.svc, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    await wait_until(lambda: len(fake_slack.posted("DUOWNER")) >= 2, what="the reminder DM")
    assert "APPROVED" in json.dumps(fake_slack.posted("DUOWNER")[-1])
    for text in everything_sent(fake_slack):
        assert live_parts(_strip_own(text)) == [], text[:300]
