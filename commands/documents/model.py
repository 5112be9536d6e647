"""What a document says, independent of its format: a title, meta lines, sections of paragraphs, a list or a
table (with the legend that explains its marks right beneath it), charts, small print and the footer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from commands.messages import t

Align = Literal["LEFT", "RIGHT"]


class Ours(str):
    """A paragraph the bot writes itself from its catalog (an authority's address, its web site): the formats keep
    its addresses usable as written. User text is never `Ours`."""


@dataclass
class Table:
    """A headed table, as a committee reads it on paper: `widths` are the columns' shares of the page;
    `legend` explains the table's marks (`<5`) and stands right beneath it on every format."""

    header: list[str]
    rows: list[list[str]]
    widths: tuple[float, ...] = ()
    align: tuple[Align, ...] = ()
    legend: list[str] = field(default_factory=list)


@dataclass
class Chart:
    filename: str  # the PNG's own file beside a Markdown document
    title: str
    png: bytes


@dataclass
class Section:
    """A heading and what stands under it. `lines` is what the chat shows (and the files show as a list where
    there is no table with rows); `empty` says in words that there is nothing; `level` 3 is a subsection."""

    heading: str
    lines: list[str] = field(default_factory=list)
    table: Table | None = None
    empty: str = ""
    paragraphs: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # small print under the section
    level: int = 2

    def __iter__(self) -> Iterator[Any]:  # `for heading, lines in doc.sections`: the chat's view of a section
        return iter((self.heading, self.lines or ([self.empty] if self.empty else [])))

    @property
    def has_table(self) -> bool:
        return self.table is not None and bool(self.table.rows)

    @property
    def is_empty(self) -> bool:
        return not (self.has_table or self.lines or self.paragraphs or self.charts)


@dataclass
class Document:
    title: str
    footer: str
    meta: list[str] = field(default_factory=list)
    sections: list[Section | tuple[str, list[str]]] = field(default_factory=list)
    heading: str = ""  # the files' title, when it differs from the chat title (the date written out)
    pages: str = "{page}"  # the page number as the language writes it: `Side {page} af {pages}`
    landscape: bool = False
    lang: str = "da"  # the words the writers add themselves (CSV headers, "nothing to show")
    notes: list[str] = field(default_factory=list)  # small print at the end, before the footer
    empty: str = ""  # the words for an empty section that has none of its own

    def nothing(self) -> str:
        """The words for a section with nothing in it and no words of its own."""
        return self.empty or t(self.lang, "doc.empty")

    def parts(self) -> list[Section]:
        return [s if isinstance(s, Section) else Section(*s) for s in self.sections]

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.parts() for c in s.charts]
