"""The Teams app package: the manifest declares what the adapter serves, the icons are what Teams requires,
and `python -m bot teams-package` zips them with the deployment's ids filled in."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.teams.package import SOURCE, PackageError, build, manifest, strings
from commands.router import TABLE
from storage.settings import Settings

APP_ID = "11111111-2222-4333-8444-555555555555"
ROOT = Path(__file__).resolve().parents[2]


def settings(**values: object) -> Settings:
    return Settings(**{"teams_app_id": APP_ID, "public_url": "https://koordinator.example.dk/", **values})  # type: ignore[arg-type]


def png_info(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw RGBA rows) of one of our PNGs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


SCHEMAS = Path(__file__).resolve().parent / "schemas"  # Microsoft's v1.17 schemas (see schemas/README.md)


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def test_the_manifest_names_only_real_commands_within_teams_limits() -> None:
    data = manifest(settings())
    assert data["id"] == APP_ID and data["manifestVersion"] == "1.17"
    bot = data["bots"][0]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True  # files reach a 1:1 chat through the user's consent (bot/teams/files.py)
    lists = bot["commandLists"]
    assert {scope for cl in lists for scope in cl["scopes"]} == {"personal", "team", "groupChat"}
    for cl in lists:
        assert len(cl["commands"]) <= 10 and cl["commands"][0]["title"] == "home"  # home first
        for c in cl["commands"]:
            assert tuple(c["title"].split()) in TABLE.commands and len(c["title"]) <= 32
            assert len(c["description"]) <= 128
    groups = {c["title"].split()[0] for cl in lists for c in cl["commands"]}
    missing = {path[0] for path in TABLE.commands} - groups
    assert not missing, missing  # a suggestion for every command group
    assert len(data["name"]["short"]) <= 30 and len(data["description"]["short"]) <= 80
    assert data["validDomains"] == ["koordinator.example.dk"]
    assert data["developer"]["privacyUrl"] == "https://koordinator.example.dk/privacy"
    assert data["developer"]["termsOfUseUrl"] == "https://koordinator.example.dk/terms"


@pytest.mark.parametrize("language, other", [("da", "en"), ("en", "da")])
def test_the_package_validates_against_the_manifest_schema_in_both_languages(tmp_path: Path, language: str,
                                                                             other: str) -> None:
    out = build(settings(bot_language=language), tmp_path / "k.zip")
    with zipfile.ZipFile(out) as zf:
        data = json.loads(zf.read("manifest.json"))
        extra = json.loads(zf.read(f"{other}.json"))
    jsonschema.validate(data, schema("MicrosoftTeams.schema.json"))
    jsonschema.validate(extra, schema("MicrosoftTeams.Localization.schema.json"))
    jsonschema.validate(strings(language), schema("MicrosoftTeams.Localization.schema.json"))
    assert data["localizationInfo"] == {"defaultLanguageTag": language,
                                        "additionalLanguages": [{"languageTag": other, "file": f"{other}.json"}]}
    danish = data if language == "da" else extra
    text = json.dumps(danish, ensure_ascii=False)
    assert "Din oversigt" in text and "Registrér en ny bekymring" in text  # Danish command hints
    # every string of one language has its counterpart in the other, and names a real place in the manifest
    assert set(strings("da")) == set(strings("en"))
    for key in strings("da"):
        if key.startswith("bots["):
            assert key.endswith(".description")


def test_the_icons_are_a_colour_192_and_a_white_on_transparent_outline_32() -> None:
    width, height, _ = png_info((SOURCE / "color.png").read_bytes())
    assert (width, height) == (192, 192)
    width, height, raw = png_info((SOURCE / "outline.png").read_bytes())
    assert (width, height) == (32, 32)
    pixels = [raw[row * (1 + 4 * 32) + 1 + 4 * x: row * (1 + 4 * 32) + 5 + 4 * x] for row in range(32)
              for x in range(32)]
    assert {p for p in pixels} <= {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}
    assert b"\x00\x00\x00\x00" in pixels and b"\xff\xff\xff\xff" in pixels


@pytest.mark.parametrize("change, problem", [
    ({"teams_app_id": None}, "TEAMS_APP_ID"),
    ({"teams_app_id": "not-a-guid"}, "TEAMS_APP_ID"),
    ({"public_url": None}, "PUBLIC_URL"),
    ({"public_url": "http://koordinator.example.dk"}, "https"),
])
def test_the_package_needs_the_app_id_and_an_https_address(change: dict[str, object], problem: str) -> None:
    with pytest.raises(PackageError, match=problem):
        manifest(settings(**change))


def test_the_package_command_zips_manifest_and_icons_at_the_root(tmp_path: Path) -> None:
    out = tmp_path / "pkg" / "koordinator.zip"
    env = {"TEAMS_APP_ID": APP_ID, "PUBLIC_URL": "https://koordinator.example.dk", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "bot", "teams-package", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]
        data = json.loads(zf.read("manifest.json"))
        assert "${{" not in json.dumps(data)
        assert png_info(zf.read("outline.png"))[:2] == (32, 32)
    failed = subprocess.run([sys.executable, "-m", "bot", "teams-package", "--out", str(tmp_path / "x.zip")],
                            cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2 and "TEAMS_APP_ID" in failed.stderr and "Traceback" not in failed.stderr


def test_build_falls_back_to_drawn_icons(tmp_path: Path) -> None:
    for name in ("manifest.json", "da.json", "en.json"):
        (tmp_path / name).write_text((SOURCE / name).read_text(encoding="utf-8"), encoding="utf-8")
    out = build(settings(), tmp_path / "k.zip", source=tmp_path)
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as zf:
        assert png_info(zf.read("color.png"))[:2] == (192, 192)
