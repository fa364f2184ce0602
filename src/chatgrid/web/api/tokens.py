"""Personal API tokens through the API: your own, and (admins) anyone's."""

from __future__ import annotations

from fastapi import APIRouter, status

from chatgrid.admin import tokens
from chatgrid.web.api.tokens_schemas import (
    TokenCreate,
    TokenCreated,
    TokenPublic,
    token_created,
    token_public,
)
from chatgrid.web.deps import Console, MemberToken, OrgAdmin, OrgMember, OwnToken, TargetMember

router = APIRouter(tags=["tokens"])


@router.get("/api/orgs/{org_id}/tokens", response_model=list[TokenPublic], summary="Your tokens")
def list_own(state: Console, access: OrgMember) -> list[TokenPublic]:
    return [token_public(t) for t in state.ctx.tokens.list(access.org.id, access.member.id)]


@router.post(
    "/api/orgs/{org_id}/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create a token (shown once)",
)
def create_own(body: TokenCreate, state: Console, access: OrgMember) -> TokenCreated:
    token, plain = tokens.create_personal_token(
        state.ctx,
        access.member,
        access.actor,
        name=body.name,
        expires_in_days=body.expires_in_days,
    )
    return token_created(token, plain)


@router.delete(
    "/api/orgs/{org_id}/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of your tokens",
)
def revoke_own(state: Console, access: OrgMember, token: OwnToken) -> None:
    tokens.revoke_personal_token(state.ctx, token, access.actor, access.member.email)


@router.get(
    "/api/orgs/{org_id}/members/{member_id}/tokens",
    response_model=list[TokenPublic],
    summary="A member's tokens",
)
def list_member_tokens(state: Console, access: OrgAdmin, member: TargetMember) -> list[TokenPublic]:
    return [token_public(t) for t in state.ctx.tokens.list(access.org.id, member.id)]


@router.delete(
    "/api/orgs/{org_id}/members/{member_id}/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a member's token",
)
def revoke_member_token(
    state: Console, access: OrgAdmin, member: TargetMember, token: MemberToken
) -> None:
    tokens.revoke_personal_token(state.ctx, token, access.actor, member.email)
