"""The buttons a case's messages carry: its reply, its intake notice and that notice's updates as the case moves
on (commands/cases/notices.py), so the buttons that no longer apply go."""

from __future__ import annotations

from commands.context import Ctx
from commands.reply import Button
from storage.enums import CaseState
from storage.models import Case


def case_buttons(ctx: Ctx, case: Case) -> list[Button]:
    ref = case.ref
    buttons = [Button(ctx.t("button.show"), "case.show", ref, f"case show {ref}")]
    if case.state in (CaseState.new, CaseState.qualifying):
        buttons.append(Button(ctx.t("button.qualify"), "case.qualify", ref, f"case qualify {ref}"))
        buttons.append(Button(ctx.t("button.refer"), "case.refer", ref, f"case refer {ref}", style="primary"))
    return buttons
