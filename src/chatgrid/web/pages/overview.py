"""The org's front page (mode, key health, seats, this month's usage) and the mode switch."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing, org_settings
from chatgrid.billing.standing import budget_status, trial_status
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import BillingMode
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, OrgMember
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def api_base_url(request: Request, state: ConsoleState) -> str:
    base = state.ctx.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/v1"


def _overview(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
) -> Response:
    ctx, org_id, now = state.ctx, access.org.id, datetime.now(UTC)
    return render(
        request,
        state,
        "overview.html",
        access=access,
        section="overview",
        overview=org_settings.overview(ctx, org_id),
        budget=budget_status(ctx.billing, ctx.plans, org_id, now),
        my_budget=billing.member_budget_status(ctx, org_id, access.member.id, now),
        trial=trial_status(ctx.billing.account(org_id), now),
        api_base=api_base_url(request, state),
        refused=refused,
    )


@router.get("/orgs/{org_id}")
def overview_page(request: Request, state: Console, access: OrgMember) -> Response:
    return _overview(request, state, access)


@router.post("/orgs/{org_id}/mode")
def switch_mode(
    request: Request,
    state: Console,
    access: OrgAdmin,
    mode: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def switch() -> Response:
        if mode not in {m.value for m in BillingMode}:
            raise InvalidRequest("choose BYOK or shared credits", param="mode")
        org_settings.switch_mode(state.ctx, access.org.id, access.actor, BillingMode(mode))
        return redirect(f"/orgs/{access.org.id}", "mode_switched")

    return form_action(switch, partial(_overview, request, state, access))
