"""SAML 2.0 in the console: the Assertion Consumer Service, our SP metadata, and the org
admin's SAML form on the single sign-on page.

Why the ACS answers the IdP's POST with a page that posts again: the IdP
sends the browser back with a cross-site form POST (HTTP-POST binding), and
the sign-in cookie (``cg_sso``) is SameSite=Lax, which browsers leave off a
cross-site POST. Without the cookie we cannot tell that this browser started
the sign-in (what stops an attacker from signing a victim into the attacker's
account). So, when the cookie did not come, the ACS returns a small page
whose form re-posts the same fields to the ACS from our own origin
(``static/saml.js`` submits it; without JavaScript a button does), and that
same-origin POST carries the cookie. The ``bounced`` field stops a loop: a
second POST still without the cookie is refused. Nothing is checked or
spent on the first POST, so a forged one uses up nothing.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import saml_signin, sso_saml
from chatgrid.errors import NotFound
from chatgrid.identity.saml import ACS_PATH, MAX_RESPONSE_BYTES
from chatgrid.identity.sso import SsoSignInRefused, parse_role, parse_role_map
from chatgrid.web.deps import Client, Console, OptionalViewer, OrgAdmin
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.pages.sso import (
    SSO_COOKIE,
    refused_page,
    signed_in_response,
    sso_admin_page,
)
from chatgrid.web.security import read_cookie

router = APIRouter()

METADATA_PATH = "/sso/saml/{org_id}/metadata"


@router.post(ACS_PATH)
def assertion_consumer(
    request: Request,
    state: Console,
    client: Client,
    viewer: OptionalViewer,
    saml_response: Annotated[str, Form(alias="SAMLResponse", max_length=MAX_RESPONSE_BYTES * 2)],
    relay_state: Annotated[str | None, Form(alias="RelayState", max_length=500)] = None,
    bounced: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """The IdP's answer (HTTP-POST binding): re-posted from our origin, then checked."""
    browser_secret = read_cookie(request, SSO_COOKIE)
    if browser_secret is None and bounced != "yes":
        return render(
            request,
            state,
            "auth/saml_continue.html",
            saml_response=saml_response,
            relay_state=relay_state or "",
        )
    try:
        signed_in = saml_signin.finish(
            state.ctx,
            saml_response,
            relay_state,
            browser_secret,
            client,
            request_base=str(request.base_url),
            now=state.clock(),
        )
    except SsoSignInRefused as refusal:
        return refused_page(request, state, refusal)
    return signed_in_response(request, state, client, viewer, signed_in)


@router.get(METADATA_PATH)
def sp_metadata(request: Request, state: Console, org_id: str) -> Response:
    """Public, as every SP's metadata is: the IdP's admin (or the IdP itself) reads it.
    A 404 unless the org signs in through SAML."""
    xml = saml_signin.org_sp_metadata(state.ctx, org_id[:100], str(request.base_url))
    if xml is None:
        raise NotFound("no SAML single sign-on here", code="not_found")
    return Response(xml, media_type="application/samlmetadata+xml")


@router.post("/orgs/{org_id}/sso/saml")
def save_saml(
    request: Request,
    state: Console,
    access: OrgAdmin,
    metadata_url: Annotated[str, Form(max_length=600)] = "",
    metadata_xml: Annotated[str, Form(max_length=512 * 1024)] = "",
    groups_attribute: Annotated[str, Form(max_length=200)] = "",
    role_map: Annotated[str, Form(max_length=20_000)] = "",
    default_role: Annotated[str, Form(max_length=20)] = "member",
) -> Response:
    """The SAML form: the IdP's metadata by URL or pasted, checked before it is saved."""
    typed = {
        "metadata_url": metadata_url,
        "groups_attribute": groups_attribute,
        "saml_role_map": role_map,
        "saml_default_role": default_role,
    }

    def save() -> Response:
        settings = sso_saml.SamlSettings(
            metadata_xml=metadata_xml if metadata_xml.strip() else None,
            metadata_url=metadata_url.strip() or None,
            groups_attribute=groups_attribute.strip() or None,
            role_map=parse_role_map(role_map.replace(",", "\n").splitlines()),
            default_role=parse_role(default_role),
        )
        asyncio.run(sso_saml.configure_saml(state.ctx, access.org.id, access.actor, settings))
        return redirect(f"/orgs/{access.org.id}/sso", "saml_saved")

    return form_action(save, partial(sso_admin_page, request, state, access, form=typed))
