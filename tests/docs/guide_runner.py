"""Runs a Markdown guide as written: its command blocks, in order, through the console, with a frozen clock.

How a guide marks what runs (it stays readable for a person; see docs/guide.da.md):

- Every fenced block without an info string runs (a block fenced as ```text, ```yaml … does not).
- In a block whose lines start with `> `, each `> ` line is a command, and the framed replies under it
  (`┌─ privat` / `│ …` / `└─`) are what it must answer: each shown frame is found among the frames the command
  printed (posts and DMs included), with the same heading, its text contained in the printed text with
  whitespace normalised; `…` in the guide stands for any text (an abridged reply).
- In any other block every line is a command. A trailing `  # comment` is dropped, in both kinds.
- A command without a shown reply must succeed (no refusal, no usage error); a command with a shown reply is
  judged by the reply alone (the guide may show a refusal on purpose).
- `# som @alice` / `# as @alice` (a comment line in a block) switches to that user, as the console's `--as`.
- An HTML comment `<!-- guide: at="2026-12-01 10:00" as=bif -->` (invisible on the rendered page) sets the
  clock (Copenhagen time) and/or the user for what follows; `<!-- guide: skip -->` skips the next block.
- `<!-- guide: person=7KQ2-M9XD case=KE-2026-0001 -->` (one per comment): the guide's example pseudonym
  stands for the next person of that case not yet named (by the order they were added; a person added after
  the comment when there is none yet) — a pseudonym is random or keyed, so the guide cannot know it; the
  runner puts the real one into the commands and the replies it compares.
- `<!-- guide: followup=F-12 case=KE-2026-0001 -->`: the guide's follow-up number stands for the newest
  follow-up of that case when the guide first uses it (the one the next command makes).
- A `> ja` line answers the question before it, as in the console.
- A command that opens a form is answered by the `? Label: answer` lines under it, one per question the
  console asks, in order (an empty answer keeps the field's value, as Enter does; the answer is what follows
  the last ": ", so it holds none). The console's question must begin with the label shown; the frames under
  the answers are what the submitted form answers.
- `<!-- guide: skip (why) -->`: the words in brackets are for the reader of the Markdown.

Writing a guide: `GUIDE_SHOW=1 python -m pytest -s tests/docs/test_guides_run.py -k guide.da` prints every
command's full reply, to copy (and abridge with `…`) into the guide.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select

import bot.console as console_module
from bot.console import Console
from commands.context import Services
from commands.reply import Reply
from storage.db import unit_of_work
from storage.models import Case, FollowUp, Subject
from storage.pseudonym import format_pseudonym

CPH = ZoneInfo("Europe/Copenhagen")
FENCE = re.compile(r"^```(\S*)\s*$")
DIRECTIVE = re.compile(r"<!--\s*guide:(.*?)-->")
OPTION = re.compile(r'(\w+)(?:=("[^"]*"|\S+))?')
SWITCH = re.compile(r"^#\s*(?:som|as)\s+@(\S+)\s*$")


@dataclass
class Frame:
    header: str
    body: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.body).split())


@dataclass
class Step:
    kind: str  # "say" (a command), "as" (switch user), "at" (set the clock), "person" (bind a pseudonym)
    value: str
    line: int  # 1-based line in the guide
    expect: list[Frame] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # a form's questions and answers


def parse(text: str) -> list[Step]:
    """The guide's steps, in order."""
    steps: list[Step] = []
    lines = text.splitlines()
    skip_next = False
    i = 0
    while i < len(lines):
        line = lines[i]
        for directive in DIRECTIVE.findall(line):
            options = {k: v.strip('"') for k, v in OPTION.findall(re.sub(r"\(.*?\)", "", directive))}
            if "person" in options:
                steps.append(Step("person", f"{options.pop('person')} {options.pop('case')}", i + 1))
            if "followup" in options:
                steps.append(Step("followup", f"{options.pop('followup')} {options.pop('case')}", i + 1))
            for key, value in options.items():  # (a reason) is for readers
                if key == "skip":
                    skip_next = True
                elif key == "at":
                    steps.append(Step("at", value, i + 1))
                elif key == "as":
                    steps.append(Step("as", value.lstrip("@"), i + 1))
                else:
                    raise ValueError(f"line {i + 1}: unknown guide directive {key!r}")
        fence = FENCE.match(line)
        if not fence:
            i += 1
            continue
        start, i = i + 1, i + 1
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        block, first = lines[start:i], start + 1
        i += 1
        if fence.group(1) or skip_next:
            skip_next = False
            continue
        steps.extend(_block(block, first))
    return steps


