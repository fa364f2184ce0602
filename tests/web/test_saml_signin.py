"""Signing in through an org's SAML IdP over HTTP: the email step's AuthnRequest, the ACS
(and its same-origin re-post for the SameSite=Lax cookie), a member made just in time, the
public SP metadata, and every refusal: an unverified domain, another org's domain, a
replayed assertion, the wrong audience, an expired assertion, another key's signature.

The IdP is ``tests/support/saml_idp.py`` (responses signed with xmlsec as an IdP signs
them); the browser test drives a real IdP process. Responses are issued at the wall
clock's now (python3-saml checks times against it), never at a fixed date.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
import pytest
from fastapi.testclient import TestClient

from chatgrid.admin import sso_saml
from chatgrid.audit import Actor, AuditFilter
from chatgrid.identity.models import Role
from chatgrid.identity.saml import service_provider
from tests.support.console import Browser, World
from tests.support.saml_idp import SamlIdp, SentRequest, new_key_pair, posted, sent_request
from tests.support.sso import email_step, new_domain, provider_url, verified_domain

#: The console's address in these tests: python3-saml refuses a host without a domain
#: (``testserver``) in the ACS URL, so the browsers here use a real-looking one.
BASE = "http://chat.example.com"
ACS = f"{BASE}/sso/saml/acs"


@pytest.fixture(scope="module")
def idp() -> SamlIdp:
    return SamlIdp()


@pytest.fixture
def acme(world: World, idp: SamlIdp) -> str:
    """Org A's verified domain, signing in through the test IdP by SAML."""
    domain = new_domain()
    verified_domain(world.ctx, world.org_a, domain)
    settings = sso_saml.SamlSettings(
        metadata_xml=idp.metadata(),
        groups_attribute="groups",
        role_map={"cg-admins": Role.ADMIN},
    )
    asyncio.run(sso_saml.configure_saml(world.ctx, world.org_a, Actor.cli(), settings))
    return domain


def new_browser(world: World) -> Browser:
    return Browser(TestClient(world.app, base_url=BASE, follow_redirects=False))


def start(browser: Browser, email: str) -> SentRequest:
    """The email step: the AuthnRequest the browser is sent to the IdP with."""
    return sent_request(provider_url(email_step(browser, email)))


def answer(
    idp: SamlIdp,
    world: World,
    request: SentRequest,
    email: str,
    *,
    assertion_id: str = "",
    audience: str | None = None,
    issued: datetime | None = None,
    groups: tuple[str, ...] = (),
    signer: SamlIdp | None = None,
) -> str:
    """The IdP's signed SAMLResponse to ``request``, bent as a test asks."""
    issued = issued or datetime.now(UTC) - timedelta(seconds=5)
    sp = service_provider(BASE, world.org_a)
    inner = idp.assertion(
        assertion_id=assertion_id or f"_a{request.request_id[-12:]}",
        email=email,
        audience=audience or sp.entity_id,
        recipient=ACS,
        in_response_to=request.request_id,
        issued=issued,
        groups=groups,
    )
    signed = idp.sign(inner, keys=signer.keys if signer else None)
    return posted(
        idp.response(signed, destination=ACS, in_response_to=request.request_id, issued=issued)
    )


def post_acs(
    browser: Browser, saml_response: str, relay_state: str, **extra: str
) -> httpx.Response:
    fields = {"SAMLResponse": saml_response, "RelayState": relay_state, **extra}
    return browser.form("/sso/saml/acs", fields, csrf=False)


def refusal(response: httpx.Response) -> str:
    assert response.status_code == 403, response.text[:500]
    assert "cg_session" not in response.headers.get("set-cookie", "")
    return unescape(response.text)


