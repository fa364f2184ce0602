"""Single sign-on per org: set an OIDC provider or a SAML IdP, show, test, enforce, remove
(``docs/identity.md``). The OIDC client secret is read from standard input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chatgrid.admin import sso, sso_saml
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit, fail, read_secret, run_async
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import Role
from chatgrid.identity.saml import MAX_METADATA_BYTES
from chatgrid.identity.sso import SsoConnection, parse_role, parse_role_map

sso_app = typer.Typer(
    help="Single sign-on through an org's identity provider.", no_args_is_help=True
)
oidc_app = typer.Typer(help="OpenID Connect providers.", no_args_is_help=True)
sso_app.add_typer(oidc_app, name="oidc")
saml_app = typer.Typer(help="SAML 2.0 identity providers.", no_args_is_help=True)
sso_app.add_typer(saml_app, name="saml")


RoleMapOption = Annotated[
    list[str] | None,
    typer.Option(help="GROUP=ROLE (repeat): members of GROUP join with ROLE."),
]
DefaultRoleOption = Annotated[
    str, typer.Option(help="The role of people no group maps (member or admin).")
]


def sso_view(ctx: AppContext, connection: SsoConnection) -> dict[str, Any]:
    """The connection as the command prints it: the secret by fingerprint and last four."""
    sealed = connection.sealed_secret
    return {
        "id": connection.id,
        "protocol": connection.protocol.value,
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "secret_fingerprint": sealed.fingerprint if sealed else None,
        "secret_last4": sealed.last4 if sealed else None,
        "groups_claim": connection.groups_claim,
        "role_map": {group: role.value for group, role in connection.role_map.items()},
        "default_role": connection.default_role.value,
        "enforced": connection.enforced,
        "redirect_uri": sso.registered_redirect_uri(ctx)
        or f"(set CHATGRID_PUBLIC_URL) + {sso.CALLBACK_PATH}",
        "updated_at": connection.updated_at,
        "updated_by": connection.updated_by,
        "saml": sso_saml.sp_endpoints(ctx, connection.org_id)
        if connection.protocol.value == "saml"
        else None,
    }


@oidc_app.command("set")
def oidc_set(
    org: OrgArg,
    issuer: Annotated[str, typer.Option(help="The provider's issuer URL, exactly.")],
    client_id: Annotated[str, typer.Option(help="ChatGrid's client ID at the provider.")],
    groups_claim: Annotated[
        str | None, typer.Option(help="The ID token claim that lists groups, e.g. groups.")
    ] = None,
    role_map: RoleMapOption = None,
    default_role: DefaultRoleOption = Role.MEMBER.value,
) -> None:
    """Connect (or replace) an org's OIDC provider, client secret read from stdin; the
    provider's discovery and keys are checked first."""
    try:
        settings = sso.OidcSettings(
            issuer=issuer,
            client_id=client_id,
            groups_claim=groups_claim,
            role_map=parse_role_map(role_map or []),
            default_role=parse_role(default_role),
        )
    except InvalidRequest as exc:
        fail(exc.message)
    secret = read_secret("Client secret (input hidden): ", what="client secret")
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        saved = run_async(lambda: sso.configure_oidc(ctx, org_id, Actor.cli(), settings, secret))
        emit(sso_view(ctx, saved))


@saml_app.command("set")
def saml_set(
    org: OrgArg,
    metadata_file: Annotated[
        Path | None, typer.Option(help="The IdP's metadata XML, saved to a file.")
    ] = None,
    metadata_url: Annotated[
        str | None, typer.Option(help="The IdP's metadata URL (https), fetched now.")
    ] = None,
    groups_attribute: Annotated[
        str | None, typer.Option(help="The assertion attribute that lists groups.")
    ] = None,
    role_map: RoleMapOption = None,
    default_role: DefaultRoleOption = Role.MEMBER.value,
) -> None:
    """Connect (or replace) an org's SAML IdP from its metadata (a file or a URL); prints
    the entity ID and ACS URL to give the IdP."""
    if (metadata_file is None) == (metadata_url is None):
        fail("give exactly one of --metadata-file and --metadata-url")
    try:
        xml = None
        if metadata_file is not None:
            with metadata_file.open("rb") as handle:
                xml = handle.read(MAX_METADATA_BYTES + 1).decode("utf-8", "replace")
        settings = sso_saml.SamlSettings(
            metadata_xml=xml,
            metadata_url=metadata_url,
            groups_attribute=groups_attribute,
            role_map=parse_role_map(role_map or []),
            default_role=parse_role(default_role),
        )
    except OSError as exc:
        fail(f"cannot read {metadata_file}: {exc.strerror}")
    except InvalidRequest as exc:
        fail(exc.message)
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        saved = run_async(lambda: sso_saml.configure_saml(ctx, org_id, Actor.cli(), settings))
        emit(sso_view(ctx, saved))


@sso_app.command("show")
def sso_show(org: OrgArg) -> None:
    """The org's identity provider (the secret only by fingerprint), or null."""
    with admin_context() as ctx:
        connection = sso.connection_of(ctx, ctx.orgs.get(org).id)
        emit(None if connection is None else sso_view(ctx, connection))


@sso_app.command("test")
def sso_test(org: OrgArg) -> None:
    """Run the saved provider's discovery and fetch its keys now; exit 1 if anything fails."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        result = run_async(lambda: sso.check_connection(ctx, org_id))
        emit({"ok": result.ok, "steps": [list(step) for step in result.steps]})
    if not result.ok:
        raise typer.Exit(1)


@sso_app.command("enforce")
def sso_enforce(
    org: OrgArg,
    on: Annotated[
        bool, typer.Option("--on/--off", help="Refuse password sign-in for the org's domains.")
    ],
) -> None:
    """With SSO enforced, addresses on the org's verified domains cannot use passwords
    (owners keep their recovery codes as break-glass)."""
    with admin_context() as ctx:
        saved = sso.set_enforced(ctx, ctx.orgs.get(org).id, Actor.cli(), on)
        emit(sso_view(ctx, saved))


@sso_app.command("remove")
def sso_remove(org: OrgArg) -> None:
    """Disconnect the org's provider: everyone signs in with a password again."""
    with admin_context() as ctx:
        removed = sso.remove_sso(ctx, ctx.orgs.get(org).id, Actor.cli())
        emit({"id": removed.id, "issuer": removed.issuer, "removed": True})
