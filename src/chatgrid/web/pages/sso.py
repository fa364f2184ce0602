"""Single sign-on in the console: the org admin's page, the trip to the identity provider
and back, and the owners' break-glass sign-in while SSO is enforced.

The sign-in page's email step (``web.pages.auth``) calls ``start_sso`` for an
address whose domain is an SSO org's verified domain. The browser is sent to
the provider by a page that refreshes to it, not by a redirect: the sign-in
form's ``form-action 'self'`` (CSP) would stop a redirect to another origin.
The sign-in's secret rides in an HttpOnly cookie (``cg_sso``, ten minutes,
SameSite=Lax so it comes back with the provider's redirect to the callback).
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Query
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import saml_signin, sso, sso_signin
from chatgrid.admin.signin import ClientInfo, authenticate, start_session
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.saml import service_provider
from chatgrid.identity.sso import SsoSignInRefused, parse_role, parse_role_map
from chatgrid.web.deps import (
    AnonymousCsrf,
    Client,
    Console,
    OptionalViewer,
    OrgAccess,
    OrgAdmin,
    Viewer,
)
from chatgrid.web.pages.common import form_action, redirect, render, safe_next
from chatgrid.web.security import cookie_name, is_https, read_cookie, set_session_cookie
from chatgrid.web.state import ConsoleState

router = APIRouter()

SSO_COOKIE = "cg_sso"
CALLBACK_PATH = sso.CALLBACK_PATH
_COOKIE_SECONDS = int(sso_signin.LOGIN_LIFETIME.total_seconds())

Text = Annotated[str, Form(max_length=600)]


def callback_url(request: Request, state: ConsoleState) -> str:
    """The redirect URI to register at the provider: under the public URL when one is set."""
    registered = sso.registered_redirect_uri(state.ctx)
    return registered or str(request.base_url).rstrip("/") + CALLBACK_PATH


def set_sso_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        cookie_name(request, SSO_COOKIE),
        value,
        max_age=_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def start_sso(
    request: Request, state: ConsoleState, org_id: str, email: str, next_path: str | None
) -> Response:
    """The page that sends this browser to the org's identity provider (OIDC or SAML)."""
    if saml_signin.saml_connection(state.ctx, org_id) is not None:
        started = saml_signin.begin(
            state.ctx,
            org_id,
            request_base=str(request.base_url),
            next_path=safe_next(next_path),
            now=state.clock(),
        )
    else:
        started = asyncio.run(
            sso_signin.begin(
                state.ctx,
                state.oidc,
                org_id,
                email=email.strip().lower(),
                redirect_uri=callback_url(request, state),
                next_path=safe_next(next_path),
                now=state.clock(),
            )
        )
    response = render(
        request, state, "auth/sso_redirect.html", url=started.url, org=state.ctx.orgs.by_id(org_id)
    )
    set_sso_cookie(request, response, started.browser_secret)
    return response


def email_step(
    request: Request, state: ConsoleState, email: str, next_path: str | None
) -> Response:
    """The sign-in page's first step: off to the org's identity provider when the address's
    domain is an SSO org's verified domain, else the password field next."""
    org_id = sso.sso_org_for(state.ctx, email)
    if org_id is not None:
        try:
            return start_sso(request, state, org_id, email, next_path)
        except SsoSignInRefused as refusal:
            return refused_page(request, state, refusal)
    address = email.strip().lower()[:320]
    if not address:
        raise InvalidRequest("enter your email address", param="email")
    return render(request, state, "auth/login.html", next=safe_next(next_path) or "", email=address)


def refused_page(request: Request, state: ConsoleState, refusal: ChatGridError) -> Response:
    """The refusal in plain words. The sign-in cookie stays: a forged answer sent to this
    browser must not end the real sign-in it may have under way."""
    return render(request, state, "auth/sso_refused.html", status=refusal.status, problem=refusal)


