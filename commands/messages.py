"""The one message catalog: every user-facing string, read from gettext catalogs.

The texts live in `commands/locale/<lang>/LC_MESSAGES/koordinator.po`, one file a language, the source of truth
(edited with any .po editor; no compile step: the files are read here at import with Babel's .po reader).
A reply's text is an entry without context: msgid = the key (`concern.created`), msgstr = the text, with
`{name}` placeholders filled by `t`. The words for the command language's codes are entries with context:
msgctxt = the kind (`track`), msgid = the code (`child`), msgstr = the word (`barn`).

Every directory under `commands/locale/` with a `koordinator.po` is a language (`LANGS`, Danish first); an
entry missing from a language, empty or marked fuzzy, is taken from Danish, the default."""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.pofile import read_po

if TYPE_CHECKING:
    from storage.profile import Profile

DOMAIN = "koordinator"
LOCALE_DIR = Path(__file__).with_name("locale")
DEFAULT_LANG = "da"


@dataclass(frozen=True)
class Texts:
    """One language's catalog."""

    messages: dict[str, str] = field(default_factory=dict)  # key → text
    words: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → code → word
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key → the language's plural forms
    plural: Callable[[int], int] = field(default=lambda n: int(n != 1))  # the catalog's Plural-Forms formula


def read(path: Path) -> Texts:
    """One .po file; untranslated (empty) and fuzzy entries are left out, so the default language shows."""
    with path.open("rb") as fileobj:
        catalog = read_po(fileobj, domain=DOMAIN)
    texts = Texts(plural=gettext.c2py(catalog.plural_expr))
    for message in catalog:
        if isinstance(message.id, tuple):  # msgid + msgid_plural: the forms `tn` picks from by a count
            forms = tuple(message.string)
            if message.id[0] and all(forms) and not message.fuzzy:
                texts.plurals[message.id[0]] = forms
            continue
        if not message.id or not isinstance(message.string, str) or not message.string or message.fuzzy:
            continue
        if message.context is None:
            texts.messages[message.id] = message.string
        else:
            texts.words.setdefault(message.context, {})[message.id] = message.string
    return texts


def load(directory: Path) -> dict[str, Texts]:
    """Every `<lang>/LC_MESSAGES/koordinator.po` under `directory`, the default language first."""
    found = {path.parents[1].name: path for path in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    order = sorted(found, key=lambda lang: (lang != DEFAULT_LANG, lang))
    return {lang: read(found[lang]) for lang in order}


def _with_fallback(catalogs: dict[str, Texts]) -> dict[str, Texts]:
    """Each language's catalog completed from the default language's: a lookup is then one dict access."""
    default = catalogs.get(DEFAULT_LANG, Texts())
    return {lang: Texts({**default.messages, **texts.messages},
                        {kind: {**default.words.get(kind, {}), **texts.words.get(kind, {})}
                         for kind in {*default.words, *texts.words}},
                        {**{k: v for k, v in default.plurals.items() if k not in texts.plurals}, **texts.plurals},
                        texts.plural)
            for lang, texts in catalogs.items()}


CATALOGS: dict[str, Texts] = _with_fallback(load(LOCALE_DIR))
LANGS: tuple[str, ...] = tuple(CATALOGS)


def use(directory: Path) -> None:
    """Read the catalogs from another directory (a test's own catalogs); `use(LOCALE_DIR)` goes back."""
    global CATALOGS, LANGS
    CATALOGS = _with_fallback(load(directory))
    LANGS = tuple(CATALOGS)


def _texts(lang: str) -> Texts:
    """A language's catalog; an unknown language's is the default's."""
    return CATALOGS.get(lang) or CATALOGS.get(DEFAULT_LANG) or Texts()


def has(key: str) -> bool:
    texts = _texts(DEFAULT_LANG)
    return key in texts.messages or key in texts.plurals


def keys() -> set[str]:
    """Every reply's key (the default language's), plural entries included."""
    texts = _texts(DEFAULT_LANG)
    return set(texts.messages) | set(texts.plurals)


def kinds() -> dict[str, tuple[str, ...]]:
    """Every kind of code with its codes (the default language's)."""
    return {kind: tuple(codes) for kind, codes in _texts(DEFAULT_LANG).words.items()}


def t(lang: str, key: str, **params: Any) -> str:
    text = _texts(lang).messages.get(key)
    if text is None:
        return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def tn(lang: str, key: str, n: int, **params: Any) -> str:
    """A text that depends on a count, in the language's plural form for `n` ("1 sag", "2 sager"): a .po entry
    with msgid = msgid_plural = the key and one msgstr[i] a form; `{n}` and `params` are filled in. A key that
    is a plain entry is used as it is (one form for every count)."""
    texts = _texts(lang)
    forms = texts.plurals.get(key)
    if forms is None:
        return t(lang, key, n=n, **params)
    index = texts.plural(abs(int(n)))
    text = forms[index] if 0 <= index < len(forms) else forms[-1]
    try:
        return text.format(n=n, **params)
    except (KeyError, IndexError, ValueError):
        return text


def label(lang: str, kind: str, code: object) -> str:
    """The word for a code of the command language (`label("da", "track", "child")` → "barn").
    An unknown kind or code is shown as it is (a unit's own district or indicator, say)."""
    if code is None:
        return "—"
    code = str(code)
    return _texts(lang).words.get(kind, {}).get(code, code)


def org_name(lang: str, code: object, profile: Profile | None) -> str:
    """An org's name for a reader: the unit profile's (da/en; archived orgs too, so the cases that use them
    still read their name), the catalog's word for a code the profile does not know, the code itself last."""
    org = profile.org(str(code)) if profile is not None and code else None
    if org is None:
        return label(lang, "org", code)
    return org.name.get(lang) or org.name.get("da") or str(code)  # an added language reads the Danish name


Orgs = Mapping[str, str] | tuple[str, ...]  # a form's orgs: code → name (commands.profile.offered_orgs), or codes


def org_labels(lang: str, orgs: Orgs) -> tuple[str, ...]:
    """A form's option labels for its orgs: the names it was given, the catalog's words for bare codes."""
    if isinstance(orgs, Mapping):
        return tuple(orgs.values())
    return tuple(label(lang, "org", code) for code in orgs)


def labels(lang: str, kind: str, codes: str | None, sep: str = ", ") -> str:
    """A comma-separated list of codes as words ("extremist_statements,isolation" → two words)."""
    parts = [p for p in (codes or "").split(",") if p.strip()]
    return sep.join(label(lang, kind, p.strip()) for p in parts) if parts else "—"


def choice(lang: str, kind: str, code: str) -> str:
    """A choice as help and usage errors list it: the code a user types, with its word (`child (barn)`)."""
    word = label(lang, kind, code)
    return code if word.lower() == code.lower() or word.startswith(code + " ") else f"{code} ({word})"
