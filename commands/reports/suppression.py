"""Small-number protection for everything that leaves the secretariat (SPEC.md §5).

Counts 1–4 are shown as `<5` (primary suppression). Where a table shows totals, a single hidden cell in a
row or column could be worked out by subtraction, and so could hidden cells that together make less than 5
(two hidden cells making 2 are both 1): so the smallest other non-zero cell there is hidden too (`x`,
complementary suppression), repeated until every total row or column hides nothing, or at least two cells
that together make 5 or more.
A percentage over a denominator under 5 is shown as `–`.
"""

from __future__ import annotations

from commands.time import timefmt

SMALL = "<5"
HIDDEN = "x"
NO_PCT = "–"
LIMIT = 5


def small(n: int) -> bool:
    return 0 < n < LIMIT


def count(n: int) -> str:
    return SMALL if small(n) else str(n)


def pct(num: int, den: int, lang: str = "da") -> str:
    """A share with one decimal, as the language writes it (`66,7 %`, `66.7%`); `–` under 5 cases."""
    if den < LIMIT:
        return NO_PCT
    return timefmt.percent(num / den, lang, 1)


def grid(cells: list[list[int]], *, row_totals: bool, col_totals: bool) -> list[list[str]]:
    """Suppress a table of counts; totals are shown (and so protected) along the axes named."""
    hidden = [[small(v) for v in row] for row in cells]
    secondary = [[False] * len(row) for row in cells]

    def lines() -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = []
        if row_totals:
            out += [[(r, c) for c in range(len(cells[r]))] for r in range(len(cells))]
        if col_totals and cells:
            out += [[(r, c) for r in range(len(cells))] for c in range(len(cells[0]))]
        return out

    changed = True
    while changed:
        changed = False
        for line in lines():
            shut = [p for p in line if hidden[p[0]][p[1]]]
            if not shut or (len(shut) > 1 and sum(cells[r][c] for r, c in shut) >= LIMIT):
                continue
            candidates = [p for p in line if not hidden[p[0]][p[1]] and cells[p[0]][p[1]] > 0]
            if not candidates:
                continue
            r, c = min(candidates, key=lambda p: (cells[p[0]][p[1]], p))
            hidden[r][c] = secondary[r][c] = True
            changed = True
    return [[(HIDDEN if secondary[r][c] else SMALL) if hidden[r][c] else str(v) for c, v in enumerate(row)]
            for r, row in enumerate(cells)]


def column(values: list[int]) -> list[str]:
    """One column of counts whose total is shown below it."""
    return [row[0] for row in grid([[v] for v in values], row_totals=False, col_totals=True)]
