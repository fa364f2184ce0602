"""Signing in through an org's identity provider, and what enforcement refuses.

``admin.sso.sso_org_for(email)`` answers the sign-in page's first question:
does this address sign in through an identity provider? Only when its domain
is a *verified* domain of an org that set one up. ``begin`` then records the
sign-in (``state``, ``nonce``, bound to the browser) and gives the URL to send
the browser to; ``finish`` takes the provider's answer, checks everything
(``identity.oidc``), provisions the person just in time and returns them, so
the page starts an ordinary session. Every outcome is audited in the org:
``sso.signin`` or ``sso.signin_failed`` (with the reason), and
``sso.provisioned`` when a member was created. SAML's trip is
``admin.saml_signin``'s; it shares ``take``, ``admit`` and the audit here.

With SSO enforced (``admin.sso.refuse_password``), the org's owners keep a
way in if the provider is down: their recovery codes (``break_glass``), each
used once and audited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatgrid.admin.second_factor import spend_recovery_code
from chatgrid.admin.signin import ClientInfo, record_for_user
from chatgrid.admin.sso import enforcing_org, sso_repository
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.domains import email_domain
from chatgrid.identity.models import Role
from chatgrid.identity.oidc import (
    DiscoveryProblem,
    IdTokenRefused,
    authorization_request,
    code_verifier,
    identity_from,
    new_browser_secret,
)
from chatgrid.identity.oidc_http import ProviderDirectory, exchange_code
from chatgrid.identity.sso import (
    Identity,
    SsoConnection,
    SsoProtocol,
    SsoSignInRefused,
    check_identity,
    role_for,
)
from chatgrid.identity.users import User
from chatgrid.providers.network import create_upstream_session
from chatgrid.store.sso import PendingLogin
from chatgrid.store.types import utcnow
from chatgrid.vault import SecretUnreadable

#: How long a sign-in may stay at the identity provider before it must start again.
LOGIN_LIFETIME = timedelta(minutes=10)
START_AGAIN = "Start again from the sign-in page."


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class SsoStart:
    """Where to send the browser, and the secret its sign-in cookie keeps."""

    url: str
    browser_secret: str


def _unreachable(problem: DiscoveryProblem) -> SsoSignInRefused:
    return SsoSignInRefused(
        f"your organization's identity provider cannot be used right now: {problem}",
        code="sso_provider_unavailable",
        status=502,
    )


async def begin(
    ctx: AppContext,
    directory: ProviderDirectory,
    org_id: str,
    *,
    email: str | None,
    redirect_uri: str,
    next_path: str | None,
    now: datetime | None = None,
) -> SsoStart:
    connection = sso_repository(ctx).get(org_id)
    if connection is None or connection.protocol is not SsoProtocol.OIDC:
        # A SAML org starts at ``admin.saml_signin.begin`` (the sign-in page picks).
        raise SsoSignInRefused(
            "this organization has no OpenID Connect provider", code="sso_not_configured"
        )
    if connection.client_id is None:
        raise SsoSignInRefused("this organization has no single sign-on", code="sso_not_configured")
    try:
        async with create_upstream_session(ctx.settings) as session:
            metadata = await directory.metadata(session, connection.issuer)
    except DiscoveryProblem as problem:
        raise _unreachable(problem) from None
    secret = new_browser_secret()
    request = authorization_request(
        metadata,
        connection.client_id,
        redirect_uri,
        secret,
        connection.groups_claim,
        login_hint=email,
    )
    now = now or utcnow()
    sso_repository(ctx).start_login(
        PendingLogin(
            state_hash=hashed(request.state),
            browser_hash=hashed(secret),
            org_id=org_id,
            connection_id=connection.id,
            nonce=request.nonce,
            redirect_uri=redirect_uri,
            next_path=next_path,
            created_at=now,
            expires_at=now + LOGIN_LIFETIME,
        )
    )
    return SsoStart(request.url, secret)


@dataclass(frozen=True)
class SsoAnswer:
    """What the provider sent back to the callback, as the browser brought it."""

    state: str | None
    code: str | None
    error: str | None = None
    error_description: str | None = None
    #: The provider's name for itself (RFC 9207), when it sends one.
    iss: str | None = None


@dataclass(frozen=True)
class SsoSignedIn:
    user: User
    org_id: str
    next_path: str | None


async def finish(
    ctx: AppContext,
    directory: ProviderDirectory,
    answer: SsoAnswer,
    browser_secret: str | None,
    client: ClientInfo,
    *,
    now: datetime | None = None,
) -> SsoSignedIn:
    """The person the provider signed in, provisioned and audited; ``SsoSignInRefused`` if not."""
    now = now or utcnow()
    login = take(ctx, answer.state, browser_secret, now)
    try:
        return await _finish(ctx, directory, login, answer, browser_secret or "", client, now)
    except SsoSignInRefused as refusal:
        audit_refusal(ctx, login.org_id, refusal, client)
        raise


def audit_refusal(
    ctx: AppContext, org_id: str, refusal: SsoSignInRefused, client: ClientInfo
) -> None:
    """``sso.signin_failed`` in the org whose sign-in it was, with the code and reason."""
    details: dict[str, object] = {"code": refusal.code, "reason": refusal.message[:300]}
    ctx.audit.record(org_id, client.actor(None, "sso"), "sso.signin_failed", None, details)


def take(ctx: AppContext, state: str | None, secret: str | None, now: datetime) -> PendingLogin:
    """The sign-in this browser started with this ``state`` (used up), or a refusal."""
    if not state or not secret or len(state) > 200 or len(secret) > 200:
        raise SsoSignInRefused(
            f"this sign-in was not started in this browser. {START_AGAIN}",
            code="sso_state_mismatch",
        )
    login = sso_repository(ctx).take_login(hashed(state), hashed(secret))
    if login is None:
        raise SsoSignInRefused(
            "this sign-in is unknown, was used already, or was started in another browser. "
            + START_AGAIN,
            code="sso_state_mismatch",
        )
    if now >= login.expires_at:
        raise SsoSignInRefused(
            f"the sign-in took more than {LOGIN_LIFETIME.seconds // 60} minutes. {START_AGAIN}",
            code="sso_expired",
        )
    return login


def _client_secret(ctx: AppContext, connection: SsoConnection) -> str:
    if connection.sealed_secret is None:
        raise SsoSignInRefused("the client secret is missing", code="sso_not_configured")
    try:
        return ctx.vault.open(connection.sealed_secret, binding=connection.secret_binding)
    except SecretUnreadable:
        raise SsoSignInRefused(
            "the organization's client secret cannot be read; an admin must set it again",
            code="sso_secret_unreadable",
        ) from None


async def _finish(
    ctx: AppContext,
    directory: ProviderDirectory,
    login: PendingLogin,
    answer: SsoAnswer,
    browser_secret: str,
    client: ClientInfo,
    now: datetime,
) -> SsoSignedIn:
    connection = sso_repository(ctx).get(login.org_id)
    if connection is None or connection.id != login.connection_id or not connection.client_id:
        raise SsoSignInRefused(
            f"single sign-on changed while you were away. {START_AGAIN}", code="sso_changed"
        )
    if answer.iss is not None and answer.iss != connection.issuer:
        raise SsoSignInRefused(
            "the answer came from another identity provider than this organization's",
            code="sso_issuer_mismatch",
        )
    if answer.error or not answer.code:
        said = f"{answer.error or 'no code'}: {answer.error_description or ''}".strip(": ")
        raise SsoSignInRefused(
            f"your identity provider did not sign you in ({said[:200]})", code="sso_idp_error"
        )
    secret = _client_secret(ctx, connection)
    try:
        async with create_upstream_session(ctx.settings) as session:
            metadata = await directory.metadata(session, connection.issuer)
            id_token = await exchange_code(
                session,
                metadata,
                client_id=connection.client_id,
                client_secret=secret,
                code=answer.code[:2000],
                redirect_uri=login.redirect_uri,
                verifier=code_verifier(browser_secret, answer.state or ""),
            )
            claims = await directory.verify(
                session,
                metadata,
                id_token,
                client_id=connection.client_id,
                nonce=login.nonce,
                now=int(now.timestamp()),
            )
        identity = identity_from(claims, connection.issuer, connection.groups_claim)
    except DiscoveryProblem as problem:
        raise _unreachable(problem) from None
    except IdTokenRefused as refused:
        raise SsoSignInRefused(str(refused), code="sso_token_refused") from None
    return admit(ctx, login, connection, identity, client, now)


def admit(
    ctx: AppContext,
    login: PendingLogin,
    connection: SsoConnection,
    identity: Identity,
    client: ClientInfo,
    now: datetime,
) -> SsoSignedIn:
    """The person a provider vouched for (OIDC or SAML), if the org may take them: on one of
    its verified domains, provisioned just in time with their groups' role; audited."""
    domain = email_domain(identity.email)
    owner = ctx.domains.verified_owner(domain) if domain is not None else None
    check_identity(identity, login.org_id, owner)
    role = role_for(identity.groups, connection.role_map, connection.default_role)
    provisioned = sso_repository(ctx).provision(login.org_id, identity, role, now)
    actor = client.actor(provisioned.user)
    if provisioned.new_member:
        ctx.changes.bump()
        ctx.audit.record(
            login.org_id,
            actor,
            "sso.provisioned",
            provisioned.member.id,
            {"email": identity.email, "role": role.value, "new_account": provisioned.new_user},
        )
    ctx.audit.record(
        login.org_id,
        actor,
        "sso.signin",
        provisioned.user.id,
        {"email": identity.email, "issuer": identity.issuer, "protocol": connection.protocol.value},
    )
    return SsoSignedIn(provisioned.user, login.org_id, login.next_path)


def break_glass(ctx: AppContext, user: User, recovery_code: str, client: ClientInfo) -> str:
    """An owner of the enforcing org gets past enforcement with a recovery code (used up).

    Returns the org's id. Refused for anyone else, or with a wrong or used code.
    """
    connection = enforcing_org(ctx, user.email)
    if connection is None:
        raise InvalidRequest("single sign-on is not enforced for this address")
    member = ctx.accounts.membership(user.id, connection.org_id)
    refused = SsoSignInRefused(
        "a recovery code gets an owner of the organization in while single sign-on is "
        "enforced; this one is wrong or used, or the account is not an owner",
        code="sso_break_glass_refused",
    )
    if member is None or member.role is not Role.OWNER:
        raise refused
    if not spend_recovery_code(ctx, user, recovery_code, client, utcnow()):
        raise refused
    left = ctx.second_factors.recovery_codes_left(user.id)
    record_for_user(
        ctx, user.id, client.actor(user), "sso.break_glass", user.id, {"codes_left": left}
    )
    return connection.org_id
