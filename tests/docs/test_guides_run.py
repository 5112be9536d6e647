"""The guides run as written: every command block in docs/guide.da.md, docs/guide.md, docs/meetings.md and
docs/reports.md runs in the order shown, through the console, with the clock frozen where the guide says, as
the user the guide names — and answers what the guide shows. A guide change the product does not do fails here,
and so does a product change the guide does not say. The marks a guide uses: tests/docs/guide_runner.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.console import Console
from commands.router import TABLE
from tests.conftest import make_settings, make_svc
from tests.docs.guide_runner import GuideRun, Step, guide, parse
from tests.scenario.test_danish_words import _forbidden, _readable

ROOT = Path(__file__).resolve().parents[2]
GUIDES = {"guide.da.md": "da", "guide.md": "en", "meetings.md": "en", "reports.md": "en"}


@pytest.mark.parametrize("name", list(GUIDES))
def test_the_guide_runs_as_written(name: str, db_url: str, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = guide(ROOT / "docs" / name)
    assert sum(step.kind == "say" for step in steps) >= 5, f"{name}: no command blocks found"
    svc = make_svc(make_settings(db_url, bot_language=GUIDES[name]), clock)
    try:
        Console(svc, "admin", _Sink(), iter(())).bootstrap()  # the first console user is the admin
        run = GuideRun(svc, "admin", monkeypatch)
        failures = run.run(steps)
    finally:
        svc.engine.dispose()
    assert not failures, f"docs/{name} does not run as written:\n\n" + "\n\n".join(map(str, failures))
    if GUIDES[name] == "da":  # what the Danish walk printed reads as Danish: words, never the profile's codes
        readable = _readable("\n".join(out.getvalue() for _console, out in run.consoles.values()))
        found = {what: m for what, pat in _forbidden().items() if (m := pat.search(readable))}
        shown = {what: readable[max(0, m.start() - 60):m.end() + 20] for what, m in found.items()}
        assert not shown, "\n\n".join(f"{k}: {v!r}" for k, v in shown.items())
        for debris in ("True", "False", "<@", "None"):
            assert not re.search(rf"(?<!\w){re.escape(debris)}(?!\w)", readable), debris


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def test_the_runner_reads_transcripts_switches_and_abridged_replies() -> None:
    text = "\n".join([
        '<!-- guide: at="2026-12-01 10:00" as=bif -->',
        "```", "> case list", "┌─ privat", "│ == Sager …", "│ KE-2026-0001 · ny", "└─", "# som @alice",
        "> case show KE-2026-0001", "```", "", "```text", "not a command", "```",
        "<!-- guide: skip -->", "```", "skipped", "```", "```",
        "case close KE-2026-0001 reason=completed   # a comment", "```"])
    steps = parse(text)
    assert [(s.kind, s.value) for s in steps] == [
        ("at", "2026-12-01 10:00"), ("as", "bif"), ("say", "case list"), ("as", "alice"),
        ("say", "case show KE-2026-0001"), ("say", "case close KE-2026-0001 reason=completed")]
    assert steps[2].expect[0].header == "privat" and steps[2].expect[0].text == "== Sager … KE-2026-0001 · ny"
    assert isinstance(steps[0], Step)


def test_an_abridged_reply_matches_and_a_wrong_one_does_not() -> None:
    from tests.docs.guide_runner import Frame, matches

    printed = [Frame("privat", ["KE-2026-0001 er visiteret til Socialforvaltningen (sagsejer @alice).",
                                "  Mangler registertjek : VINK"]),
               Frame("kanal #enheden (opdateret)", ["Bekymring KE-2026-0001"])]
    assert matches(Frame("privat", ["KE-2026-0001 er visiteret … (sagsejer @alice)."]), printed)
    assert matches(Frame("kanal #enheden", ["Bekymring KE-2026-0001"]), printed)
    assert not matches(Frame("privat", ["KE-2026-0001 er visiteret til Politiet"]), printed)
    assert not matches(Frame("DM til @alice", ["KE-2026-0001"]), printed)


def test_a_guide_that_says_what_the_product_does_not_fails(db_url: str, clock, monkeypatch) -> None:
    """The guide's own opening, with one reply changed the way an outdated guide would be: the run names the
    command and shows what the product printed."""
    text = (ROOT / "docs" / "guide.da.md").read_text(encoding="utf-8").split("## Sagens gang")[0]
    assert "(om 2 dage)" in text
    svc = make_svc(make_settings(db_url, bot_language="da"), clock)
    try:
        Console(svc, "admin", _Sink(), iter(())).bootstrap()
        failures = GuideRun(svc, "admin", monkeypatch).run(parse(text.replace("(om 2 dage)", "(om 3 dage)")))
    finally:
        svc.engine.dispose()
    assert [(f.command, "(om 2 dage)" in f.output) for f in failures] == [("case list", True)]


SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def _inline_commands(text: str) -> list[str]:
    """The commands a guide names in its running text (`case close KE-… reason=…`), outside its blocks."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return SPAN.findall(prose)