def _block(block: list[str], first: int) -> Iterator[Step]:
    transcript = any(ln.startswith("> ") for ln in block)
    step: Step | None = None
    frame: Frame | None = None
    for n, raw in enumerate(block, first):
        line = raw.rstrip()
        switch = SWITCH.match(line.lstrip("> ").strip()) if line.lstrip("> ").startswith("#") else None
        if switch:
            if step is not None:
                yield step
                step = None
            yield Step("as", switch.group(1), n)
            continue
        if transcript:
            if line.startswith("> "):
                if step is not None:
                    yield step
                step = Step("say", re.sub(r"\s+#\s.*$", "", line[2:]).strip(), n)
            elif line.startswith("? ") and step is not None:
                asked = line[2:].strip()  # `? Person 1: aldersgruppe: 15-17`: the answer after the last ": "
                label, _, answer = (asked[:-1], "", "") if asked.endswith(":") else asked.rpartition(": ")
                step.answers.append((label.strip(), answer.strip()))
            elif line.startswith("┌─"):
                frame = Frame(line[2:].strip())
            elif line.startswith("│") and frame is not None:
                frame.body.append(line[1:])
            elif line.startswith("└─") and frame is not None:
                if step is None:
                    raise ValueError(f"line {n}: a reply before any command")
                step.expect.append(frame)
                frame = None
            continue
        command = re.sub(r"\s+#\s.*$", "", line).strip()
        if command and not command.startswith("#"):
            yield Step("say", command, n)
    if step is not None:
        yield step


def frames(output: str) -> list[Frame]:
    found: list[Frame] = []
    current: Frame | None = None
    for line in output.splitlines():
        if line.startswith("┌─"):
            current = Frame(line[2:].strip())
            found.append(current)
        elif line.startswith("│") and current is not None:
            current.body.append(line[1:])
        elif line.startswith("└─"):
            current = None
    return found


def pattern(shown: str) -> re.Pattern[str]:
    parts = [re.escape(part.strip()) for part in shown.split("…")]
    return re.compile(r"\s*.*?\s*".join(parts), re.DOTALL)


def matches(expected: Frame, printed: list[Frame]) -> bool:
    want = pattern(expected.text)
    return any(got.header.startswith(expected.header) and want.search(got.text) for got in printed)


@dataclass
class Failure:
    line: int
    command: str
    problem: str
    output: str

    def __str__(self) -> str:
        return f"line {self.line}: `{self.command}` — {self.problem}\n{self.output}"


