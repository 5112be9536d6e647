"""The seed's fictional case (seed/copenhagen-strategy-2016.da.txt, "CASE OM RADIKALISERING"), replayed
through the console adapter by the people of the unit, over nine months of a fixed clock.

A father and two children: social services and the police meet radical statements at a home visit →
the unit qualifies the concern (every fixed org checks its registers, level set) → referral within 48 h →
parent coach for the father (an adult: consent needed), mentors for both children → weekly sessions, two
missed meetings → the engagements end → after nine months the case goes to the ordinary municipal system.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from storage.db import unit_of_work
from storage.models import AuditEntry, Case, CaseEvent, Engagement, Member, MentorSession, Offer, Subject
from storage.pseudonym import format_pseudonym
from tests.scenario.seed import (
    CHECKS,
    DAUGHTER_CPR,
    FATHER_CPR,
    MEMBERS,
    REF,
    SON_BIRTH,
    SON_NAME,
    SUMMARY,
    pseudonyms,
)


def frames(output: str) -> list[tuple[str, str]]:
    """The console's framed blocks: (header, body) — "private", "channel #unit", "DM to @user"."""
    return [(header, "\n".join(line[2:] for line in body.splitlines()))
            for header, body in re.findall(r"┌─ (.*?)\n(.*?)\n└─", output, re.S)]


def private(output: str) -> str:
    return "\n".join(body for header, body in frames(output) if header == "private")


def posts(output: str, channel: str) -> list[str]:
    return [body for header, body in frames(output) if header == f"channel #{channel}"]


def dms(output: str, user: str) -> list[str]:
    return [body for header, body in frames(output) if header == f"DM to @{user}"]


def fields(body: str) -> list[tuple[str, str]]:
    """The "  label : value" lines of a rendered reply, padding removed."""
    return [(label.strip(), value.strip()) for label, value in re.findall(r"^  (.+?) : (.*)$", body, re.M)]


def pretty(p: str) -> str:
    return format_pseudonym(p)


@pytest.fixture
def people(svc):
    return pseudonyms(svc)


