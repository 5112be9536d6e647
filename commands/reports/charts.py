"""The annual report's three charts as PNG (matplotlib, Agg: no display needed). Every value drawn has
passed the same suppression as the tables: a hidden count is drawn as an empty, hatched bar labelled `<5`."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from commands.reports.suppression import NO_PCT  # noqa: E402

_BLUE, _GREY, _RED, _GREEN = "#2b5d8a", "#9aa5b1", "#b23b3b", "#3c8d4f"


def _png(fig) -> bytes:  # noqa: ANN001
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100, metadata={"Software": None})  # layout="constrained": one draw
    plt.close(fig)
    return out.getvalue()


def counts(title: str, labels: list[str], shown: list[str], rotate: bool = False) -> bytes:
    """Bars of counts; `shown` are the suppressed strings ("12", "<5", "x")."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2), layout="constrained")
    heights = [int(s) if s.isdigit() else 0 for s in shown]
    bars = ax.bar(range(len(labels)), heights, color=_BLUE)
    top = max(heights + [5])
    for i, (bar, text) in enumerate(zip(bars, shown, strict=True)):
        height = bar.get_height()
        if not text.isdigit():
            height = top * 0.04
            ax.bar(i, height, color="white", edgecolor=_GREY, hatch="//")
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom",
                    fontsize=8, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(labels)), labels, rotation=35 if rotate else 0, ha="right" if rotate else "center",
                  fontsize=8)
    ax.set_ylim(0, top * 1.2)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def targets(title: str, names: list[str], values: list[float | None], goals: list[float], shown: list[str]
            ) -> bytes:
    """Horizontal bars of each target's share against its goal (a vertical mark)."""
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1), layout="constrained")
    for i, (value, goal, text) in enumerate(zip(values, goals, shown, strict=True)):
        if value is not None:
            ax.barh(i, value, color=_GREEN if value >= goal * 100 - 1e-9 else _RED, height=0.55)
        ax.plot([goal * 100, goal * 100], [i - 0.35, i + 0.35], color="black", linewidth=1.5)
        ax.annotate(text if value is not None else NO_PCT, (min(value or 0, 100), i), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 115)
    ax.set_xlabel("%", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
