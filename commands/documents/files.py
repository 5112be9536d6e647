"""A document as the files a reply carries, and the words every document shares (footer, page numbers)."""

from __future__ import annotations

from collections.abc import Iterable

from commands.documents.model import Document
from commands.messages import t
from commands.reply import Attachment
from storage.profile import Profile


def footer_text(lang: str, profile: Profile | None = None) -> str:
    """The purpose-limitation footer: the unit profile's legal bases' footer texts, else the catalog's."""
    return (profile.footer(lang) if profile is not None else None) or t(lang, "export.footer")


def page_text(lang: str) -> str:
    return t(lang, "export.page")


def attachments(doc: Document, stem: str, again: str = "", formats: Iterable[str] = ("md", "pdf")
                ) -> list[Attachment]:
    """`stem` names the file by a meeting id or a year only: nothing about a case goes into a file name.
    `again` is the command that shows the document privately; with `format=` it gives each file again.
    Markdown comes with its charts as PNG files beside it."""
    out = []
    for fmt in formats:
        command = f"{again} format={fmt}" if again else ""
        if fmt == "md":
            from commands.documents.markdown import markdown

            out.append(Attachment(f"{stem}.md", "text/markdown", markdown(doc), command))
            out += [Attachment(c.filename, "image/png", c.png) for c in doc.charts]
        elif fmt == "pdf":
            from commands.documents.pdf import pdf

            out.append(Attachment(f"{stem}.pdf", "application/pdf", pdf(doc), command))
        elif fmt == "csv":
            from commands.documents.csvfile import csv_bytes

            out.append(Attachment(f"{stem}.csv", "text/csv", csv_bytes(doc), command))
    return out
