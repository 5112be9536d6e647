"""GET /privacy and GET /terms: the privacy notice and the terms of use the Teams app package links to, served
from the repository's own texts (docs/legal/{privacy,terms}.{da,en}.md) in the reader's language — `?lang=da|en`,
else the browser's Accept-Language, else BOT_LANGUAGE.

The texts are a small Markdown subset (headings, paragraphs, lists, **bold**, `code`) turned into plain HTML
here; the deployment's retention periods and details lifetime are filled in. Public pages: no case data, ever.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from storage.settings import Settings

LEGAL = Path(__file__).resolve().parents[1] / "docs" / "legal"
PAGES = ("privacy", "terms")
LANGUAGES = ("da", "en")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def language(query: str | None, accept: str | None, default: str) -> str:
    """?lang= first, then the first Accept-Language tag we have, then the deployment's language."""
    if query and query.lower()[:2] in LANGUAGES:
        return query.lower()[:2]
    weighted = []
    for n, part in enumerate((accept or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, n, tag.strip().lower()[:2]))
    for _, _, tag in sorted(weighted):
        if tag in LANGUAGES:
            return tag
    return default if default in LANGUAGES else "en"


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", text))


def to_html(markdown: str) -> tuple[str, str]:
    """(title, body HTML) of our Markdown subset."""
    title, out, paragraph, items = "koordinator", [], [], []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            level = min(len(stripped) - len(stripped.lstrip("#")), 3)
            text = stripped.lstrip("#").strip()
            if level == 1:
                title = text
            out.append(f"<h{level}>{_inline(text)}</h{level}>")
        elif stripped.startswith("- "):
            if paragraph:
                flush()
            items.append(stripped[2:])
        elif items and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            paragraph.append(stripped)
    flush()
    return title, "\n".join(out)


def page(name: str, lang: str, settings: Settings, source: Path = LEGAL) -> str:
    """The whole HTML page."""
    text = (source / f"{name}.{lang}.md").read_text(encoding="utf-8")
    values = {"RETENTION_DAYS": settings.retention_days, "RETENTION_DAYS_UNFOUNDED": settings.retention_days_unfounded,
              "DETAILS_MINUTES": max(1, settings.teams_details_ttl // 60)}
    text = re.sub(r"\{([A-Z_]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)
    title, body = to_html(text)
    other = next(x for x in LANGUAGES if x != lang)
    switch = {"da": "English", "en": "Dansk"}[lang]
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:46em;"
            f"margin:2em auto;padding:0 1em;line-height:1.5;color:#1b1b1b}}h1{{color:#1F4E79}}</style></head>"
            f'<body>{body}\n<p><a href="?lang={other}">{switch}</a></p></body></html>\n')
