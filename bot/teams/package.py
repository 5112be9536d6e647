"""`python -m bot teams-package`: the Teams app package (manifest.json, two icons, and the strings of the second
language) in one zip, to upload in Teams (Apps → Manage your apps → Upload an app) or in the Teams admin center.

The manifest in teams/ holds placeholders — ${{TEAMS_APP_ID}}, ${{PUBLIC_URL}}, ${{PUBLIC_HOST}} and the two
languages — filled from the settings, so the repository never holds a deployment's ids. Its strings are Danish
and English (teams/da.json, teams/en.json, in the Teams localization format): the deployment's BOT_LANGUAGE is
the manifest's own (`localizationInfo.defaultLanguageTag`), the other one rides along as an additional language,
so Teams shows each user the app's name, description and command hints in their own Teams language.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.teams.icons import color_png, outline_png
from storage.settings import Settings

SOURCE = Path(__file__).resolve().parents[2] / "teams"
LANGUAGES = ("da", "en")  # the manifest's languages: teams/<lang>.json each
GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")


class PackageError(ValueError):
    """Something the operator must set or fix first; the message says what."""


def manifest(settings: Settings, source: Path = SOURCE) -> dict:
    app_id = (settings.teams_app_id or "").strip()
    if not GUID.fullmatch(app_id):
        raise PackageError("TEAMS_APP_ID must be the Azure bot's Microsoft App ID (a GUID) — see docs/teams.md.")
    public_url = (settings.public_url or "").strip().rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname:
        raise PackageError("PUBLIC_URL must be the server's https:// address (Teams requires https).")
    default, other = languages(settings)
    values = {"TEAMS_APP_ID": app_id.lower(), "PUBLIC_URL": public_url, "PUBLIC_HOST": parts.hostname,
              "DEFAULT_LANGUAGE": default, "OTHER_LANGUAGE": other}
    template = (source / "manifest.json").read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise PackageError(f"unknown placeholder {match.group(0)} in teams/manifest.json")
        return values[match.group(1)]

    data = json.loads(_PLACEHOLDER.sub(fill, template))
    for key, text in strings(default, source).items():
        if key != "$schema":
            _put(data, key, text)
    return data


def languages(settings: Settings) -> tuple[str, str]:
    """(the manifest's own language, the additional one): BOT_LANGUAGE first when it is one of LANGUAGES."""
    default = settings.bot_language if settings.bot_language in LANGUAGES else "en"
    return default, next(lang for lang in LANGUAGES if lang != default)


def strings(lang: str, source: Path = SOURCE) -> dict[str, str]:
    """A language's manifest strings (a Teams localization file: "name.short", "bots[0]…description", …)."""
    return json.loads((source / f"{lang}.json").read_text(encoding="utf-8"))


_STEP = re.compile(r"([A-Za-z]+)((?:\[\d+\])*)")


def _put(data: dict, key: str, value: str) -> None:
    """Set `bots[0].commandLists[1].commands[2].description` (a localization file's key) in the manifest."""
    node: Any = data
    parts = key.split(".")
    for n, part in enumerate(parts):
        match = _STEP.fullmatch(part)
        if match is None:
            raise PackageError(f"cannot place the string {key!r}")
        name, indexes = match.group(1), [int(i) for i in re.findall(r"\d+", match.group(2))]
        last = n == len(parts) - 1
        if last and not indexes:
            node[name] = value
            return
        node = node[name]
        for k, index in enumerate(indexes):
            if last and k == len(indexes) - 1:
                node[index] = value
                return
            node = node[index]


def icon(source: Path, name: str) -> bytes:
    path = source / name
    if path.exists():
        return path.read_bytes()
    return color_png() if name == "color.png" else outline_png()


def build(settings: Settings, out: Path, source: Path = SOURCE) -> Path:
    data = manifest(settings, source)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:  # files at the root, as Teams wants
        zf.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr(data["icons"]["color"], icon(source, data["icons"]["color"]))
        zf.writestr(data["icons"]["outline"], icon(source, data["icons"]["outline"]))
        for extra in data.get("localizationInfo", {}).get("additionalLanguages", []):
            zf.writestr(extra["file"], json.dumps(strings(extra["languageTag"], source), ensure_ascii=False,
                                                  indent=2))
    return out


def main(settings: Settings, out: str) -> int:
    try:
        path = build(settings, Path(out))
    except (PackageError, OSError) as exc:
        print(f"koordinator: cannot build the Teams package: {exc}", file=sys.stderr)
        return 2
    print(f"{path} — upload it in Teams (Apps → Manage your apps → Upload an app) or the Teams admin center")
    return 0
