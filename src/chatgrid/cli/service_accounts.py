"""Service accounts: create (token printed once), list, rotate, revoke (``docs/identity.md``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatgrid.admin import service_accounts as accounts
from chatgrid.admin.service_accounts import Scope
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit
from chatgrid.store.service_accounts import ServiceAccount

service_account_app = typer.Typer(
    help="Org-owned API tokens that belong to no member.", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="The account's name, or its id (sa_…).")]


def account_view(account: ServiceAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "scope": account.scope,
        "prefix": account.token_prefix,
        "created_at": account.created_at,
        "revoked_at": account.revoked_at,
    }


@service_account_app.command("create")
def create(
    org: OrgArg,
    name: Annotated[str, typer.Argument(help="What the account is for (unique among live ones).")],
    scope: Annotated[Scope, typer.Option(help="v1: calls /v1; admin: the org's JSON admin API.")],
) -> None:
    """A new service account; its token is printed once and stored only hashed."""
    with admin_context() as ctx:
        account, secret = accounts.create_service_account(
            ctx, ctx.orgs.get(org), Actor.cli(), name, scope.value
        )
        emit({**account_view(account), "token": secret})


@service_account_app.command("list")
def list_accounts(org: OrgArg) -> None:
    """The org's service accounts (token prefixes only), revoked ones included."""
    with admin_context() as ctx:
        emit([account_view(a) for a in accounts.list_service_accounts(ctx, ctx.orgs.get(org))])


@service_account_app.command("rotate")
def rotate(org: OrgArg, name: NameArg) -> None:
    """A new token, printed once; the old one is refused everywhere when this returns."""
    with admin_context() as ctx:
        found = ctx.orgs.get(org)
        account = accounts.find_service_account(ctx, found, name)
        rotated, secret = accounts.rotate_service_account(ctx, found, Actor.cli(), account.id)
        emit({**account_view(rotated), "token": secret})


@service_account_app.command("revoke")
def revoke(org: OrgArg, name: NameArg) -> None:
    """Revoke the account and its token: refused everywhere when this returns."""
    with admin_context() as ctx:
        found = ctx.orgs.get(org)
        account = accounts.find_service_account(ctx, found, name)
        revoked = accounts.revoke_service_account(ctx, found, Actor.cli(), account.id)
        emit(account_view(revoked))
