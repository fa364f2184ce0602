"""The budgets page (org admins): this month's spend under each budget, setting and removing them.

The form reads its amount and subject as the API does (``budgets_schemas``),
so a typo is refused the same way at either door, and a refusal shows the
page again with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import budgets, teams
from chatgrid.admin.budgets import BudgetView
from chatgrid.billing.plans import parse_dollars
from chatgrid.errors import ChatGridError
from chatgrid.ledger.money import MICROS_PER_DOLLAR
from chatgrid.web.api.budgets_schemas import (
    MAX_SUBJECT_LENGTH,
    MAX_USD_LENGTH,
)
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, url_id
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

BUDGET_NOTICES = {
    "budget_set": "The budget is set and in force now.",
    "budget_removed": "The budget is removed: calls no longer count against it.",
}

#: What the form shows before anything is typed (and again after a refusal, what was).
BLANK_FORM = {
    "scope": "org",
    "subject": "",
    "usd": "",
    "enforcement": "hard",
    "thresholds": "50,80,100",
}


@dataclass(frozen=True)
class BudgetRow:
    """A budget as the table shows it: the limit exact, however many decimals it has."""

    view: BudgetView
    limit: str


def exact_dollars(micros: int) -> str:
    """``500_000`` → ``$0.50``, ``125_000`` → ``$0.125``: a limit is shown as it was set."""
    whole, frac = divmod(micros, MICROS_PER_DOLLAR)
    decimals = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"${whole:,}.{decimals}"


def _budgets_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    asked = request.query_params.get("notice", "")
    ctx, org_id = state.ctx, access.org.id
    views = budgets.list_budgets(ctx, org_id)
    return render(
        request,
        state,
        "budgets.html",
        access=access,
        section="budgets",
        rows=[BudgetRow(v, exact_dollars(v.budget.limit_micros)) for v in views],
        month=views[0].month if views else None,
        team_names=[t.name for t in teams.list_teams(ctx, org_id)],
        member_emails=[m.email for m in ctx.members.list(org_id) if m.status == "active"],
        typed=typed or BLANK_FORM,
        notice=BUDGET_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


@router.get("/orgs/{org_id}/budgets")
def budgets_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _budgets_page(request, state, access)


@router.post("/orgs/{org_id}/budgets")
def set_budget(
    request: Request,
    state: Console,
    access: OrgAdmin,
    scope: Annotated[str, Form(max_length=20)] = "",
    subject: Annotated[str, Form(max_length=MAX_SUBJECT_LENGTH)] = "",
    usd: Annotated[str, Form(max_length=MAX_USD_LENGTH)] = "",
    enforcement: Annotated[str, Form(max_length=20)] = "hard",
    thresholds: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    typed = {
        "scope": scope,
        "subject": subject,
        "usd": usd,
        "enforcement": enforcement,
        "thresholds": thresholds,
    }

    def put() -> Response:
        chosen = budgets.parse_scope(scope)
        budgets.set_budget(
            state.ctx,
            access.org.id,
            access.actor,
            chosen,
            subject,
            limit_micros=parse_dollars(usd, "usd"),
            hard=budgets.parse_enforcement(enforcement),
            thresholds=thresholds,
        )
        return redirect(f"/orgs/{access.org.id}/budgets", "budget_set")

    return form_action(put, partial(_budgets_page, request, state, access, typed=typed))


@router.post("/orgs/{org_id}/budgets/{budget_id}/remove")
def remove_budget(request: Request, state: Console, access: OrgAdmin, budget_id: str) -> Response:
    def remove() -> Response:
        found = url_id(budget_id, "budget")
        budgets.remove_budget(state.ctx, access.org.id, access.actor, found)
        return redirect(f"/orgs/{access.org.id}/budgets", "budget_removed")

    return form_action(remove, partial(_budgets_page, request, state, access))
