"""The Danish interface reads as Danish: the seed scenario's every reply, channel post and DM, rendered in
Danish, shows the words of the code catalog, never a raw code where a word exists."""

from __future__ import annotations

import re

from commands.messages import choice, kinds, label
from storage.clock import FixedClock
from tests.conftest import ConsoleDriver, make_settings, make_svc
from tests.scenario.seed import INTAKE, MEMBERS, REF, START, Clock, Intake, _intake_fields, pseudonyms, script

NOT_CODES = {"event_key"}  # the timeline's keys are labels, not codes
DANISH_TOO = {"social"}  # codes that are Danish words as well (the seed's summary says "social bekymring")


def _uid(name: str) -> str:
    return f"usr_{name}"


def _forbidden() -> dict[str, re.Pattern[str]]:
    """Every code whose Danish word differs from it, as a whole-word pattern."""
    found: dict[str, re.Pattern[str]] = {}
    for kind, codes in kinds().items():
        if kind in NOT_CODES:
            continue
        for code in codes:
            word = label("da", kind, code)
            if word.lower() == code.lower() or word.startswith(code + " ") or code in ("True", "False") \
                    or code in DANISH_TOO:
                continue
            found[f"{kind}:{code}"] = re.compile(rf"(?<![\w@-]){re.escape(code)}(?![\w-])")
    return found


def _readable(output: str) -> str:
    """What a reader reads as prose: not the echoed commands, not `code spans` (the command language a reply
    teaches), not button commands, not mentions."""
    lines = [ln.split("]: ")[0] if "[valg" in ln else ln  # a form prompt, then the code typed as answer
             for ln in output.splitlines() if not ln.startswith("> ")]
    text = "\n".join(lines)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"== [a-z ]+ ==", "", text)  # `help case close` is titled with the command
    for kind, codes in kinds().items():  # help lists a choice as the code a user types with its word
        for code in codes:
            text = text.replace(choice("da", kind, code) + ",", ",").replace(choice("da", kind, code) + "\n", "\n")
    text = re.sub(r"\[([^\]:]*): [^\]]*\]", r"[\1]", text)
    return re.sub(r"<@[^>]+>|@usr_\w+|usr_\w+", "", text)


def test_every_danish_reply_of_the_seed_scenario_shows_words_not_codes(db_url):
    svc = make_svc(make_settings(db_url, bot_language="da"), FixedClock(START))
    clock: FixedClock = svc.clock  # type: ignore[assignment]
    console = ConsoleDriver(svc)
    outputs = [console.run(_uid("admin"), bootstrap=True)]
    order = [f.name for f in _intake_fields(svc)]
    views = [f"case show {REF}", "case list all", "followup list all", "unit members", "help case close",
             "help concern new"]
    for step in script(lambda name: f"<@{_uid(name)}>", pseudonyms(svc)):
        if isinstance(step, Clock):
            step.apply(clock)
        elif isinstance(step, Intake):
            outputs.append(console.run(_uid(step.actor), "concern", *(INTAKE.get(n, "") for n in order)))
        else:
            outputs.append(console.run(_uid(step.actor), step.text))
        if "mentor log" not in getattr(step, "text", ""):
            outputs.append(console.run(_uid("bif"), *views[:3]))
    outputs.append(console.run(_uid("admin"), *views))
    text = "\n".join(outputs)
    assert "Registreret som KE-2026-0001" in text and "Traceback" not in text and "fejl-id" not in text
    assert f"{REF} er lukket (overdraget til det almindelige system)." in text
    assert "Alvor" in text and ": høj" in text and "Spor" in text and ": barn" in text
    assert "child (barn)" in console.run(_uid("admin"), "help concern new")
    readable = _readable(text)
    raw = {what: pat.search(readable) for what, pat in _forbidden().items()}
    shown = {what: readable[max(0, m.start() - 60):m.end() + 20] for what, m in raw.items() if m}
    assert not shown, "\n\n".join(f"{k}: {v!r}" for k, v in shown.items())
    assert {m for _u, _r, m in MEMBERS}  # the members' orgs were all shown as words above
    svc.engine.dispose()
