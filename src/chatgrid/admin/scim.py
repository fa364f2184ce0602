"""SCIM provisioning as admin actions: the org's SCIM tokens, and the IdP's changes to people.

Each identity provider call is an action by a SCIM client actor
(``scim:<token prefix>``), audited like a console admin's. Deactivating a
User is a member removal (``AccountRepository.remove``): tokens revoked and
sessions ended in the same transaction, then ``ctx.changes.bump()``, which
returns only once every replica has dropped its caches, so the SCIM call
answers after the person has lost access everywhere. Their seat closes
that day; reactivating opens a new one.
"""

from __future__ import annotations

import hmac
import secrets

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import AuthenticationFailed, Conflict, InvalidRequest
from chatgrid.identity.models import Member, Org, Role
from chatgrid.identity.scim import UserChange, UserFields
from chatgrid.identity.tokens import hash_token
from chatgrid.store.scim import ScimRepository, ScimToken, ScimUser

SCIM_TOKEN_PREFIX = "cgscim_"  # noqa: S105 (a label, not a secret)
_SHOWN = 14


def _repo(ctx: AppContext) -> ScimRepository:
    return ScimRepository(ctx.engine)


def create_token(ctx: AppContext, org: Org, actor: Actor) -> tuple[ScimToken, str]:
    """A new SCIM bearer token for the org: the secret is returned once, only its hash kept."""
    secret = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = _repo(ctx).create_token(org.id, secret[:_SHOWN], hash_token(secret))
    ctx.audit.record(org.id, actor, "scim.token_created", token.id, {"prefix": token.prefix})
    return token, secret


def list_tokens(ctx: AppContext, org: Org) -> list[ScimToken]:
    return _repo(ctx).tokens(org.id)


def revoke_token(ctx: AppContext, org: Org, actor: Actor, token_id: str) -> ScimToken:
    token = _repo(ctx).revoke_token(org.id, token_id)
    ctx.audit.record(org.id, actor, "scim.token_revoked", token.id, {"prefix": token.prefix})
    return token


def authenticate(ctx: AppContext, authorization: str | None) -> tuple[Org, Actor]:
    """The org a ``Bearer`` SCIM token belongs to, and the actor its calls are audited as."""
    scheme, _, presented = (authorization or "").partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented.startswith(SCIM_TOKEN_PREFIX):
        raise AuthenticationFailed("a SCIM bearer token is required", code="invalid_token")
    token = _repo(ctx).live_token(hash_token(presented))
    if token is None or not hmac.compare_digest(token.prefix, presented[:_SHOWN]):
        raise AuthenticationFailed("this SCIM token is unknown or revoked", code="invalid_token")
    actor = Actor(user_id=None, email=f"scim:{token.prefix}", user_agent="scim")
    return ctx.orgs.by_id(token.org_id), actor


def find_users(
    ctx: AppContext,
    org: Org,
    *,
    email: str | None,
    external_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[ScimUser], int]:
    return _repo(ctx).users(
        org.id, email=email, external_id=external_id, offset=offset, limit=limit
    )


def get_user(ctx: AppContext, org: Org, member_id: str) -> ScimUser:
    return _repo(ctx).user(org.id, member_id)


def create_user(ctx: AppContext, org: Org, actor: Actor, fields: UserFields) -> ScimUser:
    """Seat the address as a member; it must be on one of the org's verified domains."""
    domain = fields.user_name.rpartition("@")[2]
    if ctx.domains.verified_owner(domain) != org.id:
        raise InvalidRequest(
            f"{domain} is not a verified domain of this organization; verify it first "
            "(chatgrid domain add / verify)",
            code="invalidValue",
        )
    member_id = _repo(ctx).provision(org.id, fields.user_name, fields.external_id, Role.MEMBER)
    ctx.changes.bump()
    details = {"email": fields.user_name, "external_id": fields.external_id}
    ctx.audit.record(org.id, actor, "scim.user_created", member_id, details)
    if not fields.active:
        return set_active(ctx, org, actor, member_id, False)
    return get_user(ctx, org, member_id)


def set_active(ctx: AppContext, org: Org, actor: Actor, member_id: str, active: bool) -> ScimUser:
    """Deactivate (a removal, on every replica before returning) or reactivate (a new seat)."""
    user = get_user(ctx, org, member_id)
    if user.active == active:
        return user
    if active:
        _repo(ctx).reactivate(org.id, member_id, Role.MEMBER)
        ctx.changes.bump()
        ctx.audit.record(org.id, actor, "scim.user_reactivated", member_id, {"email": user.email})
        return get_user(ctx, org, member_id)

    def guard(target: Member, owners: int) -> None:
        if target.role is Role.OWNER and owners <= 1:
            raise Conflict(
                "the last owner cannot be deactivated; make someone else an owner first",
                code="mutability",
            )

    removal = ctx.accounts.remove(org.id, member_id, guard)
    ctx.changes.bump()
    ctx.audit.record(
        org.id,
        actor,
        "scim.user_deactivated",
        member_id,
        {
            "email": user.email,
            "tokens_revoked": removal.tokens_revoked,
            "sessions_ended": removal.sessions_ended,
        },
    )
    return get_user(ctx, org, member_id)


def change_user(
    ctx: AppContext, org: Org, actor: Actor, member_id: str, change: UserChange
) -> ScimUser:
    """A PATCH: externalId kept, then ``active`` applied."""
    if change.external_id is not None:
        get_user(ctx, org, member_id)
        _repo(ctx).set_external_id(org.id, member_id, change.external_id)
    if change.active is not None:
        return set_active(ctx, org, actor, member_id, change.active)
    return get_user(ctx, org, member_id)


def replace_user(
    ctx: AppContext, org: Org, actor: Actor, member_id: str, fields: UserFields
) -> ScimUser:
    """A PUT: userName cannot change (it is the member's address), the rest is applied."""
    current = get_user(ctx, org, member_id)
    if fields.user_name != current.email:
        raise InvalidRequest(
            "userName is the member's email address and cannot change", code="mutability"
        )
    change = UserChange(active=fields.active, external_id=fields.external_id)
    return change_user(ctx, org, actor, member_id, change)


def delete_user(ctx: AppContext, org: Org, actor: Actor, member_id: str) -> None:
    """DELETE deactivates: the membership stays on record (seat history, audit) as inactive."""
    user = set_active(ctx, org, actor, member_id, False)
    ctx.audit.record(org.id, actor, "scim.user_deleted", member_id, {"email": user.email})
