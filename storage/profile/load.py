"""YAML text → Profile, or a ProfileError that names the line (from the YAML node marks)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from storage import pii
from storage.profile.schema import ROLES, Profile

HERE = Path(__file__).parent
SHIPPED = ("copenhagen", "denmark-generic")
MAX_BYTES = 200_000


class ProfileError(ValueError):
    """What is wrong and where: `line` is 1-based (0 when unknown); `path` like orgs[2].code."""

    def __init__(self, line: int, path: str, message: str) -> None:
        super().__init__(f"line {line}: {path}: {message}")
        self.line, self.path, self.message = line, path, message


@lru_cache(maxsize=8)
def shipped_text(name: str) -> str:
    if name not in SHIPPED:
        raise KeyError(name)
    return (HERE / f"{name}.yaml").read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def shipped(name: str) -> Profile:
    return load_text(shipped_text(name))


def source_text(name_or_path: str) -> str:
    """UNIT_PROFILE: a shipped profile's name, or a path to a YAML file."""
    if name_or_path in SHIPPED:
        return shipped_text(name_or_path)
    return Path(name_or_path).read_text(encoding="utf-8")


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (key)"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node = key if len(loc) and loc[-1] == "[key]" and part == loc[-2] else value
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1 if node is not None else 0


def _scalars(node: yaml.Node, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], yaml.ScalarNode]]:
    if isinstance(node, yaml.ScalarNode):
        return [(loc, node)]
    out: list[tuple[tuple[Any, ...], yaml.ScalarNode]] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _scalars(value, (*loc, key.value if isinstance(key, yaml.ScalarNode) else "?"))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            out += _scalars(value, (*loc, i))
    return out


def load_text(text: str, denylist: tuple[str, ...] = ()) -> Profile:
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise ProfileError(0, "(document)", f"the file is larger than {MAX_BYTES // 1000} kB")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ProfileError(mark.line + 1 if mark else 0, "(document)",
                           f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(0, "(document)", f"not valid YAML ({type(exc).__name__})") from None
    if root is None or not isinstance(data, dict):
        raise ProfileError(1, "(document)", "a profile is a mapping with name, orgs, sources, bases …")
    for loc, node in _scalars(root):
        if node.tag.endswith(":str") and pii.scan(node.value, denylist):
            kinds = ", ".join(dict.fromkeys(f.kind for f in pii.scan(node.value, denylist)))
            raise ProfileError(node.start_mark.line + 1, _path(loc),
                               f"holds what looks like personal data ({kinds}); a profile holds none")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ProfileError(_line(root, loc), _path(loc), message) from None
    _check(profile, root)
    return profile


def _check(profile: Profile, root: yaml.Node) -> None:
    def fail(loc: tuple[Any, ...], message: str) -> None:
        raise ProfileError(_line(root, loc), _path(loc), message)

    seen: set[str] = set()
    for i, org in enumerate(profile.orgs):
        if org.code in seen:
            fail(("orgs", i, "code"), f"the org code `{org.code}` appears twice")
        seen.add(org.code)
    if profile.org(profile.secretariat_org) is None:
        fail(("secretariat_org",), f"`{profile.secretariat_org}` is not an org of this profile")
    for field, values in (("districts", profile.districts), ("indicators", profile.indicators),
                          ("sources", profile.sources),
                          ("advice_topics", profile.advice_topics), ("bases", [b.code for b in profile.bases])):
        dupes = [i for i, v in enumerate(values) if list(values).index(v) != i]
        if dupes:
            fail((field, dupes[0]), f"`{values[dupes[0]]}` appears twice")
    procedures = [(("procedures", track.value), steps) for track, steps in profile.procedures.items()]
    for where, steps in [*procedures, (("prison_procedure",), profile.prison_procedure)]:
        for i, step in enumerate(steps):
            who = step.responsible
            org = profile.org(who)
            if who not in ROLES and (org is None or org.archived):
                fail((*where, i, "responsible"),
                     f"`{who}` is neither a role ({', '.join(ROLES)}) nor an org of this profile "
                     f"({', '.join(profile.org_codes())})")
