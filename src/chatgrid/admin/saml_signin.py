"""Signing in through an org's SAML 2.0 identity provider (SP-initiated, as OIDC's trip).

``begin`` builds an AuthnRequest (HTTP-Redirect binding) and records the
sign-in exactly as OIDC's does (``sso_logins``): the random ``RelayState``
plays ``state``, the AuthnRequest's ID is kept where OIDC keeps its nonce (to
check ``InResponseTo``), and the browser's secret goes in the same ``cg_sso``
cookie. ``finish`` takes the IdP's POSTed ``SAMLResponse`` with that
``RelayState`` and cookie, uses the sign-in up, verifies the response
(``identity.saml``), spends the assertion's ID in the replay store shared by
the replicas, and admits the person through ``admin.sso_signin.admit`` (the
org's verified domains, just-in-time membership, the group's role, audit).

Our SP's URLs are built from ``CHATGRID_PUBLIC_URL`` when it is set; the
caller passes the request's own base only when it is not (local use).
"""

from __future__ import annotations

from datetime import datetime

from chatgrid.admin.signin import ClientInfo
from chatgrid.admin.sso import sso_repository
from chatgrid.admin.sso_signin import (
    LOGIN_LIFETIME,
    START_AGAIN,
    SsoSignedIn,
    SsoStart,
    admit,
    audit_refusal,
    hashed,
    take,
)
from chatgrid.context import AppContext
from chatgrid.identity.oidc import new_browser_secret
from chatgrid.identity.saml import (
    IdpMetadata,
    ServiceProvider,
    authn_request,
    service_provider,
    sp_metadata,
    verify_response,
)
from chatgrid.identity.sso import SsoConnection, SsoProtocol, SsoSignInRefused
from chatgrid.store.saml_replay import SamlReplayStore
from chatgrid.store.sso import PendingLogin
from chatgrid.store.types import utcnow


def sp_base(ctx: AppContext, request_base: str) -> str:
    """Where our SP lives: the public URL, else (unset, local use) the request's base."""
    return (ctx.settings.public_url or request_base).rstrip("/")


def saml_connection(ctx: AppContext, org_id: str) -> SsoConnection | None:
    connection = sso_repository(ctx).get(org_id)
    return connection if connection and connection.protocol is SsoProtocol.SAML else None


def org_sp_metadata(ctx: AppContext, org_id: str, request_base: str) -> str | None:
    """The SP metadata XML to give the org's IdP; None unless the org uses SAML."""
    if saml_connection(ctx, org_id) is None:
        return None
    return sp_metadata(service_provider(sp_base(ctx, request_base), org_id))


def begin(
    ctx: AppContext,
    org_id: str,
    *,
    request_base: str,
    next_path: str | None,
    now: datetime | None = None,
) -> SsoStart:
    """The IdP URL carrying a new AuthnRequest, and the secret the browser's cookie keeps."""
    connection = saml_connection(ctx, org_id)
    if connection is None:
        raise SsoSignInRefused(
            "this organization has no SAML identity provider", code="sso_not_configured"
        )
    sp = service_provider(sp_base(ctx, request_base), org_id)
    relay_state = new_browser_secret()
    secret = new_browser_secret()
    request_id, url = authn_request(sp, IdpMetadata.from_settings(connection.settings), relay_state)
    now = now or utcnow()
    sso_repository(ctx).start_login(
        PendingLogin(
            state_hash=hashed(relay_state),
            browser_hash=hashed(secret),
            org_id=org_id,
            connection_id=connection.id,
            nonce=request_id,
            redirect_uri=sp.acs_url,
            next_path=next_path,
            created_at=now,
            expires_at=now + LOGIN_LIFETIME,
        )
    )
    return SsoStart(url, secret)


def finish(
    ctx: AppContext,
    saml_response: str,
    relay_state: str | None,
    browser_secret: str | None,
    client: ClientInfo,
    *,
    request_base: str,
    now: datetime | None = None,
) -> SsoSignedIn:
    """The person the IdP signed in, admitted and audited; ``SsoSignInRefused`` if not."""
    now = now or utcnow()
    login = take(ctx, relay_state, browser_secret, now)
    try:
        return _finish(ctx, login, saml_response, client, request_base, now)
    except SsoSignInRefused as refusal:
        audit_refusal(ctx, login.org_id, refusal, client)
        raise


def _finish(
    ctx: AppContext,
    login: PendingLogin,
    saml_response: str,
    client: ClientInfo,
    request_base: str,
    now: datetime,
) -> SsoSignedIn:
    connection = saml_connection(ctx, login.org_id)
    sp: ServiceProvider = service_provider(sp_base(ctx, request_base), login.org_id)
    if (
        connection is None
        or connection.id != login.connection_id
        or sp.acs_url != login.redirect_uri
    ):
        raise SsoSignInRefused(
            f"single sign-on changed while you were away. {START_AGAIN}", code="sso_changed"
        )
    idp = IdpMetadata.from_settings(connection.settings)
    assertion = verify_response(
        saml_response, sp, idp, login.nonce, now, groups_attribute=connection.groups_claim
    )
    replay = SamlReplayStore(ctx.engine)
    if not replay.accept_once(
        login.org_id, idp.entity_id, assertion.assertion_id, assertion.expires_at, now
    ):
        raise SsoSignInRefused(
            f"this SAML assertion was used already; each is accepted once. {START_AGAIN}",
            code="saml_replayed",
        )
    return admit(ctx, login, connection, assertion.identity, client, now)
