"""`unit reach`: who on Teams the bot cannot reach yet, and a new attempt to install the app for them.

The installing itself is the Teams adapter's (bot/teams/graph.py, on the next delivery pass): this command only
asks for it again — useful after an administrator granted the Graph permission or installed the app by hand.
"""

from __future__ import annotations

from commands import access
from commands.context import Ctx
from commands.members import people, platforms
from commands.parsing import only_options
from commands.registry import command
from commands.reply import Reply
from commands.tokenizer import Args
from storage import teams, teams_tables


def unreachable(ctx: Ctx) -> list[str]:
    """Active Teams members without a way to their 1:1 chat (only where Teams is configured)."""
    if "teams" not in platforms.configured(ctx.settings):
        return []
    return teams.without_reference(ctx.session)


@command("unit reach", "unit reach", access.LEADS)
def reach(ctx: Ctx, args: Args) -> Reply:
    only_options(args, set())
    if "teams" not in platforms.configured(ctx.settings):
        return Reply(text=ctx.t("reach.no_teams"))
    missing = unreachable(ctx)
    if not missing:
        return Reply(text=ctx.t("reach.everyone"))
    teams_tables.reach_again(ctx.session, missing, ctx.now())
    names = dict(people.choices(ctx.session))
    ctx.audit("unit.reach", detail={"members": len(missing)})
    lines = "\n".join(f"• {names.get(u, u)}" for u in missing)
    return Reply(text=ctx.tn("reach.trying", len(missing)) + "\n" + lines)
