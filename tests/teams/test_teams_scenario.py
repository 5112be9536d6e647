"""The seed's case (a father and two children) through Teams, and the same script through the console on a
database of its own: the two adapters must leave the unit in the same state — same case, subjects, offers,
engagements, session logs and timeline. Along the way, Teams never shows a detail in a channel.

concern (intake card) → register checks → qualify → refer → offers/consent → mentors assigned → weekly
mentor logs → engagements end → case closed to the ordinary system.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select
from teams_fakes import FakeConnector
from teams_kit import ADMIN, UNIT_CHANNEL, TeamsServer, User, card_of, make_svc, text_of, user, wait_until

from commands.context import Services
from scheduler.sweep import sweep
from storage.clock import FixedClock
from storage.db import make_engine, migrate, unit_of_work
from storage.models import Case, CaseEvent, Engagement, Member, MentorSession, Offer, Subject
from storage.pseudonym import derived_pseudonym, format_pseudonym, normalise_identifier
from tests.conftest import ConsoleDriver, make_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::Warning:microsoft_teams")
REF = "KE-2026-0001"
FATHER_CPR, DAUGHTER_CPR = "150578-1235", "030815-4321"
SON_NAME, SON_BIRTH = "Yusuf Testesen", "12.05.2010"
SUMMARY = ("Hjemmebesøg (social bekymring for mindreårig pige): far og 16-årig bror udtaler støtte til IS "
           "og ønske om udrejse.")
MEMBERS = [("sof", "member", "SOF"), ("police", "member", "POLICE"), ("ssp", "member", "SSP"),
           ("vink", "member", "VINK"), ("krim", "member", "KRIM"), ("ekp", "member", "EKP"),
           ("bif", "secretariat", "BIF"), ("coach", "mentor", "EKP"), ("mentor_son", "mentor", "EKP"),
           ("mentor_girl", "mentor", "EKP")]
CHECKS = [("ssp", "SSP", "no"), ("vink", "VINK", "no"), ("police", "POLICE", "yes"), ("krim", "KRIM", "no"),
          ("sof", "SOF", "yes"), ("ekp", "EKP", "no")]
INTAKE = {"severity": "high", "track": "child", "source": "social", "district": "Nørrebro", "basis": "rpl115",
          "indicators": "extremist_statements,travel_intent", "received": "", "summary": SUMMARY,
          "subject1_age": "25+", "subject1_identifier": FATHER_CPR,
          "subject2_age": "15-17", "subject2_identifier": f"{SON_NAME} {SON_BIRTH}",
          "subject3_age": "0-14", "subject3_identifier": DAUGHTER_CPR}
SECRETS = (FATHER_CPR, DAUGHTER_CPR, SON_NAME, SON_BIRTH)
PRIVATE = (SUMMARY[:20], "Hjemmebesøg", "Samtale om", "Lektiehjælp", "Mødte ikke", "Sønnen")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PEOPLE = {name: user(0x100 + n, name.replace("_", " ").title()) for n, (name, _, _) in enumerate(MEMBERS)}


@dataclass(frozen=True)
class Say:
    actor: str
    text: str
    expect: str = ""  # a deliberate refusal: this text must be in the answer


@dataclass(frozen=True)
class Intake:
    actor: str


@dataclass(frozen=True)
class Clock:
    delta: timedelta  # from the start when `absolute`, else from now
    absolute: bool = False


Step = Say | Intake | Clock


def script(mention: Callable[[str], str], pseudonyms: dict[str, str]) -> list[Step]:
    father, son, daughter = (format_pseudonym(pseudonyms[k]) for k in ("father", "son", "daughter"))
    steps: list[Step] = [Say("admin", f"unit add {mention(u)} role={r} org={o}") for u, r, o in MEMBERS]
    steps += [Intake("sof"),
              Say("sof", f'case note {REF} "Henvendelsen kommer fra Socialforvaltningen og politiets SSP."'),
              Say("police", "concern new severity=normal track=adult age=18-24 source=police district=Valby "
                            'basis=rpl115 summary="Anden bekymring"'),
              Say("bif", f"case qualify {REF}")]
    steps += [Say(u, f"case checked {REF} org={org} found={found}") for u, org, found in CHECKS]
    steps += [Clock(timedelta(hours=20)),
              Say("vink", f'case note {REF} "Hjemmebesøg med VINK: far og søn bekræfter udtalelserne."'),
              Say("bif", f"case qualify {REF} level=pre_emptive"),
              Clock(timedelta(hours=6)),
              Say("bif", f"case refer {REF} to=SOF owner={mention('sof')}"),
              Say("sof", f"case offer {REF} subject={father} kind=parent_coach"),
              Say("sof", f"case offer {REF} subject={son} kind=mentor"),
              Say("sof", f"case offer {REF} subject={daughter.lower()} kind=mentor"),
              Say("sof", f"case respond {REF} subject={father} kind=parent_coach accepted", "consent"),
              Say("sof", f"case respond {REF} subject={father} kind=parent_coach accepted consent=yes"),
              Say("sof", f"case respond {REF} subject={son} kind=mentor accepted"),
              Say("sof", f"case respond {REF} subject={daughter} kind=mentor accepted"),
              Say("sof", f"case assign {REF} subject={father} kind=parent_coach mentor={mention('coach')}"),
              Say("sof", f"case assign {REF} subject={son} kind=mentor mentor={mention('mentor_son')}"),
              Say("sof", f"case assign {REF} subject={daughter} kind=mentor mentor={mention('mentor_girl')}")]
    for week in range(1, 9):
        steps += [Clock(timedelta(days=7)),
                  Say("coach", f'mentor log {REF} subject={father} "Samtale om verdenssyn"'),
                  Say("mentor_girl", f'mentor log {REF} subject={daughter} "Lektiehjælp og fritidsklub"'),
                  Say("mentor_son", f'mentor log {REF} subject={son} "'
                                    + ("Mødte ikke op (aflyst)" if week in (2, 3) else "Møde om skole") + '"')]
        if week == 3:
            steps.append(Say("sof", f'case note {REF} "Nyt hjemmebesøg: sønnen ikke hjemme."'))
    steps += [Say("mentor_son", "case show KE-2026-0002", "no access"),
              Say("bif", f"case close {REF} reason=normal_system", "active engagements"),
              Clock(timedelta(days=273), absolute=True),
              Say("coach", f"mentor end {REF} subject={father}"),
              Say("mentor_girl", f"mentor end {REF} subject={daughter}"),
              Say("mentor_son", f"mentor end {REF} subject={son}"),
              Say("bif", f"case close {REF} reason=normal_system"),
              Say("admin", "unit audit verify", "intact")]
    return steps


def snapshot(svc: Services) -> dict[str, Any]:
    """The unit's state, with platform user ids replaced by the people's names."""
    with unit_of_work(svc.engine) as session:
        names = {m.id: m.user_id for m in session.exec(select(Member))}
        by_id = {v: k for k, v in {**{n: PEOPLE[n].aad for n in PEOPLE}, "admin": ADMIN.aad}.items()}
        who = {mid: by_id.get(uid, uid) for mid, uid in names.items()}
        cases = list(session.exec(select(Case).order_by(col(Case.ref))))
        case = cases[0]
        events = list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(col(CaseEvent.id))))
        sessions: dict[str, int] = {}
        for entry in session.exec(select(MentorSession)):
            sessions[who[entry.author_id]] = sessions.get(who[entry.author_id], 0) + 1

        def data(raw: str) -> dict[str, Any]:
            value = json.loads(raw)
            return {k: by_id.get(v, v) if isinstance(v, str) else v for k, v in value.items()}

        return {
            "cases": [(c.ref, c.state, c.severity, c.track, c.source, c.district, c.basis, c.indicators, c.level,
                       c.responsible_org, c.close_reason, c.deadline_met, who.get(c.owner_id), who.get(c.reporter_id),
                       c.referred_at and c.referred_at - c.received_at, c.closed_at and c.closed_at - c.received_at)
                      for c in cases],
            "subjects": [(s.pseudonym, s.age_band, s.linked, s.possible_repeat) for s in session.exec(
                select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id)))],
            "offers": [(o.kind, o.state, o.consent) for o in session.exec(select(Offer).order_by(col(Offer.id)))],
            "engagements": [(who[e.mentor_id], e.state) for e in session.exec(
                select(Engagement).order_by(col(Engagement.id)))],
            "sessions": sessions,
            "timeline": [(e.kind, who.get(e.actor_id), data(e.data), e.at - case.received_at) for e in events],
            "members": sorted((by_id.get(m.user_id, m.user_id), m.role, m.org, m.active)
                              for m in session.exec(select(Member))),
        }


@pytest.fixture
def console_db(_template: str, tmp_path: Path) -> Iterator[str]:
    """A second, clean database for the console run."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        path = tmp_path / "console.db"
        shutil.copy(_template, path)
        yield f"sqlite:///{path}"
        return
    schema = f"test_console_{os.getpid()}_{secrets.token_hex(3)}"
    engine = make_engine(pg)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg + ("&" if "?" in pg else "?") + f"options=-csearch_path%3D{schema}"
    migrate(url)
    yield url
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def run_console(db_url: str, steps: list[Step]) -> dict[str, Any]:
    svc = make_svc(make_settings(db_url), FixedClock(START))
    clock: FixedClock = svc.clock  # type: ignore[assignment]
    console = ConsoleDriver(svc)
    console.run("admin", bootstrap=True)
    order = [f.name for f in _intake_fields(svc)]
    for step in steps:
        if isinstance(step, Clock):
            clock.instant = START + step.delta if step.absolute else clock.instant + step.delta
        elif isinstance(step, Intake):
            out = console.run(step.actor, "concern", *(INTAKE.get(name, "") for name in order))
            assert f"Registered as {REF}" in out, out
        else:
            out = console.run(step.actor, step.text)
            if step.expect:
                assert step.expect in out, out
            else:
                assert "Usage" not in out and "error id" not in out, out
    state = snapshot(svc)
    svc.engine.dispose()
    return state


