"""Service accounts as admin actions: create (token shown once), list, rotate, revoke.

A service account belongs to the org, not to a member, so its token keeps
working when whoever made it leaves. Its scope is fixed at creation:
``v1`` calls ``/v1`` (ledgered and limited as the account), ``admin`` calls
the org's JSON admin API as an org admin. Rotation and revocation commit,
then ``ctx.changes.bump()``, which returns once every replica has dropped
its caches: the old token is refused everywhere when the action returns.
"""

from __future__ import annotations

import hmac
import secrets
from enum import StrEnum

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import AuthenticationFailed, Conflict, InvalidRequest, PermissionDenied
from chatgrid.identity.models import Member, Org, Role
from chatgrid.identity.tokens import hash_token
from chatgrid.identity.users import has_control_characters
from chatgrid.store.service_accounts import ServiceAccount, ServiceAccountRepository

SERVICE_TOKEN_PREFIX = "cgsa_"  # noqa: S105 (a label, not a secret)


class Scope(StrEnum):
    """What a service account's token may call."""

    V1 = "v1"  # /v1, ledgered and limited as the account
    ADMIN = "admin"  # the org's admin routes of /api, as an org admin


SCOPES = tuple(s.value for s in Scope)
MAX_NAME = 100
_SHOWN = 12
#: How a service account appears as an audit actor and in usage views (its name follows).
ACTOR_LABEL = "service-account:"


def _repo(ctx: AppContext) -> ServiceAccountRepository:
    return ctx.service_accounts


def _new_secret() -> str:
    return SERVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def service_actor(account: ServiceAccount, client_addr: str | None = None) -> Actor:
    """The audit actor of an admin-scope token's calls: the account's id and name."""
    return Actor(
        user_id=account.id,
        email=ACTOR_LABEL + account.name,
        client_addr=client_addr,
        user_agent="service-account",
    )


def acting_member(account: ServiceAccount) -> Member:
    """The account seen by role rules: an admin of its own org (never an owner).

    Not a seat and not in ``members``: the rules that compare an actor with
    a target (``roles.check_role_change``) see an admin with an id no member has.
    """
    return Member(
        id=account.id,
        org_id=account.org_id,
        user_id=account.id,
        email=ACTOR_LABEL + account.name,
        role=Role.ADMIN,
        status="active",
        created_at=account.created_at,
    )


def _check_may_mint(scope: str, by_service_account: bool) -> None:
    """An admin-scope token may make ``v1`` tokens, never admin ones.

    Otherwise a leaked admin token could mint a second one before it is
    revoked and outlive its own revocation; only a person can hand out admin power.
    """
    if by_service_account and scope == Scope.ADMIN:
        raise PermissionDenied(
            "a service account cannot create or rotate an admin-scope service account; "
            "an org admin must do it in person",
            code="service_account_mint_refused",
        )


def create_service_account(
    ctx: AppContext,
    org: Org,
    actor: Actor,
    name: str,
    scope: str,
    *,
    by_service_account: bool = False,
) -> tuple[ServiceAccount, str]:
    """A new account and its token; the token is returned here and never again."""
    label = name.strip()
    if not label or len(label) > MAX_NAME or has_control_characters(label):
        raise InvalidRequest(
            f"a service account's name is 1 to {MAX_NAME} characters on one line", param="name"
        )
    if scope not in SCOPES:
        raise InvalidRequest("a service account's scope is v1 or admin", param="scope")
    _check_may_mint(scope, by_service_account)
    repo = _repo(ctx)
    if any(a.name == label and a.revoked_at is None for a in repo.list(org.id)):
        raise Conflict(
            f"a service account named {label!r} exists", code="service_account_exists", param="name"
        )
    secret = _new_secret()
    account = repo.create(org.id, label, scope, secret[:_SHOWN], hash_token(secret))
    ctx.audit.record(
        org.id,
        actor,
        "service_account.created",
        account.id,
        {"name": label, "scope": scope, "prefix": account.token_prefix},
    )
    return account, secret


def list_service_accounts(ctx: AppContext, org: Org) -> list[ServiceAccount]:
    return _repo(ctx).list(org.id)


def get_service_account(ctx: AppContext, org: Org, account_id: str) -> ServiceAccount:
    """An account of this org by id (revoked ones too), else ``NotFound``."""
    return _repo(ctx).get(org.id, account_id)


def find_service_account(ctx: AppContext, org: Org, name_or_id: str) -> ServiceAccount:
    """By id, or by the name of a live account (the CLI's way), else ``NotFound``."""
    repo = _repo(ctx)
    for account in repo.list(org.id):
        if account.name == name_or_id and account.revoked_at is None:
            return account
    return repo.get(org.id, name_or_id)


def rotate_service_account(
    ctx: AppContext, org: Org, actor: Actor, account_id: str, *, by_service_account: bool = False
) -> tuple[ServiceAccount, str]:
    """A new token; the old one is refused by every server from the moment this returns."""
    _check_may_mint(_repo(ctx).get(org.id, account_id).scope, by_service_account)
    secret = _new_secret()
    account = _repo(ctx).rotate(org.id, account_id, secret[:_SHOWN], hash_token(secret))
    ctx.changes.bump()
    ctx.audit.record(
        org.id,
        actor,
        "service_account.rotated",
        account.id,
        {"name": account.name, "scope": account.scope, "prefix": account.token_prefix},
    )
    return account, secret


def revoke_service_account(
    ctx: AppContext, org: Org, actor: Actor, account_id: str
) -> ServiceAccount:
    """The account and its token, refused by every server from the moment this returns."""
    account = _repo(ctx).revoke(org.id, account_id)
    ctx.changes.bump()
    ctx.audit.record(
        org.id,
        actor,
        "service_account.revoked",
        account.id,
        {"name": account.name, "scope": account.scope, "prefix": account.token_prefix},
    )
    return account


def admin_bearer(ctx: AppContext, presented: str) -> ServiceAccount:
    """The admin-scope account a bearer token belongs to, or why it cannot act.

    Unknown, rotated or revoked: 401. A live ``v1`` token: 403 (it is only
    for ``/v1``). Which org it may act in is the caller's check.
    """
    holder = None
    if presented.startswith(SERVICE_TOKEN_PREFIX):
        holder = _repo(ctx).holder_of(hash_token(presented))
    if (
        holder is None
        or not holder.usable
        or not hmac.compare_digest(holder.account.token_prefix or "", presented[:_SHOWN])
    ):
        raise AuthenticationFailed(
            "this bearer token is not a live admin service account token", code="invalid_token"
        )
    if holder.account.scope != "admin":
        raise PermissionDenied(
            "this service account's token is for /v1 only", code="service_account_scope"
        )
    return holder.account
