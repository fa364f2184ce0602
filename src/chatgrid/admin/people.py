"""Orgs, members and personal tokens."""

from __future__ import annotations

from datetime import datetime

from chatgrid.admin import accounts
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import ApiToken, BillingMode, Member, Org, Role
from chatgrid.identity.users import User, check_org_name


def create_org(ctx: AppContext, name: str, mode: BillingMode) -> Org:
    return ctx.orgs.create(check_org_name(name), mode)


def create_operator(ctx: AppContext, email: str, password: str) -> User:
    """The first operator account of a fresh instance (``chatgrid operator create EMAIL``).

    Audited as ``operator.created``; see ``chatgrid.admin.accounts.create_operator``.
    """
    return accounts.create_operator(ctx, email, password)


def add_member(ctx: AppContext, org_ref: str, email: str, role: Role) -> Member:
    if "@" not in email or len(email) > 320:
        raise InvalidRequest(f"{email!r} is not an email address", param="email")
    org = ctx.orgs.get(org_ref)
    member = ctx.members.add(org.id, email, role)
    ctx.changes.bump()
    return member


def create_token(
    ctx: AppContext,
    org_ref: str,
    email: str,
    *,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    org = ctx.orgs.get(org_ref)
    member = ctx.members.find_by_email(org.id, email)
    if member.status != "active":
        raise InvalidRequest(f"{email} is no longer an active member", param="email")
    return ctx.tokens.create(org.id, member.id, name=name, expires_at=expires_at)


def revoke_token(ctx: AppContext, org_ref: str, token_id: str) -> None:
    org = ctx.orgs.get(org_ref)
    ctx.tokens.revoke(org.id, token_id)
    ctx.changes.bump()
