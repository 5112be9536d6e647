"""Help that teaches by doing, on Slack: `/koordinator` (help; Slack reserves /help) and the App Home list the
member's tasks in words, each a button; a click on one opens its form as a modal at once, and the form does the
task. A mentor sees a mentor's tasks."""

from __future__ import annotations

from typing import Any

from fake_slack import FakeSlack
from slack_http import AppServer, block_action, multi, select, text, view_submission, wait_until
from slack_sdk.models.views import View
from sqlmodel import Session
from sqlmodel import select as sql_select
from test_slash_commands import all_text, reply_to

from storage.models import MeetingSeries


def task_buttons(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The buttons of a message or a view, by the command a click runs."""
    return {e["value"]: e for b in body.get("blocks") or [] for e in b.get("elements") or []
            if e.get("type") == "button"}


async def home(server: AppServer, fake: FakeSlack, user: str) -> dict[str, Any]:
    before = len(fake.calls_to("views.publish"))
    await server.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"})
    call = (await wait_until(lambda: fake.calls_to("views.publish")[before:], what="views.publish"))[0]
    View(**call.data["view"]).validate_json()
    return call.data["view"]


async def test_help_and_the_app_home_carry_the_tasks_and_a_click_opens_the_form_that_does_it(
        server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/koordinator", "", response_key="help")
    helped = await reply_to(fake_slack, "help")
    assert "Set up a meeting" in all_text(helped) and "Register a concern" in all_text(helped)
    in_help = task_buttons(helped)
    assert {"concern", "concern advice", "meeting series add", "case close", "unit add"} <= set(in_help)

    view = await home(server, fake_slack, "UADMIN")
    on_home = task_buttons(view)
    assert set(in_help) <= set(on_home)  # the same tasks, by the same role
    series = on_home["meeting series add"]
    assert series["text"]["text"] == "Set up a meeting"

    before = len(fake_slack.calls_to("views.open"))
    await server.interaction(block_action(series["value"], series["action_id"], channel=None))
    modal = (await wait_until(lambda: fake_slack.calls_to("views.open")[before:], what="views.open"))[0].data["view"]
    View(**modal).validate_json()
    inputs = {b["block_id"]: b["element"]["type"] for b in modal["blocks"] if b.get("type") == "input"}
    assert inputs["weekdays"] == "multi_static_select" and inputs["time"] == "timepicker"
    assert inputs["start"] == "datepicker"
    answer = await server.interaction(view_submission(modal, {
        "name": text("Koordineringsmøde"), "weekdays": multi("TH"), "interval": select("2"),
        "time": {"type": "timepicker", "selected_time": "09:00"}, "duration": text("90m"),
        "holidays": select("skip"), "start": {"type": "datepicker", "selected_date": None}}))
    assert answer.status_code == 200 and not answer.content
    with Session(server.svc.engine) as session:
        made = session.exec(sql_select(MeetingSeries)).one()
        assert made.name == "Koordineringsmøde"
        assert set(made.rrule.split(";")) == {"FREQ=WEEKLY", "INTERVAL=2", "BYDAY=TH"}


async def test_a_mentor_sees_only_a_mentors_tasks(server: AppServer, fake_slack: FakeSlack) -> None:
    await server.slash("/unit", 'add <@UMENTOR> role=mentor org=OTHER name="Mona Mentor"', response_key="add")
    assert "went wrong" not in all_text(await reply_to(fake_slack, "add"))
    view = await home(server, fake_slack, "UMENTOR")
    tasks = [c for c in task_buttons(view) if c in ("case list mine", "mentor log", "concern", "case close",
                                                    "meeting series add", "unit add", "report annual")]
    assert tasks == ["case list mine", "mentor log"]
