"""Text helpers both chat renderers need."""

from __future__ import annotations


def chunks(text: str, limit: int) -> list[str]:
    """Split on line breaks where possible, so long lists stay readable across a platform's blocks."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out