def test_a_new_person_signs_in_through_the_idp_and_gets_their_groups_role(
    world: World, idp: SamlIdp, acme: str
) -> None:
    email = f"pat@{acme}"
    browser = new_browser(world)
    request = start(browser, email)
    assert request.relay_state and f'AssertionConsumerServiceURL="{ACS}"' in request.xml
    done = post_acs(
        browser, answer(idp, world, request, email, groups=("cg-admins",)), request.relay_state
    )
    assert done.status_code == 303, done.text[:800]
    assert done.headers["location"] == f"/orgs/{world.org_a}"
    assert browser.get("/api/session").json()["user"]["email"] == email
    assert world.ctx.members.find_by_email(world.org_a, email).role is Role.ADMIN
    entries = world.ctx.audit.entries(world.org_a, AuditFilter(action="sso."))
    signin = next(e for e in entries if e.action == "sso.signin")
    assert signin.details["protocol"] == "saml" and signin.details["issuer"] == idp.entity_id
    assert any(e.action == "sso.provisioned" for e in entries)


def test_the_cross_site_post_is_posted_again_from_our_origin_with_the_cookie(
    world: World, idp: SamlIdp, acme: str
) -> None:
    email = f"lou@{acme}"
    browser = new_browser(world)
    request = start(browser, email)
    saml_response = answer(idp, world, request, email)
    # The IdP's POST as a browser sends it cross-site: no SameSite=Lax cookie.
    cross_site = post_acs(new_browser(world), saml_response, request.relay_state)
    assert cross_site.status_code == 200
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', cross_site.text))
    assert fields == {
        "SAMLResponse": saml_response,
        "RelayState": request.relay_state,
        "bounced": "yes",
    }
    assert 'action="/sso/saml/acs"' in cross_site.text and "/static/saml.js" in cross_site.text
    # Nothing was spent by it: the same-origin re-post, which carries the cookie, signs in.
    assert post_acs(browser, **_unescaped(fields)).status_code == 303
    # Posted again with no cookie at all, it is refused rather than bounced forever.
    stranger = refusal(post_acs(new_browser(world), **_unescaped(fields)))
    assert "not started in this browser" in stranger


def _unescaped(fields: dict[str, str]) -> dict[str, str]:
    return {
        "saml_response": unescape(fields["SAMLResponse"]),
        "relay_state": unescape(fields["RelayState"]),
        "bounced": fields["bounced"],
    }


def test_a_replayed_assertion_is_refused(world: World, idp: SamlIdp, acme: str) -> None:
    email = f"rey@{acme}"
    browser = new_browser(world)
    request = start(browser, email)
    captured = answer(idp, world, request, email, assertion_id="_once")
    assert post_acs(browser, captured, request.relay_state).status_code == 303
    # Posted twice: the sign-in it answered is used up (and its cookie gone, so the
    # second POST is bounced, then refused).
    assert post_acs(browser, captured, request.relay_state).status_code == 200
    again_posted = post_acs(browser, captured, request.relay_state, bounced="yes")
    assert "not started in this browser" in refusal(again_posted)
    assert len([m for m in world.ctx.members.list(world.org_a) if m.email == email]) == 1
    # The same assertion ID for a new sign-in: the replay store, shared by replicas, says no.
    other = new_browser(world)
    again = start(other, email)
    reused = answer(idp, world, again, email, assertion_id="_once")
    assert "used already; each is accepted once" in refusal(
        post_acs(other, reused, again.relay_state)
    )
    failed = world.ctx.audit.entries(world.org_a, AuditFilter(action="sso.signin_failed"))
    assert failed[0].details["code"] == "saml_replayed"


@pytest.mark.parametrize(
    ("bend", "expected"),
    [
        ("audience", "audience"),
        ("expired", "expired"),
        ("signature", "signature"),
    ],
)
def test_a_response_the_idp_did_not_sign_for_us_now_is_refused(
    world: World, idp: SamlIdp, acme: str, bend: str, expected: str
) -> None:
    email = f"kim-{bend}@{acme}"
    browser = new_browser(world)
    request = start(browser, email)
    changes: dict[str, object] = {}
    if bend == "audience":
        changes["audience"] = service_provider(BASE, world.org_b).entity_id
    elif bend == "expired":
        changes["issued"] = datetime.now(UTC) - timedelta(hours=1)
    else:
        changes["signer"] = SamlIdp(keys=new_key_pair("attacker"))
    saml_response = answer(idp, world, request, email, **changes)  # type: ignore[arg-type]
    assert expected in refusal(post_acs(browser, saml_response, request.relay_state)).lower()
    assert world.ctx.accounts.find_user(email) is None


