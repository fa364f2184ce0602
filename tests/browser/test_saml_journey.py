"""SAML single sign-on in a real browser against a real SAML IdP (pysaml2's, in a process of
its own, signing with xmlsec1): the owner connects it in the console by its metadata URL,
the IdP reads ChatGrid's SP metadata from its entity ID, then a new colleague types only
their email, signs in at the IdP, and its HTTP-POST answer crosses sites back to the ACS,
which re-posts it from its own origin with the SameSite=Lax cookie and lands them in the
org with their group's role.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.support.browser import WAIT_MS, new_member, sign_in
from tests.support.deployment import Deployment, start_deployment
from tests.support.processes import RunningProcess
from tests.support.saml_idp_server import SamlIdpProcess, serve_saml_idp
from tests.support.sso import new_domain, verified_domain


@pytest.fixture
def running(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, SamlIdpProcess]]:
    for deployment in start_deployment(tmp_path, postgres_database, simulator):
        for idp in serve_saml_idp(tmp_path):
            yield deployment, idp


def test_an_owner_connects_a_saml_idp_and_a_colleague_signs_in_with_only_their_email(
    browser: Browser, running: tuple[Deployment, SamlIdpProcess]
) -> None:
    deployment, idp = running
    base = deployment.instance.base_url
    owner = new_member(deployment)
    domain = new_domain()
    verified_domain(deployment.context, owner.org_id, domain)

    admin = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(admin, base, owner.email)
    admin.goto(f"{base}/orgs/{owner.org_id}/sso")
    expect(admin.locator("#saml-acs-url")).to_have_text(f"{base}/sso/saml/acs")
    entity_id = f"{base}/sso/saml/{owner.org_id}/metadata"
    expect(admin.locator("#saml-entity-id")).to_have_text(entity_id)
    admin.get_by_label("IdP metadata URL").fill(idp.metadata_url)
    admin.get_by_label("Groups attribute (optional)").fill("groups")
    admin.get_by_label("Roles by SAML group (optional)").fill("cg-admins=admin")
    admin.get_by_role("button", name="Connect SAML").click()
    expect(admin.locator("#sso-facts")).to_contain_text("SAML 2.0", timeout=WAIT_MS)
    expect(admin.locator("#sso-facts")).to_contain_text(idp.entity_id)

    colleague = f"sasha@{domain}"
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    acs_posts: list[Request] = []
    page.on(
        "request",
        lambda r: acs_posts.append(r) if r.url == f"{base}/sso/saml/acs" else None,
    )
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(colleague)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{idp.base_url}/sso?**", timeout=WAIT_MS)
    expect(page.locator("#sp")).to_have_text(entity_id)
    page.locator("#email").fill(colleague)
    page.locator("#groups").fill("cg-admins, staff")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/orgs/{owner.org_id}", timeout=WAIT_MS)
    expect(page.locator(".sidebar")).to_contain_text("Members")  # admin, by the group's role
    assert colleague in page.content()
    # The IdP's cross-site POST came without the sign-in cookie; our re-post had it.
    cookies = [r.all_headers().get("cookie", "") for r in acs_posts]
    assert [r.method for r in acs_posts] == ["POST", "POST"], cookies
    assert "cg_sso" not in cookies[0] and "cg_sso" in cookies[1]
