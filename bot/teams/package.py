"""`python -m bot teams-package`: the Teams app package (manifest.json + two icons in one zip) to upload in
Teams (Apps → Manage your apps → Upload an app) or in the Teams admin center.

The manifest in teams/ holds placeholders — ${{TEAMS_APP_ID}}, ${{PUBLIC_URL}}, ${{PUBLIC_HOST}} — filled from
the settings, so the repository never holds a deployment's ids.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from bot.teams.icons import color_png, outline_png
from storage.settings import Settings

SOURCE = Path(__file__).resolve().parents[2] / "teams"
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
    values = {"TEAMS_APP_ID": app_id.lower(), "PUBLIC_URL": public_url, "PUBLIC_HOST": parts.hostname}
    template = (source / "manifest.json").read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise PackageError(f"unknown placeholder {match.group(0)} in teams/manifest.json")
        return values[match.group(1)]

    return json.loads(_PLACEHOLDER.sub(fill, template))


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
    return out


def main(settings: Settings, out: str) -> int:
    try:
        path = build(settings, Path(out))
    except (PackageError, OSError) as exc:
        print(f"koordinator: cannot build the Teams package: {exc}", file=sys.stderr)
        return 2
    print(f"{path} — upload it in Teams (Apps → Manage your apps → Upload an app) or the Teams admin center")
    return 0
