"""Single sign-on set up for a test: a verified domain, an org's OIDC connection to the
test provider, and the sign-in page's email step as a browser without JavaScript sees it."""

from __future__ import annotations

import asyncio
import re
import secrets
from html import unescape

import httpx

from chatgrid.admin import sso
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.identity.models import Role
from chatgrid.identity.sso import SsoConnection
from tests.support.console import Browser, csrf_in
from tests.support.oidc_idp import OidcIdp

CALLBACK = "http://testserver/sso/oidc/callback"
_CONTINUE = re.compile(r'id="sso-continue" href="([^"]+)"')


def new_domain(name: str = "acme") -> str:
    return f"{name}-{secrets.token_hex(3)}.example"


def verified_domain(ctx: AppContext, org_id: str, domain: str) -> None:
    """``domain`` verified for the org, as a passed DNS check leaves it."""
    claim = ctx.domains.claim(org_id, domain, secrets.token_hex(16), created_by="test", limit=50)
    ctx.domains.mark_verified(org_id, claim.id)


def connect_idp(
    ctx: AppContext,
    org_id: str,
    idp: OidcIdp,
    *,
    groups_claim: str | None = None,
    role_map: dict[str, Role] | None = None,
) -> SsoConnection:
    settings = sso.OidcSettings(
        issuer=idp.issuer, client_id=idp.client_id, groups_claim=groups_claim, role_map=role_map
    )
    return asyncio.run(sso.configure_oidc(ctx, org_id, Actor.cli(), settings, idp.client_secret))


def email_step(browser: Browser, email: str) -> httpx.Response:
    """The sign-in page's first step, as the form posts it."""
    page = browser.get("/login")
    return browser.form("/login", {"email": email}, csrf=csrf_in(page.text))


def provider_url(page: httpx.Response) -> str:
    """Where the email step sends the browser (the link its refresh follows)."""
    match = _CONTINUE.search(page.text)
    assert page.status_code == 200 and match, page.text[:800]
    return unescape(match.group(1))
