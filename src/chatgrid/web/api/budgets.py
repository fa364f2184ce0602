"""Monthly budgets of an org, its teams and its members through the API (org admins only).

A budget set here is in force on every replica when the call returns
(``admin.budgets``); a budget, team or member of another org is a 404, like an
unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import budgets
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.billing.plans import parse_dollars
from chatgrid.web.api.budgets_schemas import (
    BudgetPublic,
    BudgetSet,
    budget_public,
)
from chatgrid.web.deps import Console, OrgAdmin, url_id

router = APIRouter(tags=["budgets"])


@router.get(
    "/api/orgs/{org_id}/budgets",
    response_model=list[BudgetPublic],
    summary="The org's budgets, with this month's spend under each",
)
def list_budgets(state: Console, access: OrgAdmin) -> list[BudgetPublic]:
    """The org's budget first, then the teams' by name, then the members' by email."""
    return [budget_public(v) for v in budgets.list_budgets(state.ctx, access.org.id)]


@router.put(
    "/api/orgs/{org_id}/budgets",
    response_model=BudgetPublic,
    summary="Set (or replace) the budget of the org, a team or a member",
)
def set_budget(body: BudgetSet, state: Console, access: OrgAdmin) -> BudgetPublic:
    """One budget per org, team or member: setting it again replaces its limit,
    enforcement and thresholds. 400 for a bad amount (``param`` ``usd``) or
    thresholds (``invalid_thresholds``), or a team or member left unnamed; 404
    ``team_not_found`` or ``member_not_found`` for one the org does not have."""
    scope = BudgetScope(body.scope)
    view = budgets.set_budget(
        state.ctx,
        access.org.id,
        access.actor,
        scope,
        body.subject,
        limit_micros=parse_dollars(body.usd, "usd"),
        hard=body.enforcement == "hard",
        thresholds=body.thresholds,
    )
    return budget_public(view)


@router.delete(
    "/api/orgs/{org_id}/budgets/{budget_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a budget (calls stop counting against it at once)",
)
def remove_budget(budget_id: str, state: Console, access: OrgAdmin) -> None:
    """404 ``budget_not_found`` for a budget the org does not have."""
    found = url_id(budget_id, "budget")
    budgets.remove_budget(state.ctx, access.org.id, access.actor, found)
