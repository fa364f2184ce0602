"""The SCIM provisioning page (org admins): the identity provider's bearer tokens.

A new token is shown on the page that creates it, once; afterwards only its
prefix. The provider's calls themselves go to ``/scim/v2`` (``web/api/scim.py``).
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import scim
from chatgrid.errors import ChatGridError
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, url_id
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
) -> Response:
    revoked = request.query_params.get("notice") == "scim_token_revoked"
    return render(
        request,
        state,
        "scim.html",
        access=access,
        section="scim",
        tokens=scim.list_tokens(state.ctx, access.org),
        base_url=str(request.base_url).rstrip("/") + "/scim/v2",
        new_token=new_token,
        notice="The token is revoked." if revoked else None,
        refused=refused,
    )


@router.get("/orgs/{org_id}/scim")
def scim_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _page(request, state, access)


@router.post("/orgs/{org_id}/scim/tokens")
def create_scim_token(request: Request, state: Console, access: OrgAdmin) -> Response:
    def create() -> Response:
        _, secret = scim.create_token(state.ctx, access.org, access.actor)
        return _page(request, state, access, new_token=secret)

    return form_action(create, partial(_page, request, state, access))


@router.post("/orgs/{org_id}/scim/tokens/{token_id}/revoke")
def revoke_scim_token(
    request: Request, state: Console, access: OrgAdmin, token_id: str
) -> Response:
    def revoke() -> Response:
        scim.revoke_token(state.ctx, access.org, access.actor, url_id(token_id, "SCIM token"))
        return redirect(f"/orgs/{access.org.id}/scim", "scim_token_revoked")

    return form_action(revoke, partial(_page, request, state, access))
