"""One escaping function per chat format (commands/markup.py says why): Slack mrkdwn, Teams card Markdown and
activity text, the terminal. Each escapes *all* text and makes live only the bot's own mentions and links.

What is neutralised in literal text, in every format: bidirectional overrides, embeddings, isolates and marks
(text cannot reverse what follows it), control characters; bare URLs and domain names are broken with a zero-width
space so no client turns them into links. Per format:

- Slack: `&`, `<`, `>` as entities — so no `<@U…>`, `<!channel>`, `<!here>`, `<#C…>` or `<url|label>` from users;
- Teams: `<` broken (no `<at>…</at>` or HTML), `](` broken (no Markdown links);
- console: only the common part (a terminal shows text as it is); `*emphasis*` reads as plain words, or in bold
  ANSI when the terminal is a TTY — no asterisks left over.

A `code` value (commands/markup.py: bot-made text an admin copies, such as a permission's name) keeps its dots and
slashes as they are: Slack shows it as inline code, Teams and the terminal as plain text.

Formatting (`*bold*`, `_italic_`) in user text stays formatting: it is cosmetic and cannot act.
(.ics has its own, RFC 5545's, in commands/time/ics.py; Markdown, CSV and PDF belong to the document writers.)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from commands.markup import render, scrub

ZWSP = "\u200b"
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WWW = re.compile(r"(?i)www\.")
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")  # a dot between a letter or digit and a letter
_MAILTO = re.compile(r"(?i)mailto:")


def _inert(text: str) -> str:
    """The part every format shares: no direction tricks, no control characters, no bare links."""
    text = _CONTROL.sub("", _BIDI.sub("", scrub(text).replace("\r\n", "\n").replace("\r", "\n")))
    text = text.replace("://", ":" + ZWSP + "//")
    text = _MAILTO.sub(lambda m: m.group(0)[:-1] + ZWSP + ":", text)
    text = _WWW.sub(lambda m: m.group(0)[:-1] + ZWSP + ".", text)
    return _DOMAIN_DOT.sub("." + ZWSP, text)


def _verbatim(text: str) -> str:
    """A `code` value: bot-made, so nothing to break up against links; still no direction tricks or controls."""
    return _CONTROL.sub("", _BIDI.sub("", scrub(text)))


def slack_literal(text: str) -> str:
    return _inert(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def slack(text: str) -> str:
    """Slack mrkdwn (messages, blocks, App Home, file captions, fallback text)."""
    return render(text, slack_literal, lambda uid: f"<@{uid}>",
                  lambda url, label: f"<{_slack_url(url)}|{slack_literal(label)}>" if label else f"<{_slack_url(url)}>",
                  lambda code: "`" + _verbatim(code).replace("`", "'").replace("&", "&amp;").replace("<", "&lt;")
                  .replace(">", "&gt;") + "`")


def teams_literal(text: str) -> str:
    return _inert(text).replace("<", "<" + ZWSP).replace("](", "]" + ZWSP + "(")


def teams(text: str, mention_as: Callable[[str], str] | None = None) -> str:
    """Adaptive Card TextBlock Markdown and activity text; `mention_as(user_id)` makes a Teams mention
    (`<at>name</at>` plus its entity, bot/teams/render.py); without it a mention reads `@id`."""
    def at(uid: str) -> str:
        return mention_as(uid) if mention_as is not None else "@" + uid

    def md_link(url: str, label: str) -> str:
        shown = teams_literal(label).replace("]", ")") if label else url
        return f"[{shown}]({url.replace(')', '%29').replace(' ', '%20')})"

    return render(text, teams_literal, at, md_link, lambda code: _verbatim(code).replace("<", "<" + ZWSP))


def console_literal(text: str) -> str:
    return _CONTROL.sub("", _BIDI.sub("", scrub(text).replace("\r\n", "\n").replace("\r", "\n")))


_EMPHASIS = re.compile(r"(?<![\w*])\*([^\s*](?:[^*\n]*?[^\s*])?)\*(?![\w*])")
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def console(text: str, names: dict[str, str] | None = None, bold: bool = False) -> str:
    """Terminal text: a mention reads `@id` (or `@name`), a link its URL; no escape sequences from users.
    `*emphasis*` (chat Markdown) loses its asterisks: plain words, or bold when `bold` (a TTY)."""
    names = names or {}
    out = render(text, console_literal, lambda uid: "@" + (names.get(uid) or uid),
                 lambda url, label: f"{console_literal(label)} ({url})" if label else url, _verbatim)
    return _EMPHASIS.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}" if bold else m.group(1), out)


def plain(text: str) -> str:
    """Plain text objects that no client parses for mentions (Slack plain_text, titles): a mention reads
    `@id`, a link its URL, and bare links are broken like everywhere else."""
    return render(text, _inert, lambda uid: "@" + uid, lambda url, label: f"{_inert(label)} {url}" if label else url,
                  _verbatim)
