"""Personal API tokens from the console: create (shown once), list, revoke, with audit."""

from __future__ import annotations

from datetime import timedelta

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.identity.models import ApiToken, Member
from chatgrid.identity.users import has_control_characters
from chatgrid.store.types import utcnow

MAX_TOKEN_DAYS = 3650
MAX_TOKEN_NAME = 100


def create_personal_token(
    ctx: AppContext,
    member: Member,
    actor: Actor,
    *,
    name: str = "",
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A token for the member's calls; the plaintext is returned here and never again.

    The one way a token is made, from the console, the API and the CLI, so a
    name is checked the same everywhere (a name over 100 characters would
    otherwise reach the database, where PostgreSQL refuses it).
    """
    if member.status != "active":
        raise InvalidRequest(f"{member.email} is no longer an active member", param="email")
    label = name.strip()
    if len(label) > MAX_TOKEN_NAME or has_control_characters(label):
        raise InvalidRequest(
            f"a token name is at most {MAX_TOKEN_NAME} characters on one line", param="name"
        )
    expires_at = None
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidRequest(
                f"a token expires after 1 to {MAX_TOKEN_DAYS} days", param="expires_in_days"
            )
        expires_at = utcnow() + timedelta(days=expires_in_days)
    token, plain = ctx.tokens.create(member.org_id, member.id, name=label, expires_at=expires_at)
    ctx.audit.record(
        member.org_id,
        actor,
        "token.created",
        token.id,
        {
            "prefix": token.prefix,
            "name": label,
            "email": member.email,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, plain


def find_token(ctx: AppContext, org_id: str, token_id: str, member_id: str | None) -> ApiToken:
    """A token of this org (and of this member, when given), or ``NotFound``."""
    for token in ctx.tokens.list(org_id, member_id):
        if token.id == token_id:
            return token
    raise NotFound("no such token", code="token_not_found")


def revoke_personal_token(ctx: AppContext, token: ApiToken, actor: Actor, owner_email: str) -> None:
    """Refused by every server from the moment this returns."""
    ctx.tokens.revoke(token.org_id, token.id)
    ctx.changes.bump()
    ctx.audit.record(
        token.org_id,
        actor,
        "token.revoked",
        token.id,
        {"prefix": token.prefix, "name": token.name, "email": owner_email},
    )
