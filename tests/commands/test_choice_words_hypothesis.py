"""Property tests: any spelling a reader might type of a choice resolves to its code; every simple weekly
rhythm the series list can say reads back to the same rule."""

from __future__ import annotations

from datetime import time

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.meetings import rhythm
from commands.meetings.changes import rule_words
from commands.messages import CATALOGS
from commands.parsing import resolve
from tests.meetings.mtkit import CPH

KINDS = ("severity", "track", "age", "close_reason", "source", "basis", "role", "level", "offer_kind")


def _spelled(word: str, draw_case: list[bool]) -> str:
    folded = word.replace("ø", "o").replace("å", "a").replace("æ", "ae")
    return "".join(c.upper() if up else c for c, up in zip(folded, draw_case + [False] * len(folded), strict=False))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KINDS), st.data())
def test_a_choice_typed_as_its_code_or_word_in_any_language_and_case_resolves_to_the_code(kind, data) -> None:
    codes = tuple(CATALOGS["da"].words[kind])
    code = data.draw(st.sampled_from(codes))
    lang = data.draw(st.sampled_from(tuple(CATALOGS)))
    word = data.draw(st.sampled_from([code, CATALOGS[lang].words[kind][code]]))
    cases = data.draw(st.lists(st.booleans(), max_size=len(word)))
    typed = _spelled(word, cases)
    words = {CATALOGS[la].words[kind][c].casefold() for la in CATALOGS for c in codes if c != code}
    if word.casefold() in words:  # one code's word is another's (e.g. "normal"): ambiguous by nature
        return
    assert resolve(codes, typed, "x", kind) == code


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(("da", "en")), st.sets(st.sampled_from(rhythm.DAYS), min_size=1, max_size=7),
       st.integers(1, 12), st.integers(0, 23).filter(lambda h: h != 2), st.sampled_from((0, 15, 30, 45)))
def test_every_weekly_rhythm_the_bot_says_reads_back_to_its_rule(lang, days, interval, hour, minute) -> None:
    order = sorted(days, key=rhythm.DAYS.index)
    rule = "FREQ=WEEKLY" + (f";INTERVAL={interval}" if interval > 1 else "") + f";BYDAY={','.join(order)}"
    words = rule_words(lang, rule, time(hour, minute), CPH)
    assert rhythm.parse(words) == (rule, f"{hour:02d}:{minute:02d}"), words
