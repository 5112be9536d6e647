"""docs/commands.md is the command table written out: a stale file fails here (run `python -m bot docs`)."""

from __future__ import annotations

from pathlib import Path

from bot.__main__ import main
from commands.guide import reference
from commands.router import TABLE


def test_the_checked_in_command_reference_is_current() -> None:
    expected = reference.render()
    actual = reference.default_path().read_text(encoding="utf-8")
    assert actual == expected, "docs/commands.md is stale: run `python -m bot docs` and commit the file"


def test_every_command_is_in_both_languages_with_its_roles() -> None:
    text = reference.render()
    danish, english = text.split("## Commands (en)")
    for cmd in TABLE.commands.values():
        first_usage = cmd.usage.split(" | ")[0].strip()
        in_danish = cmd.usage_in("da").split(" | ")[0].strip()  # its placeholders in Danish words
        assert f"`{in_danish}`" in danish and f"`{first_usage}`" in english, cmd.name
    assert "`case close KE-… reason=ÅRSAG`" in danish and "`case close KE-… reason=REASON`" in english
    assert "Roller: `admin` (administrator)" in danish and "Roles: `admin`" in english
    assert "`track=`: child (barn)" in danish


def test_the_reference_is_the_same_every_time(tmp_path: Path) -> None:
    out = tmp_path / "commands.md"
    assert main(["docs", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == reference.render() == reference.render()
