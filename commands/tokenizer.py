"""The command language's words: plain words, key=value options, "quoted text" and platform mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“", "«": "»", "'": "'", "‘": "’", "’": "’"}
MENTION = re.compile(r"<@([A-Za-z0-9._:\-]+)(?:\|[^>]*)?>")
KEY = re.compile(r"[a-z][a-z_]*$")
GUID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


class TokenizeError(ValueError):
    """The text cannot be split into words (e.g. an unclosed quote). `code` names the problem."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Token:
    kind: Literal["word", "text", "option", "mention"]
    value: str
    key: str | None = None


@dataclass
class Args:
    words: list[str] = field(default_factory=list)  # bare words (after the command path)
    texts: list[str] = field(default_factory=list)  # "quoted text"
    options: dict[str, str] = field(default_factory=dict)
    mentions: list[str] = field(default_factory=list)


def user_ref(value: str) -> str:
    """`<@U123>`, `<@U123|ann>`, `@U123` and `U123` all name platform user U123.

    A GUID (a Teams user's Entra object id) is compared in lower case, the way Teams sends it.
    """
    value = value.strip()
    match = MENTION.fullmatch(value)
    if match:
        value = match.group(1)
    elif value.startswith("@"):
        value = value[1:]
    return value.lower() if GUID.fullmatch(value) else value


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    closing = QUOTES[text[i]]
    alternatives = {closing, '"'} if text[i] != "'" else {"'"}
    if text[i] in "“”„":
        alternatives |= {"“", "”"}
    out: list[str] = []
    i += 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in alternatives | {"\\"}:
            out.append(text[i + 1])
            i += 2
            continue
        if ch in alternatives:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise TokenizeError("unclosed_quote")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in QUOTES and text[i] not in "'’" or (text[i] == "'" and (i == 0 or text[i - 1].isspace())):
            value, i = _read_quoted(text, i)
            tokens.append(Token("text", value))
            continue
        mention = MENTION.match(text, i)  # whole, even when the display name holds spaces or '='
        if mention:
            tokens.append(Token("mention", mention.group(1)))
            i = mention.end()
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != "=":
            i += 1
        word = text[start:i]
        if i < n and text[i] == "=" and word:
            key = word.lower()
            i += 1
            mention = MENTION.match(text, i)
            if mention:
                value, i = mention.group(), mention.end()
            elif i < n and text[i] in QUOTES:
                value, i = _read_quoted(text, i)
            else:
                vstart = i
                while i < n and not text[i].isspace():
                    i += 1
                value = text[vstart:i]
            if not KEY.match(key):
                raise TokenizeError("bad_option")
            tokens.append(Token("option", value, key))
            continue
        while i < n and not text[i].isspace():  # a word with '=' at its start, e.g. "=x"
            i += 1
        word = text[start:i]
        if MENTION.fullmatch(word):
            tokens.append(Token("mention", user_ref(word)))
        else:
            tokens.append(Token("word", word))
    return tokens


def to_args(tokens: list[Token]) -> Args:
    args = Args()
    for tok in tokens:
        if tok.kind == "option":
            assert tok.key is not None
            if tok.key in args.options:
                raise TokenizeError("duplicate_option")
            args.options[tok.key] = tok.value
        elif tok.kind == "text":
            args.texts.append(tok.value)
        elif tok.kind == "mention":
            args.mentions.append(tok.value)
        else:
            args.words.append(tok.value)
    return args
