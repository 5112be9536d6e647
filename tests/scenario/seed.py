"""The seed's case (a father and two children) as one script that every adapter replays, and the unit's state
as a snapshot that does not depend on the platform — so console, Slack and Teams can be proven to agree.

concern (intake form) → register checks → qualify → refer → offers/consent → mentors assigned → weekly
mentor logs → engagements end → case closed to the ordinary system.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from commands.context import Services
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.models import Case, CaseEvent, Engagement, Member, MentorSession, Offer, Subject
from storage.pseudonym import derived_pseudonym, format_pseudonym, normalise_identifier
from tests.conftest import ConsoleDriver, make_settings, make_svc

REF = "KE-2026-0001"
FATHER_CPR, DAUGHTER_CPR = "150578-1235", "030815-4321"
SON_NAME, SON_BIRTH = "Yusuf Testesen", "12.05.2010"
SUMMARY = ("Hjemmebesøg (social bekymring for mindreårig pige): far og 16-årig bror udtaler støtte til IS "
           "og ønske om udrejse.")
MEMBERS = [  # user, role, org
    ("sof", "member", "SOF"), ("police", "member", "POLICE"), ("ssp", "member", "SSP"),
    ("vink", "member", "VINK"), ("krim", "member", "KRIM"), ("ekp", "member", "EKP"),
    ("bif", "secretariat", "BIF"), ("coach", "mentor", "EKP"), ("mentor_son", "mentor", "EKP"),
    ("mentor_girl", "mentor", "EKP"),
]
CHECKS = [("ssp", "SSP", "no"), ("vink", "VINK", "no"), ("police", "POLICE", "yes"), ("krim", "KRIM", "no"),
          ("sof", "SOF", "yes"), ("ekp", "EKP", "no")]
INTAKE = {"severity": "high", "track": "child", "source": "social", "district": "Nørrebro", "basis": "rpl115",
          "indicators": "extremist_statements,travel_intent", "received": "", "summary": SUMMARY,
          "subject1_age": "25+", "subject1_identifier": FATHER_CPR,
          "subject2_age": "15-17", "subject2_identifier": f"{SON_NAME} {SON_BIRTH}",
          "subject3_age": "0-14", "subject3_identifier": DAUGHTER_CPR}
SECRETS = (FATHER_CPR, DAUGHTER_CPR, SON_NAME, SON_BIRTH)  # identifiers: never sent anywhere
PRIVATE = (SUMMARY[:20], "Hjemmebesøg", "Samtale om", "Lektiehjælp", "Mødte ikke", "Sønnen")  # never in a channel
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the `clock` fixture's instant


@dataclass(frozen=True)
class Say:
    actor: str
    text: str
    expect: str = ""  # a deliberate refusal: this text must be in the answer


@dataclass(frozen=True)
class Intake:
    actor: str  # opens the intake form and submits INTAKE


@dataclass(frozen=True)
class Clock:
    delta: timedelta  # from START when `absolute`, else from now
    absolute: bool = False

    def apply(self, clock: FixedClock) -> None:
        clock.instant = START + self.delta if self.absolute else clock.instant + self.delta


Step = Say | Intake | Clock


def pseudonyms(svc: Services) -> dict[str, str]:
    key = svc.keys.pseudonym_key
    return {"father": derived_pseudonym(key, normalise_identifier(cpr=FATHER_CPR)),
            "son": derived_pseudonym(key, normalise_identifier(name=SON_NAME, birth_date=SON_BIRTH)),
            "daughter": derived_pseudonym(key, normalise_identifier(cpr=DAUGHTER_CPR))}


def script(mention: Callable[[str], str], people: Mapping[str, str]) -> list[Step]:
    """`mention(name)` is how the platform writes a person in a command; `people` their pseudonyms."""
    father, son, daughter = (format_pseudonym(people[k]) for k in ("father", "son", "daughter"))
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
              Say("bif", f"case step {REF} 1 done"),  # the child procedure: register checks in every fixed org
              Clock(timedelta(hours=6)),
              Say("bif", f"case step {REF} 3 done"),  # the unit decides on the response
              Say("bif", f"case refer {REF} to=SOF owner={mention('sof')}"),
              Say("sof", f"case step {REF} 4 done"),  # referred to social services
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
              Say("coach", f"mentor end {REF} subject={father} result=completed"),
              Say("mentor_girl", f"mentor end {REF} subject={daughter} result=completed"),
              Say("mentor_son", f"mentor end {REF} subject={son} result=completed"),
              Say("sof", f"case step {REF} 9 done"),  # the follow-up: status in the unit
              *(Say("bif", f'case step {REF} {n} skip reason="Ikke relevant i denne sag"') for n in (2, 5, 6, 7, 8)),
              Say("bif", f"case close {REF} reason=normal_system"),
              Say("admin", "unit audit verify", "intact")]
    return steps


def check_answer(step: Say, answer: str) -> None:
    """A step's one answer: the deliberate refusal it expects, or no refusal at all."""
    assert step.expect in answer, (step, answer)
    if not step.expect:
        for refusal in ("Usage", "error id", "no access", "Traceback"):
            assert refusal not in answer, (step, answer)


def snapshot(svc: Services, ids: Mapping[str, str]) -> dict[str, Any]:
    """The unit's state, with platform user ids (`ids`: person → id, "admin" included) replaced by names."""
    by_id = {uid: name for name, uid in ids.items()}
    with unit_of_work(svc.engine) as session:
        who = {m.id: by_id.get(m.user_id, m.user_id) for m in session.exec(select(Member))}
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
            "members": sorted((who[m.id], m.role, m.org, m.active) for m in session.exec(select(Member))),
        }


def assert_same_unit(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """The seed case ended as the console left it, part by part (a diff names the part that differs)."""
    assert actual["cases"][0][:2] == (REF, "closed")
    assert actual["sessions"] == {"coach": 8, "mentor_girl": 8, "mentor_son": 8}
    kinds = [k for k, *_ in actual["timeline"]]
    assert kinds.count("checked") == 6 and kinds.count("mentor_session") == 24 and kinds.count("state") == 5
    assert actual.keys() == expected.keys()
    for part in expected:
        assert actual[part] == expected[part], part


def run_console(db_url: str) -> dict[str, Any]:
    """The script through the console on a database of its own: the reference the other adapters must match."""
    svc = make_svc(make_settings(db_url), FixedClock(START))
    clock: FixedClock = svc.clock  # type: ignore[assignment]
    console = ConsoleDriver(svc)
    console.run("admin", bootstrap=True)
    order = [f.name for f in _intake_fields(svc)]
    for step in script(lambda name: f"<@{name}>", pseudonyms(svc)):
        if isinstance(step, Clock):
            step.apply(clock)
        elif isinstance(step, Intake):
            out = console.run(step.actor, "concern", *(INTAKE.get(name, "") for name in order))
            assert f"Registered as {REF}" in out, out
        else:
            check_answer(step, console.run(step.actor, step.text))
    state = snapshot(svc, {name: name for name, _, _ in [("admin", "", ""), *MEMBERS]})
    svc.engine.dispose()
    return state


def _intake_fields(svc: Services) -> list[Any]:
    from commands.cases.concerns import intake_form
    from commands.context import Ctx
    from commands.reply import Invocation

    with unit_of_work(svc.engine) as session:
        return list(intake_form(Ctx(svc, session, Invocation("x", ""))).fields)