def test_the_seed_case_from_concern_to_normal_system(svc, clock, console, people):
    received = clock.now()
    everything: list[str] = []

    def say(user: str, *lines: str) -> str:
        out = console.run(user, *lines)
        everything.append(out)
        assert "Traceback" not in out and "error id" not in out, out
        return out

    # --- the admin sets up the unit -------------------------------------------------------------------
    out = console.run("admin", *(f"unit add <@{u}> role={r} org={o}" for u, r, o in MEMBERS), bootstrap=True)
    everything.append(out)
    assert "Empty database: admin was created as admin." in out
    assert private(out).count("is now") == len(MEMBERS)
    assert "You have been added to the coordination unit as mentor (EKP)." in dms(out, "mentor_son")[0]
    assert "@bif · secretariat · BIF" in private(say("admin", "unit members"))

    # --- the concern arrives from social services and the police (intake form, identifiers) ----------
    out = say("sof", "concern",
              "2", "child", "social", "Nørrebro", "rpl115", "1,2", "", "", SUMMARY,  # 2 = high; 1,2 = indicators
              "25+", FATHER_CPR, "15-17", f"{SON_NAME} {SON_BIRTH}", "0-14", DAUGHTER_CPR)
    assert f"Registered as {REF}. Visitation deadline (48 h): 25 Nov 2026, 10:00." in private(out)
    assert (f"New concern {REF} · high · child · visitation deadline 25 Nov 2026, 10:00\n  Subjects : 3\n"
            f"  [Show: case show {REF}]  [Qualify: case qualify {REF}]  [Refer…: case refer {REF}]") \
        in posts(out, "unit")
    for secret in (FATHER_CPR, SON_NAME, SON_BIRTH, DAUGHTER_CPR):
        assert secret not in out  # identifier answers are not even echoed
    say("sof", f'case note {REF} "Henvendelsen kommer fra Socialforvaltningen og politiets '
               f'kriminalpræventive sektion (DKS)."')
    show = private(say("sof", f"case show {REF}"))
    assert [v for label, v in fields(show) if label == "Subject"] == [
        f"{pretty(people['father'])} · 25+ · child · linked", f"{pretty(people['son'])} · 15-17 · child · linked",
        f"{pretty(people['daughter'])} · 0-14 · child · linked"]  # a family: each person with their own track
    assert SUMMARY in show and "extremist statements, intent to travel" in show

    # an unrelated concern from the police, to prove the mentors' need-to-know later
    say("police", "concern new severity=normal track=adult age=18-24 source=police district=Valby basis=rpl115 "
                  'summary="Anden bekymring"')

    # --- qualification: every fixed org checks its own registers, the unit sets the level -------------
    out = say("bif", f"case qualify {REF}")
    assert f"{REF} is being qualified. Level: —." in private(out)
    assert ("Register checks missing", "SSP, VINK, POLICE, KRIM, SOF, EKP") in fields(private(out))
    for n, (user, org, found) in enumerate(CHECKS, 1):
        out = say(user, f"case checked {REF} org={org} found={found}")
        assert f"{org} has checked its registers for {REF}." in private(out)
        missing = ", ".join(o for _, o, _ in CHECKS[n:]) or "none"
        assert ("Register checks missing", missing) in fields(private(out))
    clock.advance(hours=20)  # the home visit with VINK and DKS the next morning
    say("vink", f'case note {REF} "Hjemmebesøg med VINK og DKS: far og søn bekræfter udtalelserne. '
                f'Begge børn mangler skolegang."')
    out = say("bif", f"case qualify {REF} level=pre_emptive")
    assert f"{REF} is being qualified. Level: pre-emptive." in private(out)
    assert ("Register checks missing", "none") in fields(private(out))

    # --- referral within 48 h, with an owner ---------------------------------------------------------
    clock.advance(hours=6)
    out = say("bif", f"case refer {REF} to=SOF owner=<@sof>")
    assert f"{REF} is referred to SOF (owner @sof). Visitation deadline met." in private(out)
    assert f"{REF} referred to SOF · deadline met" in posts(out, "unit")
    assert f"You are the owner of {REF} (referred to SOF). See it with `case show {REF}`." in dms(out, "sof")

    # --- offers: parent coach for the father (consent), mentors for both children -----------------------
    father, son, daughter = (pretty(people[k]) for k in ("father", "son", "daughter"))
    say("sof", f"case offer {REF} subject={father} kind=parent_coach",
        f"case offer {REF} subject={son} kind=mentor", f"case offer {REF} subject={daughter.lower()} kind=mentor")
    out = say("sof", f"case respond {REF} subject={father} kind=parent_coach accepted")
    assert f"{father} is an adult: an offer can only be accepted with consent (Service Act §12b)." in private(out)
    with unit_of_work(svc.engine) as session:
        assert session.exec(select(Offer.state).where(Offer.kind == "parent_coach")).one() == "pending"
        assert session.exec(select(Engagement)).first() is None
    out = say("sof", f"case respond {REF} subject={father} kind=parent_coach accepted consent=yes",
              f"case respond {REF} subject={son} kind=mentor accepted",
              f"case respond {REF} subject={daughter} kind=mentor accepted")
    assert f"{father} accepted parent coach ({REF})." in private(out)
    assert f"{daughter} accepted mentor ({REF})." in private(out)
    out = say("sof", f"case assign {REF} subject={father} kind=parent_coach mentor=<@coach>",
              f"case assign {REF} subject={son} kind=mentor mentor=<@mentor_son>",
              f"case assign {REF} subject={daughter} kind=mentor mentor=<@mentor_girl>")
    assert f"@mentor_son is assigned to {son} (mentor) in {REF}." in private(out)
    assert (f"You are assigned to {daughter} (mentor) in {REF}. Log each session with "
            f"`mentor log {REF} subject={daughter} \"…\"`.") in dms(out, "mentor_girl")
    assert dms(out, "coach")
    assert case_state(svc) == "active"

    # --- weekly sessions; the son misses two meetings, a new home visit -----------------------------------
    for week in range(1, 9):
        clock.advance(days=7)
        say("coach", f'mentor log {REF} subject={father} "Samtale om verdenssyn og globale konflikter"')
        say("mentor_girl", f'mentor log {REF} subject={daughter} "Lektiehjælp og fritidsklub"')
        if week in (2, 3):
            out = say("mentor_son", f'mentor log {REF} subject={son} "Mødte ikke op til aftalt møde (aflyst)"')
        else:
            out = say("mentor_son", f'mentor log {REF} subject={son} "Møde om skole og fritid"')
        assert f"with {son} ({REF}) logged." in private(out)
        if week == 3:
            say("sof", f'case note {REF} "Nyt hjemmebesøg: sønnen ikke hjemme trods aftale med faren."')
        if week == 5:
            say("sof", f'case note {REF} "Sønnen er dukket op igen; har overnattet hos venner."')

    # the mentor sees only a restricted view of the case: their engagement and their own log
    view = private(say("mentor_son", f"case show {REF}"))
    assert f"{REF} — your engagements" in view
    assert f"{son} · mentor · 15-17" in view and "8 sessions" in view
    assert "Mødte ikke op til aftalt møde (aflyst)" in view
    assert SUMMARY not in view and father not in view and daughter not in view and "Lektiehjælp" not in view
    # … and cannot open a case they are not assigned to; the refusal is audited
    out = say("mentor_son", "case show KE-2026-0002")
    assert "You have no access to KE-2026-0002. The attempt has been logged." in private(out)
    with unit_of_work(svc.engine) as session:
        refused = session.exec(select(AuditEntry).where(AuditEntry.actor == "mentor_son",
                                                        AuditEntry.result == "refused")).one()
        assert refused.case_ref == "KE-2026-0002"

    # closing while engagements run is refused
    out = say("bif", f"case close {REF} reason=normal_system")
    assert f"{REF} has active engagements. End them first with `mentor end`." in private(out)
    assert case_state(svc) == "active"

    # --- after nine months the risk is judged over: engagements end, the case goes to the normal system --
    clock.instant = received + timedelta(days=273)
    say("coach", f"mentor end {REF} subject={father} result=completed")
    say("mentor_girl", f"mentor end {REF} subject={daughter} result=completed")
    assert case_state(svc) == "active"
    out = say("mentor_son", f"mentor end {REF} subject={son} result=completed")
    assert f"The mentor engagement of {son} in {REF} has ended." in private(out)
    assert case_state(svc) == "follow_up"
    blocked = say("bif", f"case close {REF} reason=normal_system")  # copenhagen's child procedure is on
    assert "unfinished required steps (1, 3, 4, 9)" in private(blocked)
    for n, who in ((1, "bif"), (3, "bif"), (4, "sof"), (9, "sof")):
        say(who, f"case step {REF} {n} done")
    out = say("bif", f"case close {REF} reason=normal_system", "yes")  # the bot asks first: 5 steps stay open
    assert "5 open steps stay unfinished" in private(out)
    assert f"{REF} is closed (handed to the ordinary system)." in private(out)
    assert f"{REF} closed · handed to the ordinary system" in posts(out, "unit")
    show = private(say("bif", f"case show {REF}"))
    assert f"{REF} · closed" in show
    shown = dict(fields(show))
    assert (shown["Close reason"], shown["Visitation deadline"], shown["Days open"]) == (
        "handed to the ordinary system", "met", "273")
    assert "The audit log is intact" in private(say("admin", "unit audit verify"))

    # --- what the database holds -----------------------------------------------------------------------
    with unit_of_work(svc.engine) as session:
        case = session.exec(select(Case).where(Case.ref == REF)).one()
        assert (case.state, case.close_reason, case.level, case.responsible_org) == \
            ("closed", "normal_system", "pre_emptive", "SOF")
        assert case.deadline_met is True and case.referred_at - case.received_at == timedelta(hours=26)
        assert case.closed_at - case.received_at == timedelta(days=273)
        members = {m.id: m.user_id for m in session.exec(select(Member))}
        assert members[case.owner_id] == "sof" and members[case.reporter_id] == "sof"
        subjects = list(session.exec(select(Subject).where(Subject.case_id == case.id).order_by(col(Subject.id))))
        assert [(s.pseudonym, s.age_band, s.linked) for s in subjects] == [
            (people["father"], "25+", True), (people["son"], "15-17", True), (people["daughter"], "0-14", True)]
        offers = list(session.exec(select(Offer).where(Offer.case_id == case.id).order_by(col(Offer.id))))
        assert [(o.kind, o.state, o.consent) for o in offers] == [
            ("parent_coach", "accepted", True), ("mentor", "accepted", False), ("mentor", "accepted", False)]
        engagements = list(session.exec(select(Engagement).order_by(col(Engagement.id))))
        assert [(members[e.mentor_id], e.state) for e in engagements] == [
            ("coach", "ended"), ("mentor_son", "ended"), ("mentor_girl", "ended")]
        per_mentor = {}
        for entry in session.exec(select(MentorSession)):
            per_mentor[members[entry.author_id]] = per_mentor.get(members[entry.author_id], 0) + 1
        assert per_mentor == {"coach": 8, "mentor_girl": 8, "mentor_son": 8}
        timeline = list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                     .order_by(col(CaseEvent.id))))
    kinds = [e.kind for e in timeline]
    assert kinds[:5] == ["received", "subject_added", "subject_added", "subject_added", "note"]
    assert kinds.count("checked") == 6 and kinds.count("note") == 4 and kinds.count("mentor_session") == 24
    assert kinds.count("offer") == 3 and kinds.count("offer_response") == 3 and kinds.count("assigned") == 3
    assert kinds.count("engagement_ended") == 3 and kinds.count("referred") == 1 and kinds.count("level") == 1
    transitions = [(json.loads(e.data)["from"], json.loads(e.data)["to"]) for e in timeline if e.kind == "state"]
    assert transitions == [("new", "qualifying"), ("qualifying", "referred"), ("referred", "active"),
                           ("active", "follow_up"), ("follow_up", "closed")]
    checked_by = [(members[e.actor_id], json.loads(e.data)["org"]) for e in timeline if e.kind == "checked"]
    assert checked_by == [(user, org) for user, org, _ in CHECKS]
    assert json.loads(next(e.data for e in timeline if e.kind == "referred")) == \
        {"to": "SOF", "owner": "sof", "deadline_met": True}

    # --- nothing private ever went to a channel or a DM ------------------------------------------------
    transcript = "\n".join(everything)
    for header, body in frames(transcript):
        if header != "private":
            for secret in (SUMMARY[:20], "Hjemmebesøg", "Samtale om", "Lektiehjælp", "Mødte ikke", "Sønnen",
                           FATHER_CPR, DAUGHTER_CPR, SON_NAME):
                assert secret not in body, (header, body)
    for secret in (FATHER_CPR, DAUGHTER_CPR, SON_NAME, SON_BIRTH):
        assert secret not in transcript


def case_state(svc) -> str:
    with unit_of_work(svc.engine) as session:
        return session.exec(select(Case.state).where(Case.ref == REF)).one()
