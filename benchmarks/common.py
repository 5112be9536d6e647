"""What every database benchmark does alike: its command line, and each size on SQLite then PostgreSQL."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from typing import TypeVar

from storage.db import pg_schema

R = TypeVar("R")


def each_database(measure: Callable[[str, str, int], R]) -> list[R]:
    """`measure(label, url, size)` for each `--sizes` on a fresh SQLite file, then in a fresh PostgreSQL schema
    of `--pg` (an empty `--pg` skips PostgreSQL)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test", help="empty string: skip")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure("SQLite", f"sqlite:///{tmp}/bench.db", size))
    if args.pg:
        for size in sizes:
            with pg_schema(args.pg, "bench") as url:
                results.append(measure("PostgreSQL", url, size))
    return results
