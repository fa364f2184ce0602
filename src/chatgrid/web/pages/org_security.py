"""An org's sign-in security: whether two-step sign-in is required, and who has it."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import second_factor
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def _page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
) -> Response:
    required, coverage = second_factor.org_coverage(state.ctx, access.org.id)
    password_users = [m for m in coverage if m.has_password]
    return render(
        request,
        state,
        "org_security.html",
        access=access,
        section="security",
        required=required,
        coverage=coverage,
        password_users=len(password_users),
        covered=sum(1 for m in password_users if m.second_factor),
        own_enabled=state.ctx.second_factors.enabled(access.viewer.user.id),
        refused=refused,
    )


@router.get("/orgs/{org_id}/security")
def security_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _page(request, state, access)


@router.post("/orgs/{org_id}/security")
def set_rule(
    request: Request,
    state: Console,
    access: OrgAdmin,
    require_second_factor: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def save() -> Response:
        required = require_second_factor == "on"
        second_factor.set_org_rule(state.ctx, access.org.id, access.actor, required)
        notice = "second_factor_required" if required else "second_factor_not_required"
        return redirect(f"/orgs/{access.org.id}/security", notice)

    return form_action(save, partial(_page, request, state, access))
