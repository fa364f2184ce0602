"""SCIM provisioning tokens: create (shown once), list, revoke (``docs/identity.md``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chatgrid.admin import scim
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit
from chatgrid.store.scim import ScimToken

scim_app = typer.Typer(
    help="SCIM 2.0 provisioning from an identity provider.", no_args_is_help=True
)
token_app = typer.Typer(help="The org's SCIM bearer tokens.", no_args_is_help=True)
scim_app.add_typer(token_app, name="token")


def token_view(token: ScimToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "revoked_at": token.revoked_at,
    }


@token_app.command("create")
def token_create(org: OrgArg) -> None:
    """A new SCIM bearer token for the identity provider; printed once, stored only hashed."""
    with admin_context() as ctx:
        token, secret = scim.create_token(ctx, ctx.orgs.get(org), Actor.cli())
        emit({**token_view(token), "token": secret, "base_url": "<console URL>/scim/v2"})


@token_app.command("list")
def token_list(org: OrgArg) -> None:
    """The org's SCIM tokens (prefixes only), revoked ones included."""
    with admin_context() as ctx:
        emit([token_view(t) for t in scim.list_tokens(ctx, ctx.orgs.get(org))])


@token_app.command("revoke")
def token_revoke(
    org: OrgArg, token_id: Annotated[str, typer.Argument(help="The token's id (sct_…).")]
) -> None:
    """Revoke a SCIM token: the identity provider's next call with it gets a 401."""
    with admin_context() as ctx:
        emit(token_view(scim.revoke_token(ctx, ctx.orgs.get(org), Actor.cli(), token_id)))