class GuideRun:
    """One guide's run: one database, one clock, one console per user (each keeps its pending question)."""

    def __init__(self, svc: Services, user: str, monkeypatch) -> None:  # noqa: ANN001
        self.svc, self.user = svc, user
        self.consoles: dict[str, tuple[Console, io.StringIO]] = {}
        self.replies: list[Reply] = []
        self.people: dict[str, str] = {}  # the guide's pseudonym → the real one
        self.unbound: dict[str, str] = {}  # the guide's pseudonym → its case, until it is first used
        self.followups: dict[str, str] = {}  # the guide's follow-up number → its case, until it is first used
        real = console_module.dispatch

        def recording(svc: Services, inv):  # noqa: ANN001, ANN202
            reply = real(svc, inv)
            self.replies.append(reply)
            return reply

        monkeypatch.setattr(console_module, "dispatch", recording)

    def console(self) -> tuple[Console, io.StringIO]:
        if self.user not in self.consoles:
            out = io.StringIO()
            self.consoles[self.user] = (Console(self.svc, self.user, out, iter(())), out)
        return self.consoles[self.user]

    def say(self, text: str, answers: list[tuple[str, str]] = ()) -> tuple[str, list[Reply], list[str]]:  # type: ignore[assignment]
        """The command, and a form it opens answered as the guide shows; what was printed, the replies, and
        where the form's questions and the guide's answers part ways."""
        console, out = self.console()
        start, replies = out.tell(), len(self.replies)
        wrong: list[str] = []

        def answering():  # noqa: ANN202 — the console reads a form's answers from its lines
            mark = start
            for label, answer in answers:
                text = out.getvalue()  # the question: the last line printed since the last answer (a secret
                asked, mark = text[mark:].rsplit("\n", 1)[-1], len(text)  # answer is not echoed)
                if not asked.startswith(label):
                    wrong.append(f"the form asks '{asked.strip()}' where the guide answers '{label}'")
                yield answer
            asked = out.getvalue().rsplit("\n", 1)[-1].strip()
            if asked:
                wrong.append(f"the form asks '{asked}', which the guide does not answer")

        console.lines = answering()  # a form the guide does not answer is left unanswered (cancelled)
        console.handle(text)
        if answers and not any(r.form is not None for r in self.replies[replies:]):
            wrong.append("the guide answers a form, and the command opened none")
        out.seek(start)
        printed = out.read()
        return printed, self.replies[replies:], wrong

    def bind(self, example: str, wanted: bool = True) -> None:
        real = self.person(self.unbound[example], wanted)
        if real is not None:
            self.people[example] = real
            del self.unbound[example]

    def real(self, text: str) -> str:
        for example in [e for e in self.unbound if e in text]:
            self.bind(example)
        for example in [e for e in self.followups if re.search(rf"{re.escape(e)}(?!\d)", text)]:
            self.people[example] = self.newest_followup(self.followups.pop(example))
        for example, real in self.people.items():
            text = re.sub(rf"(?<![\w-]){re.escape(example)}(?![\w-])", real, text)
        return text

    def newest_followup(self, ref: str) -> str:
        with unit_of_work(self.svc.engine) as session:
            found = session.exec(select(FollowUp.id).join(Case, Case.id == FollowUp.case_id)
                                 .where(Case.ref == ref).order_by(col(FollowUp.id).desc())).first()
        assert found is not None, f"{ref} has no follow-up to stand for the guide's number"
        return f"F-{found}"

    def person(self, ref: str, wanted: bool = True) -> str | None:
        with unit_of_work(self.svc.engine) as session:
            found = session.exec(select(Subject.pseudonym).join(Case, Case.id == Subject.case_id)
                                 .where(Case.ref == ref).order_by(Subject.id)).all()
        free = [format_pseudonym(p) for p in found if format_pseudonym(p) not in self.people.values()]
        assert free or not wanted, f"{ref} has no person left to stand for the guide's pseudonym"
        return free[0] if free else None

    def run(self, steps: list[Step]) -> list[Failure]:
        failures: list[Failure] = []
        for step in steps:
            if step.kind == "as":
                self.user = step.value
                continue
            if step.kind == "at":
                self.svc.clock.instant = datetime.fromisoformat(step.value).replace(tzinfo=CPH)  # type: ignore[attr-defined]
                continue
            if step.kind == "followup":
                example, ref = step.value.split()
                self.followups[example] = ref
                continue
            if step.kind == "person":
                example, ref = step.value.split()
                self.unbound[example] = ref
                self.bind(example, wanted=False)  # the person is there already, or is added next
                continue
            printed, replies, wrong = self.say(self.real(step.value), step.answers)
            failures += [Failure(step.line, step.value, problem, printed) for problem in wrong]
            if os.environ.get("GUIDE_SHOW"):  # to write a guide: every command's printed reply
                print(f"\n[line {step.line}] > {self.real(step.value)}\n{printed}")
            if "Traceback" in printed:
                failures.append(Failure(step.line, step.value, "a traceback", printed))
                continue
            if not step.expect:
                refused = [r for r in replies if not r.ok]
                if refused:
                    failures.append(Failure(step.line, step.value, "refused, and the guide shows no refusal",
                                            printed))
                continue
            printed_frames = frames(printed)
            for shown in step.expect:
                expected = Frame(shown.header, [self.real(line) for line in shown.body])
                if not matches(expected, printed_frames):
                    failures.append(Failure(step.line, step.value,
                                            f"no '{expected.header}' reply containing: {expected.text}", printed))
        return failures


def guide(path: Path) -> list[Step]:
    return parse(path.read_text(encoding="utf-8"))
