"""An org's single sign-on through the API (org admins): read, set, test, enforce, remove.

The handlers are plain functions run in a worker thread; the provider's
discovery runs in its own event loop there (``asyncio.run``), bounded in time.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from starlette.requests import Request

from chatgrid.admin import sso
from chatgrid.web.api.sso_schemas import (
    ConnectionTestPublic,
    EnforcementUpdate,
    OidcUpdate,
    SsoPublic,
    connection_test_public,
    sso_public,
)
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages.sso import callback_url

router = APIRouter(tags=["single sign-on"])


@router.get(
    "/api/orgs/{org_id}/sso",
    response_model=SsoPublic | None,
    summary="The org's identity provider (null when none)",
)
def get_sso(request: Request, state: Console, access: OrgAdmin) -> SsoPublic | None:
    connection = sso.connection_of(state.ctx, access.org.id)
    return None if connection is None else sso_public(connection, callback_url(request, state))


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
    return sso_public(saved, callback_url(request, state))


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
    return sso_public(saved, callback_url(request, state))


@router.delete(
    "/api/orgs/{org_id}/sso",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the org's identity provider (people use passwords again)",
)
def delete_sso(state: Console, access: OrgAdmin) -> None:
    sso.remove_sso(state.ctx, access.org.id, access.actor)
