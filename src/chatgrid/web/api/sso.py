"""An org's single sign-on through the API (org admins): read, set (OIDC or SAML), test,
enforce, remove.

The handlers are plain functions run in a worker thread; the provider's
discovery runs in its own event loop there (``asyncio.run``), bounded in time.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from starlette.requests import Request

from chatgrid.admin import saml_signin, sso, sso_saml
from chatgrid.identity.saml import ServiceProvider, service_provider
from chatgrid.identity.sso import SsoConnection
from chatgrid.web.api.sso_schemas import (
    ConnectionTestPublic,
    EnforcementUpdate,
    OidcUpdate,
    SamlUpdate,
    SsoPublic,
    connection_test_public,
    sso_public,
)
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages.sso import callback_url
from chatgrid.web.state import ConsoleState

router = APIRouter(tags=["single sign-on"])


def _saml_sp(request: Request, state: ConsoleState, org_id: str) -> ServiceProvider:
    return service_provider(saml_signin.sp_base(state.ctx, str(request.base_url)), org_id)


def _public(request: Request, state: ConsoleState, connection: SsoConnection) -> SsoPublic:
    sp = _saml_sp(request, state, connection.org_id)
    return sso_public(connection, callback_url(request, state), sp)


@router.get(
    "/api/orgs/{org_id}/sso",
    response_model=SsoPublic | None,
    summary="The org's identity provider (null when none)",
)
def get_sso(request: Request, state: Console, access: OrgAdmin) -> SsoPublic | None:
    connection = sso.connection_of(state.ctx, access.org.id)
    return None if connection is None else _public(request, state, connection)


@router.put(
    "/api/orgs/{org_id}/sso/oidc",
    response_model=SsoPublic,
    summary="Connect or replace an OpenID Connect provider (checked by discovery first)",
)
def put_oidc(body: OidcUpdate, request: Request, state: Console, access: OrgAdmin) -> SsoPublic:
    """400 ``sso_setup_refused`` says in plain words why the provider cannot be used
    (unreachable, not JSON, issuer mismatch, no jwks_uri...); nothing is saved then."""
    settings = sso.OidcSettings(
        issuer=body.issuer,
        client_id=body.client_id,
        groups_claim=body.groups_claim,
        role_map=body.role_map,
        default_role=body.default_role,
    )
    saved = asyncio.run(
        sso.configure_oidc(state.ctx, access.org.id, access.actor, settings, body.client_secret)
    )
    return _public(request, state, saved)


@router.put(
    "/api/orgs/{org_id}/sso/saml",
    response_model=SsoPublic,
    summary="Connect or replace a SAML 2.0 identity provider from its metadata (URL or XML)",
)
def put_saml(body: SamlUpdate, request: Request, state: Console, access: OrgAdmin) -> SsoPublic:
    """400 ``sso_setup_refused`` says in plain words what the metadata lacks (a signing
    certificate, an HTTP-Redirect sign-in URL...) or why its URL failed; nothing is saved."""
    settings = sso_saml.SamlSettings(
        metadata_xml=body.metadata_xml,
        metadata_url=body.metadata_url,
        groups_attribute=body.groups_attribute,
        role_map=body.role_map,
        default_role=body.default_role,
    )
    saved = asyncio.run(sso_saml.configure_saml(state.ctx, access.org.id, access.actor, settings))
    return _public(request, state, saved)


@router.post(
    "/api/orgs/{org_id}/sso/test",
    response_model=ConnectionTestPublic,
    summary="Run discovery and fetch the keys of the saved provider now",
)
def test_sso(state: Console, access: OrgAdmin) -> ConnectionTestPublic:
    return connection_test_public(asyncio.run(sso.check_connection(state.ctx, access.org.id)))


@router.put(
    "/api/orgs/{org_id}/sso/enforcement",
    response_model=SsoPublic,
    summary="Turn password sign-in off (or on) for the org's verified domains",
)
def put_enforcement(
    body: EnforcementUpdate, request: Request, state: Console, access: OrgAdmin
) -> SsoPublic:
    saved = sso.set_enforced(state.ctx, access.org.id, access.actor, body.enforced)
    return _public(request, state, saved)


@router.delete(
    "/api/orgs/{org_id}/sso",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the org's identity provider (people use passwords again)",
)
def delete_sso(state: Console, access: OrgAdmin) -> None:
    sso.remove_sso(state.ctx, access.org.id, access.actor)