def test_an_address_the_org_cannot_vouch_for_is_refused(
    world: World, idp: SamlIdp, acme: str
) -> None:
    bolt = new_domain("bolt")
    verified_domain(world.ctx, world.org_b, bolt)
    for asserted, expected in [
        ("pat@unverified-elsewhere.example", "not a verified domain"),
        (f"ray@{bolt}", "belongs to another organization"),
    ]:
        browser = new_browser(world)
        request = start(browser, f"ray@{acme}")
        saml_response = answer(idp, world, request, asserted)
        assert expected in refusal(post_acs(browser, saml_response, request.relay_state))
        assert asserted not in {m.email for m in world.ctx.members.list(world.org_a)}


def test_the_sp_metadata_is_public_for_a_saml_org_only(
    world: World, idp: SamlIdp, acme: str
) -> None:
    stranger = new_browser(world)
    page = stranger.get(f"/sso/saml/{world.org_a}/metadata")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("application/samlmetadata+xml")
    sp = service_provider(BASE, world.org_a)
    assert f'entityID="{sp.entity_id}"' in page.text and f'Location="{ACS}"' in page.text
    assert stranger.get(f"/sso/saml/{world.org_b}/metadata").status_code == 404
    assert stranger.get("/sso/saml/org_nobody/metadata").status_code == 404


def test_an_admin_connects_saml_in_the_console_and_through_the_api(
    world: World, idp: SamlIdp
) -> None:
    alice = world.alice.browser
    saved = alice.form(
        f"/orgs/{world.org_a}/sso/saml",
        {"metadata_xml": idp.metadata(), "groups_attribute": "groups", "role_map": "eng=admin"},
    )
    assert saved.status_code == 303, saved.text[:800]
    page = alice.get(f"/orgs/{world.org_a}/sso")
    assert "SAML 2.0" in page.text and idp.entity_id in page.text
    assert f"http://testserver/sso/saml/{world.org_a}/metadata" in page.text
    bad = alice.form(f"/orgs/{world.org_a}/sso/saml", {"metadata_xml": "<nope"})
    assert bad.status_code == 400 and "well-formed" in bad.text

    body = {"metadata_xml": idp.metadata(), "role_map": {"eng": "admin"}, "default_role": "member"}
    answered = alice.api("PUT", f"/api/orgs/{world.org_a}/sso/saml", body)
    assert answered.status_code == 200, answered.text
    public = answered.json()
    assert public["protocol"] == "saml" and public["issuer"] == idp.entity_id
    assert public["saml"]["acs_url"] == "http://testserver/sso/saml/acs"
    assert public["saml"]["metadata_url"] == f"http://testserver/sso/saml/{world.org_a}/metadata"
    assert alice.api("GET", f"/api/orgs/{world.org_a}/sso").json()["protocol"] == "saml"
    # "Test connection" has no discovery to run for SAML: it reports the saved metadata.
    tested = alice.api("POST", f"/api/orgs/{world.org_a}/sso/test").json()
    assert tested["ok"] is True and "1 signing certificate" in tested["steps"][1]["detail"]
    refused = alice.api("PUT", f"/api/orgs/{world.org_a}/sso/saml", {"metadata_xml": "<x/>"})
    assert refused.status_code == 400
    configured = world.ctx.audit.entries(world.org_a, AuditFilter(action="sso.configured"))
    assert len(configured) == 2 and configured[0].details["protocol"] == "saml"
