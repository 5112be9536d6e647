"""What in a reply's text is live: only what this module makes. Everything else is literal.

A use case writes text from the catalogs and fills in what users typed (series names, topics, notes, follow-up
texts, step titles, decisions, display names). None of that may ping a channel, mention someone or carry a
link. So the renderers (bot/escaping.py: one function per chat format) escape *all* text, and make live only
two values, each built here from data the bot itself holds:

- a mention of a member, from the member's platform user id (`mention(member)`), never from a display name;
- a link the bot itself produced (`link(url)`: the calendar feed, the privacy pages);
- and one value that is not live but must reach the reader exactly: `code(text)`, bot-made text an admin copies
  (a permission's name), shown verbatim where literal text would be broken up against links.

Both are marked with characters from Unicode's private use area, which `scrub` removes from everything that
arrives from outside (command text, form values, display names), so user text cannot forge them.
Exports (Markdown, CSV, PDF, the subject access letter) turn the marks into plain words with `plain`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from storage.models import Member

MENTION_OPEN, MENTION_CLOSE = "\ue000", "\ue001"
LINK_OPEN, LINK_LABEL, LINK_CLOSE = "\ue002", "\ue003", "\ue004"
CODE_OPEN, CODE_CLOSE = "\ue005", "\ue006"
MARKS = re.compile("[\ue000-\ue006]")
_TOKEN = re.compile("\ue000([^\ue000-\ue006]*)\ue001|\ue002([^\ue000-\ue006]*)\ue003([^\ue000-\ue006]*)\ue004"
                    "|\ue005([^\ue000-\ue006]*)\ue006")
USER_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"\ue000-\ue006]+")


@dataclass(frozen=True)
class Part:
    kind: Literal["text", "mention", "link", "code"]
    text: str  # the literal text; the user id of a mention; a link's label (may be empty); the code
    url: str = ""


def mention(who: Member | str | None) -> str:
    """A live mention of a member (or of a platform user id the bot holds, e.g. an audit entry's actor)."""
    if who is None:
        return "—"
    user_id = who.user_id if isinstance(who, Member) else str(who)
    if not USER_ID.fullmatch(user_id):
        return scrub(user_id)  # not an id: shown as literal text
    return f"{MENTION_OPEN}{user_id}{MENTION_CLOSE}"


def link(url: str, label: str = "") -> str:
    """A live link, for a URL the bot made (never one a user typed)."""
    if not URL.fullmatch(url):
        return scrub(url)
    return f"{LINK_OPEN}{url}{LINK_LABEL}{scrub(label)}{LINK_CLOSE}"


def code(text: str) -> str:
    """Bot-made text the reader must be able to copy exactly (a permission's name): never user text."""
    return f"{CODE_OPEN}{scrub(text)}{CODE_CLOSE}"


def scrub(text: str) -> str:
    """Text from outside with the marks removed: what a user typed can never become a mention or a link."""
    return MARKS.sub("", text) if text else text


def parts(text: str) -> Iterator[Part]:
    """The text split into literal text, mentions and links (stray marks are dropped)."""
    at = 0
    for match in _TOKEN.finditer(text):
        if match.start() > at:
            yield Part("text", scrub(text[at:match.start()]))
        if match.group(1) is not None:
            yield Part("mention", match.group(1))
        elif match.group(4) is not None:
            yield Part("code", match.group(4))
        else:
            yield Part("link", match.group(3), match.group(2))
        at = match.end()
    if at < len(text):
        yield Part("text", scrub(text[at:]))


def mentioned_ids(text: str) -> set[str]:
    return {p.text for p in parts(text) if p.kind == "mention"}


def render(text: str, literal: Callable[[str], str], mention_as: Callable[[str], str],
           link_as: Callable[[str, str], str], code_as: Callable[[str], str] | None = None) -> str:
    """The one walk every format uses: `literal` escapes text, the other two make the live values; `code_as`
    shows a `code` value (by default as literal text)."""
    out = []
    for p in parts(text):
        if p.kind == "text":
            out.append(literal(p.text))
        elif p.kind == "code":
            out.append((code_as or literal)(p.text))
        elif p.kind == "mention":
            out.append(mention_as(p.text))
        else:
            out.append(link_as(p.url, p.text))
    return "".join(out)


def plain(text: str, names: dict[str, str] | None = None) -> str:
    """For files and logs: a mention as `@name` (or `@id`), a link as its URL; literal text unchanged."""
    names = names or {}
    return render(text, lambda s: s, lambda uid: "@" + (names.get(uid) or uid),
                  lambda url, label: f"{label} ({url})" if label else url, lambda s: s)
