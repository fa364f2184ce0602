"""The org's front page (mode, key health, seats, this month's usage) and the mode switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import billing, org_settings, stripe_cards
from chatgrid.billing.standing import budget_status, plan_of, trial_status
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import BillingMode
from chatgrid.store.types import utcnow
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, OrgMember
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def api_base_url(request: Request, state: ConsoleState) -> str:
    base = state.ctx.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/v1"


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    href: str


#: Long before any ledger entry: "since ever" for the first-chat step.
_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


def onboarding(ctx: AppContext, org_id: str, overview: org_settings.Overview) -> list[Step]:
    """Connect a key or choose shared credits → invite someone → first chat.

    Each step is read from the org's state (a working key or a serving pool,
    a second seat or a pending invitation, a call in the ledger), never from a
    stored flag, so undoing a step (revoking the key) shows it again.
    """
    base = f"/orgs/{org_id}"
    if overview.org.billing_mode is BillingMode.SHARED:
        served = bool(overview.pool_models)
    else:
        served = overview.credential is not None and overview.credential.status == "active"
    invited = overview.seats > 1 or bool(ctx.invitations.pending(org_id, utcnow()))
    chatted = (
        overview.usage.requests > 0  # this month's count is at hand: no scan of older months
        or ctx.usage.totals(org_id, since=_BEGINNING)["requests"] > 0
    )
    return [
        Step("Connect an OpenAI key, or choose shared credits below", served, f"{base}/key"),
        Step("Invite someone to your organization", invited, f"{base}/members"),
        Step("Have a first chat", chatted, f"{base}/chat"),
    ]


def _overview(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
) -> Response:
    ctx, org_id, now = state.ctx, access.org.id, datetime.now(UTC)
    overview = org_settings.overview(ctx, org_id)
    steps = onboarding(ctx, org_id, overview) if access.is_admin else []
    return render(
        request,
        state,
        "overview.html",
        access=access,
        section="overview",
        overview=overview,
        steps=[] if all(step.done for step in steps) else steps,
        budget=budget_status(ctx.billing, ctx.plans, org_id, now),
        my_budget=billing.member_budget_status(ctx, org_id, access.member.id, now),
        trial=trial_status(ctx.billing.account(org_id), now),
        plan=plan_of(ctx.plans, ctx.billing.account(org_id)),
        api_base=api_base_url(request, state),
        takes_cards=access.is_admin and stripe_cards.card_page_settings(ctx) is not None,
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
