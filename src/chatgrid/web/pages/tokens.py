"""Personal API tokens: every member manages their own; admins can revoke anyone's."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import tokens
from chatgrid.errors import ChatGridError
from chatgrid.identity.models import ApiToken
from chatgrid.store.types import utcnow
from chatgrid.web.deps import (
    Console,
    MemberToken,
    OrgAccess,
    OrgAdmin,
    OrgMember,
    OwnToken,
    TargetMember,
)
from chatgrid.web.pages.common import form_action, redirect, render, whole_number
from chatgrid.web.pages.overview import api_base_url
from chatgrid.web.state import ConsoleState

router = APIRouter()


def _tokens_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
) -> Response:
    ctx = state.ctx
    everyone: list[tuple[ApiToken, str]] = []
    if access.is_admin:
        emails = ctx.members.emails(access.org.id)
        everyone = [
            (t, emails.get(t.member_id, "?"))
            for t in ctx.tokens.list(access.org.id)
            if t.member_id != access.member.id
        ]
    return render(
        request,
        state,
        "tokens.html",
        access=access,
        section="tokens",
        own=ctx.tokens.list(access.org.id, access.member.id),
        everyone=everyone,
        now=utcnow(),
        refused=refused,
    )


@router.get("/orgs/{org_id}/tokens")
def tokens_page(request: Request, state: Console, access: OrgMember) -> Response:
    return _tokens_page(request, state, access)


@router.post("/orgs/{org_id}/tokens")
def create_token(
    request: Request,
    state: Console,
    access: OrgMember,
    name: Annotated[str, Form(max_length=200)] = "",
    expires_in_days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def create() -> Response:
        token, plain = tokens.create_personal_token(
            state.ctx,
            access.member,
            access.actor,
            name=name,
            expires_in_days=whole_number(
                expires_in_days, "expires_in_days", optional=True, label="expiry in days"
            ),
        )
        return render(
            request,
            state,
            "token_created.html",
            access=access,
            section="tokens",
            token=token,
            secret=plain,
            api_base=api_base_url(request, state),
        )

    return form_action(create, partial(_tokens_page, request, state, access))


@router.post("/orgs/{org_id}/tokens/{token_id}/revoke")
def revoke_own_token(
    request: Request, state: Console, access: OrgMember, token: OwnToken
) -> Response:
    def revoke() -> Response:
        tokens.revoke_personal_token(state.ctx, token, access.actor, access.member.email)
        return redirect(f"/orgs/{access.org.id}/tokens", "token_revoked")

    return form_action(revoke, partial(_tokens_page, request, state, access))


@router.post("/orgs/{org_id}/members/{member_id}/tokens/{token_id}/revoke")
def revoke_member_token(
    request: Request,
    state: Console,
    access: OrgAdmin,
    member: TargetMember,
    token: MemberToken,
) -> Response:
    def revoke() -> Response:
        tokens.revoke_personal_token(state.ctx, token, access.actor, member.email)
        return redirect(f"/orgs/{access.org.id}/tokens", "token_revoked")

    return form_action(revoke, partial(_tokens_page, request, state, access))
