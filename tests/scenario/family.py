"""The seed's family case as families (SPEC.md §10) see it: one case, three persons — the father (adult, a
parent), the son of 16 (crime cross-over, a child of the family) and his little sister (child track, a sibling)
— with two responsible authorities (SOF for the father and the sister, SSP for the son), each person referred
on their own; the son misses two agreed meetings, then goes missing (severity raised to critical, lowered when
he is back); the father's course is completed; the sister declines, is offered again at the 3-month follow-up
and accepts. Every adapter (console, Slack, Teams) replays this script; `snapshot` is the unit's state
without platform ids, so the three can be compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from commands.context import Services
from storage.clock import FixedClock
from storage.db import unit_of_work
from storage.models import Case, CaseEvent, Disclosure, Engagement, Member, MentorSession, Offer, Subject
from storage.pseudonym import format_pseudonym
from tests.conftest import ConsoleDriver, make_settings, make_svc
from tests.scenario.seed import INTAKE, MEMBERS, REF, START, Clock, Intake, Say, Step, check_answer, pseudonyms

FAMILY_INTAKE = {**INTAKE, "track": "adult"}  # the father is the first person: the case's track is his


def script(mention: Callable[[str], str], people: Mapping[str, str]) -> list[Step]:
    father, son, sister = (format_pseudonym(people[k]) for k in ("father", "son", "daughter"))
    steps: list[Step] = [Say("admin", f"unit add {mention(u)} role={r} org={o}") for u, r, o in MEMBERS]
    steps += [Intake("sof"),
              Say("sof", f"case subject set {REF} subject={father} relation=parent"),
              Say("sof", f"case subject set {REF} subject={son} track=crime relation=child"),
              Say("sof", f"case subject set {REF} subject={sister} track=child relation=sibling"),
              Say("sof", f"case subject set {REF} subject={father} track=child", "case track"),
              Say("bif", f"case qualify {REF} level=pre_emptive")]
    steps += [Say(u, f"case checked {REF} org={org} found={found}")
              for u, org, found in (("ssp", "SSP", "no"), ("vink", "VINK", "no"), ("police", "POLICE", "yes"),
                                    ("krim", "KRIM", "no"), ("sof", "SOF", "yes"), ("ekp", "EKP", "no"))]
    steps += [Clock(timedelta(hours=20)),
              Say("bif", f"case refer {REF} to=SOF owner={mention('sof')} subject={father}"),
              Say("bif", f"case refer {REF} to=SSP owner={mention('ssp')} subject={son}"),
              Say("bif", f"case refer {REF} to=SOF owner={mention('sof')} subject={sister}"),
              Say("bif", 'meeting adhoc when="2027-01-07 09:00" duration=60m topic="Familien" cases=KE-2026-0001'),
              Say("bif", "agenda M-2027-001", "sibling"),
              Say("police", f'case disclose {REF} to=POLICE basis=rpl115 what=identity,criminal subject={son} '
                            '"Til DKS forud for hjemmebesøget"'),
              Say("sof", f"case disclose {REF} to=SSP basis=nonsense what=identity", "basis"),
              Say("sof", f"case offer {REF} subject={father} kind=parent_coach"),
              Say("ssp", f"case offer {REF} subject={son} kind=mentor"),
              Say("sof", f"case offer {REF} subject={sister} kind=mentor"),
              Say("sof", f"case respond {REF} subject={father} kind=parent_coach accepted consent=yes"),
              Say("ssp", f"case respond {REF} subject={son} kind=mentor accepted"),
              Say("sof", f"case respond {REF} subject={sister} kind=mentor declined"),
              Say("sof", f"case assign {REF} subject={father} kind=parent_coach mentor={mention('coach')}"),
              Say("ssp", f"case assign {REF} subject={son} kind=mentor mentor={mention('mentor_son')}")]
    for week in range(1, 5):
        steps += [Clock(timedelta(days=7)),
                  Say("coach", f'mentor log {REF} subject={father} "Samtale om verdenssyn"')]
        if week in (2, 3):
            steps.append(Say("mentor_son", f'mentor log {REF} subject={son} missed=yes "Aflyste"'))
        else:
            steps.append(Say("mentor_son", f'mentor log {REF} subject={son} "Møde om skole"'))
    steps += [Say("ssp", f'case severity {REF} critical reason="Sønnen træffes ikke hjemme; mulig udrejse"'),
              Say("mentor_son", f'case severity {REF} normal reason="x"', "does not allow"),
              Say("vink", f'case severity {REF} normal reason="x"', "Only the case owner"),
              Clock(timedelta(days=14)),
              Say("ssp", f'case severity {REF} high reason="Sønnen er dukket op igen"'),
              Clock(timedelta(days=93), absolute=True),  # the sister's 3-month re-offer falls due: a DM
              Say("sof", f"case offer {REF} subject={sister} kind=mentor"),
              Say("sof", f"case respond {REF} subject={sister} kind=mentor accepted"),
              Say("sof", f"case assign {REF} subject={sister} kind=mentor mentor={mention('mentor_girl')}"),
              Clock(timedelta(days=273), absolute=True),
              Say("coach", f"mentor end {REF} subject={father}", "result"),
              Say("coach", f"mentor end {REF} subject={father} result=completed"),
              Say("mentor_son", f"mentor end {REF} subject={son} result=completed"),
              Say("mentor_girl", f"mentor end {REF} subject={sister} result=other"),
              Say("admin", "unit audit verify", "intact")]
    return steps


def snapshot(svc: Services, ids: Mapping[str, str]) -> dict[str, Any]:
    """The family case's state with platform user ids replaced by names."""
    by_id = {uid: name for name, uid in ids.items()}
    with unit_of_work(svc.engine) as session:
        who = {m.id: by_id.get(m.user_id, m.user_id) for m in session.exec(select(Member))}
        case = session.exec(select(Case).where(Case.ref == REF)).one()
        subjects = list(session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))))
        name = {s.id: s.pseudonym for s in subjects}

        def data(raw: str) -> dict[str, Any]:
            return {k: by_id.get(v, v) if isinstance(v, str) else v for k, v in json.loads(raw).items()}

        return {
            "case": (case.state, case.severity, case.track, case.responsible_org, who.get(case.owner_id),
                     case.deadline_met, case.deadline_at - case.received_at),
            "persons": [(s.pseudonym, s.age_band, s.track, s.relation, s.responsible_org, who.get(s.owner_id),
                         s.referred_at is not None) for s in subjects],
            "offers": [(name[o.subject_id], o.kind, o.state) for o in session.exec(
                select(Offer).order_by(col(Offer.id)))],
            "engagements": [(name[e.subject_id], who.get(e.mentor_id), e.state, e.result) for e in session.exec(
                select(Engagement).order_by(col(Engagement.id)))],
            "missed": sorted(m.missed for m in session.exec(select(MentorSession))),
            "disclosures": [(name.get(d.subject_id), d.org, d.basis, d.categories, d.how) for d in session.exec(
                select(Disclosure).order_by(col(Disclosure.id)))],
            "timeline": [(e.kind, who.get(e.actor_id), data(e.data), e.at - case.received_at) for e in session.exec(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id)))],
        }


