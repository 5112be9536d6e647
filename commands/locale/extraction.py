"""Babel's extraction method for this code base (`pybabel extract -F pyproject.toml`, see [tool.babel] there).

The code names a message in shapes Babel's keyword specs cannot tell apart: `t(lang, "key", …)` and
`ctx.t("key", …)` (the key first or second; Babel counts keyword arguments as arguments and takes string
literals from inside them), `label(lang, "kind", code)` and `ctx.label("kind", code)`, and the exceptions
whose key is a suffix (`UsageError("bad_choice")` is `usage.bad_choice`, `Refused("case")` is `refused.case`).
This reads the syntax tree instead and yields each literal id as a plain `t` message or a `label` message
with the kind as context. A key built at run time (an f-string) is not a literal: `dynamic_keys` lists their
prefixes, and tests/commands/test_messages.py checks those by walking their vocabularies."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

PREFIXES = {"UsageError": "usage.", "Refused": "refused.", "_refuse": "refused."}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _key_node(call: ast.Call) -> tuple[str, ast.expr | None, ast.expr | None]:
    """(what, kind node, key node) for a call that names a message; what is "" for any other call."""
    name, args = _name(call), call.args
    if name == "t" and args:
        return "t", None, args[1] if len(args) >= 2 else args[0]  # t(lang, key) or ctx.t(key) / t = ctx.t
    if name == "tn" and len(args) >= 2:  # tn(lang, key, n) or ctx.tn(key, n)
        return "t", None, args[1] if len(args) >= 3 else args[0]
    if name == "label" and len(args) >= 2:
        return ("label", args[1], args[2]) if len(args) >= 3 else ("label", args[0], args[1])
    if name in ("UsageError", "Refused") and args:
        return name, None, args[0]
    if name == "_refuse" and len(args) >= 2:
        return name, None, args[1]
    return "", None, None


def _literals(node: ast.expr | None) -> list[str]:
    """A string literal, or both branches of `"a" if x else "b"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def messages(source: str) -> Iterator[tuple[int, str | None, str]]:
    """(line, kind or None, id) for every literal message id in a module's source."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        what, kind, key = _key_node(node)
        if not what:
            continue
        for text in _literals(key):
            if what == "label":
                for context in _literals(kind):
                    yield node.lineno, context, text
            else:
                yield node.lineno, None, PREFIXES.get(what, "") + text


def dynamic_keys(source: str) -> Iterator[tuple[int, str]]:
    """(line, the literal prefix) of every message key built at run time, `ctx.t(f"help.{name}")`."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        what, _, key = _key_node(node)
        if what and what != "label" and isinstance(key, ast.JoinedStr | ast.BinOp):
            first = key.values[0] if isinstance(key, ast.JoinedStr) and key.values else getattr(key, "left", None)
            prefix = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
            yield node.lineno, PREFIXES.get(what, "") + prefix


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
            ) -> Iterator[tuple[int, str, tuple[str, ...] | str, list[str]]]:
    """Babel's extraction method signature: messages as `t` (id) and `label` (context, id) calls."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for lineno, context, text in messages(source):
        yield (lineno, "label", (context, text), []) if context is not None else (lineno, "t", text, [])