def _intake_fields(svc: Services) -> list[Any]:
    from commands.concerns import intake_form
    from commands.context import Ctx
    from commands.reply import Invocation

    with unit_of_work(svc.engine) as session:
        return list(intake_form(Ctx(svc, session, Invocation("x", ""))).fields)


async def run_teams(teams: TeamsServer, connector: FakeConnector, clock: FixedClock, steps: list[Step]) -> None:
    def person(name: str) -> User:
        return ADMIN if name == "admin" else PEOPLE[name]

    for step in steps:
        if isinstance(step, Clock):
            clock.instant = START + step.delta if step.absolute else clock.instant + step.delta
            sweep(teams.svc, clock.now())  # the worker's sweep: reminders go out through the outbox
        elif isinstance(step, Intake):
            asked = await teams.say(person(step.actor), "concern")
            form = card_of(next(a for a in connector.posted(person(step.actor).chat) if a.get("replyToId") == asked))
            answer = await teams.click(person(step.actor), form["actions"][0], INTAKE)
            assert f"Registered as {REF}" in text_of(answer["value"]), answer
        else:
            who = person(step.actor)
            asked = await teams.say(who, step.text)
            replies = [a for a in connector.posted(who.chat) if a.get("replyToId") == asked]
            assert len(replies) == 1, step  # reminders may arrive in between: the answer is the reply
            answer = text_of(card_of(replies[0]))
            assert step.expect in answer, (step, answer)
            if not step.expect:
                assert "Usage" not in answer and "error id" not in answer and "no access" not in answer, (step, answer)


