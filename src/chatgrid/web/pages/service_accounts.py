"""The service accounts page (org admins): make, rotate and revoke org-owned tokens.

A new or rotated token is shown on the page that made it, once; afterwards
only its prefix. The same actions are in the JSON API and the CLI, all
through ``admin/service_accounts.py``.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import service_accounts as accounts
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, TargetServiceAccount
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def _page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    new_token: str | None = None,
    typed: str = "",
) -> Response:
    revoked = request.query_params.get("notice") == "service_account_revoked"
    return render(
        request,
        state,
        "service_accounts.html",
        access=access,
        section="service_accounts",
        service_accounts=accounts.list_service_accounts(state.ctx, access.org),
        new_token=new_token,
        typed=typed,
        notice="The service account is revoked." if revoked else None,
        refused=refused,
    )


@router.get("/orgs/{org_id}/service-accounts")
def service_accounts_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _page(request, state, access)


@router.post("/orgs/{org_id}/service-accounts")
def create_service_account(
    request: Request,
    state: Console,
    access: OrgAdmin,
    name: Annotated[str, Form(max_length=1000)] = "",
    scope: Annotated[str, Form(max_length=20)] = "v1",
) -> Response:
    def create() -> Response:
        _, secret = accounts.create_service_account(
            state.ctx, access.org, access.actor, name, scope
        )
        return _page(request, state, access, new_token=secret)

    return form_action(create, partial(_page, request, state, access, typed=name))


@router.post("/orgs/{org_id}/service-accounts/{service_account_id}/rotate")
def rotate_service_account(
    request: Request, state: Console, access: OrgAdmin, account: TargetServiceAccount
) -> Response:
    def rotate() -> Response:
        _, secret = accounts.rotate_service_account(state.ctx, access.org, access.actor, account.id)
        return _page(request, state, access, new_token=secret)

    return form_action(rotate, partial(_page, request, state, access))


@router.post("/orgs/{org_id}/service-accounts/{service_account_id}/revoke")
def revoke_service_account(
    request: Request, state: Console, access: OrgAdmin, account: TargetServiceAccount
) -> Response:
    def revoke() -> Response:
        accounts.revoke_service_account(state.ctx, access.org, access.actor, account.id)
        return redirect(f"/orgs/{access.org.id}/service-accounts", "service_account_revoked")

    return form_action(revoke, partial(_page, request, state, access))