@router.get(CALLBACK_PATH)
def oidc_callback(
    request: Request,
    state: Console,
    client: Client,
    viewer: OptionalViewer,
    code: Annotated[str | None, Query(max_length=4000)] = None,
    sso_state: Annotated[str | None, Query(alias="state", max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
    iss: Annotated[str | None, Query(max_length=600)] = None,
) -> Response:
    """Where the provider sends the browser back: checked, then an ordinary session."""
    answer = sso_signin.SsoAnswer(sso_state, code, error, error_description, iss)
    try:
        signed_in = asyncio.run(
            sso_signin.finish(
                state.ctx,
                state.oidc,
                answer,
                read_cookie(request, SSO_COOKIE),
                client,
                now=state.clock(),
            )
        )
    except SsoSignInRefused as refusal:
        return refused_page(request, state, refusal)
    return signed_in_response(request, state, client, viewer, signed_in)


def signed_in_response(
    request: Request,
    state: ConsoleState,
    client: ClientInfo,
    viewer: Viewer | None,
    signed_in: sso_signin.SsoSignedIn,
) -> Response:
    """An ordinary session for the person the provider signed in (OIDC or SAML)."""
    if viewer is not None:  # someone else was signed in in this browser: no longer
        state.ctx.sessions.delete(viewer.session.id_hash)
    session_id, _ = start_session(state.ctx, signed_in.user, signed_in.org_id, client)
    response = redirect(signed_in.next_path or f"/orgs/{signed_in.org_id}")
    set_session_cookie(request, response, session_id)
    response.delete_cookie(cookie_name(request, SSO_COOKIE), path="/", secure=is_https(request))
    return response


# Break-glass: an owner's recovery code while single sign-on is enforced


@router.get("/login/break-glass")
def break_glass_page(request: Request, state: Console) -> Response:
    return render(request, state, "auth/break_glass.html", email="")


@router.post("/login/break-glass", dependencies=[AnonymousCsrf])
def break_glass(
    request: Request,
    state: Console,
    client: Client,
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    recovery_code: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def sign_in() -> Response:
        user = authenticate(
            state.ctx, state.throttle, email, password, client, sso_break_glass=True
        )
        org_id = sso_signin.break_glass(state.ctx, user, recovery_code, client)
        session_id, _ = start_session(state.ctx, user, org_id, client)
        response = redirect(f"/orgs/{org_id}")
        set_session_cookie(request, response, session_id)
        return response

    form = partial(render, request, state, "auth/break_glass.html", email=email[:320])
    return form_action(sign_in, form)


# The org admin's page


def sso_admin_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    form: dict[str, str] | None = None,
    test: sso.ConnectionTest | None = None,
) -> Response:
    ctx = state.ctx
    connection = sso.connection_of(ctx, access.org.id)
    domains = [d.domain for d in ctx.domains.list(access.org.id) if d.verified]
    return render(
        request,
        state,
        "sso.html",
        access=access,
        section="sso",
        connection=connection,
        domains=domains,
        redirect_uri=callback_url(request, state),
        saml_sp=service_provider(saml_signin.sp_base(ctx, str(request.base_url)), access.org.id),
        form=form or {},
        test=test,
        refused=refused,
    )


@router.get("/orgs/{org_id}/sso")
def sso_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return sso_admin_page(request, state, access)


@router.post("/orgs/{org_id}/sso")
def save_oidc(
    request: Request,
    state: Console,
    access: OrgAdmin,
    issuer: Text = "",
    client_id: Text = "",
    client_secret: Annotated[str, Form(max_length=1200)] = "",
    groups_claim: Text = "",
    role_map: Annotated[str, Form(max_length=20_000)] = "",
    default_role: Annotated[str, Form(max_length=20)] = "member",
) -> Response:
    typed = {
        "issuer": issuer,
        "client_id": client_id,
        "groups_claim": groups_claim,
        "role_map": role_map,
        "default_role": default_role,
    }

    def save() -> Response:
        settings = sso.OidcSettings(
            issuer=issuer,
            client_id=client_id,
            groups_claim=groups_claim,
            role_map=parse_role_map(role_map.replace(",", "\n").splitlines()),
            default_role=parse_role(default_role),
        )
        asyncio.run(
            sso.configure_oidc(state.ctx, access.org.id, access.actor, settings, client_secret)
        )
        return redirect(f"/orgs/{access.org.id}/sso", "sso_saved")

    return form_action(save, partial(sso_admin_page, request, state, access, form=typed))


@router.post("/orgs/{org_id}/sso/test")
def test_sso(request: Request, state: Console, access: OrgAdmin) -> Response:
    def run() -> Response:
        result = asyncio.run(sso.check_connection(state.ctx, access.org.id))
        return sso_admin_page(request, state, access, test=result)

    return form_action(run, partial(sso_admin_page, request, state, access))


@router.post("/orgs/{org_id}/sso/enforce")
def enforce_sso(
    request: Request,
    state: Console,
    access: OrgAdmin,
    enforced: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def save() -> Response:
        on = enforced == "on"
        sso.set_enforced(state.ctx, access.org.id, access.actor, on)
        return redirect(f"/orgs/{access.org.id}/sso", "sso_enforced" if on else "sso_relaxed")

    return form_action(save, partial(sso_admin_page, request, state, access))


@router.post("/orgs/{org_id}/sso/remove")
def remove_sso(request: Request, state: Console, access: OrgAdmin) -> Response:
    def remove() -> Response:
        sso.remove_sso(state.ctx, access.org.id, access.actor)
        return redirect(f"/orgs/{access.org.id}/sso", "sso_removed")

    return form_action(remove, partial(sso_admin_page, request, state, access))