def intake_order(svc: Services) -> list[str]:
    from commands.cases.concerns import intake_form
    from commands.context import Ctx
    from commands.reply import Invocation

    with unit_of_work(svc.engine) as session:
        return [f.name for f in intake_form(Ctx(svc, session, Invocation("x", ""))).fields]


def run_console(db_url: str, **settings: object) -> tuple[dict[str, Any], list[str]]:
    """The script through the console on a database of its own: the state the other adapters must match, and
    every answer printed (for the words a reader sees)."""
    from scheduler.jobs.followups import sweep

    svc = make_svc(make_settings(db_url, **settings), FixedClock(START))  # type: ignore[arg-type]
    clock: FixedClock = svc.clock  # type: ignore[assignment]
    console = ConsoleDriver(svc)
    console.run("admin", bootstrap=True)
    order = intake_order(svc)
    printed = []
    for step in script(lambda name: f"<@{name}>", pseudonyms(svc)):
        if isinstance(step, Clock):
            step.apply(clock)
            sweep(svc, clock.now())
        elif isinstance(step, Intake):
            out = console.run(step.actor, "concern", *(FAMILY_INTAKE.get(name, "") for name in order))
            assert f"Registered as {REF}" in out, out
            printed.append(out)
        else:
            out = console.run(step.actor, step.text)
            check_answer(step, out)
            printed.append(out)
    state = snapshot(svc, {name: name for name in ("admin", *(m for m, _, _ in MEMBERS))})
    svc.engine.dispose()
    return state, printed
