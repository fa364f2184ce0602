"""Monthly budgets on an org, its teams and its members (``docs/billing.md``, "Budgets")."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import budgets
from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.billing.plans import parse_dollars
from chatgrid.cli.common import OrgArg, admin_context, emit, fail

budget_app = typer.Typer(
    help="Monthly spending budgets: the org's, a team's, a member's (hard or soft).",
    no_args_is_help=True,
)

OrgWide = Annotated[bool, typer.Option("--org", help="The org-wide budget.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="A team's id or name.")]
MemberOpt = Annotated[str | None, typer.Option("--member", help="A member's email.")]


def _scope(org_wide: bool, team: str | None, member: str | None) -> tuple[BudgetScope, str | None]:
    chosen: list[tuple[BudgetScope, str | None]] = [(BudgetScope.ORG, None)] if org_wide else []
    chosen += [(BudgetScope.TEAM, team)] if team is not None else []
    chosen += [(BudgetScope.MEMBER, member)] if member is not None else []
    if len(chosen) != 1:
        fail("give exactly one of --org, --team TEAM or --member EMAIL")
    return chosen[0]


@budget_app.command("set")
def budget_set(
    org: OrgArg,
    usd: Annotated[str, typer.Option("--usd", help="The monthly limit in USD.")],
    org_wide: OrgWide = False,
    team: TeamOpt = None,
    member: MemberOpt = None,
    soft: Annotated[
        bool, typer.Option("--soft", help="Alert only; never refuse a call (default: hard).")
    ] = False,
    thresholds: Annotated[
        str | None,
        typer.Option(
            "--thresholds", help='Percentages that alert, "50,80,100" (default) or "none".'
        ),
    ] = None,
) -> None:
    """Set (or replace) a monthly budget; in force on every replica when this returns."""
    scope, subject = _scope(org_wide, team, member)
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        view = budgets.set_budget(
            ctx,
            org_id,
            Actor.cli(),
            scope,
            subject,
            limit_micros=parse_dollars(usd, "usd"),
            hard=not soft,
            thresholds=thresholds,
        )
        emit(view.public())


@budget_app.command("list")
def budget_list(org: OrgArg) -> None:
    """The org's budgets with this month's spend under each."""
    with admin_context() as ctx:
        emit([view.public() for view in budgets.list_budgets(ctx, ctx.orgs.get(org).id)])


@budget_app.command("remove")
def budget_remove(
    org: OrgArg, org_wide: OrgWide = False, team: TeamOpt = None, member: MemberOpt = None
) -> None:
    """Remove a budget: calls stop counting against it at once."""
    scope, subject = _scope(org_wide, team, member)
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        found = budgets.find_budget(ctx, org_id, scope, subject)
        removed = budgets.remove_budget(ctx, org_id, Actor.cli(), found.id)
        emit({"removed": removed.id, "scope": removed.scope.value})
