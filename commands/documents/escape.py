"""One escaping function per output format. User text (a decision, a district, a series name) goes into a file
as text a person reads, never as something that acts: no link, tag, mention, formula or hidden reordering.

- `markdown_text`: CommonMark/GitHub control characters are escaped; `<` only where it could open a tag or an
  autolink, so a table's `<5` stays readable (no `&lt;`); bare URLs and e-mail addresses are not linked.
- `csv_cell`: a cell that a spreadsheet would read as a formula (= + - @, tab, CR) starts with `'`.
- `pdf_text`: no Markdown syntax at all (a PDF is read, not rendered): no backticks or `**`; ≥ and ≤.
Every format drops the invisible characters that reorder or hide text (RTL overrides, zero-width marks)."""

from __future__ import annotations

import re

# Bidirectional overrides and isolates, zero-width characters, the BOM: they change how text reads, not what it says.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x85]+\s*")
WORD_JOINER = "\u2060"


def plain(text: str, *, one_line: bool = True) -> str:
    """Visible text only; `one_line`: line breaks become spaces (a table cell, a list item, a heading)."""
    text = _CONTROL.sub("", _INVISIBLE.sub("", text))
    if one_line:
        return _LINE_BREAKS.sub(" ", text).strip()
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


# Inline markers that GitHub Markdown acts on anywhere in a line.
_MD_INLINE = re.compile(r"([\\`*\[\]|~])")
# `_` only emphasises at a word's edge (`snake_case` stays as it is).
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# `<` that could open an HTML tag, a comment, a declaration or an autolink (`<5`, `< 5` stay as they are).
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?@#])")
# `&` that could begin an entity (`&lt;`, `&#60;`): written as `\&` so it reads as typed.
_MD_ENTITY = re.compile(r"&(?=[A-Za-z#])")
# GitHub's extended autolinks: `www.`, `scheme://`, and e-mail addresses.
_MD_URL = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<=\bwww)(\.)")
_MD_EMAIL = re.compile(r"@(?=\w)")
# Block markers at a line's start: heading, quote, list, rule, numbered list, setext underline, table.
_MD_BLOCK = re.compile(r"^(\s*)(\d+(?=[.)])|)([#>+\-=.)])( ?)")


def markdown_text(text: str, *, one_line: bool = True, block: bool = True, links: bool = False) -> str:
    """Text as Markdown that renders as exactly this text. Backticks are dropped, not escaped: a document reads
    `meeting close M-…` as words (chat's code spans do not belong in a file). `block=False`: the text stands
    where no block starts (a heading's text, a table cell), so `4. Status` needs no escape there. `links`: the
    bot's own text, whose web and e-mail addresses stay as written (a reader copies them)."""
    text = plain(text, one_line=one_line).replace("`", "")
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_TAG.sub(r"\\<", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    if not links:
        text = _MD_URL.sub(lambda m: "\\" + m.group(0), text)
        text = _MD_EMAIL.sub("@" + WORD_JOINER, text)
    if not block:
        return text
    return "\n".join(_MD_BLOCK.sub(_unblock, line) for line in text.split("\n"))


def _unblock(m: re.Match[str]) -> str:
    """A line that would start a block reads as text: `1. ` (a date, `23. nov.`) keeps its look with a no-break
    space (a list marker needs a plain space), anything else gets its backslash."""
    indent, number, mark, space = m.groups()
    if number and space:
        return f"{indent}{number}{mark}\u00a0"
    return f"{indent}{number}\\{mark}{space}"


def markdown_cell(text: str) -> str:
    return markdown_text(text, block=False) or " "


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is prefixed with `'` (OWASP's advice);
    the document's no-break spaces are ordinary spaces (`66,7 %`)."""
    text = _CONTROL.sub("", _INVISIBLE.sub("", text)).replace("\u00a0", " ").replace("\u202f", " ")
    return "'" + text if text.startswith(_FORMULA) else text


_PDF_MARKUP = re.compile(r"`|\*\*|__")


def pdf_text(text: str, *, one_line: bool = False) -> str:
    """Text for a printed page: visible characters, no Markdown syntax, ≥ and ≤ written as such."""
    text = _PDF_MARKUP.sub("", plain(text, one_line=one_line))
    return text.replace(">=", "≥").replace("<=", "≤")
