"""Members by name (commands/members/people.py): what `owner="…"`, `mentor="…"`, `assign="…"` and the
people pickers share."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from commands import markup
from commands.members import people
from commands.reply import Invocation
from commands.router import dispatch
from storage.db import unit_of_work
from storage.models import Member


def _add(svc, members: dict[str, str]) -> None:  # noqa: ANN001
    with unit_of_work(svc.engine) as session:
        for user_id, name in members.items():
            session.add(Member(user_id=user_id, platform="console", display_name=name, role="member", org="SOF",
                               created_at=svc.clock.now()))


def test_a_name_finds_its_member_whatever_the_case_or_accents(svc) -> None:  # noqa: ANN001
    _add(svc, {"soren": "Søren Ærø", "anna": "Anna Andersen", "annab": "Anna Berg", "ann": "Ann"})
    with unit_of_work(svc.engine) as session:
        def who(text: str) -> list[str]:
            return [m.user_id for m in people.by_name(session, text)]

        assert who("søren ærø") == ["soren"] and who("SOREN AERO") == ["soren"] and who("@Søren") == ["soren"]
        assert sorted(who("anna")) == ["anna", "annab"]  # a first name two members share: the caller asks
        assert who("Anna  Berg") == ["annab"] and who("ann") == ["ann"]  # a full name wins over a first name
        assert who("nobody") == [] and who("") == []
        assert [n for _, n in people.search(session, "an")][:3] == ["Ann", "Anna Andersen", "Anna Berg"]


def test_the_typed_referral_refuses_an_ambiguous_name_and_takes_a_whole_one(svc) -> None:  # noqa: ANN001
    svc = dataclasses.replace(svc, settings=svc.settings.model_copy(update={"admin_users": ("boss",)}))

    def run(text: str) -> str:
        return dispatch(svc, Invocation(user_id="boss", text=text, platform="console")).text

    run("unit members")  # the first admin joins
    _add(svc, {"u-1": "Anna Andersen", "u-2": "Anna Berg"})
    run('concern new severity=high track=child age=15-17 source=school district=Valby basis=rpl115 summary="x"')
    run("case qualify KE-2026-0001 level=preventive")
    assert "Anna Andersen, Anna Berg" in run("case refer KE-2026-0001 to=SOF owner=anna")
    assert f"owner {markup.mention('u-2')}" in run('case refer KE-2026-0001 to=SOF owner="anna berg"')  # a value


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_normalising_a_name_is_stable(text: str) -> None:
    normal = people._norm(text)
    assert normal == people._norm(normal)  # normalising is stable
    assert "  " not in normal and normal == normal.strip()