async def test_the_seed_case_through_teams_leaves_the_same_state_as_through_the_console(
        teams: TeamsServer, connector: FakeConnector, clock: FixedClock, console_db: str) -> None:
    keys = teams.svc.keys.pseudonym_key
    pseudonyms = {"father": derived_pseudonym(keys, normalise_identifier(cpr=FATHER_CPR)),
                  "son": derived_pseudonym(keys, normalise_identifier(name=SON_NAME, birth_date=SON_BIRTH)),
                  "daughter": derived_pseudonym(keys, normalise_identifier(cpr=DAUGHTER_CPR))}
    expected = run_console(console_db, script(lambda name: f"<@{name}>", pseudonyms))

    for who in PEOPLE.values():  # everyone installs the app: the bot learns their 1:1 chats
        assert (await teams.post(teams.activity(who, kind="installationUpdate", action="add"))).status_code == 200
    await teams.say(ADMIN, "help", channel=UNIT_CHANNEL)  # the bot is in the unit's channel
    await run_teams(teams, connector, clock, script(lambda name: f"<@{PEOPLE[name].aad}>", pseudonyms))
    actual = snapshot(teams.svc)

    assert actual["cases"][0][:2] == (REF, "closed") and actual["sessions"] == {
        "coach": 8, "mentor_girl": 8, "mentor_son": 8}
    kinds = [k for k, *_ in actual["timeline"]]
    assert kinds.count("checked") == 6 and kinds.count("mentor_session") == 24 and kinds.count("state") == 5
    for part in expected:
        assert actual[part] == expected[part], part

    # the channel saw references and categories only; identifiers were never sent anywhere
    def channel_posts() -> list[str]:
        return [text_of(card_of(c.body)) for c in connector.calls if c.conversation.startswith(UNIT_CHANNEL)
                and c.body.get("attachments")]

    await wait_until(lambda: any(f"{REF} closed · normal_system" in p for p in channel_posts()), what="close notice")
    channel_posts = channel_posts()
    for body in channel_posts:
        for secret in (*PRIVATE, *SECRETS):
            assert secret not in body, body
    everything = json.dumps([c.body for c in connector.calls], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in everything
    assert f"You are assigned to {format_pseudonym(pseudonyms['daughter'])}" in json.dumps(
        [c.body for c in connector.calls if c.conversation == PEOPLE["mentor_girl"].chat], ensure_ascii=False)