@pytest.mark.parametrize("name", list(GUIDES))
def test_every_command_named_in_the_text_exists_with_its_options(name: str) -> None:
    """What the running text names, too, is a command of the product with options it takes: a renamed
    command or option fails here (the blocks run in full above)."""
    paths = {cmd.path: cmd for cmd in TABLE.commands.values()}
    firsts = {path[0] for path in paths}
    wrong: list[str] = []
    seen = 0
    for span in _inline_commands((ROOT / "docs" / name).read_text(encoding="utf-8")):
        words = span.split()
        if words[0] not in firsts or (len(words) == 1 and (words[0],) not in paths):
            continue
        at = next((i for i, w in enumerate(words[:3]) if "|" in w), None)  # `agenda add|remove|move`
        heads = [words] if at is None else [words[:at] + [w] + words[at + 1:] for w in words[at].split("|")]
        for variant in heads:
            k = max((n for n in range(1, 4) if tuple(variant[:n]) in paths), default=0)
            if k == 0:
                if "…" not in variant[:3]:  # `meeting …` stands for a group
                    wrong.append(f"`{span}`: no such command")
                continue
            seen += 1
            usage = paths[tuple(variant[:k])].usage
            for option in re.findall(r"(?<![\w\"])([a-z_]+)=", " ".join(variant[k:])):
                if f"{option}=" not in usage:
                    wrong.append(f"`{span}`: `{option}=` is not an option of `{' '.join(variant[:k])}` ({usage})")
    assert seen >= 5 or name in ("reports.md",), f"{name}: hardly any commands named in the text"
    assert not wrong, f"docs/{name} names what the product does not take:\n" + "\n".join(wrong)


QUOTED = {"guide.da.md": re.compile(r"^\| „(.+?)\" \|", re.MULTILINE),
          "guide.md": re.compile(r'^\| "(.+?)" \|', re.MULTILINE)}


FILLS = {"da": {"ref": "KE-…", "where": "Feltet", "kinds": "et CPR-nummer"},
         "en": {"ref": "KE-…", "where": "The field", "kinds": "a CPR number"}}


def _catalog(lang: str) -> list[str]:
    """The catalog's messages, each placeholder filled as the guide's quotes show it (else `…`)."""
    with (ROOT / "commands" / "locale" / lang / "LC_MESSAGES" / "koordinator.po").open("rb") as po:
        catalog = read_po(po)
    texts = [text for message in catalog if message.id  # a plural entry: each of its forms
             for text in ((message.string,) if isinstance(message.string, str) else message.string)]
    return [re.sub(r"\{(\w+)\}", lambda m: FILLS[lang].get(m.group(1), "…"), str(text)) for text in texts]


@pytest.mark.parametrize("name", list(QUOTED))
def test_every_refusal_the_guide_quotes_is_one_the_bot_gives(name: str) -> None:
    """The table of refusals quotes the bot: each quote (`…` for the rest) is a message of the catalog, its
    placeholders standing for any value."""
    messages = _catalog(GUIDES[name])
    quotes = QUOTED[name].findall((ROOT / "docs" / name).read_text(encoding="utf-8"))
    assert len(quotes) >= 8
    missing = []
    for quote in quotes:
        want = re.compile(r".*?".join(re.escape(p.strip()) for p in quote.replace("`reason=foo`", "…").split("…")))
        if not any(want.search(m) for m in messages):
            missing.append(quote)
    assert not missing, f"docs/{name} quotes refusals the bot does not give: {missing}"
