"""The Teams app icons, drawn in code (no image tools needed): a 192×192 colour icon and a 32×32 outline icon
(white on transparent, as Teams requires). `python -m bot.teams.icons [DIR]` writes them as PNG files.

The motif: three linked nodes in a ring — agencies coordinating around one case.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

ACCENT = (31, 78, 121)  # #1F4E79, the manifest's accentColor
WHITE = (255, 255, 255)
Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An RGBA PNG; `pixel(x, y)` gets coordinates scaled to 0..1 at the pixel's centre."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(pixel((x + 0.5) / width, (y + 0.5) / height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))


NODES = [(0.5 + 0.26 * math.cos(a), 0.5 + 0.26 * math.sin(a)) for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]


def _on_motif(x: float, y: float, stroke: float, node: float) -> bool:
    ring = abs(math.hypot(x - 0.5, y - 0.5) - 0.26) < stroke
    return ring or any(math.hypot(x - nx, y - ny) < node for nx, ny in NODES)


def color_png(size: int = 192) -> bytes:
    def pixel(x: float, y: float) -> Pixel:
        if _on_motif(x, y, 0.035, 0.09):
            return (*WHITE, 255)
        return (*ACCENT, 255)

    return png(size, size, pixel)


def outline_png(size: int = 32) -> bytes:
    def pixel(x: float, y: float) -> Pixel:
        return (*WHITE, 255) if _on_motif(x, y, 0.06, 0.12) else (0, 0, 0, 0)

    return png(size, size, pixel)


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "color.png").write_bytes(color_png())
    (directory / "outline.png").write_bytes(outline_png())


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "teams"))
