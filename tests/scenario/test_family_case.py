"""The seed's family case (tests/scenario/family.py) through the console: persons with their own tracks,
relations, authorities and owners; per-person referral; two missed meetings raise the alarm; the son's
severity raised and lowered; the sister re-offered at the 3-month follow-up; courses ending with results;
every disclosure logged, and the reports counting persons where the targets are per person."""

from __future__ import annotations

from datetime import timedelta

from tests.scenario import family
from tests.scenario.seed import REF
from tests.scenario.test_seed_case import dms, posts, private


def test_the_family_case_through_the_console(db_url: str) -> None:
    state, printed = family.run_console(db_url)
    out = "\n".join(printed)
    # three persons, three tracks, their relations, two authorities, each with an owner
    tracks = [(track, relation, org, owner, referred) for _p, _a, track, relation, org, owner, referred
              in state["persons"]]
    assert tracks == [("adult", "parent", "SOF", "sof", True), ("crime", "child", "SSP", "ssp", True),
                      ("child", "sibling", "SOF", "sof", True)]
    # the case was referred at its first referral, within its 48 hours; the severity now as last set
    assert state["case"][:6] == ("follow_up", "high", "adult", "SOF", "sof", True)
    assert state["case"][6] == timedelta(hours=48)  # raised after the referral: the deadline stays
    kinds = [k for k, *_ in state["timeline"]]
    assert kinds.count("referred") == 1 and kinds.count("person_referred") == 2
    assert [d["to"] for k, _a, d, _t in state["timeline"] if k == "severity"] == ["critical", "high"]
    # the sister declined, was offered again after the 3-month follow-up, and accepted
    assert [(o[1], o[2]) for o in state["offers"]] == [("parent_coach", "accepted"), ("mentor", "accepted"),
                                                       ("mentor", "declined"), ("mentor", "accepted")]
    assert [(e[1], e[3]) for e in state["engagements"]] == [("coach", "completed"), ("mentor_son", "completed"),
                                                            ("mentor_girl", "other")]
    assert state["missed"].count(True) == 2
    # disclosures: six register checks, three referrals, one by hand
    hows = [d[4] for d in state["disclosures"]]
    assert hows.count("check") == 6 and hows.count("referral") == 3 and hows.count("manual") == 1
    assert ("crime" in out) is True

    # the family is one agenda item; the alarm reaches the son's owner and the secretariat
    agenda = next(p for p in printed if "M-2027-001" in p and "sibling" in p)
    item = next(line for line in private(agenda).splitlines() if REF in line and "sibling" in line)
    assert "parent" in item and "child" in item and item.count("(") >= 3
    assert "Information disclosed since the last meeting" in private(agenda)
    assert "Til DKS" not in agenda  # a disclosure's note never reaches the agenda
    everything = "\n".join(printed)
    alarm = [d for d in dms(everything, "ssp") if "missed 2 agreed meetings in a row" in d]
    assert len(alarm) == 1 and "M-2027-001" in alarm[0]
    secretariat = [p for p in posts(everything, "secretariat") if "missed 2 agreed meetings in a row" in p]
    assert len(secretariat) == 1 and "Aflyste" not in secretariat[0]
    assert any("severity now critical" in p for p in posts(everything, "unit"))
    reoffer = [d for d in dms(everything, "sof") if "again" in d.lower() and "F-" in d]
    assert reoffer, "the sister's 3-month re-offer reminder reaches her owner"
    assert not any("udrejse" in p for p in posts(everything, "unit"))  # the reason stays on the timeline
    refusals = [p for p in printed if "basis" in private(p) and "nonsense" in private(p)]
    assert refusals and "Traceback" not in refusals[0]
